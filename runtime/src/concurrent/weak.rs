//! [`ConcurrentWeakKeyMap`]: a [`WeakKeyMap`] shared between threads through `&self`.
//!
//! The same design as [`ConcurrentMap`](crate::ConcurrentMap): a fixed set of shards, each a
//! `WeakKeyMap` behind its own lock, picked by the hash of what the key points to. Every
//! operation works in one shard, takes what left out of it before unlocking, and only then runs
//! the hooks, so a hook may use the map. An entry whose key died on another thread leaves once,
//! with [`RemovalCause::Collected`], through whichever operation finds it under the shard's
//! lock (an insert's incremental sweep, a lookup, [`maintain`](ConcurrentWeakKeyMap::maintain)).

use core::borrow::Borrow;
use core::convert::Infallible;
use core::fmt;
use core::future::Future;
use core::hash::{BuildHasher, Hash};
use core::marker::PhantomData;

use weak_table::traits::{WeakElement, WeakKey};

use std::sync::Arc;

use super::WeakKeyBuilder;
use super::loading::{self, Failed, Flight, Flights, Flown, Joined, LoadInto};
use super::sharded::{Handle, Parts, Sharded, sharded_surface};
use crate::DefaultHashBuilder;
use crate::RemovalCause;
use crate::config::Built;
use crate::departures::{Departed, Departures};
use crate::error::CapacityError;
use crate::hooks::{ConcurrentListener, NoListener};
use crate::policy::{Evicting, Lru, Policy, Reject};
use crate::raw::with_ttl;
use crate::storage::expiry::{Expiry, NoExpiry, SharedPolicy};
use crate::storage::scopes::Tagged;
use crate::storage::store::{MAX_LIMIT, Store};
use crate::storage::weigher::Weigher;
use crate::weak::{StoredHash, WeakKeyMap, Weakly};

/// One shard: a weak-keyed map whose departures wait in [`Departures`] until the lock is
/// released.
type WeakShard<K, V, P, S, E> = WeakKeyMap<K, V, P, S, Departures<K, V>, Tagged<E>>;

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
    K: WeakElement,
    V,
    P = Lru,
    S = DefaultHashBuilder,
    L = NoListener,
    E: Expiry = NoExpiry,
    C = Built,
> where
    P: Policy,
    L: ConcurrentListener<K, V>,
{
    /// Shards picked by the hash of what the key points to.
    sharded: Handle<WeakShard<K, V, P, S, E>, S, L>,
    /// The keys being loaded (`get_or_insert_with` and its kin), each with its waiters.
    flights: Flights<Pointee<K>, V>,
    /// How the map was configured: [`Built`](crate::config::Built) by a builder or
    /// constructor, or [`Configured<T>`](crate::config::Configured) over a
    /// [`FieldConfig`](crate::config::FieldConfig) type `T` (a `#[managed_map]` field), which
    /// makes it [`Default`].
    config: PhantomData<fn() -> C>,
}

crate::builder::constructors!(weak ConcurrentWeakKeyMap, WeakKeyBuilder, sync::Arc);

// Building hashes no key, so it needs no `Hash` of the pointee (see `WeakKeyMap`).
impl<
    K: WeakElement,
    V,
    P: Policy,
    S: BuildHasher + Clone,
    L: ConcurrentListener<K, V>,
    E: Expiry,
    C,
> ConcurrentWeakKeyMap<K, V, P, S, L, E, C>
{
    /// The map its builder describes: `parts`, each shard's storage with `expiry`'s state,
    /// and `budget`, the whole map's, which the shards share.
    pub(crate) fn from_parts(
        mut parts: Parts<S, L>,
        expiry: &E,
        budget: Option<&(u64, Weigher<K, V>)>,
        expire_after: Option<&SharedPolicy<Weakly<K>, V>>,
    ) -> Self {
        parts.max = parts.max.min(MAX_LIMIT);
        let (hasher, lifetime) = (parts.hasher.clone(), parts.lifetime);
        let sharded = Sharded::build(
            parts,
            budget.map(|(max_weight, _)| *max_weight),
            (P::NAME, P::EVICTS),
            |max, capacity| Store::with_capacity(max, StoredHash, Tagged(expiry.split()), capacity),
            |store, metrics| {
                WeakKeyMap::with_metrics(
                    store,
                    Departures::default(),
                    lifetime,
                    hasher.clone(),
                    metrics,
                    budget.cloned(),
                    expire_after.cloned(),
                )
            },
        );
        Self {
            sharded: Handle::new(sharded),
            flights: Flights::default(),
            config: PhantomData,
        }
    }
}

