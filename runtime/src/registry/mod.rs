//! Every live managed map, with its figures: which map holds how much, where it was created,
//! what leaves it and why, and which maps look like leaks.
//!
//! Maps register when created and leave when dropped. Each map writes its own counters (one
//! writer, so plain relaxed load + store, no locked read-modify-write); the registry reads
//! them from any thread. Without the default `tracking` feature, maps keep no figures and
//! every function here reports no maps.
//!
//! ```
//! use mapguard::{registry, Lifetime, LruMap};
//!
//! let mut cache = LruMap::builder(100).name("Docs.cache").lifetime(Lifetime::Session).build();
//! cache.insert(1, "a");
//! let ours = registry::snapshot().into_iter().find(|m| m.name == "Docs.cache").unwrap();
//! assert_eq!((ours.len, ours.max, ours.inserts), (1, 100, 1));
//! println!("{}", registry::report()); // a table of every live map
//! ```

use std::fmt::Write as _;
use std::panic::Location;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use crate::expiry::{Clock, SystemClock};

use crate::RemovalCause;
use crate::scope::Lifetime;

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

/// What a map holds to publish its figures: shared counters, or nothing when the `tracking`
/// feature is off.
#[cfg(feature = "tracking")]
pub(crate) type MapMetrics = Arc<Metrics>;
/// What a map holds to publish its figures: nothing, the `tracking` feature is off.
#[cfg(not(feature = "tracking"))]
pub(crate) type MapMetrics = Untracked;

/// Registers a new map's figures (or does nothing without the `tracking` feature).
pub(crate) fn register(
    name: String,
    lifetime: Lifetime,
    policy: &'static str,
    max: usize,
    site: &'static Location<'static>,
    ages: Option<Arc<Ages>>,
) -> MapMetrics {
    #[cfg(feature = "tracking")]
    {
        Metrics::new(name, lifetime, policy, max, site, ages, Vec::new()).register()
    }
    #[cfg(not(feature = "tracking"))]
    {
        let _ = (name, lifetime, policy, max, site, ages);
        Untracked
    }
}

/// Figures for one shard of a concurrent map, written under that shard's lock. Not registered
/// on their own: [`register_sharded`] publishes their sum as one map.
pub(crate) fn shard_metrics(
    lifetime: Lifetime,
    policy: &'static str,
    max: usize,
    site: &'static Location<'static>,
    ages: Option<Arc<Ages>>,
) -> MapMetrics {
    #[cfg(feature = "tracking")]
    {
        Arc::new(Metrics::new(
            String::new(),
            lifetime,
            policy,
            max,
            site,
            ages,
            Vec::new(),
        ))
    }
    #[cfg(not(feature = "tracking"))]
    {
        let _ = (lifetime, policy, max, site, ages);
        Untracked
    }
}

/// Registers a concurrent map whose figures are the sum of its shards'.
pub(crate) fn register_sharded(
    name: String,
    lifetime: Lifetime,
    policy: &'static str,
    max: usize,
    site: &'static Location<'static>,
    shards: &[MapMetrics],
) -> MapMetrics {
    #[cfg(feature = "tracking")]
    {
        Metrics::new(name, lifetime, policy, max, site, None, shards.to_vec()).register()
    }
    #[cfg(not(feature = "tracking"))]
    {
        let _ = (name, lifetime, policy, max, site, shards);
        Untracked
    }
}

/// The `tracking` feature is off: every figure is dropped on the floor, at no cost.
#[cfg(not(feature = "tracking"))]
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Untracked;

#[cfg(not(feature = "tracking"))]
#[allow(
    clippy::unused_self,
    clippy::trivially_copy_pass_by_ref,
    reason = "mirrors Metrics' methods, which take &self"
)]
impl Untracked {
    #[inline]
    pub(crate) fn inserted(
        &self,
        _len: usize,
        _slab_grew: bool,
        _heap_bytes: impl FnOnce() -> usize,
    ) {
    }
    #[inline]
    pub(crate) fn inserted_in_place(&self) {}
    #[inline]
    pub(crate) fn lookup(&self, _hit: bool) {}
    #[inline]
    pub(crate) fn lookup_shared(&self, _hit: bool) {}
    #[inline]
    pub(crate) fn untaken(&self, _cause: RemovalCause, _count: u64) {}
    #[inline]
    pub(crate) fn removed(&self, _cause: RemovalCause) {}
    #[inline]
    pub(crate) fn removed_many(&self, _cause: RemovalCause, _count: u64) {}
    #[inline]
    pub(crate) fn taken(&self, _count: u64) {}
    #[inline]
    pub(crate) fn resized(&self, _heap_bytes: usize, _max: usize) {}
    #[inline]
    pub(crate) fn scope_ended(&self) {}
}

