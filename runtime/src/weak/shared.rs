//! [`ConcurrentWeakKeyMap`]: a [`WeakKeyMap`] shared between threads through `&self`.
//!
//! The same design as [`ConcurrentMap`](crate::ConcurrentMap): a fixed set of shards, each a
//! `WeakKeyMap` behind its own lock, picked by the hash of what the key points to. Every
//! operation works in one shard, takes what left out of it before unlocking, and only then runs
//! the hooks, so a hook may use the map. An entry whose key died on another thread leaves once,
//! with [`RemovalCause::Collected`], through whichever operation finds it under the shard's
//! lock (an insert's incremental sweep, a lookup, [`maintain`](ConcurrentWeakKeyMap::maintain)).

use core::borrow::Borrow;
use core::fmt;
use core::hash::{BuildHasher, Hash};
use std::borrow::Cow;
use std::panic::Location;
use std::sync::atomic::{AtomicUsize, Ordering};

use weak_table::traits::{WeakElement, WeakKey};

use crate::DefaultHashBuilder;
use crate::RemovalCause;
use crate::concurrent::lock::ShardLock;
use crate::concurrent::{
    BuiltShards, Sizing, build_shards, each_shard, on_shard, on_shard_handing_back, run_hooks,
    shard_budget,
};
use crate::departures::{Departed, Departures, QueuesDepartures};
use crate::error::CapacityError;
use crate::hooks::{Cleanup, ConcurrentListener, ConcurrentListenerOf, NoListener, WithCleanup};
use crate::panics::HookPanics;
use crate::policy::{Evicting, Lru, Policy, Reject};
use crate::registry::{self, MapMetrics};
use crate::scope::{Lifetime, ManagedCache};
use crate::settings::{NoValueCleanup, ValueCleanup, builder};
use crate::stats::MapStats;
use crate::storage::expiry::{Expiry, NoExpiry};
use crate::storage::store::{MAX_LIMIT, Store};
use crate::weak::{StoredHash, WeakKeyMap};
use crate::weight::Weigher;

type Shard<K, V, P, S, E> = ShardLock<WeakKeyMap<K, V, P, S, Departures<K, V>, E>>;
type Shards<K, V, P, S, E> = Box<[Shard<K, V, P, S, E>]>;

/// A weak-keyed map shared between threads: keys are `std::sync::Weak<T>`, in shards each
/// behind its own lock, methods take `&self`, and hooks (a
/// [`ConcurrentListener`](crate::hooks::ConcurrentListener)) run after the shard's lock is
/// released. A dead key's entry leaves through the cleanup path with
/// [`RemovalCause::Collected`], exactly once, whichever thread dropped the key.
///
/// # Examples
///
/// ```
/// use mapguard::{ConcurrentWeakKeyMap, RemovalCause};
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::{Arc, Weak};
///
/// let collected = Arc::new(AtomicUsize::new(0));
/// let seen = Arc::clone(&collected);
/// let sessions = Arc::new(
///     ConcurrentWeakKeyMap::<Weak<String>, u32>::builder()
///         .on_removal(move |_key, _value, cause| {
///             if cause == RemovalCause::Collected {
///                 seen.fetch_add(1, Ordering::Relaxed);
///             }
///         })
///         .build(),
/// );
/// let user = Arc::new(String::from("ada"));
/// sessions.insert(Arc::clone(&user), 7);
/// let worker = {
///     let sessions = Arc::clone(&sessions);
///     std::thread::spawn(move || {
///         assert_eq!(sessions.get("ada"), Some(7));
///         drop(user); // the last strong reference dies on this thread
///     })
/// };
/// worker.join().unwrap();
/// assert_eq!(sessions.maintain(), 1);
/// assert_eq!(collected.load(Ordering::Relaxed), 1);
/// ```
pub struct ConcurrentWeakKeyMap<
    K,
    V,
    P: Policy = Lru,
    S = DefaultHashBuilder,
    L = NoListener,
    E = NoExpiry,
> where
    K: WeakElement,
    L: ConcurrentListener<K, V>,
    E: Expiry,
{
    shards: Shards<K, V, P, S, E>,
    /// Picks a key's shard, from the hash of what it points to.
    hasher: S,
    /// `64 - 7 - log2(shards)`, as for `ConcurrentMap`.
    shift: u32,
    listener: L,
    lifetime: Lifetime,
    name: Cow<'static, str>,
    /// The bound; atomic so `set_max` can take `&self`.
    max: AtomicUsize,
    /// Held by `set_max` while it applies a bound to every shard, as for `ConcurrentMap`.
    resizing: ShardLock<()>,
    /// The weight budget, if any (each shard holds `⌈max_weight / shards⌉`).
    max_weight: Option<u64>,
    /// The registry entry summing the shards' figures; gone when the map is dropped.
    metrics: MapMetrics,
}