// Hashing and comparing by pointee: `K: WeakKey`, that is `T: Hash + Eq` in `Weak<T>`.
impl<K: WeakKey, V, P: Policy, S: BuildHasher + Clone, L: ConcurrentListener<K, V>, E: Expiry, C>
    ConcurrentWeakKeyMap<K, V, P, S, L, E, C>
{
    fn hash_strong(&self, key: &K::Strong) -> u64 {
        crate::weak::hash_strong::<K, S>(self.sharded.hasher(), key)
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
        self.sharded.each_shard(|shard| {
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
        self.sharded.each_shard(|shard| {
            shard.iter().for_each(|(key, value)| visit(&key, value));
            0
        });
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
        self.sharded
            .on_key_handing_back(
                key,
                |shard, hash| shard.remove_entry_weak_hashed(hash, key),
                |removed| removed.map(|(key, value)| (key, value, RemovalCause::Explicit)),
            )
            .map(|(_, value)| value)
    }

    /// Removes a live `key`'s entry and hands its value back (no hook runs) if `remove` says
    /// so of it, under the key's shard lock. `remove` must not use this map.
    ///
    /// ```
    /// use std::sync::{Arc, Weak};
    /// let map = mapguard::ConcurrentWeakKeyMap::<Weak<u8>, Vec<u8>>::new();
    /// let key = Arc::new(1);
    /// map.insert(Arc::clone(&key), vec![]);
    /// assert_eq!(map.remove_if(&1, Vec::is_empty), Some(vec![]));
    /// ```
    #[must_use = "`remove_if` hands the value back without its hooks (`Cleanup`, listener): use it, or `compute` with `Compute::Discard` to close it through the cleanup path"]
    pub fn remove_if<Q>(&self, key: &Q, remove: impl FnOnce(&V) -> bool) -> Option<V>
    where
        K::Key: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.sharded
            .on_key_handing_back(
                key,
                |shard, hash| shard.remove_if_weak_hashed(hash, key, remove),
                |removed| removed.map(|(key, value)| (key, value, RemovalCause::Explicit)),
            )
            .map(|(_, value)| value)
    }
}

impl<K: WeakElement, V, P: Policy, S, L: ConcurrentListener<K, V>, E: Expiry, C>
    ConcurrentWeakKeyMap<K, V, P, S, L, E, C>
{
}

// `P: Evicting` per method: on a bounded map, a call fails with `Evicting`'s message.
impl<K: WeakKey, V, P: Policy, S: BuildHasher + Clone, L: ConcurrentListener<K, V>, E: Expiry, C>
    ConcurrentWeakKeyMap<K, V, P, S, L, E, C>
{
    /// Stores `value` under the key `key` points to (the map keeps a `Weak`), or replaces the
    /// value of a live entry (the old one leaves with [`RemovalCause::Replaced`]). A full shard
    /// evicts by its policy (LRU: its least recently used entry). O(1) average plus one lock.
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
        // Hashed once, here: the shard is given the hash that chose it.
        let hash = self.hash_strong(&key);
        self.sharded.on_shard(self.sharded.shard_at(hash), |shard| {
            shard.insert_hashed(hash, key, value);
        });
    }

    /// [`insert`](Self::insert) with a deadline of its own (see
    /// [`LruMap::insert_with_ttl`](crate::LruMap::insert_with_ttl)).
    ///
    /// ```
    /// use mapguard::testing::MockClock;
    /// use std::sync::{Arc, Weak};
    /// use std::time::Duration;
    ///
    /// let clock = MockClock::new();
    /// let map = mapguard::ConcurrentWeakKeyMap::<Weak<u8>, u8>::lru_builder(8).clock(clock.clone()).build();
    /// let key = Arc::new(1);
    /// map.insert_with_ttl(Arc::clone(&key), 1, Duration::from_secs(1));
    /// clock.advance(Duration::from_secs(2));
    /// assert_eq!(map.get(&1), None);
    /// ```
    pub fn insert_with_ttl(&self, key: K::Strong, value: V, ttl: core::time::Duration)
    where
        P: Evicting,
        E: crate::expiry::Expires,
    {
        let hash = self.hash_strong(&key);
        self.sharded.on_shard(self.sharded.shard_at(hash), |shard| {
            with_ttl(shard, ttl, |shard| shard.insert_hashed(hash, key, value));
        });
    }

    /// A clone of the value for `key`; if the key is absent or dead, `make()` loads it and
    /// it is stored (which may evict like [`insert`](Self::insert)). One load however many
    /// threads ask at once, with no lock held while it runs, as
    /// [`ConcurrentMap::get_or_insert_with`](crate::ConcurrentMap::get_or_insert_with).
    ///
    /// # Panics
    ///
    /// If `make` asks this map for the key it is loading, and whatever `make` panics with.
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
        match loading::load_blocking(self, Pointee(key), || Ok::<V, Infallible>(make())) {
            Ok(value) => value,
            Err(Failed::Load(never) | Failed::Rejected(never)) => match never {},
        }
    }

    /// [`get_or_insert_with`](Self::get_or_insert_with) with a loader that can fail, as
    /// [`ConcurrentMap::try_get_or_insert_with`](crate::ConcurrentMap::try_get_or_insert_with).
    ///
    /// # Errors
    ///
    /// What `make` returned, when this call ran it and it failed.
    ///
    /// ```
    /// use std::sync::{Arc, Weak};
    /// let map = mapguard::ConcurrentWeakKeyMap::<Weak<u8>, String>::new();
    /// assert_eq!(map.try_get_or_insert_with(Arc::new(1), || Err("gone")), Err("gone"));
    /// ```
    pub fn try_get_or_insert_with<Er>(
        &self,
        key: K::Strong,
        make: impl FnOnce() -> Result<V, Er>,
    ) -> Result<V, Er>
    where
        P: Evicting,
        V: Clone,
    {
        loading::load_blocking(self, Pointee(key), make).map_err(|failed| match failed {
            Failed::Load(error) => error,
            Failed::Rejected(never) => match never {},
        })
    }

    /// [`get_or_insert_with`](Self::get_or_insert_with) for async code, as
    /// [`ConcurrentMap::get_or_insert_async`](crate::ConcurrentMap::get_or_insert_async).
    ///
    /// ```
    /// use std::sync::{Arc, Weak};
    /// # mapguard::testing::block_on(async {
    /// let map = mapguard::ConcurrentWeakKeyMap::<Weak<u8>, u8>::new();
    /// assert_eq!(map.get_or_insert_async(Arc::new(1), async { 10 }).await, 10);
    /// # });
    /// ```
    pub async fn get_or_insert_async(&self, key: K::Strong, load: impl Future<Output = V>) -> V
    where
        P: Evicting,
        V: Clone,
    {
        let load = async { Ok::<V, Infallible>(load.await) };
        match loading::load_async(self, Pointee(key), load).await {
            Ok(value) => value,
            Err(Failed::Load(never) | Failed::Rejected(never)) => match never {},
        }
    }

    /// [`try_get_or_insert_with`](Self::try_get_or_insert_with) for async code.
    ///
    /// # Errors
    ///
    /// What `load` returned, when this call awaited it and it failed.
    ///
    /// ```
    /// use std::sync::{Arc, Weak};
    /// # mapguard::testing::block_on(async {
    /// let map = mapguard::ConcurrentWeakKeyMap::<Weak<u8>, u8>::new();
    /// let failed = map.try_get_or_insert_async(Arc::new(1), async { Err("gone") }).await;
    /// assert_eq!(failed, Err("gone"));
    /// # });
    /// ```
    pub async fn try_get_or_insert_async<Er>(
        &self,
        key: K::Strong,
        load: impl Future<Output = Result<V, Er>>,
    ) -> Result<V, Er>
    where
        P: Evicting,
        V: Clone,
    {
        let loaded = loading::load_async(self, Pointee(key), load).await;
        loaded.map_err(|failed| match failed {
            Failed::Load(error) => error,
            Failed::Rejected(never) => match never {},
        })
    }
}

