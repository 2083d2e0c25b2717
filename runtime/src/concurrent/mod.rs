//! [`ConcurrentMap`], and its two faces [`ConcurrentLruMap`] and [`ConcurrentBoundedMap`]:
//! managed maps shared between threads through `&self`.
//!
//! A concurrent map is a fixed set of shards, each a [`ManagedMap`] behind its own lock; a
//! key's hash picks its shard. Every operation locks one shard, does its work there, and takes
//! the entries that left out of the shard before unlocking. Only then do the hooks run, so a
//! hook may use the map (even the same key) without deadlock, and a slow hook never blocks
//! other threads' access to the shard.

use core::borrow::Borrow;
use core::fmt;
use core::hash::{BuildHasher, Hash};
use std::borrow::Cow;
use std::panic::Location;
use std::sync::atomic::{AtomicUsize, Ordering};

use hashbrown::DefaultHashBuilder;

mod builder;
pub(crate) mod lock;
pub use builder::Builder;
use lock::ShardLock;

use crate::RemovalCause;
use crate::departures::{Departed, Departures, QueuesDepartures};
use crate::error::CapacityError;
use crate::hooks::{ConcurrentListener, NoListener};
use crate::map::{ManagedMap, rejected_departs, replaced_departs, stored_departs};
use crate::panics::HookPanics;
use crate::policy::{Adaptive, Evicting, Lru, Policy, Reject};
use crate::registry::{self, MapMetrics};
use crate::scope::{Lifetime, ManagedCache};
use crate::settings::assert_valid_max;
use crate::stats::MapStats;
use crate::storage::expiry::{Expiry, NoExpiry};
use crate::storage::queues::Queues;
use crate::storage::store::{Node, Store};
use crate::weight::Weigher;

/// A thread-safe managed map: sharded, bounded, with hooks that run outside its locks.
///
/// You normally name it through its aliases: [`ConcurrentLruMap`] (evicts the least recently
/// used entry of the key's shard) and [`ConcurrentBoundedMap`] (rejects new keys when the
/// key's shard is full). All methods take `&self`; share the map with `Arc` or by reference.
/// Reads return clones (`V: Clone`), or run a closure on the value under the shard's lock.
///
/// # The invariant, across threads
///
/// Every value inserted leaves exactly once: handed back by `remove`, `replace`, a rejected
/// `try_insert`, ...; or through the cleanup path with its [`RemovalCause`] — the value's
/// [`Cleanup`](crate::Cleanup) (if built with it), then the [`ConcurrentListener`], then drop.
/// Whatever is left when the map is dropped goes through it with [`RemovalCause::Dropped`].
///
/// # Hooks run outside the locks
///
/// An operation takes the entries that leave (evicted, expired, replaced, ...) out of the
/// shard while it holds the lock, unlocks, and then runs the hooks on the calling thread. A
/// hook may therefore call back into the map, and hooks of different operations may run at
/// the same time on different threads (hence `ConcurrentListener` takes `&self` and is
/// `Send + Sync`). If a hook panics, every other entry that left still reaches its hooks,
/// and then the first panic reaches the caller (see
/// [`ManagedMap`]'s "When a hook panics").
/// If your closure panics under a shard's lock (`update`,
/// `retain`, `get_or_insert_with`), entries that had already left run their hooks at that
/// shard's next operation, or when the map is dropped.
///
/// # The bound, and its tolerance
///
/// Each of the `n` shards holds at most `⌈max / n⌉` entries, so the map holds at most
/// `n × ⌈max / n⌉ < max + n`. Eviction is least-recently-used *within a shard*, and a bounded
/// map rejects a new key when the key's shard is full, which can happen before the whole map
/// holds `max`. By default `n` is a power of two near four per CPU, and small enough that each
/// shard holds at least 64 entries (a map with `max` below 128 has one shard, and is exact);
/// [`Builder::shards`] sets it.
///
/// # Examples
///
/// ```
/// use mapguard::{ConcurrentLruMap, RemovalCause};
/// use std::sync::atomic::{AtomicUsize, Ordering};
///
/// let evicted = AtomicUsize::new(0);
/// let cache = ConcurrentLruMap::builder(1_000)
///     .on_removal(|_key: u64, _value: String, cause| {
///         if cause == RemovalCause::Evicted {
///             evicted.fetch_add(1, Ordering::Relaxed);
///         }
///     })
///     .build();
/// std::thread::scope(|s| {
///     for thread in 0..4_u64 {
///         let cache = &cache;
///         s.spawn(move || {
///             for i in 0..1_000 {
///                 cache.insert(thread * 1_000 + i, i.to_string());
///             }
///         });
///     }
/// });
/// assert!(cache.len() <= 1_000 + cache.shard_count());
/// drop(cache);
/// assert!(evicted.load(Ordering::Relaxed) >= 3_000 - 1_000);
/// ```
pub struct ConcurrentMap<K, V, P: Policy, S = DefaultHashBuilder, L = NoListener, E = NoExpiry>
where
    L: ConcurrentListener<K, V>,
    E: Expiry,
{
    shards: Shards<K, V, P, S, E>,
    /// Picks a key's shard: the same hash the shard's table uses, so one `BuildHasher`.
    hasher: S,
    /// `64 - 7 - log2(shards)`: the shard comes from the bits just below the seven the hash
    /// table keeps as tags, so keys of one shard still differ in their tags.
    shift: u32,
    listener: L,
    lifetime: Lifetime,
    name: Cow<'static, str>,
    /// The bound; atomic so `set_max` can take `&self`.
    max: AtomicUsize,
    /// The weight budget, if any (each shard holds `⌈max_weight / shards⌉`).
    max_weight: Option<u64>,
    /// Held by `set_max` while it sets the bound and applies it to every shard, so concurrent
    /// calls take turns and the last one holds everywhere.
    resizing: ShardLock<()>,
    /// The registry entry summing the shards' figures; gone when the map is dropped.
    metrics: MapMetrics,
}