builder! {
/// Configures a [`ConcurrentWeakKeyMap`]; made by [`ConcurrentWeakKeyMap::builder`],
/// [`lru_builder`](ConcurrentWeakKeyMap::lru_builder) or
/// [`bounded_builder`](ConcurrentWeakKeyMap::bounded_builder). The calls may come in any order.
///
/// ```
/// use mapguard::{ConcurrentWeakKeyMap, Lifetime};
/// use std::sync::Weak;
///
/// let map = ConcurrentWeakKeyMap::<Weak<str>, u64>::lru_builder(1_000)
///     .name("Docs.by_path")
///     .lifetime(Lifetime::Session)
///     .shards(4)
///     .build();
/// assert_eq!(map.shard_count(), 4);
/// ```
pub struct ConcurrentBuilder<K, V, P = Lru>;
new = "mapguard::ConcurrentWeakKeyMap::<std::sync::Weak<u64>, u64>::builder()",
conn = "mapguard::ConcurrentWeakKeyMap::<std::sync::Weak<u64>, Conn>::builder()";
}

impl<K, V, P: Policy, S, L, C, E: Expiry> ConcurrentBuilder<K, V, P, S, L, C, E> {
    /// Splits the map into `shards` shards (rounded up to a power of two, at most 65,536, and
    /// never more than `max`). See [`concurrent::Builder::shards`](crate::concurrent::Builder::shards).
    ///
    /// ```
    /// use std::sync::Weak;
    /// let map = mapguard::ConcurrentWeakKeyMap::<Weak<u8>, u8>::builder().shards(3).build();
    /// assert_eq!(map.shard_count(), 4);
    /// ```
    pub fn shards(mut self, shards: usize) -> Self {
        self.settings.shards = Some(shards);
        self
    }

    /// Sends every entry that leaves through the cleanup path to `listener`, on the thread
    /// that made it leave, after the map's lock is released.
    ///
    /// ```
    /// use mapguard::hooks::ConcurrentListener;
    /// use mapguard::{ConcurrentWeakKeyMap, RemovalCause};
    /// use std::sync::Weak;
    ///
    /// struct Log;
    /// impl ConcurrentListener<Weak<u32>, String> for Log {
    ///     fn on_removal(&self, _key: Weak<u32>, value: String, cause: RemovalCause) {
    ///         println!("{value} left: {cause}");
    ///     }
    /// }
    /// let map = ConcurrentWeakKeyMap::builder().listener(Log).build();
    /// assert!(map.is_empty());
    /// ```
    pub fn listener<L2: ConcurrentListenerOf<K, V, ConcurrentWeakKeyMap<K, V, P, S>>>(
        self,
        listener: L2,
    ) -> ConcurrentBuilder<K, V, P, S, L2, C, E>
    where
        K: WeakKey,
    {
        self.with_listener(listener)
    }

    /// Calls `on_removal(key, value, cause)` for every entry that leaves through the cleanup
    /// path, possibly from several threads at once.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::{Arc, Weak};
    ///
    /// let removed = AtomicUsize::new(0);
    /// let map = mapguard::ConcurrentWeakKeyMap::builder()
    ///     .on_removal(|_key: Weak<u8>, _value: u8, _cause| {
    ///         removed.fetch_add(1, Ordering::Relaxed);
    ///     })
    ///     .build();
    /// map.insert(Arc::new(1), 1); // dead at once: no other strong reference
    /// drop(map);
    /// assert_eq!(removed.into_inner(), 1);
    /// ```
    pub fn on_removal<F: Fn(K, V, RemovalCause) + Send + Sync>(
        self,
        on_removal: F,
    ) -> ConcurrentBuilder<K, V, P, S, F, C, E> {
        self.with_listener(on_removal)
    }
}

impl<K: WeakKey, V, P: Policy, S: BuildHasher + Clone, L, C, E: Expiry>
    ConcurrentBuilder<K, V, P, S, L, C, E>
{
    /// The one way a map is made; the listener wrapped as the cleanup state says.
    fn build_with<L2: ConcurrentListener<K, V>>(
        self,
        wrap: impl FnOnce(L) -> L2,
    ) -> ConcurrentWeakKeyMap<K, V, P, S, L2, E> {
        let mut settings = self.settings;
        let name = settings.take_name();
        let budget = crate::settings::budget(settings.max_weight, self.weigher);
        ConcurrentWeakKeyMap::from_parts(
            Sizing {
                max: settings.max,
                capacity: settings.capacity,
                shards: settings.shards,
            },
            settings.hasher,
            &settings.expiry,
            wrap(self.listener),
            settings.lifetime,
            name,
            settings.site,
            budget,
        )
    }
}

impl<K: WeakKey, V, P: Policy, S: BuildHasher + Clone, L, E: Expiry>
    ConcurrentBuilder<K, V, P, S, L, NoValueCleanup, E>
{
    /// Makes the map.
    ///
    /// ```
    /// use std::sync::Weak;
    /// let map = mapguard::ConcurrentWeakKeyMap::<Weak<u8>, u8>::builder().build();
    /// assert!(map.is_empty());
    /// ```
    pub fn build(self) -> ConcurrentWeakKeyMap<K, V, P, S, L, E>
    where
        L: ConcurrentListenerOf<K, V, ConcurrentWeakKeyMap<K, V, P, S>>,
    {
        self.build_with(|listener| listener)
    }
}