pub(crate) use ages::Ages;

/// Private home of [`Ages`], so the sealed expiry trait can name it without making it API.
mod ages {
    use super::{Counter, KeyLifetimes};
    use std::time::Duration;

    /// How long keys lived before leaving, in power-of-two buckets of nanoseconds: bucket `i`
    /// counts lifetimes in `[2^i, 2^(i+1))` ns. Written by the owning map only.
    #[derive(Debug)]
    #[allow(unreachable_pub, reason = "public only within a private module")]
    pub struct Ages {
        buckets: [Counter; 64],
    }

    impl Default for Ages {
        fn default() -> Self {
            Self {
                buckets: core::array::from_fn(|_| Counter::default()),
            }
        }
    }

    impl Ages {
        pub(crate) fn record(&self, nanos: u64) {
            let bucket = (u64::BITS - nanos.leading_zeros()).saturating_sub(1) as usize;
            self.buckets[bucket].bump();
        }

        /// Quantiles of the lifetimes recorded in all of `histograms` (a concurrent map has
        /// one per shard), each the upper bound of its bucket (so within a factor of two
        /// above the true value); `None` before any key has left.
        pub(crate) fn quantiles<'a>(
            histograms: impl IntoIterator<Item = &'a Ages>,
        ) -> Option<KeyLifetimes> {
            let mut counts = [0_u64; 64];
            for ages in histograms {
                for (count, bucket) in counts.iter_mut().zip(&ages.buckets) {
                    *count += bucket.get();
                }
            }
            let total: u64 = counts.iter().sum();
            if total == 0 {
                return None;
            }
            let quantile = |per_mille: u64| {
                let rank =
                    u64::try_from((u128::from(total) * u128::from(per_mille)).div_ceil(1000))
                        .unwrap_or(u64::MAX)
                        .max(1);
                let mut seen = 0;
                for (bucket, count) in counts.iter().enumerate() {
                    seen += count;
                    if seen >= rank {
                        return Duration::from_nanos(
                            1_u64.checked_shl(bucket as u32 + 1).unwrap_or(u64::MAX),
                        );
                    }
                }
                Duration::MAX
            };
            Some(KeyLifetimes {
                departed: total,
                p50: quantile(500),
                p95: quantile(950),
                p99: quantile(990),
            })
        }
    }
}

/// How long keys lived in a map before leaving (by any path), for maps built with
/// [`Builder::key_lifetimes`](crate::Builder::key_lifetimes).
///
/// Each quantile is the upper bound of a power-of-two bucket: at most twice the true value.
///
/// ```
/// use mapguard::{testing::MockClock, registry, LruMap};
/// use std::time::Duration;
///
/// let clock = MockClock::new();
/// let mut map = LruMap::builder(8).key_lifetimes().clock(clock.clone()).name("Docs.ages").build();
/// map.insert(1, ());
/// clock.advance(Duration::from_millis(3));
/// map.remove(&1);
/// let report = registry::snapshot().into_iter().find(|m| m.name == "Docs.ages").unwrap();
/// let ages = report.key_lifetimes.unwrap();
/// assert_eq!(ages.departed, 1);
/// assert!(ages.p50 >= Duration::from_millis(3) && ages.p50 <= Duration::from_millis(6));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyLifetimes {
    /// Keys that have left so far.
    pub departed: u64,
    /// Median lifetime.
    pub p50: Duration,
    /// 95th percentile.
    pub p95: Duration,
    /// 99th percentile.
    pub p99: Duration,
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
    /// The scope-end epoch of this map's lifetime when the map was last emptied by a scope end.
    cleared_at_epoch: Counter,
    /// Key lifetimes, for maps that record them.
    ages: Option<Arc<Ages>>,
    /// A concurrent map's shards, each with figures of its own (one writer per counter);
    /// empty for other maps. The map's own counters then stay unused.
    shards: Vec<Arc<Metrics>>,
}

mod suspects;

pub use suspects::{
    FORGOTTEN_SCOPE_ENDS, GROWTH_CHECKS, LeakDetector, LeakSuspect, Suspicion, Thresholds, Watch,
    leak_suspects, watch,
};

/// Ids for [`MapReport::id`].
static NEXT_MAP_ID: AtomicU64 = AtomicU64::new(0);

/// The registry's clock: map ages, and the samples of the process-wide detector.
static CLOCK: RwLock<Option<Arc<dyn Clock>>> = RwLock::new(None);

