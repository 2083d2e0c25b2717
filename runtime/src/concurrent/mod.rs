//! [`ConcurrentMap`], and its two faces [`ConcurrentLruMap`] and [`ConcurrentBoundedMap`]:
//! managed maps shared between threads through `&self`.
//!
//! A concurrent map is a fixed set of shards, each a [`ManagedMap`](crate::ManagedMap) behind its own lock; a
//! key's hash picks its shard. Every operation locks one shard, does its work there, and takes
//! the entries that left out of the shard before unlocking. Only then do the hooks run, so a
//! hook may use the map (even the same key) without deadlock, and a slow hook never blocks
//! other threads' access to the shard. [`ConcurrentWeakKeyMap`] is the same shard layer over
//! [`WeakKeyMap`](crate::WeakKeyMap) shards.

use core::borrow::Borrow;
use core::convert::Infallible;
use core::fmt;
use core::future::Future;
use core::hash::{BuildHasher, Hash};
use core::marker::PhantomData;
use std::borrow::Cow;
use std::sync::Arc;

use hashbrown::DefaultHashBuilder;

mod builder;
mod loading;
pub(crate) mod lock;
mod sharded;
mod weak;
pub use builder::{Builder, WeakKeyBuilder};
pub use weak::ConcurrentWeakKeyMap;

use crate::RemovalCause;
use crate::config::Built;
use crate::config::{self, Configured, FieldConfig};
use crate::departures::KeepAll;
use crate::error::CapacityError;
use crate::hooks::{ConcurrentListener, NoListener};
use crate::policy::{Adaptive, Evicting, Lru, Policy, Reject};
use crate::raw::{RawMap, rejected_departs, replaced_departs, stored_departs, with_ttl};
use crate::storage::expiry::SharedPolicy;
use crate::storage::expiry::{Expiry, NoExpiry};
use crate::storage::scopes::Tagged;
use crate::storage::store::Store;
use crate::storage::weigher::Weigher;
use loading::{Failed, Flight, Flights, Flown, Joined, LoadInto};
pub(crate) use sharded::Parts;
use sharded::{Handle, Sharded, sharded_surface};
use std::panic::Location;
use weak_table::traits::WeakElement;

/// A thread-safe managed map: sharded, bounded, with hooks that run outside its locks.
///
/// You normally name it through its aliases: [`ConcurrentLruMap`] (evicts the least recently
/// used entry of the key's shard) and [`ConcurrentBoundedMap`] (rejects new keys when the
/// map is full). All methods take `&self`; share the map with `Arc` or by reference.
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
/// [`ManagedMap`](crate::ManagedMap)'s "When a hook panics").
/// If your closure panics under a shard's lock (`update`,
/// `retain`), entries that had already left run their hooks at that shard's next operation,
/// or when the map is dropped. (`get_or_insert_with` runs its loader with no lock held: see
/// it.)
///
/// # Limits of the whole map
///
/// `max` and a weight budget are limits of the whole map, whatever its shard count `n`:
///
/// - An evicting map's `n` shards split `max` exactly (each holds `max / n`, the first
///   `max % n` one more), so the map never holds more than `max`. Eviction is
///   least-recently-used (or adaptive) *within the key's shard*.
/// - A bounded map's shards share one count: it takes exactly `max` distinct keys, whichever
///   shards they fall in, and rejects the next (shards claim a place atomically, so two
///   threads never both take the last one).
/// - A weight budget (`max_weight`, `max_bytes`) is shared the same way: an entry that fits
///   the budget is stored — an evicting map evicts from the key's shard first, then from the
///   others if that shard cannot free enough — and a bounded map refuses what would pass it.
///   An entry heavier than the whole budget is never stored: `try_insert` hands it back,
///   `insert` passes it to the hooks with [`RemovalCause::Evicted`]. While threads write, an
///   evicting map may weigh more than its budget by the entries being written at that moment
///   (at most one per writer, until each writer's shedding ends); once they are done it is
///   within it (test: `eight_writers_keep_the_whole_budget_and_clean_every_value_once`).
///
/// The shared part is one cache line per map (the count and the weight, side by side),
/// touched by the writes of bounded or weighed maps only: a write updates it once for each
/// entry it stores, replaces or evicts, all on that one line, and a read never touches it. By default `n` is a power of two near four per CPU, and small enough that each
/// shard holds at least 64 entries; [`Builder::shards`] sets it.
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
pub struct ConcurrentMap<K, V, P, S = DefaultHashBuilder, L = NoListener, E = NoExpiry, C = Built>
where
    P: Policy,
    L: ConcurrentListener<K, V>,
    E: Expiry,
{
    sharded: Handle<MapShard<K, V, P, S, E>, S, L>,
    /// The keys being loaded (`get_or_insert_with` and its kin), each with its waiters.
    flights: Flights<K, V>,
    /// How the map was configured: [`Built`](crate::config::Built) by a builder or
    /// constructor, or [`Configured<T>`](crate::config::Configured) over a
    /// [`FieldConfig`](crate::config::FieldConfig) type `T` (a `#[managed_map]` field), which
    /// makes it [`Default`].
    config: PhantomData<fn() -> C>,
}

kind_aliases! { ConcurrentMap;
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
    ConcurrentLruMap = Lru;

    /// A [`ConcurrentMap`] whose shards evict as an [`AdaptiveMap`](crate::AdaptiveMap) does,
    /// each adapting its probation length on its own misses.
    /// `&self` methods, hooks outside the locks.
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
    ConcurrentAdaptiveMap = Adaptive;

    /// A concurrent map that never evicts: when the map is full,
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
    ConcurrentBoundedMap = Reject;
}