/// A concurrent map that evicts the least recently used entry of a key's shard when a new key
/// arrives while the shard is full; the evicted value goes through the cleanup path with
/// [`RemovalCause::Evicted`].
///
/// `get`, `update` and `get_or_insert_with` make an entry the most recent; `peek` and
/// `contains_key` do not. All methods are O(1) average plus one lock unless noted.
///
/// # Examples
///
/// ```
/// use mapguard::ConcurrentLruMap;
/// use std::sync::Arc;
///
/// let cache = Arc::new(ConcurrentLruMap::new(10_000));
/// let worker = {
///     let cache = Arc::clone(&cache);
///     std::thread::spawn(move || cache.insert("answer", 42))
/// };
/// worker.join().unwrap();
/// assert_eq!(cache.get("answer"), Some(42));
/// ```
pub type ConcurrentLruMap<K, V, S = DefaultHashBuilder, L = NoListener, E = NoExpiry> =
    ConcurrentMap<K, V, Lru, S, L, E>;

/// A [`ConcurrentMap`] whose shards evict as an [`AdaptiveMap`](crate::AdaptiveMap) does (each
/// shard adapts to what it sees). `&self` methods, hooks outside the locks.
///
/// ```
/// let cache = mapguard::ConcurrentAdaptiveMap::builder(1_000).shards(4).build();
/// std::thread::scope(|s| {
///     for t in 0..2 {
///         let cache = &cache;
///         s.spawn(move || (0..2_000).for_each(|i| cache.insert(i * 2 + t, i)));
///     }
/// });
/// assert!(cache.len() <= 1_000);
/// ```
pub type ConcurrentAdaptiveMap<K, V, S = DefaultHashBuilder, L = NoListener, E = NoExpiry> =
    ConcurrentMap<K, V, Adaptive, S, L, E>;

/// A concurrent map that never evicts: when the key's shard is full,
/// [`try_insert`](ConcurrentMap::try_insert) of a new key fails and hands the key and value
/// back. Updating a key already present always succeeds.
///
/// All methods are O(1) average plus one lock unless noted.
///
/// # Examples
///
/// ```
/// use mapguard::ConcurrentBoundedMap;
///
/// let open = ConcurrentBoundedMap::new(2); // small: one shard, so the bound is exact
/// open.try_insert("a", 1)?;
/// open.try_insert("b", 2)?;
/// let rejected = open.try_insert("c", 3).unwrap_err();
/// assert_eq!(rejected.into_inner(), ("c", 3));
/// # Ok::<(), mapguard::CapacityError<&str, i32>>(())
/// ```
pub type ConcurrentBoundedMap<K, V, S = DefaultHashBuilder, L = NoListener, E = NoExpiry> =
    ConcurrentMap<K, V, Reject, S, L, E>;

/// One shard: a managed map whose departures wait in [`Departures`] until the lock is released.
type Shard<K, V, P, S, E> = ManagedMap<K, V, P, S, Departures<K, V>, E>;

/// One shard behind its lock.
type Locked<K, V, P, S, E> = ShardLock<Shard<K, V, P, S, E>>;

/// All of a map's shards.
type Shards<K, V, P, S, E> = Box<[Locked<K, V, P, S, E>]>;

/// The concurrent maps' one hand-off: runs `work` on the locked shard, takes what left while
/// the lock is held, and runs the hooks of that once it is released (so a hook may use the
/// map, and a slow one blocks no other thread's access to the shard).
#[cfg_attr(
    not(feature = "tracking"),
    allow(
        clippy::trivially_copy_pass_by_ref,
        reason = "`MapMetrics` is a unit without `tracking`"
    )
)]
#[inline]
pub(crate) fn on_shard<T: QueuesDepartures<K, V>, K, V, R>(
    listener: &impl ConcurrentListener<K, V>,
    metrics: &MapMetrics,
    shard: &ShardLock<T>,
    work: impl FnOnce(&mut T) -> R,
) -> R {
    on_shard_handing_back(listener, metrics, shard, work, |_| None)
}

/// [`on_shard`] for an operation that hands a value of the map's back to its caller: if a
/// hook panics, the caller will never receive it, so it goes through the hooks too (with the
/// cause `departed` gives it) before the first panic resumes.
#[cfg_attr(
    not(feature = "tracking"),
    allow(
        clippy::trivially_copy_pass_by_ref,
        reason = "`MapMetrics` is a unit without `tracking`"
    )
)]
#[inline]
pub(crate) fn on_shard_handing_back<T: QueuesDepartures<K, V>, K, V, R>(
    listener: &impl ConcurrentListener<K, V>,
    metrics: &MapMetrics,
    shard: &ShardLock<T>,
    work: impl FnOnce(&mut T) -> R,
    departed: impl FnOnce(R) -> Option<Departed<K, V>>,
) -> R {
    let (result, leaving) = locked(shard, work);
    let mut panics = HookPanics::default();
    run_hooks(listener, leaving, &mut panics);
    if panics.will_resume() {
        if let Some((key, value, cause)) = departed(result) {
            listener.on_removal_contained(key, value, cause, &mut panics);
        }
        panics.resume_now(|count| metrics.hook_panicked(count));
    }
    panics.finish(|count| metrics.hook_panicked(count));
    result
}

/// Runs `work` on every shard in turn, each shard's hooks after its lock is released, and
/// every shard's work and hooks even if a hook panics; returns the sum of what `work`
/// returned.
#[cfg_attr(
    not(feature = "tracking"),
    allow(
        clippy::trivially_copy_pass_by_ref,
        reason = "`MapMetrics` is a unit without `tracking`"
    )
)]
pub(crate) fn each_shard<T: QueuesDepartures<K, V>, K, V>(
    listener: &impl ConcurrentListener<K, V>,
    metrics: &MapMetrics,
    shards: &[ShardLock<T>],
    mut work: impl FnMut(&mut T) -> usize,
) -> usize {
    let mut panics = HookPanics::default();
    let total = shards
        .iter()
        .map(|shard| {
            let (result, leaving) = locked(shard, &mut work);
            run_hooks(listener, leaving, &mut panics);
            result
        })
        .sum();
    panics.finish(|count| metrics.hook_panicked(count));
    total
}