// An impl-level `P: Evicting`: a bounded map has a `set_max` of its own.
impl<K: WeakKey, V, P: Evicting, S: BuildHasher + Clone, L: ConcurrentListener<K, V>, E: Expiry, C>
    ConcurrentWeakKeyMap<K, V, P, S, L, E, C>
{
    /// Looks a live `key` up once, under its shard's lock, and lets `decide` say what becomes
    /// of it (see [`Compute`](crate::Compute) and
    /// [`ConcurrentLruMap::compute`](crate::ConcurrentMap::compute)); returns a clone of what
    /// it holds afterwards. The hooks run after the shard is unlocked.
    ///
    /// ```
    /// use mapguard::Compute;
    /// use std::sync::{Arc, Weak};
    ///
    /// let visits = mapguard::ConcurrentWeakKeyMap::<Weak<u8>, u32>::lru_builder(8).build();
    /// let page = Arc::new(1);
    /// visits.compute(Arc::clone(&page), |now| Compute::Put(now.map_or(1, |n| n + 1)));
    /// assert_eq!(visits.compute(page, |now| Compute::Put(now.map_or(1, |n| n + 1))), Some(2));
    /// ```
    pub fn compute(
        &self,
        key: K::Strong,
        decide: impl FnOnce(Option<&V>) -> crate::Compute<V>,
    ) -> Option<V>
    where
        V: Clone,
    {
        let hash = self.hash_strong(&key);
        self.sharded.on_shard(self.sharded.shard_at(hash), |shard| {
            shard.compute(key, decide).map(|value| value.clone())
        })
    }

    /// Changes the bound (the shards split it exactly); shrinking evicts least
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
        self.sharded.set_max(max);
    }
}