impl<K, V, P: Policy, S: Clone> ConcurrentMap<K, V, P, S> {
    /// An empty map holding at most `max` entries, hashing with `hasher` (which also picks
    /// each key's shard).
    ///
    /// # Panics
    ///
    /// If `max` is 0.
    ///
    /// ```
    /// use std::collections::hash_map::RandomState;
    ///
    /// // SipHash, for keys an attacker chooses.
    /// let map = mapguard::ConcurrentLruMap::with_hasher(100, RandomState::new());
    /// map.insert("k", 1);
    /// assert_eq!(map.get("k"), Some(1));
    /// ```
    #[must_use]
    #[track_caller]
    pub fn with_hasher(max: usize, hasher: S) -> Self {
        Builder::new(max).hasher(hasher).build()
    }
}

/// One shard: a core map whose departures wait until the lock is released.
type MapShard<K, V, P, S, E> = RawMap<K, V, P, S, KeepAll, Tagged<E>>;

crate::builder::constructors! {
    bounded ConcurrentMap, Builder;
    /// An empty map holding at most `max` entries (see [`ConcurrentMap`]'s "Limits of the
    /// whole map"), with the default hasher, shard count and no hooks.
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
    new;
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
    builder;
}

impl<K, V, P: Policy, S: Clone, L: ConcurrentListener<K, V>, E: Expiry, C>
    ConcurrentMap<K, V, P, S, L, E, C>
{
    /// The map its builder describes: `parts`, each shard's storage with `expiry`'s state,
    /// and `budget`, the whole map's, which the shards share.
    pub(crate) fn from_parts(
        parts: Parts<S, L>,
        expiry: &E,
        budget: Option<&(u64, Weigher<K, V>)>,
        expire_after: Option<&SharedPolicy<K, V>>,
    ) -> Self {
        let (hasher, lifetime) = (parts.hasher.clone(), parts.lifetime);
        let sharded = Sharded::build(
            parts,
            budget.map(|(max_weight, _)| *max_weight),
            (P::NAME, P::EVICTS),
            |max, capacity| {
                Store::with_capacity(max, hasher.clone(), Tagged(expiry.split()), capacity)
            },
            |store, metrics| {
                let shard = RawMap::with_metrics(store, lifetime, Cow::Borrowed(""), metrics)
                    .with_expire_after(expire_after.cloned());
                match budget {
                    Some((max_weight, weigher)) => {
                        shard.with_budget(*max_weight, Some(weigher.clone()))
                    }
                    None => shard,
                }
            },
        );
        Self {
            sharded: Handle::new(sharded),
            flights: Flights::default(),
            config: PhantomData,
        }
    }
}

impl<K, V, P: Policy, S, L: ConcurrentListener<K, V>, E: Expiry, C>
    ConcurrentMap<K, V, P, S, L, E, C>
{
    /// The map's hasher.
    ///
    /// ```
    /// use std::collections::hash_map::RandomState;
    /// let map = mapguard::ConcurrentLruMap::<u8, u8>::builder(4).hasher(RandomState::new()).build();
    /// let _: &RandomState = map.hasher();
    /// ```
    #[must_use]
    pub fn hasher(&self) -> &S {
        self.sharded.hasher()
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
    pub fn for_each(&self, mut visit: impl FnMut(&K, &V))
    where
        K: Hash,
        S: BuildHasher,
    {
        self.sharded.each_shard(|shard| {
            shard.iter().for_each(|(key, value)| visit(key, value));
            0
        });
    }

    /// [`for_each`](Self::for_each), each shard's entries oldest first (for serializing).
    #[cfg_attr(not(feature = "serde"), allow(dead_code, reason = "serde's order"))]
    pub(crate) fn for_each_oldest_first(&self, mut visit: impl FnMut(&K, &V))
    where
        K: Hash,
        S: BuildHasher,
    {
        self.sharded.each_shard(|shard| {
            shard
                .iter()
                .rev()
                .for_each(|(key, value)| visit(key, value));
            0
        });
    }
}

impl<K: Hash + Eq, V, P: Policy, S: BuildHasher, L: ConcurrentListener<K, V>, E: Expiry, C>
    ConcurrentMap<K, V, P, S, L, E, C>
{
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
        self.sharded.on_key_handing_back(
            key,
            |shard, hash| shard.remove_entry_hashed(hash, key),
            |removed| removed.map(|(key, value)| (key, value, RemovalCause::Explicit)),
        )
    }

    /// A value that never got in: through the hooks of its key's shard with `cause`, after
    /// the lock (see `RawMap::release_unstored`).
    #[cfg_attr(
        not(feature = "serde"),
        allow(dead_code, reason = "only deserializing refuses so")
    )]
    pub(crate) fn release_unstored(&self, key: K, value: V, cause: RemovalCause) {
        let hash = self.sharded.hasher().hash_one(&key);
        self.sharded.on_shard(self.sharded.shard_at(hash), |shard| {
            shard.release_unstored(key, value, cause);
        });
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
        self.sharded.each_shard(|shard| {
            shard.retain(&mut keep);
            0
        });
    }
}