impl<K: WeakKey, V, P: Policy, S: BuildHasher + Clone, L, E: Expiry>
    ConcurrentBuilder<K, V, P, S, L, ValueCleanup, E>
{
    /// Makes the map; values leaving through the cleanup path get their [`Cleanup`] first.
    ///
    /// ```
    /// use mapguard::{Cleanup, RemovalCause};
    /// use std::sync::Weak;
    /// struct Conn;
    /// impl Cleanup for Conn { fn cleanup(&mut self, _: RemovalCause) {} }
    /// let map = mapguard::ConcurrentWeakKeyMap::<Weak<u8>, Conn>::builder().cleanup().build();
    /// assert!(map.is_empty());
    /// ```
    pub fn build(self) -> ConcurrentWeakKeyMap<K, V, P, S, WithCleanup<L>, E>
    where
        V: Cleanup,
        L: ConcurrentListenerOf<K, V, ConcurrentWeakKeyMap<K, V, P, S>>,
    {
        self.build_with(WithCleanup)
    }
}

impl<K: WeakKey, V> ConcurrentWeakKeyMap<K, V> {
    /// An empty, unbounded map with the default hasher and no hooks.
    ///
    /// ```
    /// use std::sync::Weak;
    /// let map = mapguard::ConcurrentWeakKeyMap::<Weak<u32>, &str>::new();
    /// assert!(map.is_empty());
    /// ```
    #[must_use]
    #[track_caller]
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// A builder for an unbounded map: shards, hooks, hasher, lifetime, expiry.
    ///
    /// ```
    /// use std::sync::Weak;
    /// let map = mapguard::ConcurrentWeakKeyMap::<Weak<u8>, u8>::builder().shards(2).build();
    /// assert_eq!(map.shard_count(), 2);
    /// ```
    #[track_caller]
    pub fn builder() -> ConcurrentBuilder<K, V> {
        ConcurrentBuilder::new(MAX_LIMIT)
    }

    /// A builder for a map of at most `max` entries (about `max / shards` per shard) that
    /// evicts a shard's least recently used entry.
    ///
    /// # Panics
    ///
    /// If `max` is 0.
    ///
    /// ```
    /// use std::sync::Weak;
    /// let map = mapguard::ConcurrentWeakKeyMap::<Weak<u8>, u8>::lru_builder(64).build();
    /// assert_eq!(map.max(), 64);
    /// ```
    #[track_caller]
    pub fn lru_builder(max: usize) -> ConcurrentBuilder<K, V> {
        ConcurrentBuilder::new(max)
    }

    /// A builder for a map of at most `max` entries that rejects new keys when the key's shard
    /// is full.
    ///
    /// # Panics
    ///
    /// If `max` is 0.
    ///
    /// ```
    /// use std::sync::{Arc, Weak};
    /// let map = mapguard::ConcurrentWeakKeyMap::<Weak<u8>, u8>::bounded_builder(1).build();
    /// let (a, b) = (Arc::new(1), Arc::new(2));
    /// assert!(map.try_insert(Arc::clone(&a), 1).is_ok());
    /// assert!(map.try_insert(Arc::clone(&b), 2).is_err());
    /// ```
    #[track_caller]
    pub fn bounded_builder(max: usize) -> ConcurrentBuilder<K, V, Reject> {
        ConcurrentBuilder::new(max)
    }
}

impl<K: WeakKey, V> Default for ConcurrentWeakKeyMap<K, V> {
    /// [`ConcurrentWeakKeyMap::new`].
    #[track_caller]
    fn default() -> Self {
        Self::new()
    }
}