impl<K: WeakKey, V, S: BuildHasher + Clone, L: ConcurrentListener<K, V>, E: Expiry, C>
    ConcurrentWeakKeyMap<K, V, Reject, S, L, E, C>
{
    /// Stores `value` under `key` unless the key is new and the map is full: then both come
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
        let hash = self.hash_strong(&key);
        self.sharded.on_shard_handing_back(
            self.sharded.shard_at(hash),
            |shard| shard.try_insert_hashed(hash, key, value),
            |stored| stored.err().map(rejected_weak_departs::<K, V>),
        )
    }

    /// [`try_insert`](Self::try_insert) with a deadline of its own; a full shard first makes
    /// room from its expired entries.
    ///
    /// # Errors
    ///
    /// [`CapacityError`] holding the key and value when the key is new and the map is full
    /// of live entries.
    ///
    /// ```
    /// use mapguard::testing::MockClock;
    /// use std::sync::{Arc, Weak};
    /// use std::time::Duration;
    ///
    /// let clock = MockClock::new();
    /// let map = mapguard::ConcurrentWeakKeyMap::<Weak<u8>, u8>::bounded_builder(1).clock(clock.clone()).build();
    /// let key = Arc::new(1);
    /// map.try_insert_with_ttl(Arc::clone(&key), 1, Duration::from_secs(1)).unwrap();
    /// assert_eq!(map.ttl_of(&1), Some(Duration::from_secs(1)));
    /// ```
    pub fn try_insert_with_ttl(
        &self,
        key: K::Strong,
        value: V,
        ttl: core::time::Duration,
    ) -> Result<(), CapacityError<K::Strong, V>>
    where
        E: crate::expiry::Expires,
    {
        let hash = self.hash_strong(&key);
        self.sharded.on_shard_handing_back(
            self.sharded.shard_at(hash),
            |shard| {
                with_ttl(shard, ttl, |shard| {
                    shard.try_insert_hashed(hash, key, value)
                })
            },
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
        self.sharded.set_max(max);
    }
}

sharded_surface! {
    impl[K, V, P: Policy, S, L, E, C] ConcurrentWeakKeyMap<K, V, P, S, L, E, C>
    where [K: WeakElement, L: ConcurrentListener<K, V>, E: Expiry,];
    maintain where [S: BuildHasher,];
    lookups where [K: WeakKey, S: BuildHasher, L: ConcurrentListener<K, V>, E: Expiry,];
    enrol [EnrolWeakMap] where key [];
    key [K::Key];
    setup = "# use std::sync::{Arc, Weak};
# let map = mapguard::ConcurrentWeakKeyMap::<Weak<u8>, String>::lru_builder(64)
#     .name(\"Docs.map\")
#     .lifetime(mapguard::Lifetime::Request)
#     .shards(2)
#     .weigher(|_key, value| value.len() as u64)
#     .max_weight(1_000)
#     .build();
# let keys = [Arc::new(1), Arc::new(2)];
# map.insert(Arc::clone(&keys[0]), String::from(\"one\"));
# map.insert(Arc::clone(&keys[1]), String::from(\"two\"));";
    timed_setup = "# use std::sync::{Arc, Weak};
# let clock = mapguard::testing::MockClock::new();
# let map = mapguard::ConcurrentWeakKeyMap::<Weak<u8>, String>::lru_builder(64).ttl(Duration::from_secs(60)).clock(clock).build();
# let key = Arc::new(1);
# map.insert(Arc::clone(&key), String::from(\"one\"));";
}