// `P: Evicting` per method: on a bounded map, a call fails with `Evicting`'s message.
impl<K: Hash + Eq, V, P: Policy, S: BuildHasher, L: ConcurrentListener<K, V>, E: Expiry, C>
    ConcurrentMap<K, V, P, S, L, E, C>
{
    /// Stores `value` under `key` as the most recently used entry of its shard.
    ///
    /// A value already stored under `key` goes through the cleanup path with
    /// [`RemovalCause::Replaced`]; if the key is new and its shard is full (it holds its part of
    /// `max`), the shard's least recently used entry goes through it with
    /// [`RemovalCause::Evicted`], and under a weight budget whatever the whole map must shed to
    /// fit (see "Limits of the whole map"). The hooks run after the shard is unlocked.
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
        // Hashed once, here: the shard is given the hash that chose it.
        let hash = self.sharded.hasher().hash_one(&key);
        self.sharded.on_shard(self.sharded.shard_at(hash), |shard| {
            shard.insert_hashed(hash, key, value);
        });
    }

    /// [`insert`](Self::insert) with a deadline of its own: the entry expires `ttl` from now
    /// ([`RemovalCause::Expired`]), whatever the map's policy or `ttl` says; see
    /// [`LruMap::insert_with_ttl`](crate::LruMap::insert_with_ttl). This is `SET key value EX
    /// n`: expired keys leave by themselves, no sweep of your own needed.
    ///
    /// ```
    /// use mapguard::{expiry::OnlyWhenSet, testing::MockClock};
    /// use std::time::Duration;
    ///
    /// let clock = MockClock::new();
    /// let keys = mapguard::ConcurrentLruMap::builder(1_000).expire_after(OnlyWhenSet).clock(clock.clone()).build();
    /// keys.insert_with_ttl("session", 1, Duration::from_secs(10));
    /// keys.insert("config", 2);
    /// clock.advance(Duration::from_secs(11));
    /// assert_eq!((keys.get("session"), keys.get("config")), (None, Some(2)));
    /// ```
    pub fn insert_with_ttl(&self, key: K, value: V, ttl: core::time::Duration)
    where
        P: Evicting,
        E: crate::expiry::Expires,
    {
        let hash = self.sharded.hasher().hash_one(&key);
        self.sharded.on_shard(self.sharded.shard_at(hash), |shard| {
            with_ttl(shard, ttl, |shard| shard.insert_hashed(hash, key, value));
        });
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
        let hash = self.sharded.hasher().hash_one(&key);
        self.sharded
            .on_shard_handing_back(
                self.sharded.shard_at(hash),
                |shard| shard.replace_entry_hashed(hash, key, value),
                replaced_departs,
            )
            .map(|(_, old)| old)
    }
}