// Nothing here hashes a key, so it holds for any `Weak<T>`: a struct naming this type
// compiles, and `#[managed_map(weak_keys)]` reports a pointee without `Hash`/`Eq` once, at
// the key, instead of at every use the macro generates.
impl<K, V, P: Policy, S, L, E> ConcurrentWeakKeyMap<K, V, P, S, L, E>
where
    K: WeakElement,
    P: Policy,
    S: BuildHasher + Clone,
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
        let max = sizing.max.min(MAX_LIMIT);
        let shard_budget = shard_budget(budget.as_ref(), sizing.shards, sizing.max);
        let BuiltShards {
            shards,
            shift,
            parts,
        } = build_shards(
            sizing,
            lifetime,
            P::NAME,
            site,
            |max, capacity| Store::with_capacity(max, StoredHash, expiry.split(), capacity),
            |store, metrics| {
                WeakKeyMap::with_metrics(
                    store,
                    Departures::default(),
                    lifetime,
                    hasher.clone(),
                    metrics,
                    shard_budget.clone(),
                )
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
            resizing: ShardLock::new(()),
            max_weight: budget.map(|(max_weight, _)| max_weight),
            metrics,
        }
    }

    fn shard_of(&self, hash: u64) -> &Shard<K, V, P, S, E> {
        let index = (hash >> self.shift) as usize & (self.shards.len() - 1);
        &self.shards[index]
    }

    fn shard_for<Q: Hash + ?Sized>(&self, key: &Q) -> &Shard<K, V, P, S, E> {
        self.shard_of(self.hasher.hash_one(key))
    }

    /// Runs `work` on a shard under its lock, then the hooks of what left, unlocked.
    fn in_shard<R>(
        &self,
        shard: &Shard<K, V, P, S, E>,
        work: impl FnOnce(&mut WeakKeyMap<K, V, P, S, Departures<K, V>, E>) -> R,
    ) -> R {
        on_shard(&self.listener, &self.metrics, shard, work)
    }

    /// Runs `work` on every shard in turn; returns the sum of what it returns.
    fn each_shard(
        &self,
        work: impl FnMut(&mut WeakKeyMap<K, V, P, S, Departures<K, V>, E>) -> usize,
    ) -> usize {
        each_shard(&self.listener, &self.metrics, &self.shards, work)
    }

    /// A figure summed over the shards, each locked in turn.
    fn sum<T: core::iter::Sum>(
        &self,
        figure: impl Fn(&WeakKeyMap<K, V, P, S, Departures<K, V>, E>) -> T,
    ) -> T {
        self.shards
            .iter()
            .map(|shard| shard.with(|s| figure(s)))
            .sum()
    }

    /// What the entries weigh together (0 without a weight budget; see [`crate::weight`]).
    /// Locks each shard in turn.
    ///
    /// ```
    /// use std::sync::{Arc, Weak};
    /// let map = mapguard::ConcurrentWeakKeyMap::<Weak<u8>, String>::builder()
    ///     .weigher(|_key, value| value.len() as u64)
    ///     .max_weight(1_000)
    ///     .build();
    /// let key = Arc::new(1);
    /// map.insert(Arc::clone(&key), String::from("four"));
    /// assert_eq!(map.weight(), 4);
    /// ```
    #[must_use]
    pub fn weight(&self) -> u64 {
        self.sum(WeakKeyMap::weight)
    }

    /// The weight budget, if the map has one. Each shard holds `⌈max_weight / shards⌉`.
    ///
    /// ```
    /// use std::sync::Weak;
    /// let map = mapguard::ConcurrentWeakKeyMap::<Weak<u8>, u8>::builder().max_weight(64).build();
    /// assert_eq!(map.max_weight(), Some(64));
    /// ```
    #[must_use]
    pub fn max_weight(&self) -> Option<u64> {
        self.max_weight
    }

    /// Entries, including any whose key died and that have not been collected yet. Locks
    /// each shard in turn.
    ///
    /// ```
    /// use std::sync::{Arc, Weak};
    /// let map = mapguard::ConcurrentWeakKeyMap::<Weak<u8>, ()>::new();
    /// let key = Arc::new(1);
    /// map.insert(Arc::clone(&key), ());
    /// assert_eq!(map.len(), 1);
    /// ```
    #[must_use]
    pub fn len(&self) -> usize {
        self.sum(WeakKeyMap::len)
    }

    /// Entries storable without reallocating, summed over the shards.
    ///
    /// ```
    /// use std::sync::Weak;
    /// let map = mapguard::ConcurrentWeakKeyMap::<Weak<u8>, ()>::builder().capacity(8).build();
    /// assert!(map.capacity() >= 8);
    /// ```
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.sum(WeakKeyMap::capacity)
    }

    /// Estimated heap bytes of the shards' own storage.
    ///
    /// ```
    /// use std::sync::Weak;
    /// assert_eq!(mapguard::ConcurrentWeakKeyMap::<Weak<u8>, ()>::new().heap_bytes(), 0);
    /// ```
    #[must_use]
    pub fn heap_bytes(&self) -> usize {
        self.sum(WeakKeyMap::heap_bytes)
    }

    /// Whether [`len`](Self::len) is 0.
    ///
    /// ```
    /// use std::sync::Weak;
    /// assert!(mapguard::ConcurrentWeakKeyMap::<Weak<u8>, ()>::new().is_empty());
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Collects every entry whose key has died, each with [`RemovalCause::Collected`], and
    /// purges expired ones; how many left. O(n), one shard locked at a time.
    ///
    /// ```
    /// use std::sync::{Arc, Weak};
    /// let map = mapguard::ConcurrentWeakKeyMap::<Weak<u8>, ()>::new();
    /// let key = Arc::new(1);
    /// map.insert(Arc::clone(&key), ());
    /// drop(key);
    /// assert_eq!(map.maintain(), 1);
    /// assert!(map.is_empty());
    /// ```
    pub fn maintain(&self) -> usize {
        self.each_shard(ManagedCache::maintain)
    }

    /// Removes every entry through the cleanup path ([`RemovalCause::Cleared`]).
    ///
    /// ```
    /// use std::sync::{Arc, Weak};
    /// let map = mapguard::ConcurrentWeakKeyMap::<Weak<u8>, ()>::new();
    /// let key = Arc::new(1);
    /// map.insert(Arc::clone(&key), ());
    /// map.clear();
    /// assert!(map.is_empty());
    /// ```
    pub fn clear(&self) {
        self.each_shard(|shard| shard.remove_all(RemovalCause::Cleared));
    }

    /// Clears the map if it was built for `lifetime` ([`RemovalCause::ScopeEnded`]); how many
    /// entries left.
    ///
    /// ```
    /// use mapguard::Lifetime;
    /// use std::sync::{Arc, Weak};
    /// let map = mapguard::ConcurrentWeakKeyMap::<Weak<u8>, ()>::builder()
    ///     .lifetime(Lifetime::Request)
    ///     .build();
    /// let key = Arc::new(1);
    /// map.insert(Arc::clone(&key), ());
    /// assert_eq!(map.end_scope(Lifetime::Request), 1);
    /// ```
    pub fn end_scope(&self, lifetime: Lifetime) -> usize {
        if lifetime != self.lifetime {
            return 0;
        }
        // Once for the map: the shards' own counters would count one scope end per shard.
        self.metrics.scope_ended();
        self.each_shard(|shard| shard.remove_all(RemovalCause::ScopeEnded))
    }
}