/// Runs `work` under the shard's lock and takes what left meanwhile, for its hooks to run
/// once the lock is released.
#[inline]
fn locked<T: QueuesDepartures<K, V>, K, V, R>(
    shard: &ShardLock<T>,
    work: impl FnOnce(&mut T) -> R,
) -> (R, Departures<K, V>) {
    shard.with(|shard| {
        let result = work(shard);
        (result, shard.take_departed())
    })
}

/// Runs the hooks of entries that left a shard, in the order they left; no lock is held.
#[inline]
pub(crate) fn run_hooks<K, V>(
    listener: &impl ConcurrentListener<K, V>,
    departed: impl IntoIterator<Item = Departed<K, V>>,
    panics: &mut HookPanics,
) {
    for (key, value, cause) in departed {
        listener.on_removal_contained(key, value, cause, panics);
    }
}

/// Runs the hooks of a whole shard's entries, taken out at once, all leaving with `cause`.
fn release_all<K, V>(
    listener: &impl ConcurrentListener<K, V>,
    nodes: impl IntoIterator<Item = Node<K, V>>,
    cause: RemovalCause,
    panics: &mut HookPanics,
) {
    for node in nodes {
        listener.on_removal_contained(node.key, node.value, cause, panics);
    }
}

/// How big a new concurrent map is: its bound, the room to reserve up front, and the shard
/// count if the builder set one.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sizing {
    pub(crate) max: usize,
    pub(crate) capacity: usize,
    pub(crate) shards: Option<usize>,
}

/// Builds a concurrent map's shards: how many, each's bound and reserved room, each with its
/// registry counters (one writer per counter), and those counters, for the map's one registry
/// entry. Shared by the concurrent maps: `store` makes a shard's storage, `shard` the shard.
pub(crate) fn build_shards<T, K2, V2, S2, E2: Expiry, O2: Queues>(
    Sizing {
        max,
        capacity,
        shards,
    }: Sizing,
    lifetime: Lifetime,
    policy: &'static str,
    site: &'static Location<'static>,
    mut store: impl FnMut(usize, usize) -> Store<K2, V2, S2, E2, O2>,
    mut shard: impl FnMut(Store<K2, V2, S2, E2, O2>, MapMetrics) -> T,
) -> BuiltShards<T> {
    assert_valid_max(max);
    let count = shard_count(shards, max);
    let per_shard = max.div_ceil(count);
    let capacity_per_shard = capacity.div_ceil(count);
    let mut parts = Vec::with_capacity(count);
    let shards = (0..count)
        .map(|_| {
            let store = store(per_shard, capacity_per_shard);
            let metrics = registry::shard_metrics(lifetime, policy, per_shard, site, store.ages());
            #[allow(
                clippy::clone_on_copy,
                reason = "an `Arc` with `tracking` on; a `Copy` unit without it"
            )]
            parts.push(metrics.clone());
            ShardLock::new(shard(store, metrics))
        })
        .collect();
    BuiltShards {
        shards,
        shift: 64 - 7 - count.trailing_zeros(),
        parts,
    }
}

/// What [`build_shards`] made.
pub(crate) struct BuiltShards<T> {
    pub(crate) shards: Box<[ShardLock<T>]>,
    /// `64 - 7 - log2(shards)`: see `ConcurrentMap::shift`.
    pub(crate) shift: u32,
    /// Each shard's registry counters.
    pub(crate) parts: Vec<MapMetrics>,
}

/// The default shard count for a bound: a power of two near four per CPU, with at least 64
/// entries per shard.
fn default_shards(max: usize) -> usize {
    let cpus = std::thread::available_parallelism().map_or(4, usize::from);
    let wanted = (cpus * 4).next_power_of_two();
    wanted.min(floor_power_of_two(max / 64))
}

/// The shard count for a bound: `wanted` (or the default) rounded up to a power of two, but
/// never more shards than `max` — each shard holds at least one entry, so more shards than
/// `max` would only loosen the bound (`len < max + shards`).
pub(crate) fn shard_count(wanted: Option<usize>, max: usize) -> usize {
    wanted
        .unwrap_or_else(|| default_shards(max))
        .clamp(1, MAX_SHARDS)
        .next_power_of_two()
        .min(floor_power_of_two(max))
}

/// The most shards a map has.
const MAX_SHARDS: usize = 1 << 16;

/// The largest power of two not above `n` (1 for 0).
fn floor_power_of_two(n: usize) -> usize {
    1 << (usize::BITS - 1 - n.max(1).leading_zeros())
}

impl<K, V, P: Policy> ConcurrentMap<K, V, P> {
    /// An empty map holding at most `max` entries (within the tolerance described on
    /// [`ConcurrentMap`]), with the default hasher, shard count and no hooks.
    ///
    /// # Panics
    ///
    /// If `max` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use mapguard::{ConcurrentBoundedMap, ConcurrentLruMap};
    ///
    /// let cache: ConcurrentLruMap<u64, String> = ConcurrentLruMap::new(10_000);
    /// let table: ConcurrentBoundedMap<u64, String> = ConcurrentBoundedMap::new(10_000);
    /// assert_eq!(cache.max(), 10_000);
    /// assert!(table.is_empty());
    /// ```
    #[must_use]
    #[track_caller]
    pub fn new(max: usize) -> Self {
        Self::builder(max).build()
    }

