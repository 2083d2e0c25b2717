//! The figures each map publishes: one-writer counters, and their registration.

use std::panic::Location;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use super::report::{MapReport, key_lifetimes};
use super::{Entry, NEXT_MAP_ID, SCOPE_EPOCHS, clock, lifetime_index, registry, sweep_dropped};
use crate::RemovalCause;
use crate::scope::Lifetime;
use crate::storage::ages::Ages;

/// A counter written by one thread only: relaxed load + store, no locked read-modify-write.
#[derive(Debug, Default)]
struct Counter(AtomicU64);

impl Counter {
    #[inline]
    fn bump(&self) {
        self.add(1);
    }

    #[inline]
    fn add(&self, n: u64) {
        let value = self.0.load(Ordering::Relaxed);
        self.0.store(value.wrapping_add(n), Ordering::Relaxed);
    }

    #[inline]
    fn set(&self, value: u64) {
        self.0.store(value, Ordering::Relaxed);
    }

    #[inline]
    fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A `tracing` event with target `mapguard` (feature `tracing`); nothing without the feature.
/// Its arguments are not even resolved then, so they may name `tracing`'s items freely.
///
/// In line, only a comparison with the process's most verbose enabled level (one relaxed
/// load); the event itself is built out of line. Left to `tracing::event!` in line, an
/// eviction cost up to 14% more instructions with no subscriber (callgrind, `compare`).
macro_rules! event {
    ($level:expr, $($event:tt)*) => {
        #[cfg(feature = "tracing")]
        {
            if $level <= ::tracing::level_filters::LevelFilter::current() {
                $crate::registry::metrics::out_of_line(|| {
                    ::tracing::event!(target: "mapguard", $level, $($event)*);
                });
            }
        }
    };
}
pub(crate) use event;

/// Runs `event` out of line: what builds an event stays off the paths it is called from.
#[cfg(feature = "tracing")]
#[cold]
#[inline(never)]
pub(crate) fn out_of_line(event: impl FnOnce()) {
    event();
}

/// What a map holds to publish its figures: shared counters, or nothing when the `tracking`
/// feature is off.
#[cfg(feature = "tracking")]
pub(crate) type MapMetrics = Arc<Metrics>;
/// What a map holds to publish its figures: nothing, the `tracking` feature is off.
#[cfg(not(feature = "tracking"))]
pub(crate) type MapMetrics = Untracked;

/// Who a map is, for the registry: what every map registers with.
pub(crate) struct Identity {
    /// Empty for a shard, whose map registers under the name.
    pub(crate) name: String,
    pub(crate) lifetime: Lifetime,
    pub(crate) policy: &'static str,
    pub(crate) max: usize,
    pub(crate) site: &'static Location<'static>,
}

/// What a map's storage adds to its figures: its key-lifetime histogram and its count of
/// entries written outside any scope, each if it keeps one.
pub(crate) type StoreFigures = (Option<Arc<Ages>>, Option<Arc<AtomicUsize>>);

/// Registers a new map's figures (or does nothing without the `tracking` feature).
pub(crate) fn register(identity: Identity, store: StoreFigures) -> MapMetrics {
    figures(identity, store, &[]).register()
}

/// Figures for one shard of a concurrent map, written under that shard's lock. Not registered
/// on their own: [`register_sharded`] publishes their sum as one map.
pub(crate) fn shard_metrics(identity: Identity, store: StoreFigures) -> MapMetrics {
    figures(identity, store, &[])
}

/// Registers a concurrent map whose figures are the sum of its shards'.
pub(crate) fn register_sharded(identity: Identity, shards: &[MapMetrics]) -> MapMetrics {
    figures(identity, (None, None), shards).register()
}

/// A map's figures, not yet in the registry.
fn figures(identity: Identity, store: StoreFigures, shards: &[MapMetrics]) -> MapMetrics {
    #[cfg(feature = "tracking")]
    {
        Arc::new(Metrics::new(identity, store, shards.to_vec()))
    }
    #[cfg(not(feature = "tracking"))]
    {
        let _ = (identity, store, shards);
        Untracked
    }
}

/// The `tracking` feature is off: every figure is dropped on the floor, at no cost.
#[cfg(not(feature = "tracking"))]
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Untracked;

/// `Untracked`'s figure-recording methods: each takes what `Metrics`' does and does nothing.
#[cfg(not(feature = "tracking"))]
macro_rules! untracked {
    ($($name:ident($($argument:ty),*);)*) => {$(
        #[inline]
        pub(crate) fn $name(&self, $(_: $argument),*) {}
    )*};
}

#[cfg(not(feature = "tracking"))]
#[allow(
    clippy::unused_self,
    clippy::trivially_copy_pass_by_ref,
    reason = "mirrors Metrics' methods, which take &self"
)]
impl Untracked {
    untracked! {
        inserted(usize, bool, impl FnOnce() -> usize); inserted_in_place(); lookup(bool);
        lookup_shared(bool); untaken(RemovalCause, u64); removed(RemovalCause);
        removed_many(RemovalCause, u64); taken(u64); weight_budget(u64); weighed(u64);
        resized(usize, usize); scope_ended(); hook_panicked(u64);
        scope_entries_left(usize, bool);
    }