/// The registry's clock ([`SystemClock`] unless [`set_clock`] replaced it).
fn clock() -> Arc<dyn Clock> {
    if let Some(clock) = CLOCK
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .as_ref()
    {
        return Arc::clone(clock);
    }
    let mut slot = CLOCK.write().unwrap_or_else(PoisonError::into_inner);
    Arc::clone(slot.get_or_insert_with(|| Arc::new(SystemClock::default())))
}

/// Replaces the registry's clock: what map ages ([`MapReport::age`]) and the process-wide
/// detector behind [`leak_suspects`] measure time with. For simulations and tests that drive
/// a whole process on a [`MockClock`](crate::testing::MockClock); set it first thing, since
/// maps created before keep their creation time on the old clock's scale.
///
/// ```
/// use mapguard::{registry, testing::MockClock};
/// use std::time::Duration;
///
/// let clock = MockClock::new();
/// registry::set_clock(clock.clone());
/// let map = mapguard::LruMap::<u8, u8>::builder(4).name("Docs.clock").build();
/// clock.advance(Duration::from_secs(90));
/// let report = registry::snapshot().into_iter().find(|m| m.name == "Docs.clock").unwrap();
/// assert_eq!(report.age, Duration::from_secs(90));
/// # drop(map);
/// ```
pub fn set_clock(clock: impl Clock + 'static) {
    *CLOCK.write().unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(clock));
}

/// Scope ends seen per lifetime, process-wide: how many scopes have ended since a map of that
/// lifetime was last cleared tells whether someone forgot to end its scope.
static SCOPE_EPOCHS: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];

fn lifetime_index(lifetime: Lifetime) -> usize {
    match lifetime {
        Lifetime::Request => 0,
        Lifetime::Session => 1,
        Lifetime::Batch => 2,
        Lifetime::Process => 3,
    }
}

struct Entry {
    metrics: Weak<Metrics>,
}

static REGISTRY: Mutex<Vec<Entry>> = Mutex::new(Vec::new());

/// Forgets dropped maps, and gives the registry's memory back once it is mostly unused (as
/// the maps themselves do), so creating and dropping many maps leaves nothing behind.
fn sweep_dropped(entries: &mut Vec<Entry>) {
    entries.retain(|entry| entry.metrics.strong_count() > 0);
    if entries.capacity() > 16 && entries.len() <= entries.capacity() / 4 {
        entries.shrink_to(entries.len() * 2);
    }
}

fn registry() -> MutexGuard<'static, Vec<Entry>> {
    REGISTRY.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg_attr(not(feature = "tracking"), allow(dead_code))]
impl Metrics {
    /// The figures of a new map, not yet registered.
    fn new(
        name: String,
        lifetime: Lifetime,
        policy: &'static str,
        max: usize,
        site: &'static Location<'static>,
        ages: Option<Arc<Ages>>,
        shards: Vec<Arc<Metrics>>,
    ) -> Self {
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
            cleared_at_epoch: Counter(AtomicU64::new(
                SCOPE_EPOCHS[lifetime_index(lifetime)].load(Ordering::Relaxed),
            )),
            ages,
            shards,
        }
    }

    /// Publishes these figures in the registry until the returned handle is dropped.
    fn register(self) -> Arc<Self> {
        let metrics = Arc::new(self);
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
    }

    #[inline]
    pub(crate) fn removed_many(&self, cause: RemovalCause, count: u64) {
        self.removals[cause.index()].add(count);
    }

    #[inline]
    pub(crate) fn taken(&self, count: u64) {
        self.taken.add(count);
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

    /// A scope of this map's lifetime ended and emptied it.
    pub(crate) fn scope_ended(&self) {
        let epoch = &SCOPE_EPOCHS[lifetime_index(self.lifetime)];
        let now = epoch.fetch_add(1, Ordering::Relaxed) + 1;
        self.cleared_at_epoch.set(now);
    }

    fn snapshot(&self) -> MapReport {
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
            inserts,
            hits: sum(|m| &m.hits),
            misses: sum(|m| &m.misses),
            handed_back: taken,
            removals,
            scope_ends_since_cleared: epoch.saturating_sub(self.cleared_at_epoch.get()),
            site: self.site,
            thread: self.thread.clone(),
            age: clock().now().saturating_sub(self.created),
            key_lifetimes: Ages::quantiles(parts.iter().filter_map(|part| part.ages.as_deref())),
        }
    }
}