    /// A builder for a map holding at most `max` entries: set the shard count, a listener,
    /// value cleanup, expiry or a hasher, then [`build`](Builder::build).
    ///
    /// # Panics
    ///
    /// If `max` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use mapguard::{ConcurrentLruMap, Lifetime};
    ///
    /// let sessions = ConcurrentLruMap::<u64, String>::builder(5_000)
    ///     .name("Server.sessions")
    ///     .lifetime(Lifetime::Session)
    ///     .shards(4)
    ///     .build();
    /// assert_eq!(sessions.shard_count(), 4);
    /// ```
    #[track_caller]
    pub fn builder(max: usize) -> Builder<K, V, P> {
        Builder::new(max)
    }
}

impl<K, V, P: Policy, S, L, E> ConcurrentMap<K, V, P, S, L, E>
where
    P: Policy,
    S: Clone,
    L: ConcurrentListener<K, V>,
    E: Expiry,
{
    #[allow(
        clippy::too_many_arguments,
        reason = "one private constructor, called by the builder"
    )]
    pub(crate) fn from_parts(
        sizing: Sizing,
        hasher: S,
        expiry: &E,
        listener: L,
        lifetime: Lifetime,
        name: Cow<'static, str>,
        site: &'static Location<'static>,
        budget: Option<(u64, Weigher<K, V>)>,
    ) -> Self {
        let max = sizing.max;
        let shard_budget = shard_budget(budget.as_ref(), sizing.shards, max);
        let BuiltShards {
            shards,
            shift,
            parts,
        } = build_shards(
            sizing,
            lifetime,
            P::NAME,
            site,
            |max, capacity| Store::with_capacity(max, hasher.clone(), expiry.split(), capacity),
            |store, metrics| {
                let shard = ManagedMap::with_metrics(
                    store,
                    Departures::default(),
                    lifetime,
                    Cow::Borrowed(""),
                    metrics,
                );
                match &shard_budget {
                    Some((max_weight, weigher)) => {
                        shard.with_budget(*max_weight, Some(weigher.clone()))
                    }
                    None => shard,
                }
            },
        );
        let metrics =
            registry::register_sharded(name.to_string(), lifetime, P::NAME, max, site, &parts);
        Self {
            shards,
            hasher,
            shift,
            listener,
            lifetime,
            name,
            max: AtomicUsize::new(max),
            max_weight: budget.map(|(max_weight, _)| max_weight),
            resizing: ShardLock::new(()),
            metrics,
        }
    }
}

/// Each shard's part of a weight budget: `⌈max_weight / shards⌉`, the way the count bound is
/// split (so the map may weigh up to `shards - 1` units more than its budget).
pub(crate) fn shard_budget<W: Clone>(
    budget: Option<&(u64, W)>,
    shards: Option<usize>,
    max: usize,
) -> Option<(u64, W)> {
    let count = shard_count(shards, max) as u64;
    budget.map(|(max_weight, weigher)| (max_weight.div_ceil(count), weigher.clone()))
}