    pub(crate) fn register(self) -> Self {
        self
    }

    #[inline]
    pub(crate) fn hook_panics(&self) -> u64 {
        0
    }
}

/// The figures one map publishes.
#[derive(Debug)]
pub(crate) struct Metrics {
    name: String,
    lifetime: Lifetime,
    policy: &'static str,
    max: Counter,
    site: &'static Location<'static>,
    thread: Option<String>,
    /// Unique for the process's life: what detectors key their histories by.
    id: u64,
    /// On the registry's clock ([`set_clock`]).
    created: Duration,
    inserts: Counter,
    hits: Counter,
    misses: Counter,
    /// Values handed back to the caller (`remove`, `replace`, `drain`, ...).
    taken: Counter,
    removals: [Counter; 8],
    peak_len: Counter,
    heap_bytes: Counter,
    /// What the entries weigh, refreshed by every weighed write; 0 without a budget.
    weight: Counter,
    /// The weight budget; 0 without one.
    max_weight: Counter,
    /// The scope-end epoch of this map's lifetime when the map was last emptied by a scope end.
    cleared_at_epoch: Counter,
    /// Hook panics, contained or resumed. Added to from any thread (a concurrent map runs
    /// hooks outside its locks), so with locked adds; panics are rare.
    hook_panics: AtomicU64,
    /// Key lifetimes, for maps that record them.
    ages: Option<Arc<Ages>>,
    /// Entries written outside any scope of the map's lifetime (a map of a scoped lifetime,
    /// or a scoped concurrent map's shard; see `storage::scopes`).
    unscoped: Option<Arc<AtomicUsize>>,
    /// A concurrent map's shards, each with figures of its own (one writer per counter);
    /// empty for other maps. The map's own counters then stay unused.
    shards: Vec<Arc<Metrics>>,
}

#[cfg_attr(not(feature = "tracking"), allow(dead_code))]
impl Metrics {
    /// The figures of a new map, not yet registered.
    fn new(identity: Identity, (ages, unscoped): StoreFigures, shards: Vec<Arc<Metrics>>) -> Self {
        let Identity {
            name,
            lifetime,
            policy,
            max,
            site,
        } = identity;
        Self {
            name,
            lifetime,
            policy,
            max: Counter(AtomicU64::new(max as u64)),
            site,
            thread: std::thread::current().name().map(str::to_owned),
            id: NEXT_MAP_ID.fetch_add(1, Ordering::Relaxed),
            created: clock().now(),
            inserts: Counter::default(),
            hits: Counter::default(),
            misses: Counter::default(),
            taken: Counter::default(),
            removals: Default::default(),
            peak_len: Counter::default(),
            heap_bytes: Counter::default(),
            weight: Counter::default(),
            max_weight: Counter::default(),
            cleared_at_epoch: Counter(AtomicU64::new(
                SCOPE_EPOCHS[lifetime_index(lifetime)].load(Ordering::Relaxed),
            )),
            hook_panics: AtomicU64::new(0),
            ages,
            unscoped,
            shards,
        }
    }