/// One live map's figures, from [`snapshot`].
///
/// ```
/// let map = mapguard::LruMap::<u8, u8>::builder(4).name("Docs.report").build();
/// let report = mapguard::registry::snapshot()
///     .into_iter()
///     .find(|m| m.name == "Docs.report")
///     .unwrap();
/// assert_eq!(report.removed(mapguard::RemovalCause::Evicted), 0);
/// # drop(map);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MapReport {
    /// Unique among the maps of this process, for its whole life (names may repeat).
    pub id: u64,
    /// `Type.field`, the builder's name, or the creation site.
    pub name: String,
    /// The map's lifetime.
    pub lifetime: Lifetime,
    /// `"lru"` or `"reject"`.
    pub policy: &'static str,
    /// Entries now (inserted and not yet left).
    pub len: u64,
    /// The most entries it has held (for a concurrent map, the sum of its shards' peaks: an
    /// upper bound, since shards peak at different times).
    pub peak_len: u64,
    /// The bound.
    pub max: u64,
    /// Estimated heap bytes of its storage, refreshed when its slab grows and on `clear`,
    /// `maintain`, scope ends and `set_max` (not after the automatic shrink during removals,
    /// nor when only its hash table grew).
    pub heap_bytes: u64,
    /// Keys inserted (new keys only).
    pub inserts: u64,
    /// Lookups that found their key.
    pub hits: u64,
    /// Lookups that did not.
    pub misses: u64,
    /// Values handed back to the caller (`remove`, `replace`, `drain`, ...).
    pub handed_back: u64,
    /// Values that left through the cleanup path, by [`RemovalCause::index`].
    pub removals: [u64; 8],
    /// Scopes of this map's lifetime ended elsewhere since this map was last cleared by one.
    pub scope_ends_since_cleared: u64,
    /// Where the map was created.
    pub site: &'static Location<'static>,
    /// The creating thread's name, if it had one.
    pub thread: Option<String>,
    /// Time since creation, on the registry's clock ([`set_clock`]).
    pub age: Duration,
    /// How long keys lived before leaving, if the map records it
    /// ([`Builder::key_lifetimes`](crate::Builder::key_lifetimes)).
    pub key_lifetimes: Option<KeyLifetimes>,
}

impl MapReport {
    /// Values that left with `cause`.
    ///
    /// ```
    /// let mut map = mapguard::LruMap::builder(1).name("Docs.removed").build();
    /// map.insert(1, ());
    /// map.insert(2, ());
    /// let report = mapguard::registry::snapshot().into_iter().find(|m| m.name == "Docs.removed").unwrap();
    /// assert_eq!(report.removed(mapguard::RemovalCause::Evicted), 1);
    /// ```
    #[must_use]
    pub fn removed(&self, cause: RemovalCause) -> u64 {
        self.removals[cause.index()]
    }
}

/// Every live managed map's figures, largest first.
///
/// ```
/// let map = mapguard::LruMap::<u8, u8>::new(4);
/// assert!(!mapguard::registry::snapshot().is_empty());
/// # drop(map);
/// ```
#[must_use]
pub fn snapshot() -> Vec<MapReport> {
    let mut entries = registry();
    sweep_dropped(&mut entries);
    let mut reports: Vec<MapReport> = entries
        .iter()
        .filter_map(|entry| entry.metrics.upgrade())
        .map(|metrics| metrics.snapshot())
        .collect();
    drop(entries);
    reports.sort_by(|a, b| b.len.cmp(&a.len).then_with(|| a.name.cmp(&b.name)));
    // Every read is a sample for the leak detectors: a service that is only scraped still
    // builds the history that growth is judged on.
    suspects::observe(&reports);
    reports
}

fn human_bytes(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 => format!("{:.1} GiB", b as f64 / f64::from(1u32 << 30)),
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / f64::from(1u32 << 20)),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

/// A human table of every live map, largest first: name, lifetime, len/max, bytes,
/// evictions, age and creation site.
///
/// ```
/// let mut map = mapguard::LruMap::builder(8).name("Docs.table").build();
/// map.insert(1, 1);
/// let table = mapguard::registry::report();
/// assert!(table.lines().any(|line| line.contains("Docs.table") && line.contains("1/8")));
/// ```
#[must_use]
pub fn report() -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<32} {:<8} {:>17} {:>10} {:>10} {:>8}  site",
        "map", "lifetime", "len/max", "bytes", "evictions", "age"
    );
    for map in snapshot() {
        let max = if map.max >= u64::from(u32::MAX - 1) {
            String::from("∞")
        } else {
            map.max.to_string()
        };
        let _ = writeln!(
            out,
            "{:<32} {:<8} {:>17} {:>10} {:>10} {:>7.0}s  {}",
            map.name,
            map.lifetime,
            format!("{}/{}", map.len, max),
            human_bytes(map.heap_bytes),
            map.removed(RemovalCause::Evicted),
            map.age.as_secs_f64(),
            map.site
        );
    }
    out
}