impl<K: Hash + Eq, V, P: Evicting, S: BuildHasher, L: ConcurrentListener<K, V>, E: Expiry, C>
    ConcurrentMap<K, V, P, S, L, E, C>
{
    /// Looks `key` up once, under its shard's lock, and lets `decide` say what becomes of it
    /// from the value it holds (`None`: absent): keep it, put a value (the one it replaces
    /// leaves with [`RemovalCause::Replaced`]; a new key may evict as [`insert`](Self::insert)
    /// does) or discard it ([`RemovalCause::Explicit`]) — see [`Compute`](crate::Compute). No
    /// other thread's write to the key comes between the look and the decision. Returns a
    /// clone of what the key holds afterwards. The hooks run after the shard is unlocked;
    /// `decide` runs under the lock, so it must not use this map.
    ///
    /// ```
    /// use mapguard::{Compute, ConcurrentLruMap};
    ///
    /// let subscribers = ConcurrentLruMap::<&str, Vec<u32>>::new(100);
    /// std::thread::scope(|s| {
    ///     for id in 0..8 {
    ///         let subscribers = &subscribers;
    ///         s.spawn(move || {
    ///             subscribers.compute("news", |now| {
    ///                 let mut list = now.cloned().unwrap_or_default();
    ///                 list.push(id);
    ///                 Compute::Put(list)
    ///             });
    ///         });
    ///     }
    /// });
    /// assert_eq!(subscribers.get("news").map(|list| list.len()), Some(8)); // none lost
    /// ```
    pub fn compute(&self, key: K, decide: impl FnOnce(Option<&V>) -> crate::Compute<V>) -> Option<V>
    where
        V: Clone,
    {
        let hash = self.sharded.hasher().hash_one(&key);
        self.sharded.on_shard(self.sharded.shard_at(hash), |shard| {
            let holds = shard.compute_hashed(hash, key, decide)?;
            Some(shard.value_at(holds).clone())
        })
    }

    /// [`insert`](Self::insert), but an entry that alone weighs more than the whole weight
    /// budget comes back to you instead of going to the listener with
    /// [`RemovalCause::Evicted`] (which is what `insert` does with it). An entry within the
    /// budget is stored, evicting what the policy chooses — from other shards too, if its
    /// own cannot free enough.
    ///
    /// # Errors
    ///
    /// [`CapacityError`] holding the key and value (its
    /// [`max_weight`](CapacityError::max_weight) is the budget) when the entry weighs more
    /// than the whole budget; nothing is evicted then.
    ///
    /// ```
    /// let blobs = mapguard::ConcurrentLruMap::builder(100)
    ///     .shards(8)
    ///     .weigher(|_: &u32, v: &Vec<u8>| v.len() as u64)
    ///     .max_weight(64)
    ///     .build();
    /// // More than one shard's eighth of the budget, within the whole of it: stored.
    /// blobs.try_insert(1, vec![0; 60]).unwrap();
    /// assert!(blobs.contains_key(&1));
    /// let refused = blobs.try_insert(2, vec![0; 65]).unwrap_err();
    /// assert_eq!(refused.into_inner().1.len(), 65);
    /// assert!(blobs.contains_key(&1)); // nothing was evicted for it
    /// ```
    pub fn try_insert(&self, key: K, value: V) -> Result<(), CapacityError<K, V>> {
        let hash = self.sharded.hasher().hash_one(&key);
        self.sharded.on_shard_handing_back(
            self.sharded.shard_at(hash),
            |shard| shard.try_insert_evicting(hash, key, value),
            |stored| stored.err().map(rejected_departs),
        )
    }

    /// A clone of the value for `key`; if the key is absent, `make()` loads it and it is
    /// stored (which may evict). However many threads ask for one absent key at once, one of
    /// them runs `make` and the others wait for its value; callers for other keys are not
    /// delayed, as `make` runs with no lock held (so it may use this map, other keys of it
    /// included). The map keeps the value `make` returned; callers get clones. If `make`
    /// panics (or the value's `Clone`, the key's `Eq`, or a hook the store runs does), the
    /// load ends and a waiting caller loads in its place. A hit costs what
    /// [`get`](Self::get) costs.
    ///
    /// # Panics
    ///
    /// If `make` asks this map for the key it is loading (it would wait for itself), and
    /// whatever `make` panics with.
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
        match loading::load_blocking(self, key, || Ok::<V, Infallible>(make())) {
            Ok(value) => value,
            Err(Failed::Load(never) | Failed::Rejected(never)) => match never {},
        }
    }

    /// [`get_or_insert_with`](Self::get_or_insert_with) with a loader that can fail: its
    /// error comes back to the caller that ran it and nothing is stored. Callers waiting for
    /// that load then look again, and one of them runs its own loader (each caller's error is
    /// its own loader's).
    ///
    /// # Errors
    ///
    /// What `make` returned, when this call ran it and it failed.
    ///
    /// ```
    /// let rows = mapguard::ConcurrentLruMap::<u32, String>::new(100);
    /// let missing = rows.try_get_or_insert_with(7, || Err("no row 7"));
    /// assert_eq!(missing, Err("no row 7"));
    /// assert!(!rows.contains_key(&7)); // an error is never stored
    /// let found = rows.try_get_or_insert_with(7, || Ok::<_, &str>(String::from("seven")));
    /// assert_eq!(found.as_deref(), Ok("seven"));
    /// ```
    pub fn try_get_or_insert_with<Er>(
        &self,
        key: K,
        make: impl FnOnce() -> Result<V, Er>,
    ) -> Result<V, Er>
    where
        V: Clone,
    {
        loading::load_blocking(self, key, make).map_err(|failed| match failed {
            Failed::Load(error) => error,
            Failed::Rejected(never) => match never {},
        })
    }

    /// [`get_or_insert_with`](Self::get_or_insert_with) for async code: the first task to miss
    /// `key` awaits `load` (holding no lock), other tasks asking for it wait without blocking
    /// their thread, woken when it is stored. If the loading task is cancelled (its future
    /// dropped), a waiting task takes over the load with its own `load`. Needs no particular
    /// executor.
    ///
    /// # Panics
    ///
    /// If `load` awaits this map for the key it is loading (it would wait for itself), and
    /// whatever `load` panics with.
    ///
    /// ```
    /// # mapguard::testing::block_on(async {
    /// let users = mapguard::ConcurrentLruMap::<u32, String>::new(100);
    /// let name = users.get_or_insert_async(1, async { String::from("ada") }).await;
    /// assert_eq!(name, "ada");
    /// # });
    /// ```
    pub async fn get_or_insert_async(&self, key: K, load: impl Future<Output = V>) -> V
    where
        V: Clone,
    {
        let load = async { Ok::<V, Infallible>(load.await) };
        match loading::load_async(self, key, load).await {
            Ok(value) => value,
            Err(Failed::Load(never) | Failed::Rejected(never)) => match never {},
        }
    }

    /// [`get_or_insert_async`](Self::get_or_insert_async) with a load that can fail, as
    /// [`try_get_or_insert_with`](Self::try_get_or_insert_with).
    ///
    /// # Errors
    ///
    /// What `load` returned, when this call awaited it and it failed.
    ///
    /// ```
    /// # mapguard::testing::block_on(async {
    /// let rows = mapguard::ConcurrentLruMap::<u32, String>::new(100);
    /// let missing = rows.try_get_or_insert_async(7, async { Err("no row 7") }).await;
    /// assert_eq!(missing, Err("no row 7"));
    /// # });
    /// ```
    pub async fn try_get_or_insert_async<Er>(
        &self,
        key: K,
        load: impl Future<Output = Result<V, Er>>,
    ) -> Result<V, Er>
    where
        V: Clone,
    {
        loading::load_async(self, key, load)
            .await
            .map_err(|failed| match failed {
                Failed::Load(error) => error,
                Failed::Rejected(never) => match never {},
            })
    }

    /// Changes the bound (the shards split it exactly; below the shard count, each still holds
    /// one). Shrinking evicts, in
    /// the policy's order (LRU: least recently used first), through the cleanup path with
    /// [`RemovalCause::Evicted`].
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
        self.sharded.set_max(max);
    }
}