impl<K, V, P: Policy, S, L, E> ConcurrentMap<K, V, P, S, L, E>
where
    L: ConcurrentListener<K, V>,
    E: Expiry,
{
    /// The map's name: the builder's [`name`](Builder::name), `Type.field` for a
    /// `#[mapguard::managed]` field, or else the call site that created it.
    ///
    /// ```
    /// let named = mapguard::ConcurrentLruMap::<u8, u8>::builder(4).name("Cache.hot").build();
    /// assert_eq!(named.name(), "Cache.hot");
    /// ```
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The lifetime whose scope end clears this map.
    ///
    /// ```
    /// use mapguard::{ConcurrentLruMap, Lifetime};
    /// let map = ConcurrentLruMap::<u8, u8>::builder(4).lifetime(Lifetime::Request).build();
    /// assert_eq!(map.lifetime(), Lifetime::Request);
    /// ```
    #[must_use]
    pub fn lifetime(&self) -> Lifetime {
        self.lifetime
    }

    /// The bound the map was built with (see [`ConcurrentMap`] for its tolerance).
    ///
    /// ```
    /// assert_eq!(mapguard::ConcurrentLruMap::<u8, u8>::new(7).max(), 7);
    /// ```
    #[must_use]
    pub fn max(&self) -> usize {
        self.max.load(Ordering::Relaxed)
    }

    /// How many shards (and locks) the map has.
    ///
    /// ```
    /// let map = mapguard::ConcurrentLruMap::<u8, u8>::builder(1_000).shards(8).build();
    /// assert_eq!(map.shard_count(), 8);
    /// ```
    #[must_use]
    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }

    /// The map's removal listener.
    ///
    /// ```
    /// let map = mapguard::ConcurrentLruMap::<u8, u8>::new(4);
    /// assert_eq!(*map.listener(), mapguard::hooks::NoListener);
    /// ```
    #[must_use]
    pub fn listener(&self) -> &L {
        &self.listener
    }

    /// The map's hasher.
    ///
    /// ```
    /// use std::collections::hash_map::RandomState;
    /// let map = mapguard::ConcurrentLruMap::<u8, u8>::builder(4).hasher(RandomState::new()).build();
    /// let _: &RandomState = map.hasher();
    /// ```
    #[must_use]
    pub fn hasher(&self) -> &S {
        &self.hasher
    }

    /// Sums a figure over the shards, locking each in turn.
    fn sum<T: core::iter::Sum>(&self, figure: impl Fn(&Shard<K, V, P, S, E>) -> T) -> T {
        self.shards
            .iter()
            .map(|shard| shard.with(|s| figure(s)))
            .sum()
    }

    /// Number of entries, counted shard by shard (so, under concurrent writes, a figure that
    /// was true of each shard at a slightly different moment). O(shards).
    ///
    /// ```
    /// let map = mapguard::ConcurrentLruMap::new(4);
    /// map.insert(1, 1);
    /// assert_eq!(map.len(), 1);
    /// ```
    #[must_use]
    pub fn len(&self) -> usize {
        self.sum(ManagedMap::len)
    }

    /// Whether the map holds no entries. O(shards).
    ///
    /// ```
    /// assert!(mapguard::ConcurrentLruMap::<u8, u8>::new(4).is_empty());
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.shards.iter().all(|shard| shard.with(|s| s.is_empty()))
    }

    /// Entries the shards can hold before they reallocate. O(shards).
    ///
    /// ```
    /// let map = mapguard::ConcurrentLruMap::new(1_000_000);
    /// map.insert(1, 1);
    /// assert!(map.capacity() >= 1 && map.capacity() < 1_000);
    /// ```
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.sum(ManagedMap::capacity)
    }

    /// What the entries weigh together (0 without a weight budget; see [`crate::weight`]).
    /// O(shards).
    ///
    /// ```
    /// let map = mapguard::ConcurrentLruMap::builder(100)
    ///     .weigher(|_: &u8, v: &String| v.len() as u64)
    ///     .max_weight(1_000)
    ///     .build();
    /// map.insert(1, String::from("four"));
    /// assert_eq!(map.weight(), 4);
    /// ```
    #[must_use]
    pub fn weight(&self) -> u64 {
        self.sum(ManagedMap::weight)
    }

    /// The weight budget, if the map has one. Each shard holds `⌈max_weight / shards⌉`.
    ///
    /// ```
    /// let map = mapguard::ConcurrentLruMap::<u8, u8>::builder(64).max_weight(640).build();
    /// assert_eq!(map.max_weight(), Some(640));
    /// ```
    #[must_use]
    pub fn max_weight(&self) -> Option<u64> {
        self.max_weight
    }

    /// Estimated heap bytes held by the shards' storage. O(shards).
    ///
    /// ```
    /// let map = mapguard::ConcurrentLruMap::new(100);
    /// assert_eq!(map.heap_bytes(), 0);
    /// map.insert(1_u64, 1_u64);
    /// assert!(map.heap_bytes() > 0);
    /// ```
    #[must_use]
    pub fn heap_bytes(&self) -> usize {
        self.sum(ManagedMap::heap_bytes)
    }

    /// Runs `work` on `shard`; then, unlocked, the hooks of the entries that left.
    #[inline]
    fn on_shard<R>(
        &self,
        shard: &Locked<K, V, P, S, E>,
        work: impl FnOnce(&mut Shard<K, V, P, S, E>) -> R,
    ) -> R {
        on_shard(&self.listener, &self.metrics, shard, work)
    }

    /// [`on_shard_handing_back`] on this map.
    #[inline]
    fn on_shard_handing_back<R>(
        &self,
        shard: &Locked<K, V, P, S, E>,
        work: impl FnOnce(&mut Shard<K, V, P, S, E>) -> R,
        departed: impl FnOnce(R) -> Option<Departed<K, V>>,
    ) -> R {
        on_shard_handing_back(&self.listener, &self.metrics, shard, work, departed)
    }

    /// Runs `work` on every shard in turn, each time running the hooks after unlocking.
    fn each_shard(&self, work: impl FnMut(&mut Shard<K, V, P, S, E>) -> usize) -> usize {
        each_shard(&self.listener, &self.metrics, &self.shards, work)
    }

    /// Takes every entry out of every shard with `cause` and runs the hooks. O(n), one lock
    /// at a time, each held for O(1).
    fn remove_all(&self, cause: RemovalCause) -> usize {
        let mut panics = HookPanics::default();
        let mut count = 0;
        for shard in &self.shards {
            let nodes = shard.with(|s| s.take_all_leaving(cause));
            count += nodes.len();
            release_all(&self.listener, nodes, cause, &mut panics);
        }
        panics.finish(|count| self.metrics.hook_panicked(count));
        count
    }

    /// Removes every entry through the cleanup path with [`RemovalCause::Cleared`] and frees
    /// the shards' memory. Entries inserted meanwhile by other threads into shards already
    /// cleared stay. O(n).
    ///
    /// ```
    /// let map = mapguard::ConcurrentLruMap::new(100);
    /// (0..50).for_each(|i| map.insert(i, i));
    /// map.clear();
    /// assert!(map.is_empty());
    /// assert_eq!(map.heap_bytes(), 0);
    /// ```
    pub fn clear(&self) {
        self.remove_all(RemovalCause::Cleared);
    }

    /// Clears the map with [`RemovalCause::ScopeEnded`] if it has `lifetime`, and returns
    /// how many entries left; through `&self`, so a map shared by `Arc` can end its scope.
    /// O(n).
    ///
    /// ```
    /// use mapguard::{ConcurrentLruMap, Lifetime};
    ///
    /// let scratch = ConcurrentLruMap::builder(100).lifetime(Lifetime::Request).build();
    /// scratch.insert(1, "row");
    /// assert_eq!(scratch.end_scope(Lifetime::Session), 0);
    /// assert_eq!(scratch.end_scope(Lifetime::Request), 1);
    /// assert!(scratch.is_empty());
    /// ```
    pub fn end_scope(&self, lifetime: Lifetime) -> usize {
        if lifetime != self.lifetime {
            return 0;
        }
        self.metrics.scope_ended();
        self.remove_all(RemovalCause::ScopeEnded)
    }

    /// Visits every entry, shard by shard, with that shard locked; the order is arbitrary.
    /// `visit` must not use this map (its shard is locked). O(n).
    ///
    /// ```
    /// let map = mapguard::ConcurrentLruMap::new(10);
    /// (0..4).for_each(|i| map.insert(i, i * 10));
    /// let mut sum = 0;
    /// map.for_each(|_key, value| sum += value);
    /// assert_eq!(sum, 60);
    /// ```
    pub fn for_each(&self, mut visit: impl FnMut(&K, &V)) {
        for shard in &self.shards {
            shard.with(|s| s.iter().for_each(|(key, value)| visit(key, value)));
        }
    }
}