// Hashing and comparing by pointee: `K: WeakKey`, that is `T: Hash + Eq` in `Weak<T>`.
impl<K, V, P: Policy, S, L, E> ConcurrentWeakKeyMap<K, V, P, S, L, E>
where
    K: WeakKey,
    P: Policy,
    S: BuildHasher + Clone,
    L: ConcurrentListener<K, V>,
    E: Expiry,
{
    /// A clone of the value for a live `key`. O(1) average plus one lock.
    ///
    /// ```
    /// use std::sync::{Arc, Weak};
    /// let map = mapguard::ConcurrentWeakKeyMap::<Weak<str>, String>::new();
    /// let key: Arc<str> = Arc::from("a");
    /// map.insert(Arc::clone(&key), String::from("x"));
    /// assert_eq!(map.get("a").as_deref(), Some("x"));
    /// ```
    #[must_use]
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K::Key: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        V: Clone,
    {
        self.in_shard(self.shard_for(key), |shard| shard.get_mut(key).cloned())
    }

    /// A clone of the value for a live `key`, without making it the most recent or counting
    /// a lookup. O(1) average plus one lock.
    ///
    /// ```
    /// use std::sync::{Arc, Weak};
    /// let map = mapguard::ConcurrentWeakKeyMap::<Weak<u8>, u8>::new();
    /// let key = Arc::new(1);
    /// map.insert(Arc::clone(&key), 5);
    /// assert_eq!(map.peek(&1), Some(5));
    /// ```
    #[must_use]
    pub fn peek<Q>(&self, key: &Q) -> Option<V>
    where
        K::Key: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        V: Clone,
    {
        self.shard_for(key).with(|shard| shard.peek(key).cloned())
    }

    /// Changes the value for a live `key` in place under its shard's lock and returns what
    /// `change` returned (`None` if absent); counted as a hit, the entry used. `change` runs
    /// under the lock: keep it short, and do not use this map from it. O(1) average.
    ///
    /// ```
    /// use std::sync::{Arc, Weak};
    /// let map = mapguard::ConcurrentWeakKeyMap::<Weak<u8>, u32>::new();
    /// let key = Arc::new(1);
    /// map.insert(Arc::clone(&key), 1);
    /// assert_eq!(map.update(&1, |hits| { *hits += 1; *hits }), Some(2));
    /// ```
    pub fn update<Q, R>(&self, key: &Q, change: impl FnOnce(&mut V) -> R) -> Option<R>
    where
        K::Key: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.in_shard(self.shard_for(key), |shard| shard.update(key, change))
    }

    /// Keeps only the live entries for which `keep` returns `true`; the others leave with
    /// [`RemovalCause::Explicit`], dead keys' with [`RemovalCause::Collected`]. One shard at
    /// a time, `keep` under that shard's lock. O(n).
    ///
    /// ```
    /// use std::sync::{Arc, Weak};
    /// let map = mapguard::ConcurrentWeakKeyMap::<Weak<u8>, u8>::new();
    /// let keys: Vec<Arc<u8>> = (0..6).map(Arc::new).collect();
    /// keys.iter().for_each(|key| map.insert(Arc::clone(key), **key));
    /// map.retain(|_, value| *value % 2 == 0);
    /// assert_eq!(map.len(), 3);
    /// ```
    pub fn retain(&self, mut keep: impl FnMut(&K::Strong, &mut V) -> bool) {
        self.each_shard(|shard| {
            shard.retain(&mut keep);
            0
        });
    }

    /// Visits every live entry with its strong key, one shard at a time under its lock (do
    /// not use this map from `visit`). Entries other threads change meanwhile in shards not
    /// yet visited may or may not be seen. O(n).
    ///
    /// ```
    /// use std::sync::{Arc, Weak};
    /// let map = mapguard::ConcurrentWeakKeyMap::<Weak<u8>, u32>::new();
    /// let keys: Vec<Arc<u8>> = (1..=3).map(Arc::new).collect();
    /// keys.iter().for_each(|key| map.insert(Arc::clone(key), u32::from(**key)));
    /// let mut sum = 0;
    /// map.for_each(|_, value| sum += value);
    /// assert_eq!(sum, 6);
    /// ```
    pub fn for_each(&self, mut visit: impl FnMut(&K::Strong, &V)) {
        for shard in &self.shards {
            shard.with(|s| s.iter().for_each(|(key, value)| visit(&key, value)));
        }
    }

    /// Whether a live `key` is present. O(1) average plus one lock.
    ///
    /// ```
    /// use std::sync::{Arc, Weak};
    /// let map = mapguard::ConcurrentWeakKeyMap::<Weak<u8>, ()>::new();
    /// let key = Arc::new(3);
    /// map.insert(Arc::clone(&key), ());
    /// assert!(map.contains_key(&3));
    /// ```
    #[must_use]
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K::Key: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.in_shard(self.shard_for(key), |shard| shard.contains_key(key))
    }

    /// Removes a live `key` and hands its value back; no hook runs. O(1) average plus one lock.
    ///
    /// ```
    /// use std::sync::{Arc, Weak};
    /// let map = mapguard::ConcurrentWeakKeyMap::<Weak<u8>, u8>::new();
    /// let key = Arc::new(1);
    /// map.insert(Arc::clone(&key), 9);
    /// assert_eq!(map.remove(&1), Some(9));
    /// ```
    #[must_use = "`remove` hands the value back without its hooks (`Cleanup`, listener): use it, or call `discard` to close it through the cleanup path"]
    pub fn remove<Q>(&self, key: &Q) -> Option<V>
    where
        K::Key: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        on_shard_handing_back(
            &self.listener,
            &self.metrics,
            self.shard_for(key),
            |shard| shard.remove_entry_weak(key),
            |removed| removed.map(|(key, value)| (key, value, RemovalCause::Explicit)),
        )
        .map(|(_, value)| value)
    }

    /// Removes a live `key` through the cleanup path ([`RemovalCause::Explicit`]); whether it
    /// was there. O(1) average plus one lock.
    ///
    /// ```
    /// use std::sync::{Arc, Weak};
    /// let map = mapguard::ConcurrentWeakKeyMap::<Weak<u8>, u8>::new();
    /// let key = Arc::new(1);
    /// map.insert(Arc::clone(&key), 9);
    /// assert!(map.discard(&1));
    /// assert!(!map.discard(&1));
    /// ```
    pub fn discard<Q>(&self, key: &Q) -> bool
    where
        K::Key: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.in_shard(self.shard_for(key), |shard| shard.discard(key))
    }
}