impl<K: Hash + Eq, V, S: BuildHasher, L: ConcurrentListener<K, V>, E: Expiry, C>
    ConcurrentMap<K, V, Reject, S, L, E, C>
{
    /// [`ConcurrentLruMap::compute`](ConcurrentMap::compute) for a map that never evicts: a
    /// value put under a new key is refused when the map is full (or it does not fit the
    /// weight budget), and comes back. Under the key's shard lock, once.
    ///
    /// # Errors
    ///
    /// [`CapacityError`] with the key and the value `decide` put, when the key is new and the
    /// map is full.
    ///
    /// ```
    /// use mapguard::{Compute, ConcurrentBoundedMap};
    ///
    /// let seats = ConcurrentBoundedMap::<&str, u32>::new(1);
    /// assert_eq!(seats.compute("a", |_| Compute::Put(1)), Ok(Some(1)));
    /// let refused = seats.compute("b", |_| Compute::Put(1)).unwrap_err();
    /// assert_eq!(refused.into_inner(), ("b", 1));
    /// ```
    pub fn compute(
        &self,
        key: K,
        decide: impl FnOnce(Option<&V>) -> crate::Compute<V>,
    ) -> Result<Option<V>, CapacityError<K, V>>
    where
        V: Clone,
    {
        let hash = self.sharded.hasher().hash_one(&key);
        self.sharded
            .on_shard_handing_back(
                self.sharded.shard_at(hash),
                |shard| {
                    let holds = shard.try_compute_hashed(hash, key, decide)?;
                    Ok(holds.map(|index| shard.value_at(index).clone()))
                },
                |computed| computed.err().map(rejected_departs),
            )
            .map_err(|error| error.with_max(self.max()))
    }

    /// Stores `value` under `key`, or hands both back if the key is new and the map is full
    /// (or it does not fit the weight budget). A value already stored under `key` goes through the cleanup path with
    /// [`RemovalCause::Replaced`]; updating a present key succeeds even when full.
    ///
    /// # Errors
    ///
    /// [`CapacityError`] holding the key and value when the key is new and the map is full, or
    /// the entry does not fit the weight budget.
    ///
    /// ```
    /// let map = mapguard::ConcurrentBoundedMap::new(1);
    /// assert!(map.try_insert(1, 'a').is_ok());
    /// assert!(map.try_insert(1, 'b').is_ok());
    /// assert_eq!(map.try_insert(2, 'c').unwrap_err().into_inner(), (2, 'c'));
    /// ```
    pub fn try_insert(&self, key: K, value: V) -> Result<(), CapacityError<K, V>> {
        let hash = self.sharded.hasher().hash_one(&key);
        self.sharded
            .on_shard_handing_back(
                self.sharded.shard_at(hash),
                |shard| shard.try_insert_hashed(hash, key, value),
                |stored| stored.err().map(rejected_departs),
            )
            .map_err(|error| error.with_max(self.max()))
    }

    /// [`try_insert`](Self::try_insert) with a deadline of its own (see
    /// [`LruMap::insert_with_ttl`](crate::LruMap::insert_with_ttl)); a full shard first
    /// makes room from its expired entries.
    ///
    /// # Errors
    ///
    /// [`CapacityError`] holding the key and value when the key is new and the map is full
    /// of live entries.
    ///
    /// ```
    /// use mapguard::{expiry::OnlyWhenSet, testing::MockClock};
    /// use std::time::Duration;
    ///
    /// let clock = MockClock::new();
    /// let map = mapguard::ConcurrentBoundedMap::builder(1).shards(1).expire_after(OnlyWhenSet).clock(clock.clone()).build();
    /// map.try_insert_with_ttl(1, 'a', Duration::from_secs(1)).unwrap();
    /// assert!(map.try_insert(2, 'b').is_err());
    /// clock.advance(Duration::from_secs(2));
    /// assert!(map.try_insert(2, 'b').is_ok());
    /// ```
    pub fn try_insert_with_ttl(
        &self,
        key: K,
        value: V,
        ttl: core::time::Duration,
    ) -> Result<(), CapacityError<K, V>>
    where
        E: crate::expiry::Expires,
    {
        let hash = self.sharded.hasher().hash_one(&key);
        self.sharded
            .on_shard_handing_back(
                self.sharded.shard_at(hash),
                |shard| {
                    with_ttl(shard, ttl, |shard| {
                        shard.try_insert_hashed(hash, key, value)
                    })
                },
                |stored| stored.err().map(rejected_departs),
            )
            .map_err(|error| error.with_max(self.max()))
    }

    /// Like [`try_insert`](Self::try_insert), but hands back the value it replaced (no hook
    /// runs for it).
    ///
    /// # Errors
    ///
    /// [`CapacityError`] holding the key and value when the key is new and the map is full, or
    /// the entry does not fit the weight budget.
    ///
    /// ```
    /// let map = mapguard::ConcurrentBoundedMap::new(1);
    /// assert_eq!(map.try_replace(1, 'a').unwrap(), None);
    /// assert_eq!(map.try_replace(1, 'b').unwrap(), Some('a'));
    /// ```
    pub fn try_replace(&self, key: K, value: V) -> Result<Option<V>, CapacityError<K, V>> {
        let hash = self.sharded.hasher().hash_one(&key);
        self.sharded
            .on_shard_handing_back(
                self.sharded.shard_at(hash),
                |shard| shard.try_replace_entry_hashed(hash, key, value),
                stored_departs,
            )
            .map(|replaced| replaced.map(|(_, old)| old))
            .map_err(|error| error.with_max(self.max()))
    }

    /// Changes the bound of the whole map. A bounded map never lets an entry go on its own, so
    /// lowering the bound below the map's length keeps every entry and rejects new keys until
    /// removals bring it under, as for
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
        self.sharded.set_max(max);
    }
}