    /// Publishes these figures in the registry until the returned handle is dropped.
    pub(crate) fn register(self: Arc<Self>) -> Arc<Self> {
        let metrics = self;
        let mut entries = registry();
        // Dropped maps leave dead weak pointers behind; sweep them as new maps arrive.
        sweep_dropped(&mut entries);
        entries.push(Entry {
            metrics: Arc::downgrade(&metrics),
        });
        metrics
    }

    /// A new key went in, growing the map; `slab_grew` says whether its storage grew to make
    /// room, which is when the heap estimate is refreshed (the caller's growth branch already
    /// knows it, so the common path pays nothing for it).
    #[inline]
    pub(crate) fn inserted(&self, len: usize, slab_grew: bool, heap_bytes: impl FnOnce() -> usize) {
        self.inserts.bump();
        let len = len as u64;
        if len > self.peak_len.get() {
            self.peak_len.set(len);
        }
        if slab_grew {
            self.heap_bytes.set(heap_bytes() as u64);
        }
    }

    /// A new key took an evicted entry's slot: the length, and so the peak, is unchanged.
    #[inline]
    pub(crate) fn inserted_in_place(&self) {
        self.inserts.bump();
    }

    #[inline]
    pub(crate) fn lookup(&self, hit: bool) {
        if hit {
            self.hits.bump();
        } else {
            self.misses.bump();
        }
    }

    #[inline]
    pub(crate) fn removed(&self, cause: RemovalCause) {
        self.removals[cause.index()].bump();
        self.trace_left(cause, 1);
    }

    #[inline]
    pub(crate) fn removed_many(&self, cause: RemovalCause, count: u64) {
        self.removals[cause.index()].add(count);
        self.trace_left(cause, count);
    }

    /// The trace event of values leaving (feature `tracing`): in line only the level check,
    /// the rest a plain call. (Through `event!`, its closure made the eviction paths' callers
    /// too big to inline: +1.2% instructions on an evicting workload, callgrind.)
    #[inline]
    #[allow(clippy::unused_self, reason = "its fields name the map in the event")]
    fn trace_left(&self, cause: RemovalCause, count: u64) {
        let _ = (cause, count);
        #[cfg(feature = "tracing")]
        if ::tracing::level_filters::LevelFilter::current()
            == ::tracing::level_filters::LevelFilter::TRACE
        {
            self.trace_left_now(cause, count);
        }
    }

    #[cfg(feature = "tracing")]
    #[cold]
    #[inline(never)]
    fn trace_left_now(&self, cause: RemovalCause, count: u64) {
        ::tracing::event!(
            target: "mapguard",
            ::tracing::Level::TRACE,
            map = %self.name,
            %cause,
            count,
            "values left the map"
        );
    }

    #[inline]
    pub(crate) fn taken(&self, count: u64) {
        self.taken.add(count);
    }

    /// The map (or shard) has a weight budget of `max_weight`.
    pub(crate) fn weight_budget(&self, max_weight: u64) {
        self.max_weight.set(max_weight);
    }

    /// What the map (or shard) weighs now.
    #[inline]
    pub(crate) fn weighed(&self, weight: u64) {
        self.weight.set(weight);
    }

    /// `count` values counted as handed back left with `cause` instead (a drain dropped
    /// before it yielded them).
    pub(crate) fn untaken(&self, cause: RemovalCause, count: u64) {
        self.taken.set(self.taken.get() - count);
        self.removed_many(cause, count);
    }

    /// A lookup through `&self`, which several threads may make at once: a locked add, so
    /// none is lost (one-writer counters would lose some).
    #[inline]
    pub(crate) fn lookup_shared(&self, hit: bool) {
        let counter = if hit { &self.hits } else { &self.misses };
        counter.0.fetch_add(1, Ordering::Relaxed);
    }