impl<K, V, P: Policy, S, L, E> ConcurrentWeakKeyMap<K, V, P, S, L, E>
where
    K: WeakElement,
    L: ConcurrentListener<K, V>,
    E: Expiry,
{
    /// The number of shards.
    ///
    /// ```
    /// use std::sync::Weak;
    /// let map = mapguard::ConcurrentWeakKeyMap::<Weak<u8>, ()>::builder().shards(8).build();
    /// assert_eq!(map.shard_count(), 8);
    /// ```
    #[must_use]
    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }

    /// The bound (`u32::MAX - 1` when unbounded).
    ///
    /// ```
    /// use std::sync::Weak;
    /// let map = mapguard::ConcurrentWeakKeyMap::<Weak<u8>, ()>::lru_builder(100).build();
    /// assert_eq!(map.max(), 100);
    /// ```
    #[must_use]
    pub fn max(&self) -> usize {
        self.max.load(Ordering::Relaxed)
    }

    /// The map's name: the builder's `name`, `Type.field` for a `#[managed_map]` field, or
    /// else where it was created.
    ///
    /// ```
    /// use std::sync::Weak;
    /// let map = mapguard::ConcurrentWeakKeyMap::<Weak<u8>, ()>::builder().name("Docs").build();
    /// assert_eq!(map.name(), "Docs");
    /// ```
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The lifetime whose scope end clears this map.
    ///
    /// ```
    /// use std::sync::Weak;
    /// let map = mapguard::ConcurrentWeakKeyMap::<Weak<u8>, ()>::new();
    /// assert_eq!(map.lifetime(), mapguard::Lifetime::Process);
    /// ```
    #[must_use]
    pub fn lifetime(&self) -> Lifetime {
        self.lifetime
    }

    /// The removal listener.
    ///
    /// ```
    /// use std::sync::Weak;
    /// let map = mapguard::ConcurrentWeakKeyMap::<Weak<u8>, ()>::new();
    /// assert_eq!(*map.listener(), mapguard::hooks::NoListener);
    /// ```
    #[must_use]
    pub fn listener(&self) -> &L {
        &self.listener
    }
}