impl<K: Hash + Eq, V, P: Policy, S: BuildHasher, L: ConcurrentListener<K, V>, E: Expiry, C>
    ConcurrentMap<K, V, P, S, L, E, C>
{
    /// Clones of the stored key and its value, counted as [`get`](Self::get) counts.
    ///
    /// ```
    /// let map = mapguard::ConcurrentLruMap::new(4);
    /// map.insert(String::from("a"), 1);
    /// assert_eq!(map.get_key_value("a"), Some((String::from("a"), 1)));
    /// ```
    pub fn get_key_value<Q>(&self, key: &Q) -> Option<(K, V)>
    where
        K: Borrow<Q> + Clone,
        Q: Hash + Eq + ?Sized,
        V: Clone,
    {
        self.sharded.on_key(key, |shard, hash| {
            let found = shard.find_hashed_for_read(hash, key)?;
            let (key, value) = shard.key_value_at(found);
            Some((key.clone(), value.clone()))
        })
    }

    /// Takes every entry out and hands them all back to you, shard by shard (each locked for
    /// the time it takes to empty it): no hook runs for them, as for [`remove`](Self::remove).
    /// Entries of ended scopes and expired ones leave through the hooks instead, as they would
    /// have at the next operation. In no particular order.
    ///
    /// ```
    /// let map = mapguard::ConcurrentLruMap::new(4);
    /// map.insert(1, 'a');
    /// map.insert(2, 'b');
    /// let mut taken: Vec<_> = map.drain().collect();
    /// taken.sort_unstable();
    /// assert_eq!(taken, [(1, 'a'), (2, 'b')]);
    /// assert!(map.is_empty());
    /// ```
    #[must_use = "`drain` hands every value back without its hooks: use them, or call `clear` to close them through the cleanup path"]
    pub fn drain(&self) -> std::vec::IntoIter<(K, V)> {
        self.sharded
            .drain_with(RawMap::take_all_handed_back)
            .into_iter()
    }

    /// Removes `key`'s entry and hands its value back (no hook runs) if `remove` says so of
    /// it, under the key's shard lock: "remove only if still empty" with no race. `remove`
    /// must not use this map. Counted as a lookup, not a use.
    ///
    /// ```
    /// let channels = mapguard::ConcurrentLruMap::<&str, Vec<u32>>::new(10);
    /// channels.insert("news", vec![]);
    /// channels.insert("sport", vec![7]);
    /// assert_eq!(channels.remove_if("sport", Vec::is_empty), None);
    /// assert_eq!(channels.remove_if("news", Vec::is_empty), Some(vec![]));
    /// assert_eq!(channels.len(), 1);
    /// ```
    #[must_use = "`remove_if` hands the value back without its hooks (`Cleanup`, listener): use it, or `compute` with `Compute::Discard` to close it through the cleanup path"]
    pub fn remove_if<Q>(&self, key: &Q, remove: impl FnOnce(&V) -> bool) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.sharded
            .on_key_handing_back(
                key,
                |shard, hash| shard.remove_if_hashed(hash, key, remove),
                |removed| removed.map(|(key, value)| (key, value, RemovalCause::Explicit)),
            )
            .map(|(_, value)| value)
    }
}

/// The weight budget of a map whose entries carry weights ([`Weighs`](crate::weight::Weighs)).
impl<
    K: Hash + Eq,
    V,
    P: Policy,
    S: BuildHasher,
    L: ConcurrentListener<K, V>,
    E: crate::storage::expiry::Weighs,
    C,
> ConcurrentMap<K, V, P, S, L, E, C>
{
    /// Changes the whole map's weight budget, as an operator's setting read at run time may.
    /// An evicting map then evicts until it fits, each shard in turn giving up its entries in
    /// its policy's order ([`RemovalCause::Evicted`]); a bounded map keeps every entry and
    /// refuses new ones until removals bring it under. The hooks run after, with no lock held.
    /// O(evicted × shards) at most.
    ///
    /// # Panics
    ///
    /// If `max_weight` is 0.
    ///
    /// ```
    /// let pages = mapguard::ConcurrentLruMap::builder(100)
    ///     .shards(4)
    ///     .weigher(|_: &u32, page: &Vec<u8>| page.len() as u64)
    ///     .max_weight(1_000)
    ///     .build();
    /// (0..10).for_each(|i| pages.insert(i, vec![0; 100]));
    /// pages.set_max_weight(450);
    /// assert!(pages.weight() <= 450);
    /// assert_eq!(pages.max_weight(), Some(450));
    /// ```
    pub fn set_max_weight(&self, max_weight: u64) {
        self.sharded.set_max_weight(max_weight);
    }
}