impl<K, V, P: Policy, S, L, E> ConcurrentMap<K, V, P, S, L, E>
where
    K: Hash + Eq,
    S: BuildHasher,
    P: Policy,
    L: ConcurrentListener<K, V>,
    E: Expiry,
{
    #[inline]
    fn shard_of<Q: Hash + ?Sized>(&self, key: &Q) -> &Locked<K, V, P, S, E> {
        let index = (self.hasher.hash_one(key) >> self.shift) as usize & (self.shards.len() - 1);
        &self.shards[index]
    }

    /// Whether `key` is present. Does not change the recency order.
    ///
    /// ```
    /// let map = mapguard::ConcurrentLruMap::new(3);
    /// map.insert(String::from("a"), 1);
    /// assert!(map.contains_key("a")); // `&str` looks up `String` keys
    /// ```
    #[must_use]
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.shard_of(key).with(|shard| shard.contains_key(key))
    }

    /// A clone of the value for `key`, without changing the recency order.
    ///
    /// ```
    /// let map = mapguard::ConcurrentLruMap::new(2);
    /// map.insert(1, 'a');
    /// assert_eq!(map.peek(&1), Some('a'));
    /// ```
    #[must_use]
    pub fn peek<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        V: Clone,
    {
        self.shard_of(key).with(|shard| shard.peek(key).cloned())
    }

    /// A clone of the value for `key`. For an LRU map this makes the entry the most recently
    /// used; an expired entry is cleaned ([`RemovalCause::Expired`]) and not returned.
    ///
    /// ```
    /// let map = mapguard::ConcurrentLruMap::new(2);
    /// map.insert("a", vec![1]);
    /// assert_eq!(map.get("a"), Some(vec![1]));
    /// assert_eq!(map.get("b"), None);
    /// ```
    #[must_use]
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        V: Clone,
    {
        self.update(key, |value| value.clone())
    }

    /// Runs `change` on the value for `key` under its shard's lock and returns what it
    /// returns, or `None` if the key is absent. Counts as a read like [`get`](Self::get).
    /// `change` must not use this map (its shard is locked).
    ///
    /// ```
    /// let hits = mapguard::ConcurrentLruMap::new(10);
    /// hits.insert("/", 0_u64);
    /// std::thread::scope(|s| {
    ///     for _ in 0..4 {
    ///         s.spawn(|| hits.update("/", |n| *n += 1));
    ///     }
    /// });
    /// assert_eq!(hits.get("/"), Some(4));
    /// ```
    pub fn update<Q, R>(&self, key: &Q, change: impl FnOnce(&mut V) -> R) -> Option<R>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.on_shard(self.shard_of(key), |shard| shard.update(key, change))
    }

    /// Removes `key` and hands its value back to you; no hook runs.
    ///
    /// ```
    /// let map = mapguard::ConcurrentLruMap::new(2);
    /// map.insert("a", 1);
    /// assert_eq!(map.remove("a"), Some(1));
    /// assert_eq!(map.remove("a"), None);
    /// ```
    #[must_use = "`remove` hands the value back without its hooks (`Cleanup`, listener): use it, or call `discard` to close it through the cleanup path"]
    pub fn remove<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.remove_entry(key).map(|(_, value)| value)
    }

    /// Removes `key` and hands the stored key and value back to you; no hook runs.
    ///
    /// ```
    /// let map = mapguard::ConcurrentLruMap::new(2);
    /// map.insert(String::from("a"), 1);
    /// assert_eq!(map.remove_entry("a"), Some((String::from("a"), 1)));
    /// ```
    #[must_use = "`remove_entry` hands the value back without its hooks (`Cleanup`, listener): use it, or call `discard` to close it through the cleanup path"]
    pub fn remove_entry<Q>(&self, key: &Q) -> Option<(K, V)>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.on_shard_handing_back(
            self.shard_of(key),
            |shard| shard.remove_entry(key),
            |removed| removed.map(|(key, value)| (key, value, RemovalCause::Explicit)),
        )
    }

    /// Removes `key` through the cleanup path with [`RemovalCause::Explicit`]; returns whether
    /// it was present.
    ///
    /// ```
    /// use mapguard::{ConcurrentLruMap, RemovalCause};
    /// use std::sync::Mutex;
    ///
    /// let causes = Mutex::new(Vec::new());
    /// let map = ConcurrentLruMap::builder(2)
    ///     .on_removal(|_key: &str, _value: i32, cause| causes.lock().unwrap().push(cause))
    ///     .build();
    /// map.insert("a", 1);
    /// assert!(map.discard("a"));
    /// assert!(!map.discard("a"));
    /// drop(map);
    /// assert_eq!(*causes.lock().unwrap(), [RemovalCause::Explicit]);
    /// ```
    pub fn discard<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.on_shard(self.shard_of(key), |shard| shard.discard(key))
    }

    /// Keeps only the entries for which `keep` returns `true`; the others go through the
    /// cleanup path with [`RemovalCause::Explicit`]. Shard by shard; `keep` runs under the
    /// shard's lock and must not use this map. O(n).
    ///
    /// ```
    /// let map = mapguard::ConcurrentLruMap::new(10);
    /// (0..6).for_each(|i| map.insert(i, i));
    /// map.retain(|_, v| *v % 2 == 0);
    /// assert_eq!(map.len(), 3);
    /// ```
    pub fn retain(&self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        self.each_shard(|shard| {
            shard.retain(&mut keep);
            0
        });
    }

    /// Cleans every expired entry with [`RemovalCause::Expired`] and returns how many; none
    /// without `ttl`/`idle`. Inserts also expire a few entries each, so this is only needed
    /// to reclaim memory of a map that is rarely written. O(n), one shard locked at a time.
    ///
    /// ```
    /// use mapguard::{ConcurrentLruMap, testing::MockClock};
    /// use std::time::Duration;
    ///
    /// let clock = MockClock::new();
    /// let map = ConcurrentLruMap::builder(10).ttl(Duration::from_secs(1)).clock(clock.clone()).build();
    /// map.insert(1, ());
    /// clock.advance(Duration::from_secs(1));
    /// assert_eq!(map.maintain(), 1);
    /// ```
    pub fn maintain(&self) -> usize {
        self.each_shard(ManagedCache::maintain)
    }
}