// `P: Evicting` per method: on a bounded map, a call fails with `Evicting`'s message.
impl<K, V, P: Policy, S, L, E> ConcurrentWeakKeyMap<K, V, P, S, L, E>
where
    K: WeakKey,
    S: BuildHasher + Clone,
    L: ConcurrentListener<K, V>,
    E: Expiry,
{
    /// Stores `value` under the key `key` points to (the map keeps a `Weak`), or replaces the
    /// value of a live entry (the old one leaves with [`RemovalCause::Replaced`]). A full shard
    /// evicts its least recently used entry. O(1) average plus one lock.
    ///
    /// ```
    /// use std::sync::{Arc, Weak};
    /// let map = mapguard::ConcurrentWeakKeyMap::<Weak<str>, u8>::new();
    /// let key: Arc<str> = Arc::from("k");
    /// map.insert(Arc::clone(&key), 1);
    /// assert_eq!(map.get("k"), Some(1));
    /// ```
    pub fn insert(&self, key: K::Strong, value: V)
    where
        P: Evicting,
    {
        let shard = self.shard_of(K::with_key(&key, |k| self.hasher.hash_one(k)));
        self.in_shard(shard, |shard| shard.insert(key, value));
    }

    /// A clone of the value for `key`, inserting `make()` first if the key is absent or dead
    /// (which may evict like [`insert`](Self::insert)). `make` runs under the key's shard
    /// lock: do not use this map from it. O(1) average plus one lock.
    ///
    /// ```
    /// use std::sync::{Arc, Weak};
    /// let map = mapguard::ConcurrentWeakKeyMap::<Weak<u8>, String>::new();
    /// let key = Arc::new(1);
    /// assert_eq!(map.get_or_insert_with(Arc::clone(&key), || String::from("a")), "a");
    /// assert_eq!(map.get_or_insert_with(key, || String::from("b")), "a");
    /// ```
    pub fn get_or_insert_with(&self, key: K::Strong, make: impl FnOnce() -> V) -> V
    where
        P: Evicting,
        V: Clone,
    {
        let shard = self.shard_of(K::with_key(&key, |k| self.hasher.hash_one(k)));
        self.in_shard(shard, |shard| shard.get_or_insert_with(key, make).clone())
    }

    /// Applies a new bound to every shard under the resizing lock, then runs the hooks of
    /// what left.
    fn set_shard_max(
        &self,
        max: usize,
        apply: impl Fn(&mut WeakKeyMap<K, V, P, S, Departures<K, V>, E>, usize),
    ) {
        crate::settings::assert_valid_max(max);
        let per_shard = max.div_ceil(self.shards.len());
        let departed: Vec<_> = self.resizing.with(|()| {
            let departed = self
                .shards
                .iter()
                .map(|shard| {
                    shard.with(|shard| {
                        apply(shard, per_shard);
                        shard.take_departed()
                    })
                })
                .collect();
            self.max.store(max, Ordering::Relaxed);
            departed
        });
        // As `ConcurrentMap::set_max`: hooks run with no lock held, not even the resizing one,
        // so a hook may use the map (call `set_max` too).
        let mut panics = HookPanics::default();
        run_hooks(&self.listener, departed.into_iter().flatten(), &mut panics);
        panics.finish(|count| self.metrics.hook_panicked(count));
    }
}

// An impl-level `P: Evicting`: a bounded map has a `set_max` of its own.
impl<K, V, P: Evicting, S, L, E> ConcurrentWeakKeyMap<K, V, P, S, L, E>
where
    K: WeakKey,
    S: BuildHasher + Clone,
    L: ConcurrentListener<K, V>,
    E: Expiry,
{
    /// Changes the bound: each shard holds at most `⌈max / shards⌉`; shrinking evicts least
    /// recently used entries of each shard ([`RemovalCause::Evicted`]), their hooks run after
    /// the locks are released. O(evicted).
    ///
    /// # Panics
    ///
    /// If `max` is 0.
    ///
    /// ```
    /// use std::sync::{Arc, Weak};
    /// let map = mapguard::ConcurrentWeakKeyMap::<Weak<u8>, ()>::lru_builder(64).shards(2).build();
    /// let keys: Vec<Arc<u8>> = (0..40).map(Arc::new).collect();
    /// keys.iter().for_each(|key| map.insert(Arc::clone(key), ()));
    /// map.set_max(8);
    /// assert!(map.len() <= 8);
    /// ```
    pub fn set_max(&self, max: usize) {
        #[allow(
            clippy::redundant_closure_for_method_calls,
            reason = "the method path is ambiguous: each policy has a `set_max`"
        )]
        self.set_shard_max(max, |shard, per_shard| shard.set_max(per_shard));
    }
}