    #[inline]
    pub(crate) fn resized(&self, heap_bytes: usize, max: usize) {
        self.heap_bytes.set(heap_bytes as u64);
        self.max.set(max as u64);
    }

    /// Hooks of this map panicked `count` times in one operation.
    #[cold]
    #[inline(never)]
    pub(crate) fn hook_panicked(&self, count: u64) {
        self.hook_panics.fetch_add(count, Ordering::Relaxed);
        event!(
            ::tracing::Level::ERROR,
            map = %self.name,
            count,
            "hooks (Cleanup, listener) panicked; every other hook still ran"
        );
    }

    /// Hook panics so far: the map's own and its shards'.
    pub(crate) fn hook_panics(&self) -> u64 {
        self.hook_panics.load(Ordering::Relaxed)
            + self
                .shards
                .iter()
                .map(|shard| shard.hook_panics.load(Ordering::Relaxed))
                .sum::<u64>()
    }

    /// A scope of this map's lifetime ended and emptied it.
    pub(crate) fn scope_ended(&self) {
        let epoch = &SCOPE_EPOCHS[lifetime_index(self.lifetime)];
        let now = epoch.fetch_add(1, Ordering::Relaxed) + 1;
        self.cleared_at_epoch.set(now);
    }

    /// `count` entries of ended scopes left the map (`all`: every scope of its lifetime
    /// ended at once, `end_scope`; otherwise single scopes, `Scope::end`).
    #[cold]
    #[allow(clippy::unused_self, reason = "its fields name the map in the event")]
    pub(crate) fn scope_entries_left(&self, count: usize, all: bool) {
        let _ = (count, all);
        event!(
            ::tracing::Level::DEBUG,
            map = %self.name,
            lifetime = %self.lifetime,
            count,
            whole_lifetime = all,
            "scope ended: its entries left the map"
        );
    }

    pub(super) fn snapshot(&self) -> MapReport {
        // A concurrent map's figures are its shards' sums; its peak is the sum of theirs.
        let parts: Vec<&Self> = if self.shards.is_empty() {
            vec![self]
        } else {
            self.shards.iter().map(Arc::as_ref).collect()
        };
        let sum = |counter: fn(&Self) -> &Counter| -> u64 {
            parts.iter().map(|part| counter(part).get()).sum()
        };
        let removals: [u64; 8] =
            core::array::from_fn(|i| parts.iter().map(|part| part.removals[i].get()).sum());
        let inserts = sum(|m| &m.inserts);
        let taken = sum(|m| &m.taken);
        // Every entry leaves exactly once; a replaced value leaves but its entry stays.
        let left = removals.iter().sum::<u64>() - removals[RemovalCause::Replaced.index()] + taken;
        let epoch = SCOPE_EPOCHS[lifetime_index(self.lifetime)].load(Ordering::Relaxed);
        MapReport {
            id: self.id,
            name: self.name.clone(),
            lifetime: self.lifetime,
            policy: self.policy,
            len: inserts.saturating_sub(left),
            peak_len: sum(|m| &m.peak_len),
            max: self.max.get(),
            heap_bytes: sum(|m| &m.heap_bytes),
            weight: sum(|m| &m.weight),
            max_weight: sum(|m| &m.max_weight),
            inserts,
            hits: sum(|m| &m.hits),
            misses: sum(|m| &m.misses),
            handed_back: taken,
            removals,
            hook_panics: self.hook_panics(),
            unscoped: parts
                .iter()
                .filter_map(|part| part.unscoped.as_deref())
                .map(|count| count.load(Ordering::Relaxed) as u64)
                .sum(),
            scope_ends_since_cleared: epoch.saturating_sub(self.cleared_at_epoch.get()),
            site: self.site,
            thread: self.thread.clone(),
            age: clock().now().saturating_sub(self.created),
            key_lifetimes: key_lifetimes(parts.iter().filter_map(|part| part.ages.as_deref())),
        }
    }
}