/// Every live map's figures in the Prometheus text exposition format: gauges for entries,
/// bound and bytes, counters (`_total`) for inserts, hits, misses and removals by cause.
/// Labels are `map`, `lifetime` and `policy` — never keys.
///
/// ```
/// let map = mapguard::LruMap::<u8, u8>::builder(4).name("Docs.prom").build();
/// let text = mapguard::registry::render_prometheus();
/// assert!(text.contains("# TYPE mapguard_map_entries gauge"));
/// assert!(text.contains(r#"mapguard_map_max_entries{map="Docs.prom",lifetime="process",policy="lru"} 4"#));
/// # drop(map);
/// ```
#[must_use]
pub fn render_prometheus() -> String {
    let maps = snapshot();
    let mut out = String::new();
    let gauges: [Family; 4] = [
        ("mapguard_map_entries", "Entries in the map.", |m| m.len),
        (
            "mapguard_map_peak_entries",
            "Most entries the map has held.",
            |m| m.peak_len,
        ),
        ("mapguard_map_max_entries", "The map's bound.", |m| m.max),
        (
            "mapguard_map_heap_bytes",
            "Estimated heap bytes of the map's storage.",
            |m| m.heap_bytes,
        ),
    ];
    let counters: [Family; 3] = [
        ("mapguard_map_inserts_total", "Keys inserted.", |m| {
            m.inserts
        }),
        (
            "mapguard_map_hits_total",
            "Lookups that found their key.",
            |m| m.hits,
        ),
        ("mapguard_map_misses_total", "Lookups that did not.", |m| {
            m.misses
        }),
    ];
    for (kind, families) in [("gauge", &gauges[..]), ("counter", &counters[..])] {
        for (name, help, value) in families {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for map in &maps {
                let _ = writeln!(out, "{name}{{{}}} {}", labels(map), value(map));
            }
        }
    }
    let name = "mapguard_map_removals_total";
    let _ = writeln!(
        out,
        "# HELP {name} Values that left through the cleanup path, by cause.\n# TYPE {name} counter"
    );
    for map in &maps {
        for cause in RemovalCause::ALL {
            let count = map.removed(cause);
            let _ = writeln!(out, "{name}{{{},cause=\"{cause}\"}} {count}", labels(map));
        }
    }
    out
}

/// A metric family: name, help text, and the figure it reads.
type Family = (&'static str, &'static str, fn(&MapReport) -> u64);

fn labels(map: &MapReport) -> String {
    format!(
        "map=\"{}\",lifetime=\"{}\",policy=\"{}\"",
        escape(&map.name),
        map.lifetime,
        map.policy
    )
}

/// Escapes a label value: backslash, double quote and newline.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Publishes every live map's figures through the [`metrics`] facade (feature `metrics`):
/// the same names as [`render_prometheus`], gauges set and counters set to their totals
/// (`Counter::absolute`), with `map`, `lifetime` and `policy` labels. Call it before each
/// scrape, or on a timer; whichever recorder you installed receives them.
///
/// ```
/// let mut map = mapguard::LruMap::builder(4).name("Docs.metrics").build();
/// map.insert(1, 1);
/// mapguard::registry::export_metrics(); // a no-op until a recorder is installed
/// ```
#[cfg(feature = "metrics")]
pub fn export_metrics() {
    for map in snapshot() {
        let labels = [
            ("map", map.name.clone()),
            ("lifetime", map.lifetime.to_string()),
            ("policy", map.policy.to_owned()),
        ];
        metrics::gauge!("mapguard_map_entries", &labels).set(map.len as f64);
        metrics::gauge!("mapguard_map_peak_entries", &labels).set(map.peak_len as f64);
        metrics::gauge!("mapguard_map_max_entries", &labels).set(map.max as f64);
        metrics::gauge!("mapguard_map_heap_bytes", &labels).set(map.heap_bytes as f64);
        metrics::counter!("mapguard_map_inserts_total", &labels).absolute(map.inserts);
        metrics::counter!("mapguard_map_hits_total", &labels).absolute(map.hits);
        metrics::counter!("mapguard_map_misses_total", &labels).absolute(map.misses);
        for cause in RemovalCause::ALL {
            let labels = [
                ("map", map.name.clone()),
                ("lifetime", map.lifetime.to_string()),
                ("policy", map.policy.to_owned()),
                ("cause", cause.as_str().to_owned()),
            ];
            metrics::counter!("mapguard_map_removals_total", &labels).absolute(map.removed(cause));
        }
    }
}