impl<K, V, S, L, E> ConcurrentWeakKeyMap<K, V, Reject, S, L, E>
where
    K: WeakKey,
    S: BuildHasher + Clone,
    L: ConcurrentListener<K, V>,
    E: Expiry,
{
    /// Stores `value` under `key` unless the key is new and its shard is full: then both come
    /// back in the error. O(1) average plus one lock.
    ///
    /// # Errors
    ///
    /// [`CapacityError`] with the (still strong) key and the value.
    ///
    /// ```
    /// use std::sync::{Arc, Weak};
    /// let map = mapguard::ConcurrentWeakKeyMap::<Weak<u8>, u8>::bounded_builder(1).build();
    /// let key = Arc::new(1);
    /// assert!(map.try_insert(Arc::clone(&key), 10).is_ok());
    /// let other = Arc::new(2);
    /// let (back, value) = map.try_insert(Arc::clone(&other), 20).unwrap_err().into_inner();
    /// assert_eq!((*back, value), (2, 20));
    /// ```
    pub fn try_insert(&self, key: K::Strong, value: V) -> Result<(), CapacityError<K::Strong, V>> {
        let shard = self.shard_of(K::with_key(&key, |k| self.hasher.hash_one(k)));
        on_shard_handing_back(
            &self.listener,
            &self.metrics,
            shard,
            |shard| shard.try_insert(key, value),
            |stored| stored.err().map(rejected_weak_departs::<K, V>),
        )
    }

    /// Changes the bound; lowering it below the current length keeps every entry, as for
    /// [`BoundedMap::set_max`](crate::BoundedMap::set_max). O(shards).
    ///
    /// # Panics
    ///
    /// If `max` is 0.
    ///
    /// ```
    /// use std::sync::Weak;
    /// let map = mapguard::ConcurrentWeakKeyMap::<Weak<u8>, u8>::bounded_builder(4).build();
    /// map.set_max(16);
    /// assert_eq!(map.max(), 16);
    /// ```
    pub fn set_max(&self, max: usize) {
        #[allow(
            clippy::redundant_closure_for_method_calls,
            reason = "the method path is ambiguous: each policy has a `set_max`"
        )]
        self.set_shard_max(max, |shard, per_shard| shard.set_max(per_shard));
    }
}

impl<K, V, P: Policy, S, L, E> ManagedCache for ConcurrentWeakKeyMap<K, V, P, S, L, E>
where
    K: WeakElement,
    P: Policy,
    S: BuildHasher + Clone,
    L: ConcurrentListener<K, V>,
    E: Expiry,
{
    /// [`ConcurrentWeakKeyMap::end_scope`].
    fn end_scope(&mut self, lifetime: Lifetime) -> usize {
        ConcurrentWeakKeyMap::end_scope(self, lifetime)
    }

    /// [`ConcurrentWeakKeyMap::maintain`].
    fn maintain(&mut self) -> usize {
        ConcurrentWeakKeyMap::maintain(self)
    }

    /// This map's figures, as the only element.
    fn stats(&self) -> Vec<MapStats> {
        vec![MapStats::new(
            &self.name,
            self.lifetime,
            P::NAME,
            [self.len(), self.max(), self.capacity(), self.heap_bytes()],
            self.metrics.hook_panics(),
        )]
    }
}

impl<K, V, P: Policy, S, L, E> Drop for ConcurrentWeakKeyMap<K, V, P, S, L, E>
where
    K: WeakElement,
    L: ConcurrentListener<K, V>,
    E: Expiry,
{
    /// Entries whose key died leave as [`RemovalCause::Collected`], the rest as
    /// [`RemovalCause::Dropped`]. Every value reaches its hooks even if one panics, as for
    /// the other maps.
    fn drop(&mut self) {
        let Self {
            shards,
            listener,
            metrics,
            ..
        } = self;
        let mut panics = HookPanics::default();
        for shard in shards.iter_mut() {
            let (departed, leaving) = shard.get_mut().take_leaving();
            run_hooks(listener, departed, &mut panics);
            run_hooks(listener, leaving, &mut panics);
        }
        panics.finish(|count| metrics.hook_panicked(count));
    }
}

impl<K, V, P: Policy, S, L, E> fmt::Debug for ConcurrentWeakKeyMap<K, V, P, S, L, E>
where
    K: WeakElement,
    L: ConcurrentListener<K, V>,
    E: Expiry,
    P: Policy,
{
    /// Shows the name, bound and shard count (not the entries: that would lock every shard).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConcurrentWeakKeyMap")
            .field("name", &self.name)
            .field("policy", &P::NAME)
            .field("max", &self.max())
            .field("shards", &self.shards.len())
            .finish_non_exhaustive()
    }
}

/// A rejected strong key and value the caller will not receive, as the listener sees them
/// (the key's weak form; see `map::rejected_departs`).
fn rejected_weak_departs<K: WeakElement, V>(
    rejected: CapacityError<K::Strong, V>,
) -> Departed<K, V> {
    let (strong, value) = rejected.into_inner();
    (K::new(&strong), value, RemovalCause::Evicted)
}