/// Loading into a bounded map: as into an evicting one, but a full shard refuses the load.
impl<K: Hash + Eq, V: Clone, S: BuildHasher, L: ConcurrentListener<K, V>, E: Expiry, C>
    ConcurrentMap<K, V, Reject, S, L, E, C>
{
    /// A clone of the value for `key`; if the key is absent, `make()` loads it (once however
    /// many threads ask, with no lock held: see
    /// [`ConcurrentLruMap::get_or_insert_with`](ConcurrentMap::get_or_insert_with)) and it is
    /// stored, unless the map is full. Callers that waited for a load the map refused
    /// look again, and load in turn.
    ///
    /// # Errors
    ///
    /// The key and the loaded value, handed back, when the map is full.
    ///
    /// # Panics
    ///
    /// If `make` asks this map for the key it is loading, and whatever `make` panics with.
    ///
    /// ```
    /// let map = mapguard::ConcurrentBoundedMap::<u32, &str>::builder(1).shards(1).build();
    /// assert_eq!(map.get_or_insert_with(1, || "one"), Ok("one"));
    /// let full = map.get_or_insert_with(2, || "two").unwrap_err();
    /// assert_eq!(full.into_inner(), (2, "two"));
    /// ```
    pub fn get_or_insert_with(
        &self,
        key: K,
        make: impl FnOnce() -> V,
    ) -> Result<V, CapacityError<K, V>> {
        loading::load_blocking(self, key, || Ok::<V, Infallible>(make())).map_err(refused)
    }

    /// [`get_or_insert_with`](Self::get_or_insert_with) with a loader that can fail; a full
    /// shard's refusal reaches the caller through the error type's `From`.
    ///
    /// # Errors
    ///
    /// What `make` returned, when this call ran it and it failed; or the refusal, converted.
    ///
    /// ```
    /// # use mapguard::CapacityError;
    /// #[derive(Debug, PartialEq)]
    /// enum Load { Missing, Full }
    /// impl From<CapacityError<u32, String>> for Load {
    ///     fn from(_: CapacityError<u32, String>) -> Self { Load::Full }
    /// }
    /// let map = mapguard::ConcurrentBoundedMap::<u32, String>::builder(1).shards(1).build();
    /// assert_eq!(map.try_get_or_insert_with(1, || Err(Load::Missing)), Err(Load::Missing));
    /// assert!(map.try_get_or_insert_with(1, || Ok::<_, Load>(String::from("a"))).is_ok());
    /// assert_eq!(map.try_get_or_insert_with(2, || Ok(String::from("b"))), Err(Load::Full));
    /// ```
    pub fn try_get_or_insert_with<Er: From<CapacityError<K, V>>>(
        &self,
        key: K,
        make: impl FnOnce() -> Result<V, Er>,
    ) -> Result<V, Er> {
        loading::load_blocking(self, key, make).map_err(failed_or_refused)
    }

    /// [`get_or_insert_with`](Self::get_or_insert_with) for async code, as
    /// [`ConcurrentLruMap::get_or_insert_async`](ConcurrentMap::get_or_insert_async).
    ///
    /// # Errors
    ///
    /// The key and the loaded value, handed back, when the map is full.
    ///
    /// ```
    /// # mapguard::testing::block_on(async {
    /// let map = mapguard::ConcurrentBoundedMap::<u32, u32>::builder(1).shards(1).build();
    /// assert_eq!(map.get_or_insert_async(1, async { 10 }).await, Ok(10));
    /// assert!(map.get_or_insert_async(2, async { 20 }).await.is_err());
    /// # });
    /// ```
    pub async fn get_or_insert_async(
        &self,
        key: K,
        load: impl Future<Output = V>,
    ) -> Result<V, CapacityError<K, V>> {
        let load = async { Ok::<V, Infallible>(load.await) };
        loading::load_async(self, key, load).await.map_err(refused)
    }

    /// [`try_get_or_insert_with`](Self::try_get_or_insert_with) for async code.
    ///
    /// # Errors
    ///
    /// What `load` returned, when this call awaited it and it failed; or the refusal,
    /// converted.
    ///
    /// ```
    /// # mapguard::testing::block_on(async {
    /// let map = mapguard::ConcurrentBoundedMap::<u32, u32>::builder(4).build();
    /// let loaded = map.try_get_or_insert_async(1, async { Ok::<_, mapguard::CapacityError<u32, u32>>(1) });
    /// assert_eq!(loaded.await, Ok(1));
    /// # });
    /// ```
    pub async fn try_get_or_insert_async<Er: From<CapacityError<K, V>>>(
        &self,
        key: K,
        load: impl Future<Output = Result<V, Er>>,
    ) -> Result<V, Er> {
        loading::load_async(self, key, load)
            .await
            .map_err(failed_or_refused)
    }
}

/// A bounded map's refusal of an infallible load.
fn refused<K, V>(failed: Failed<Infallible, CapacityError<K, V>>) -> CapacityError<K, V> {
    match failed {
        Failed::Load(never) => match never {},
        Failed::Rejected(full) => full,
    }
}

/// A fallible load's error, or a bounded map's refusal converted to it.
fn failed_or_refused<K, V, Er: From<CapacityError<K, V>>>(
    failed: Failed<Er, CapacityError<K, V>>,
) -> Er {
    match failed {
        Failed::Load(error) => error,
        Failed::Rejected(full) => full.into(),
    }
}

sharded_surface! {
    impl[K, V, P: Policy, S, L, E, C] ConcurrentMap<K, V, P, S, L, E, C>
    where [L: ConcurrentListener<K, V>, E: Expiry,];
    maintain where [K: Hash + Eq, S: BuildHasher,];
    lookups where [K: Hash + Eq, S: BuildHasher, L: ConcurrentListener<K, V>, E: Expiry,];
    enrol [EnrolMap] where key [Hash + Eq +];
    key [K];
    setup = "# let map = mapguard::ConcurrentLruMap::builder(64)
#     .name(\"Docs.map\")
#     .lifetime(mapguard::Lifetime::Request)
#     .shards(2)
#     .weigher(|_key: &u8, value: &String| value.len() as u64)
#     .max_weight(1_000)
#     .build();
# map.insert(1, String::from(\"one\"));
# map.insert(2, String::from(\"two\"));";
    timed_setup = "# let clock = mapguard::testing::MockClock::new();
# let map = mapguard::ConcurrentLruMap::builder(64).ttl(Duration::from_secs(60)).clock(clock).build();
# map.insert(1, String::from(\"one\"));";
}