/// The weight budget of a map whose entries carry weights ([`Weighs`](crate::weight::Weighs)).
impl<
    K: WeakKey,
    V,
    P: Policy,
    S: BuildHasher + Clone,
    L: ConcurrentListener<K, V>,
    E: crate::storage::expiry::Weighs,
    C,
> ConcurrentWeakKeyMap<K, V, P, S, L, E, C>
{
    /// Changes the whole map's weight budget (see
    /// [`ConcurrentLruMap::set_max_weight`](crate::ConcurrentMap::set_max_weight)).
    ///
    /// # Panics
    ///
    /// If `max_weight` is 0.
    ///
    /// ```
    /// use std::sync::{Arc, Weak};
    /// let map = mapguard::ConcurrentWeakKeyMap::<Weak<u8>, Vec<u8>>::lru_builder(8)
    ///     .weigher(|_: &Weak<u8>, v: &Vec<u8>| v.len() as u64)
    ///     .max_weight(100)
    ///     .build();
    /// let keys: Vec<Arc<u8>> = (0..4).map(Arc::new).collect();
    /// keys.iter().for_each(|key| map.insert(Arc::clone(key), vec![0; 20]));
    /// map.set_max_weight(50);
    /// assert!(map.weight() <= 50);
    /// ```
    pub fn set_max_weight(&self, max_weight: u64) {
        self.sharded.set_max_weight(max_weight);
    }
}

impl<K: WeakElement, V, P: Policy, S, L: ConcurrentListener<K, V>, E: Expiry, C> fmt::Debug
    for ConcurrentWeakKeyMap<K, V, P, S, L, E, C>
{
    /// Shows the name, length, bound, shard count and lifetime (not the entries: that
    /// would lock every shard at once).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.sharded.debug(f, "ConcurrentWeakKeyMap")
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

/// A strong key compared by what it points to, as the map compares keys: how a load is found
/// among the flights.
pub(crate) struct Pointee<K: WeakElement>(K::Strong);

impl<K: WeakKey> PartialEq for Pointee<K> {
    fn eq(&self, other: &Self) -> bool {
        K::with_key(&self.0, |mine| {
            K::with_key(&other.0, |theirs| mine == theirs)
        })
    }
}

impl<K: WeakKey> Eq for Pointee<K> {}

/// A weak-keyed map's loads: found (live keys only) and joined under the key's shard lock.
impl<K: WeakKey, V: Clone, P: Policy, S, L, E: Expiry, C> Flown
    for ConcurrentWeakKeyMap<K, V, P, S, L, E, C>
where
    S: BuildHasher + Clone,
    L: ConcurrentListener<K, V>,
{
    type Key = Pointee<K>;
    type Value = V;

    fn flights(&self) -> &Flights<Pointee<K>, V> {
        &self.flights
    }

    #[inline]
    fn hash(&self, key: &Pointee<K>) -> u64 {
        self.hash_strong(&key.0)
    }

    /// What `get` does, through a closure of its own (see `ConcurrentMap`'s).
    #[inline]
    fn get_hashed(&self, hash: u64, key: &Pointee<K>) -> Option<V> {
        self.sharded.on_shard(self.sharded.shard_at(hash), |shard| {
            K::with_key(&key.0, |k| {
                shard.update_hashed(hash, k, |value| value.clone())
            })
        })
    }

    fn find_or_join(&self, key: Pointee<K>, hash: u64, blocking: bool) -> Joined<Pointee<K>, V> {
        self.sharded.on_shard(self.sharded.shard_at(hash), |shard| {
            match K::with_key(&key.0, |k| {
                shard.update_hashed(hash, k, |value| value.clone())
            }) {
                Some(value) => Joined::Found(value),
                None => self.flights.join_or_start(key, hash, blocking),
            }
        })
    }
}

/// An evicting weak-keyed map stores every load.
impl<K: WeakKey, V: Clone, P: Evicting, S, L, E: Expiry, C> LoadInto
    for ConcurrentWeakKeyMap<K, V, P, S, L, E, C>
where
    S: BuildHasher + Clone,
    L: ConcurrentListener<K, V>,
{
    type Rejected = Infallible;

    fn store(&self, flight: &Arc<Flight<V>>, value: V) -> Result<(), Infallible> {
        let shard = self.sharded.shard_at(flight.hash);
        self.sharded.on_shard(shard, |shard| {
            shard.insert_hashed(flight.hash, self.flights.land(flight).0, value);
        });
        Ok(())
    }
}