// `P: Evicting` per method: on a bounded map, a call fails with `Evicting`'s message.
impl<K, V, P: Policy, S, L, E> ConcurrentMap<K, V, P, S, L, E>
where
    K: Hash + Eq,
    S: BuildHasher,
    L: ConcurrentListener<K, V>,
    E: Expiry,
{
    /// Stores `value` under `key` as the most recently used entry of its shard.
    ///
    /// A value already stored under `key` goes through the cleanup path with
    /// [`RemovalCause::Replaced`]; if the key is new and its shard is full, the shard's least
    /// recently used entry goes through it with [`RemovalCause::Evicted`]. The hooks run after
    /// the shard is unlocked.
    ///
    /// ```
    /// use mapguard::{ConcurrentLruMap, RemovalCause};
    /// use std::sync::Mutex;
    ///
    /// let log = Mutex::new(Vec::new());
    /// let map = ConcurrentLruMap::builder(1)
    ///     .on_removal(|k: u8, v: char, cause| log.lock().unwrap().push((k, v, cause)))
    ///     .build();
    /// map.insert(1, 'a');
    /// map.insert(1, 'b');
    /// map.insert(2, 'c');
    /// drop(map);
    /// assert_eq!(*log.lock().unwrap(), [
    ///     (1, 'a', RemovalCause::Replaced),
    ///     (1, 'b', RemovalCause::Evicted),
    ///     (2, 'c', RemovalCause::Dropped),
    /// ]);
    /// ```
    pub fn insert(&self, key: K, value: V)
    where
        P: Evicting,
    {
        self.on_shard(self.shard_of(&key), |shard| shard.insert(key, value));
    }

    /// Stores `value` under `key` and hands back the value it replaced, if any (no hook runs
    /// for it). May evict like [`insert`](Self::insert).
    ///
    /// ```
    /// let map = mapguard::ConcurrentLruMap::new(2);
    /// assert_eq!(map.replace("a", 1), None);
    /// assert_eq!(map.replace("a", 2), Some(1));
    /// ```
    #[must_use = "`replace` hands the old value back without its hooks (`Cleanup`, listener): use it, or call `insert` to close it through the cleanup path"]
    pub fn replace(&self, key: K, value: V) -> Option<V>
    where
        P: Evicting,
    {
        self.on_shard_handing_back(
            self.shard_of(&key),
            |shard| shard.replace_entry(key, value),
            replaced_departs,
        )
        .map(|(_, old)| old)
    }
}

impl<K, V, P: Evicting, S, L, E> ConcurrentMap<K, V, P, S, L, E>
where
    K: Hash + Eq,
    S: BuildHasher,
    L: ConcurrentListener<K, V>,
    E: Expiry,
{
    /// A clone of the value for `key`, inserting `make()` first if the key is absent (which
    /// may evict). `make` runs at most once per call, under the shard's lock, so two threads
    /// asking for the same absent key compute it once; it must not use this map.
    ///
    /// ```
    /// let rules = mapguard::ConcurrentLruMap::new(100);
    /// let compiled = rules.get_or_insert_with("deny *.exe", || "compiled".len());
    /// assert_eq!(compiled, 8);
    /// assert_eq!(rules.get_or_insert_with("deny *.exe", || unreachable!()), 8);
    /// ```
    pub fn get_or_insert_with(&self, key: K, make: impl FnOnce() -> V) -> V
    where
        V: Clone,
    {
        self.on_shard(self.shard_of(&key), |shard| {
            shard.entry(key).or_insert_with(make).clone()
        })
    }

    /// Changes the bound; each shard then holds at most `⌈max / shards⌉`. Shrinking evicts
    /// least recently used entries through the cleanup path with [`RemovalCause::Evicted`].
    /// O(evicted + shards).
    ///
    /// # Panics
    ///
    /// If `max` is 0.
    ///
    /// ```
    /// let map = mapguard::ConcurrentLruMap::builder(100).shards(2).build();
    /// (0..100).for_each(|i| map.insert(i, ()));
    /// map.set_max(10);
    /// assert!(map.len() <= 10);
    /// ```
    pub fn set_max(&self, max: usize) {
        assert_valid_max(max);
        let per_shard = max.div_ceil(self.shards.len());
        let departed: Vec<_> = self.resizing.with(|()| {
            let departed = self
                .shards
                .iter()
                .map(|shard| {
                    shard.with(|shard| {
                        shard.set_max(per_shard);
                        shard.take_departed()
                    })
                })
                .collect();
            // Published once every shard holds it (a panicking `Hash` may stop the loop).
            self.max.store(max, Ordering::Relaxed);
            self.metrics.resized(0, max);
            departed
        });
        // Every shard is within the new bound before the first hook runs, so a panicking
        // hook cannot leave shards over it.
        let mut panics = HookPanics::default();
        run_hooks(&self.listener, departed.into_iter().flatten(), &mut panics);
        panics.finish(|count| self.metrics.hook_panicked(count));
    }
}