impl<K, V, P: Policy, S, L: ConcurrentListener<K, V>, E: Expiry, C> fmt::Debug
    for ConcurrentMap<K, V, P, S, L, E, C>
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
        self.sharded
            .debug(f, &format!("Concurrent{}", P::TYPE_NAME))
    }
}

impl<K: Hash + Eq, V, P: Evicting, S: BuildHasher, L: ConcurrentListener<K, V>, E: Expiry, C>
    Extend<(K, V)> for ConcurrentMap<K, V, P, S, L, E, C>
{
    /// Inserts each pair as [`insert`](ConcurrentMap::insert) does.
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, pairs: I) {
        for (key, value) in pairs {
            self.insert(key, value);
        }
    }
}

/// `Default` for a concurrent map kind: the map its configuration type `C` configures (what
/// `#[managed_map(concurrent, ...)]` builds), put on the maintenance list when it has
/// something to clean while idle (`enrol` decides whether its types allow).
macro_rules! configured_concurrent {
    ($($map:ident $([$($key_bound:tt)*])? => $enrol:ident, $always:literal, $stored:ident;)*) => {$(
        impl<K, V, P, S, L, E, C> Default for $map<K, V, P, S, L, E, Configured<C>>
        where
            $(K: $($key_bound)*,)?
            P: Policy + 'static,
            S: BuildHasher + Clone + Default + Send + Sync + 'static,
            L: ConcurrentListener<K, V> + Default,
            E: Expiry + Send + 'static,
            C: FieldConfig<K, V, L>,
        {
            /// An empty map configured by its configuration type `C`.
            #[track_caller]
            fn default() -> Self {
                let (max, expiry, lifetime, name) = config::settings::<K, V, L, C, E>();
                let parts = Parts {
                    max,
                    capacity: 0,
                    shards: C::__shards(),
                    hasher: S::default(),
                    listener: L::default(),
                    lifetime,
                    name,
                    site: Location::caller(),
                };
                let map = Self::from_parts(
                    parts,
                    &expiry,
                    config::budget::<K, V, L, C, E>().as_ref(),
                    C::__expire_after::<config::$stored>().as_ref(),
                );
                if $always || config::cleans_while_idle::<K, V, L, C>() {
                    C::$enrol(&map);
                }
                map
            }
        }
    )*};
}

configured_concurrent! {
    ConcurrentMap => __enrol_map, false, StoredAsIs;
    ConcurrentWeakKeyMap[WeakElement] => __enrol_weak_map, true, StoredWeakly;
}

/// A concurrent map's loads: found and joined under the key's shard lock.
impl<K: Hash + Eq, V: Clone, P: Policy, S: BuildHasher, L: ConcurrentListener<K, V>, E: Expiry, C>
    Flown for ConcurrentMap<K, V, P, S, L, E, C>
{
    type Key = K;
    type Value = V;

    fn flights(&self) -> &Flights<K, V> {
        &self.flights
    }

    #[inline]
    fn hash(&self, key: &K) -> u64 {
        self.sharded.hasher().hash_one(key)
    }

    /// What `get` does, through a closure of its own: one instance of the lookup per caller,
    /// so LLVM inlines each (sharing `get`'s, it outlined it: +20% instructions a hit).
    #[inline]
    fn get_hashed(&self, hash: u64, key: &K) -> Option<V> {
        self.sharded.on_shard(self.sharded.shard_at(hash), |shard| {
            shard.update_hashed(hash, key, |value| value.clone())
        })
    }

    #[inline]
    fn find_or_join(&self, key: K, hash: u64, blocking: bool) -> Joined<K, V> {
        self.sharded.on_shard(self.sharded.shard_at(hash), |shard| {
            match shard.update_hashed(hash, &key, |value| value.clone()) {
                Some(value) => Joined::Found(value),
                None => self.flights.join_or_start(key, hash, blocking),
            }
        })
    }
}

/// An evicting map stores every load (evicting to make room).
impl<K: Hash + Eq, V: Clone, P: Evicting, S: BuildHasher, L: ConcurrentListener<K, V>, E: Expiry, C>
    LoadInto for ConcurrentMap<K, V, P, S, L, E, C>
{
    type Rejected = Infallible;

    fn store(&self, flight: &Arc<Flight<V>>, value: V) -> Result<(), Infallible> {
        let shard = self.sharded.shard_at(flight.hash);
        self.sharded.on_shard(shard, |shard| {
            shard.insert_hashed(flight.hash, self.flights.land(flight), value);
        });
        Ok(())
    }
}

/// A bounded map refuses a load when the map is full, handing key and value back.
impl<K: Hash + Eq, V: Clone, S: BuildHasher, L: ConcurrentListener<K, V>, E: Expiry, C> LoadInto
    for ConcurrentMap<K, V, Reject, S, L, E, C>
{
    type Rejected = CapacityError<K, V>;

    fn store(&self, flight: &Arc<Flight<V>>, value: V) -> Result<(), CapacityError<K, V>> {
        let shard = self.sharded.shard_at(flight.hash);
        self.sharded.on_shard_handing_back(
            shard,
            |shard| shard.try_insert_hashed(flight.hash, self.flights.land(flight), value),
            |stored| stored.err().map(rejected_departs),
        )
    }
}