impl<K, V, S, L, E> ConcurrentMap<K, V, Reject, S, L, E>
where
    K: Hash + Eq,
    S: BuildHasher,
    L: ConcurrentListener<K, V>,
    E: Expiry,
{
    /// Stores `value` under `key`, or hands both back if the key is new and its shard is
    /// full. A value already stored under `key` goes through the cleanup path with
    /// [`RemovalCause::Replaced`]; updating a present key succeeds even when full.
    ///
    /// # Errors
    ///
    /// [`CapacityError`] holding the key and value when the key is new and its shard is full.
    ///
    /// ```
    /// let map = mapguard::ConcurrentBoundedMap::new(1);
    /// assert!(map.try_insert(1, 'a').is_ok());
    /// assert!(map.try_insert(1, 'b').is_ok());
    /// assert_eq!(map.try_insert(2, 'c').unwrap_err().into_inner(), (2, 'c'));
    /// ```
    pub fn try_insert(&self, key: K, value: V) -> Result<(), CapacityError<K, V>> {
        self.on_shard_handing_back(
            self.shard_of(&key),
            |shard| shard.try_insert(key, value),
            |stored| stored.err().map(rejected_departs),
        )
        .map_err(|error| error.with_max(self.max()))
    }

    /// Like [`try_insert`](Self::try_insert), but hands back the value it replaced (no hook
    /// runs for it).
    ///
    /// # Errors
    ///
    /// [`CapacityError`] holding the key and value when the key is new and its shard is full.
    ///
    /// ```
    /// let map = mapguard::ConcurrentBoundedMap::new(1);
    /// assert_eq!(map.try_replace(1, 'a').unwrap(), None);
    /// assert_eq!(map.try_replace(1, 'b').unwrap(), Some('a'));
    /// ```
    pub fn try_replace(&self, key: K, value: V) -> Result<Option<V>, CapacityError<K, V>> {
        self.on_shard_handing_back(
            self.shard_of(&key),
            |shard| shard.try_replace_entry(key, value),
            stored_departs,
        )
        .map(|replaced| replaced.map(|(_, old)| old))
        .map_err(|error| error.with_max(self.max()))
    }

    /// Changes the bound (each shard holds at most `⌈max / shards⌉`). A bounded map never
    /// lets an entry go on its own, so lowering the bound below a shard's length keeps every
    /// entry and rejects new keys there until removals bring it under, as for
    /// [`BoundedMap::set_max`](crate::BoundedMap::set_max). O(shards).
    ///
    /// # Panics
    ///
    /// If `max` is 0.
    ///
    /// ```
    /// let table = mapguard::ConcurrentBoundedMap::builder(8).shards(1).build();
    /// (0..8).for_each(|k| table.try_insert(k, ()).unwrap());
    /// table.set_max(4);
    /// assert_eq!((table.len(), table.max()), (8, 4)); // nothing was dropped
    /// assert!(table.try_insert(9, ()).is_err());
    /// ```
    pub fn set_max(&self, max: usize) {
        assert_valid_max(max);
        let per_shard = max.div_ceil(self.shards.len());
        self.resizing.with(|()| {
            for shard in &self.shards {
                shard.with(|shard| shard.set_max(per_shard));
            }
            self.max.store(max, Ordering::Relaxed);
            self.metrics.resized(0, max);
        });
    }
}

impl<K, V, P: Policy, S, L, E> ManagedCache for ConcurrentMap<K, V, P, S, L, E>
where
    K: Hash + Eq,
    S: BuildHasher,
    P: Policy,
    L: ConcurrentListener<K, V>,
    E: Expiry,
{
    /// [`ConcurrentMap::end_scope`].
    fn end_scope(&mut self, lifetime: Lifetime) -> usize {
        ConcurrentMap::end_scope(self, lifetime)
    }

    /// [`ConcurrentMap::maintain`].
    fn maintain(&mut self) -> usize {
        ConcurrentMap::maintain(self)
    }

    /// This map's figures, as the only element.
    fn stats(&self) -> Vec<MapStats> {
        vec![MapStats::new(
            self.name(),
            self.lifetime,
            P::NAME,
            [self.len(), self.max(), self.capacity(), self.heap_bytes()],
            self.metrics.hook_panics(),
        )]
    }
}

impl<K, V, P: Policy, S, L, E> Drop for ConcurrentMap<K, V, P, S, L, E>
where
    L: ConcurrentListener<K, V>,
    E: Expiry,
{
    /// Whatever is left goes through the cleanup path with [`RemovalCause::Dropped`].
    fn drop(&mut self) {
        let Self {
            shards,
            listener,
            metrics,
            ..
        } = self;
        let mut panics = HookPanics::default();
        for shard in shards.iter_mut() {
            let shard = shard.get_mut();
            // Entries that left during an operation whose caller's closure panicked (so the
            // hand-off never ran) still get their hooks, with the cause they left with.
            run_hooks(listener, shard.take_departed(), &mut panics);
            let (nodes, _) = shard.take_for_drop();
            release_all(listener, nodes, RemovalCause::Dropped, &mut panics);
        }
        panics.finish(|count| metrics.hook_panicked(count));
    }
}

impl<K, V, P: Policy, S, L, E> fmt::Debug for ConcurrentMap<K, V, P, S, L, E>
where
    L: ConcurrentListener<K, V>,
    E: Expiry,
{
    /// Shows the name, bound, shard count and length (not the entries: that would lock every
    /// shard at once).
    ///
    /// ```
    /// let map = mapguard::ConcurrentLruMap::<u8, u8>::builder(2).name("Docs.debug").build();
    /// map.insert(1, 1);
    /// assert_eq!(
    ///     format!("{map:?}"),
    ///     r#"ConcurrentLruMap { name: "Docs.debug", len: 1, max: 2, shards: 1, lifetime: Process, .. }"#
    /// );
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(&format!("Concurrent{}", P::TYPE_NAME))
            .field("name", &self.name)
            .field("len", &self.len())
            .field("max", &self.max())
            .field("shards", &self.shards.len())
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

impl<K, V, P: Evicting, S, L, E> Extend<(K, V)> for ConcurrentMap<K, V, P, S, L, E>
where
    K: Hash + Eq,
    S: BuildHasher,
    L: ConcurrentListener<K, V>,
    E: Expiry,
{
    /// Inserts each pair as [`insert`](ConcurrentMap::insert) does.
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, pairs: I) {
        for (key, value) in pairs {
            self.insert(key, value);
        }
    }
}
