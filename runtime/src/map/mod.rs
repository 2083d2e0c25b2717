//! [`ManagedMap`], and its faces [`LruMap`], [`AdaptiveMap`] and [`BoundedMap`], with its
//! entries and iterators. Below: every kind of map, the methods they share, bounds by weight,
//! expiry, weak keys and memory.
//!
#![doc = include_str!("../../docs/maps.md")]

mod builder;
mod entry;
pub(crate) mod owned;
mod owning;

pub use crate::raw::iter::{Iter, IterMut, Keys, Values, ValuesMut};
pub use builder::Builder;
pub use entry::{Entry, OccupiedEntry, VacantEntry};
pub use owning::{Drain, IntoIter, IntoValues};

use owned::{Core, Owned, removed_departs};

use delegate::delegate;

use core::borrow::Borrow;
use core::fmt;
use core::hash::{BuildHasher, Hash};
use core::marker::PhantomData;

use hashbrown::DefaultHashBuilder;

use crate::config::Built;
use crate::config::{self, Configured, FieldConfig};
use crate::error::CapacityError;
use crate::hooks::{NoListener, RemovalListener};
use crate::policy::{Adaptive, Evicting, Lru, Policy, Reject};
use crate::raw::{RawMap, rejected_departs, replaced_departs, stored_departs, with_ttl};
use crate::scope::{Lifetime, ManagedCache};
use crate::stats::MapStats;
use crate::storage::expiry::{Expires, Expiry, NoExpiry};
use crate::storage::store::Store;
use core::time::Duration;
use std::panic::Location;

/// A hash map with a size bound and a cleanup path, generic over what happens when it is full.
///
/// You normally name it through its aliases: [`LruMap`] (evicts the least recently used entry),
/// [`AdaptiveMap`] (evicts by an adaptive blend of recency and frequency) and [`BoundedMap`]
/// (rejects new keys). Methods that do not depend on the policy are
/// documented here once.
///
/// # The invariant
///
/// Every value inserted leaves the map exactly once, in one of two ways:
/// - **handed back** to the caller by a method whose name and type say so: `remove` and
///   `remove_entry`, `replace`, `drain`, `into_iter`, a rejected `try_insert`,
///   [`OccupiedEntry::insert`]; or
/// - **through the cleanup path** with its [`RemovalCause`](crate::RemovalCause): the value's
///   [`Cleanup`](crate::Cleanup) (if the map was built with it), then the map's
///   [`RemovalListener`], then drop.
///
/// # Memory
///
/// Storage grows with the entries, not with `max`: a map with `max = 1_000_000` holding ten
/// entries allocates for about ten, and a fill to `max` never reserves past `max`. When live
/// entries fall to a quarter of the allocation, the map shrinks to twice the live count by
/// itself (amortized O(1); the 4× gap between growing and shrinking means inserting and
/// removing around one size never reallocates back and forth). `clear` and `drain` free
/// everything. [`Builder::capacity`] reserves room up front instead. Overhead per entry is two `u32` links plus the hash table's `u32` index and
/// control byte.
///
/// # When a hook panics
///
/// Every value that leaves reaches all of its hooks (its `Cleanup`, then the listener) once,
/// whatever another hook did; the first panic reaches the caller after the operation and
/// every other hook have finished, and later ones are contained. Every operation finishes
/// changing the map before any hook runs (the caller's new value stored, the bound restored,
/// a `clear`, `retain` or scope end complete), so a panicking hook never leaves the map
/// inconsistent or over its bound, and no value is cleaned twice. A value whose `Cleanup`
/// panicked still reaches the listener. A value the operation was to hand back (`replace`,
/// a rejected `try_insert`) goes through the hooks instead if a hook panicked, since the
/// caller will never receive it (with [`RemovalCause::Replaced`](crate::RemovalCause::Replaced), or
/// [`RemovalCause::Evicted`](crate::RemovalCause::Evicted) for a rejected one).
///
/// The map counts the panics ([`MapStats::hook_panics`](crate::scope::MapStats), the
/// registry's `hook_panics`). A map, iterator or [`ScopeGuard`](crate::scope::ScopeGuard)
/// dropped *while a panic unwinds* runs every hook too; their panics are contained (another
/// panic would abort the process).
///
/// # When `Hash` or `Eq` panics
///
/// The panic reaches the caller of the operation that ran it, and the map stays whole: every
/// stored value leaves exactly once, later, and nothing inside the map panics afterwards. Every
/// operation calls `Hash` and `Eq` before its first change (moving a node, rehashing, shrinking
/// happen only after the hashes they need are known), so the operation simply does not
/// happen: a `remove` leaves the key in place, an `insert` drops the key and value it was
/// given. One case costs more: if `Hash` panics while the hash table grows (a rehash of every
/// key), hashbrown may drop some indices from the table. Those entries can no longer be
/// found by key (a later `insert` of an equal key adds a second entry), but they are still
/// iterated, counted, evicted and cleaned exactly once, at the latest when the map is
/// dropped.
///
/// # Examples
///
/// ```
/// use mapguard::{LruMap, RemovalCause};
///
/// let mut evicted = Vec::new();
/// let mut cache = LruMap::builder(2)
///     .on_removal(|key, _value, cause| {
///         if cause == RemovalCause::Evicted {
///             evicted.push(key);
///         }
///     })
///     .build();
/// cache.insert("a", 1);
/// cache.insert("b", 2);
/// cache.get("a"); // "a" is now the most recent
/// cache.insert("c", 3); // evicts "b"
/// assert!(cache.contains_key("a") && cache.contains_key("c"));
/// drop(cache);
/// assert_eq!(evicted, ["b"]);
/// ```
pub struct ManagedMap<K, V, P, S = DefaultHashBuilder, L = NoListener, E = NoExpiry, C = Built>
where
    P: Policy,
    L: RemovalListener<K, V>,
    E: Expiry,
{
    owned: Owned<K, V, P, S, L, E>,
    /// How the map was configured: [`Built`](crate::config::Built) by a builder or
    /// constructor, or [`Configured<T>`](crate::config::Configured) over a
    /// [`FieldConfig`](crate::config::FieldConfig) type `T` (a `#[managed_map]` field), which
    /// makes it [`Default`].
    config: PhantomData<fn() -> C>,
}

kind_aliases! { ManagedMap;
    /// A map that evicts its least recently used entry when a new key arrives while full; the
    /// evicted value goes through the cleanup path with [`RemovalCause::Evicted`](crate::RemovalCause::Evicted).
    ///
    /// `get`, `get_mut` and `entry` make an entry the most recent; `peek`, `peek_mut` and
    /// `contains_key` do not. Iteration runs from most to least recently used.
    ///
    /// All methods are O(1) average unless noted.
    ///
    /// # Examples
    ///
    /// ```
    /// use mapguard::LruMap;
    ///
    /// let mut cache = LruMap::new(2);
    /// cache.insert(1, "one");
    /// cache.insert(2, "two");
    /// assert_eq!(cache.get(&1), Some(&"one"));
    /// cache.insert(3, "three"); // 2 was the least recently used
    /// assert_eq!(cache.keys().copied().collect::<Vec<_>>(), [3, 1]);
    /// ```
    LruMap = Lru;

    /// A map that never evicts: when full, [`try_insert`](ManagedMap::try_insert) of a new key
    /// fails and hands the key and value back. Updating a key already present always succeeds.
    ///
    /// For tables that must not silently lose entries (registrations, open handles). Reads do not
    /// reorder; iteration runs from most to least recently written.
    ///
    /// All methods are O(1) average unless noted.
    ///
    /// # Examples
    ///
    /// ```
    /// use mapguard::BoundedMap;
    ///
    /// let mut open = BoundedMap::new(2);
    /// open.try_insert("a", 1)?;
    /// open.try_insert("b", 2)?;
    /// open.try_insert("a", 10)?; // updating is fine when full
    /// let rejected = open.try_insert("c", 3).unwrap_err();
    /// assert_eq!(rejected.into_inner(), ("c", 3));
    /// assert_eq!(open.get("a"), Some(&10));
    /// # Ok::<(), mapguard::CapacityError<&str, i32>>(())
    /// ```
    BoundedMap = Reject;

    /// A map that evicts by an adaptive blend of recency and frequency when a new key arrives
    /// while full; the evicted value goes through the cleanup path with
    /// [`RemovalCause::Evicted`](crate::RemovalCause::Evicted).
    ///
    /// For caches, where the hit ratio is what counts: on recorded traces it keeps LRU's hits where
    /// recency rules and a frequency-based cache's where loops and scans defeat LRU (see the
    /// README's "Choosing a policy"). A hit raises a 2-bit count kept in the entry's node (on
    /// the cache line the lookup has just read) and relinks nothing, so `get` costs about what
    /// a lookup in a plain hash map does. The policy is an S3-FIFO variant: new keys
    /// serve a probation in a small FIFO queue, keys hit during it move on to a main queue (a
    /// CLOCK), and keys that return soon after leaving (remembered by 16-bit fingerprints, never
    /// their values) move the probation's length, as ARC adapts its lists.
    ///
    /// It has [`LruMap`]'s methods, except `peek_lru`/`pop_lru` (there is no least recently used
    /// entry to name). It holds at most 536,870,910 entries (2^29 - 2; a larger `max` is
    /// lowered to that): the policy's marks share the nodes' 32-bit links. Iteration runs
    /// through the main queue, then the probation queue, each from most to least recently
    /// arrived. All methods are O(1) average (an eviction amortized) unless
    /// noted.
    ///
    /// # Examples
    ///
    /// ```
    /// use mapguard::AdaptiveMap;
    ///
    /// let mut cache = AdaptiveMap::new(100);
    /// for round in 0..3 {
    ///     for key in 0..150 {
    ///         if cache.get(&key).is_none() {
    ///             cache.insert(key, round);
    ///         }
    ///     }
    /// }
    /// // A loop bigger than the cache: LRU would hit nothing in rounds two and three.
    /// assert!(cache.len() == 100);
    /// ```
    AdaptiveMap = Adaptive;
}

impl<K, V, P: Policy, S, L: RemovalListener<K, V>, E: Expiry, C> ManagedMap<K, V, P, S, L, E, C> {
    /// The public face of `raw`, whose departures `listener` hears.
    pub(crate) fn from_raw(raw: Core<K, V, P, S, L, E>, listener: L) -> Self {
        Self {
            owned: Owned { raw, listener },
            config: PhantomData,
        }
    }

    /// A value that never got in: through the hooks with `cause` (see
    /// `RawMap::release_unstored`).
    #[cfg_attr(
        not(feature = "serde"),
        allow(dead_code, reason = "only deserializing refuses so")
    )]
    pub(crate) fn release_unstored(&mut self, key: K, value: V, cause: crate::RemovalCause) {
        self.owned.raw.release_unstored(key, value, cause);
        self.owned.done();
    }
}

crate::builder::constructors! {
    bounded ManagedMap, Builder;
    /// An empty map holding at most `max` entries, with the default hasher and no hooks.
    /// Allocates nothing until the first insert.
    ///
    /// `max` above `u32::MAX - 1` is treated as `u32::MAX - 1`.
    ///
    /// # Panics
    ///
    /// If `max` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use mapguard::{BoundedMap, LruMap};
    ///
    /// let cache: LruMap<u64, String> = LruMap::new(1_000);
    /// let table: BoundedMap<u64, String> = BoundedMap::new(1_000);
    /// assert_eq!(cache.max(), 1_000);
    /// assert_eq!(table.capacity(), 0); // storage follows entries, not `max`
    /// ```
    new;
    /// A builder for a map holding at most `max` entries: set a listener, value cleanup or a
    /// hasher, then [`build`](Builder::build).
    ///
    /// # Panics
    ///
    /// If `max` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use mapguard::{LruMap, RemovalCause};
    ///
    /// let mut log = Vec::new();
    /// let mut map = LruMap::builder(1)
    ///     .on_removal(|key: u32, _value: (), cause| log.push((key, cause)))
    ///     .build();
    /// map.insert(1, ());
    /// map.insert(2, ());
    /// drop(map);
    /// assert_eq!(log, [(1, RemovalCause::Evicted), (2, RemovalCause::Dropped)]);
    /// ```
    builder;
}

impl<K, V, P: Policy, S> ManagedMap<K, V, P, S> {
    /// An empty map holding at most `max` entries, hashing with `hasher`.
    ///
    /// # Panics
    ///
    /// If `max` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use mapguard::LruMap;
    /// use std::collections::hash_map::RandomState;
    ///
    /// // SipHash, for keys an attacker chooses.
    /// let mut map = LruMap::with_hasher(100, RandomState::new());
    /// map.insert("k", 1);
    /// assert_eq!(map.peek("k"), Some(&1));
    /// ```
    #[must_use]
    #[track_caller]
    pub fn with_hasher(max: usize, hasher: S) -> Self {
        Builder::new(max).hasher(hasher).build()
    }
}

impl<K, V, P: Policy, S, L: RemovalListener<K, V>, E: Expiry, C> ManagedMap<K, V, P, S, L, E, C> {
    delegate! {
        to self.owned.raw {
            /// What the entries weigh together: 0 for a map without a weight budget. Entries are
            /// weighed when written (see [`crate::weight`]).
            ///
            /// ```
            /// let mut map = mapguard::LruMap::builder(10)
            ///     .weigher(|_: &u8, v: &String| v.len() as u64)
            ///     .max_weight(100)
            ///     .build();
            /// map.insert(1, String::from("four"));
            /// assert_eq!(map.weight(), 4);
            /// ```
            #[must_use]
            pub fn weight(&self) -> u64;

            /// The weight budget, if the map has one.
            ///
            /// ```
            /// let map = mapguard::LruMap::<u8, u8>::builder(10).max_weight(64).build();
            /// assert_eq!(map.max_weight(), Some(64));
            /// assert_eq!(mapguard::LruMap::<u8, u8>::new(10).max_weight(), None);
            /// ```
            #[must_use]
            pub fn max_weight(&self) -> Option<u64>;

            /// The map's name: the builder's [`name`](Builder::name), `Type.field` for a
            /// `#[mapguard::managed]` field, or else the call site that created it.
            ///
            /// ```
            /// let named = mapguard::LruMap::<u8, u8>::builder(4).name("Cache.hot").build();
            /// assert_eq!(named.name(), "Cache.hot");
            /// let unnamed = mapguard::LruMap::<u8, u8>::new(4);
            /// assert!(unnamed.name().contains(".rs:")); // file:line:column of `new`
            /// ```
            #[must_use]
            pub fn name(&self) -> &str;

            /// The lifetime whose scope end clears this map ([`Lifetime::Process`] unless the builder
            /// set another).
            ///
            /// ```
            /// use mapguard::{Lifetime, LruMap};
            /// let map = LruMap::<u8, u8>::builder(4).lifetime(Lifetime::Request).build();
            /// assert_eq!(map.lifetime(), Lifetime::Request);
            /// ```
            #[must_use]
            pub fn lifetime(&self) -> Lifetime;

            /// Number of entries.
            ///
            /// ```
            /// let mut map = mapguard::LruMap::new(4);
            /// map.insert(1, 1);
            /// assert_eq!(map.len(), 1);
            /// ```
            #[must_use]
            pub fn len(&self) -> usize;

            /// Whether the map holds no entries.
            ///
            /// ```
            /// let map = mapguard::LruMap::<u8, u8>::new(4);
            /// assert!(map.is_empty());
            /// ```
            #[must_use]
            pub fn is_empty(&self) -> bool;

            /// The most entries the map will hold.
            ///
            /// ```
            /// assert_eq!(mapguard::BoundedMap::<u8, u8>::new(7).max(), 7);
            /// ```
            #[must_use]
            pub fn max(&self) -> usize;

            /// Entries the map can hold before it reallocates. Grows with the entries, never past
            /// `max`.
            ///
            /// ```
            /// let mut map = mapguard::LruMap::new(1_000_000);
            /// map.insert(1, 1);
            /// assert!(map.capacity() >= 1 && map.capacity() < 100);
            /// ```
            #[must_use]
            pub fn capacity(&self) -> usize;

            /// Estimated heap bytes held by the map's own storage (not by what keys and values own).
            ///
            /// ```
            /// let mut map = mapguard::LruMap::new(100);
            /// assert_eq!(map.heap_bytes(), 0);
            /// map.insert(1_u64, 1_u64);
            /// assert!(map.heap_bytes() > 0);
            /// ```
            #[must_use]
            pub fn heap_bytes(&self) -> usize;

            /// The map's hasher.
            ///
            /// ```
            /// use std::collections::hash_map::RandomState;
            /// let map = mapguard::LruMap::<u8, u8, _>::with_hasher(4, RandomState::new());
            /// let _: &RandomState = map.hasher();
            /// ```
            #[must_use]
            pub fn hasher(&self) -> &S;

            /// The map's removal listener.
            ///
            /// ```
            /// let map = mapguard::LruMap::<u8, u8>::new(4);
            /// assert_eq!(*map.listener(), mapguard::hooks::NoListener);
            /// ```
            #[must_use]
            #[expr(&self.owned.listener)]
            pub fn listener(&self) -> &L;

            /// The map's removal listener, mutably (to read and reset counters it keeps, say).
            ///
            /// ```
            /// use mapguard::hooks::RemovalListener;
            ///use mapguard::{LruMap, RemovalCause};
            ///
            /// #[derive(Default)]
            /// struct Evictions(u64);
            /// impl<K, V> RemovalListener<K, V> for Evictions {
            ///     fn on_removal(&mut self, _: K, _: V, cause: RemovalCause) {
            ///         self.0 += u64::from(cause == RemovalCause::Evicted);
            ///     }
            ///}
            ///
            /// let mut map = LruMap::builder(1).listener(Evictions::default()).build();
            /// map.extend([(1, ()), (2, ()), (3, ())]);
            /// assert_eq!(std::mem::take(&mut map.listener_mut().0), 2);
            /// ```
            #[expr(&mut self.owned.listener)]
            pub fn listener_mut(&mut self) -> &mut L;

            /// Iterates over entries from most to least recent (recently used for [`LruMap`],
            /// recently written for [`BoundedMap`]). Does not change the order.
            ///
            /// ```
            /// let mut map = mapguard::LruMap::new(3);
            /// map.insert('a', 1);
            /// map.insert('b', 2);
            /// map.get(&'a');
            /// let order: Vec<_> = map.iter().map(|(k, v)| (*k, *v)).collect();
            /// assert_eq!(order, [('a', 1), ('b', 2)]);
            /// ```
            pub fn iter(&self) -> Iter<'_, K, V>;

            /// Iterates over entries with mutable values, in arbitrary order. Does not change the
            /// recency order.
            ///
            /// ```
            /// let mut map = mapguard::LruMap::new(3);
            /// map.insert('a', 1);
            /// for (_, value) in map.iter_mut() {
            ///     *value += 10;
            /// }
            /// assert_eq!(map.peek(&'a'), Some(&11));
            /// ```
            pub fn iter_mut(&mut self) -> IterMut<'_, K, V>;

            /// Iterates over keys from most to least recent.
            ///
            /// ```
            /// let mut map = mapguard::BoundedMap::new(3);
            /// map.try_insert(1, ()).unwrap();
            /// map.try_insert(2, ()).unwrap();
            /// assert_eq!(map.keys().copied().collect::<Vec<_>>(), [2, 1]);
            /// ```
            pub fn keys(&self) -> Keys<'_, K, V>;

            /// Iterates over values from most to least recent.
            ///
            /// ```
            /// let mut map = mapguard::LruMap::new(3);
            /// map.insert(1, "x");
            /// assert_eq!(map.values().collect::<Vec<_>>(), [&"x"]);
            /// ```
            pub fn values(&self) -> Values<'_, K, V>;

            /// Iterates over mutable values in arbitrary order.
            ///
            /// ```
            /// let mut map = mapguard::LruMap::new(3);
            /// map.insert(1, 1);
            /// map.values_mut().for_each(|v| *v *= 2);
            /// assert_eq!(map.peek(&1), Some(&2));
            /// ```
            pub fn values_mut(&mut self) -> ValuesMut<'_, K, V>;

            /// Takes every entry out, handing them to you in arbitrary order; the map keeps no
            /// memory. Entries the returned iterator has not yielded when it is dropped go through
            /// the cleanup path with [`RemovalCause::Cleared`](crate::RemovalCause::Cleared). O(1) to start, O(n) to finish.
            ///
            /// ```
            /// let mut map = mapguard::LruMap::new(3);
            /// map.insert(1, 'a');
            /// map.insert(2, 'b');
            /// let mut taken: Vec<_> = map.drain().collect();
            /// taken.sort();
            /// assert_eq!(taken, [(1, 'a'), (2, 'b')]);
            /// assert!(map.is_empty() && map.capacity() == 0);
            /// ```
            #[expr(self.owned.drain())]
            pub fn drain(&mut self) -> Drain<'_, K, V, L>;
        }
    }
}

impl<K: Hash, V, P: Policy, S: BuildHasher, L: RemovalListener<K, V>, E: Expiry, C>
    ManagedMap<K, V, P, S, L, E, C>
{
    delegate! {
        to self.owned.raw {
            /// Changes the value for `key` in place and returns what `change` returned (`None` if
            /// the key is absent). Counted as [`get_mut`](Self::get_mut) is: a hit, a use of the
            /// entry, and a read for the idle timer (`ttl` still runs from the last insert).
            ///
            /// Under a weight budget the entry is re-weighed (the way to change a value's weight;
            /// `get_mut` does not re-weigh). If the map is then over its budget, an evicting map
            /// evicts other entries, in its policy's order, until it fits; the updated entry itself
            /// leaves with [`RemovalCause::Evicted`](crate::RemovalCause::Evicted) when it alone is heavier than the budget, or when
            /// the map is a [`BoundedMap`], which never evicts others.
            ///
            /// ```
            /// let mut map = mapguard::LruMap::builder(10)
            ///     .weigher(|_: &u8, v: &Vec<u8>| v.len() as u64)
            ///     .max_weight(10)
            ///     .build();
            /// map.insert(1, vec![0; 4]);
            /// map.insert(2, vec![0; 4]);
            /// assert_eq!(map.update(&2, |v| v.extend([0; 4])), Some(()));
            /// assert_eq!(map.weight(), 8); // 12 did not fit: key 1 was evicted
            /// assert!(!map.contains_key(&1));
            /// ```
            #[expr({ let back = $; self.owned.done(); back })]
            pub fn update<Q, R>(&mut self, key: &Q, change: impl FnOnce(&mut V) -> R) -> Option<R> where K: Borrow<Q>, Q: Hash + Eq + ?Sized;

            /// Whether `key` is present. Does not change the recency order, but counts as a lookup
            /// (a hit or a miss in the registry's figures), so a cache read as `contains_key` then
            /// `insert` shows its misses. [`peek`](Self::peek) is the read that counts nothing.
            ///
            /// ```
            /// let mut map = mapguard::LruMap::new(3);
            /// map.insert(String::from("a"), 1);
            /// assert!(map.contains_key("a")); // `&str` looks up `String` keys
            /// ```
            #[must_use]
            pub fn contains_key<Q>(&self, key: &Q) -> bool where K: Borrow<Q>, Q: Hash + Eq + ?Sized;

            /// The value for `key`, without changing the recency order.
            ///
            /// ```
            /// let mut map = mapguard::LruMap::new(2);
            /// map.insert(1, 'a');
            /// map.insert(2, 'b');
            /// assert_eq!(map.peek(&1), Some(&'a'));
            /// map.insert(3, 'c'); // 1 is still the least recently used
            /// assert!(!map.contains_key(&1));
            /// ```
            #[must_use]
            pub fn peek<Q>(&self, key: &Q) -> Option<&V> where K: Borrow<Q>, Q: Hash + Eq + ?Sized;

            /// The value for `key`, mutably, without changing the recency order.
            ///
            /// ```
            /// let mut map = mapguard::LruMap::new(2);
            /// map.insert(1, 10);
            /// *map.peek_mut(&1).unwrap() += 1;
            /// assert_eq!(map.peek(&1), Some(&11));
            /// ```
            pub fn peek_mut<Q>(&mut self, key: &Q) -> Option<&mut V> where K: Borrow<Q>, Q: Hash + Eq + ?Sized;

            /// The stored key and value for `key`, without changing the recency order.
            ///
            /// ```
            /// let mut map = mapguard::BoundedMap::new(2);
            /// map.try_insert(String::from("k"), 1).unwrap();
            /// assert_eq!(map.peek_key_value("k"), Some((&String::from("k"), &1)));
            /// ```
            #[must_use]
            pub fn peek_key_value<Q>(&self, key: &Q) -> Option<(&K, &V)> where K: Borrow<Q>, Q: Hash + Eq + ?Sized;

            /// The value for `key`, mutably. For an [`LruMap`] this makes the entry the most recently
            /// used.
            ///
            /// ```
            /// let mut map = mapguard::LruMap::new(2);
            /// map.insert(1, vec![]);
            /// map.get_mut(&1).unwrap().push('x');
            /// assert_eq!(map.peek(&1), Some(&vec!['x']));
            /// ```
            #[expr(self.owned.get_mut(key))]
            pub fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V> where K: Borrow<Q>, Q: Hash + Eq + ?Sized;

            /// Removes `key` and hands its value back to you; no hook runs. Returns `None` if absent.
            ///
            /// ```
            /// let mut map = mapguard::LruMap::new(2);
            /// map.insert("a", 1);
            /// assert_eq!(map.remove("a"), Some(1));
            /// assert_eq!(map.remove("a"), None);
            /// ```
            #[inline]
            #[must_use = "`remove` hands the value back without its hooks (`Cleanup`, listener): use it, or call `discard` to close it through the cleanup path"]
            #[expr({ let removed = self.owned.raw.remove_entry(key); self.owned.hand_back(removed, removed_departs).map(|(_, value)| value) })]
            pub fn remove<Q>(&mut self, key: &Q) -> Option<V> where K: Borrow<Q>, Q: Hash + Eq + ?Sized;

            /// Removes `key` and hands the stored key and value back to you; no hook runs.
            ///
            /// ```
            /// let mut map = mapguard::LruMap::new(2);
            /// map.insert(String::from("a"), 1);
            /// assert_eq!(map.remove_entry("a"), Some((String::from("a"), 1)));
            /// ```
            #[inline]
            #[must_use = "`remove_entry` hands the value back without its hooks (`Cleanup`, listener): use it, or call `discard` to close it through the cleanup path"]
            #[expr({ let removed = $; self.owned.hand_back(removed, removed_departs) })]
            pub fn remove_entry<Q>(&mut self, key: &Q) -> Option<(K, V)> where K: Borrow<Q>, Q: Hash + Eq + ?Sized;

            /// Removes `key` through the cleanup path with [`RemovalCause::Explicit`](crate::RemovalCause::Explicit). Returns whether
            /// it was present. Use this rather than `remove` when you are done with the value: the
            /// hooks close what it holds.
            ///
            /// ```
            /// use mapguard::{LruMap, RemovalCause};
            ///
            /// let mut causes = Vec::new();
            /// let mut map = LruMap::builder(2)
            ///     .on_removal(|_key: &str, _value: i32, cause| causes.push(cause))
            ///     .build();
            /// map.insert("a", 1);
            /// assert!(map.discard("a"));
            /// assert!(!map.discard("a"));
            /// drop(map);
            /// assert_eq!(causes, [RemovalCause::Explicit]);
            /// ```
            #[expr({ let back = $; self.owned.done(); back })]
            pub fn discard<Q>(&mut self, key: &Q) -> bool where K: Borrow<Q>, Q: Hash + Eq + ?Sized;

            /// Keeps only the entries for which `keep` returns `true`; the others go through the
            /// cleanup path with [`RemovalCause::Explicit`](crate::RemovalCause::Explicit). O(n).
            ///
            /// ```
            /// let mut map = mapguard::LruMap::new(10);
            /// map.extend((0..6).map(|i| (i, i)));
            /// map.retain(|_, v| *v % 2 == 0);
            /// let mut kept: Vec<_> = map.keys().copied().collect();
            /// kept.sort();
            /// assert_eq!(kept, [0, 2, 4]);
            /// ```
            #[expr({ $ self.owned.done() })]
            pub fn retain(&mut self, keep: impl FnMut(&K, &mut V) -> bool);

            /// Removes every entry through the cleanup path with [`RemovalCause::Cleared`](crate::RemovalCause::Cleared), in
            /// arbitrary order, and frees the map's memory (unlike `std`'s `clear`). O(n).
            ///
            /// ```
            /// let mut map = mapguard::LruMap::new(100);
            /// map.extend((0..50).map(|i| (i, i)));
            /// map.clear();
            /// assert!(map.is_empty());
            /// assert_eq!(map.heap_bytes(), 0);
            /// ```
            #[expr({ $ self.owned.done() })]
            pub fn clear(&mut self);

            /// Clears the map through the cleanup path with [`RemovalCause::ScopeEnded`](crate::RemovalCause::ScopeEnded) if it has
            /// `lifetime`; returns how many entries left. The same as
            /// [`ManagedCache::end_scope`], without importing the trait. O(n).
            ///
            /// ```
            /// use mapguard::{Lifetime, LruMap};
            /// let mut per_request = LruMap::builder(8).lifetime(Lifetime::Request).build();
            /// per_request.insert(1, "scratch");
            /// assert_eq!(per_request.end_scope(Lifetime::Session), 0); // another lifetime
            /// assert_eq!(per_request.end_scope(Lifetime::Request), 1);
            /// ```
            #[expr({ let back = $; self.owned.done(); back })]
            pub fn end_scope(&mut self, lifetime: Lifetime) -> usize;

            /// Purges expired entries ([`RemovalCause::Expired`](crate::RemovalCause::Expired); none without `ttl`/`idle`) and
            /// refreshes the registry's figures; returns how many left. The same as
            /// [`ManagedCache::maintain`], without importing the trait. O(n).
            ///
            /// ```
            /// use mapguard::{testing::MockClock, LruMap};
            /// use std::time::Duration;
            /// let clock = MockClock::new();
            /// let mut sessions = LruMap::builder(8).ttl(Duration::from_secs(60)).clock(clock.clone()).build();
            /// sessions.insert(1, "ada");
            /// clock.advance(Duration::from_secs(61));
            /// assert_eq!(sessions.maintain(), 1);
            /// ```
            #[expr({ let back = $; self.owned.done(); back })]
            pub fn maintain(&mut self) -> usize;

            /// Releases all spare memory now rather than waiting for the automatic shrink. O(n).
            ///
            /// ```
            /// let mut map = mapguard::LruMap::new(1000);
            /// map.extend((0..1000).map(|i| (i, i)));
            /// map.retain(|k, _| *k < 600);
            /// map.shrink_to_fit();
            /// assert!(map.capacity() < 1000);
            /// ```
            pub fn shrink_to_fit(&mut self);

            /// The entry for `key`, for in-place insert-or-update with one lookup. For an [`LruMap`],
            /// an occupied entry becomes the most recently used.
            ///
            /// ```
            /// let mut counts = mapguard::LruMap::new(100);
            /// for word in ["a", "b", "a"] {
            ///     *counts.entry(word).or_insert(0) += 1;
            /// }
            /// assert_eq!(counts.peek("a"), Some(&2));
            /// ```
            #[expr(self.owned.entry(key))]
            pub fn entry(&mut self, key: K) -> Entry<'_, K, V, P, S, L, E> where K: Eq;
        }
    }
}

// `P: Evicting` per method: on a bounded map, a call fails with `Evicting`'s message.
impl<K: Hash + Eq, V, P: Policy, S: BuildHasher, L: RemovalListener<K, V>, E: Expiry, C>
    ManagedMap<K, V, P, S, L, E, C>
{
    delegate! {
        to self.owned.raw {
            /// Stores `value` under `key` as the most recently used entry.
            ///
            /// A value already stored under `key` goes through the cleanup path with
            /// [`RemovalCause::Replaced`](crate::RemovalCause::Replaced) (use [`replace`](Self::replace) to get it back instead). If a
            /// new key arrives while the map is full, the policy's victim (an [`LruMap`]'s least
            /// recently used entry) goes through the
            /// cleanup path with [`RemovalCause::Evicted`](crate::RemovalCause::Evicted).
            ///
            /// ```
            /// use mapguard::{LruMap, RemovalCause};
            ///
            /// let mut log = Vec::new();
            /// let mut map = LruMap::builder(1)
            ///     .on_removal(|k: u8, v: char, cause| log.push((k, v, cause)))
            ///     .build();
            /// map.insert(1, 'a');
            /// map.insert(1, 'b');
            /// map.insert(2, 'c');
            /// drop(map);
            /// assert_eq!(log, [
            ///     (1, 'a', RemovalCause::Replaced),
            ///     (1, 'b', RemovalCause::Evicted),
            ///     (2, 'c', RemovalCause::Dropped),
            /// ]);
            /// ```
            #[expr({ $ self.owned.done() })]
            pub fn insert(&mut self, key: K, value: V) where P: Evicting;

            /// Stores `value` under `key` as the most recently used entry and hands back the value it
            /// replaced, if any (no hook runs for it). May evict like [`insert`](Self::insert).
            ///
            /// ```
            /// let mut map = mapguard::LruMap::new(2);
            /// assert_eq!(map.replace("a", 1), None);
            /// assert_eq!(map.replace("a", 2), Some(1));
            /// ```
            #[must_use = "`replace` hands the old value back without its hooks (`Cleanup`, listener): use it, or call `insert` to close it through the cleanup path"]
            #[expr({ let replaced = self.owned.raw.replace_entry(key, value); self.owned.hand_back(replaced, |r, _| replaced_departs(r)).map(|(_, old)| old) })]
            pub fn replace(&mut self, key: K, value: V) -> Option<V> where P: Evicting;
        }
    }
}

impl<K: Hash + Eq, V, P: Evicting, S: BuildHasher, L: RemovalListener<K, V>, E: Expiry, C>
    ManagedMap<K, V, P, S, L, E, C>
{
    delegate! {
        to self.owned.raw {
            /// The value for `key`, making it the most recently used entry.
            ///
            /// ```
            /// let mut map = mapguard::LruMap::new(2);
            /// map.insert(1, 'a');
            /// map.insert(2, 'b');
            /// assert_eq!(map.get(&1), Some(&'a'));
            /// map.insert(3, 'c'); // evicts 2, not 1
            /// assert!(map.contains_key(&1) && !map.contains_key(&2));
            /// ```
            #[expr(self.owned.get_mut(key).map(|value| &*value))]
            pub fn get<Q>(&mut self, key: &Q) -> Option<&V> where K: Borrow<Q>, Q: Hash + Eq + ?Sized;

            /// The value for `key`, inserting `make()` first if the key is absent (which may evict
            /// like [`insert`](Self::insert)); the entry becomes the most recently used. One lookup,
            /// as [`entry`](Self::entry)`(key).or_insert_with(make)`. O(1) average.
            ///
            /// ```
            /// let mut rules = mapguard::LruMap::new(100);
            /// let compiled = rules.get_or_insert_with("a+", || String::from("compiled a+"));
            /// assert_eq!(compiled, "compiled a+");
            /// let again = rules.get_or_insert_with("a+", || unreachable!("already there"));
            /// assert_eq!(again, "compiled a+");
            /// ```
            #[expr(self.owned.entry(key).or_insert_with(make))]
            pub fn get_or_insert_with(&mut self, key: K, make: impl FnOnce() -> V) -> &mut V;

            /// Changes the bound. Shrinking below the current length evicts entries in the policy's
            /// order (an [`LruMap`]'s least recently used first) through the cleanup path with
            /// [`RemovalCause::Evicted`](crate::RemovalCause::Evicted). O(evicted).
            ///
            /// # Panics
            ///
            /// If `max` is 0.
            ///
            /// ```
            /// let mut map = mapguard::LruMap::new(5);
            /// map.extend((0..5).map(|i| (i, ())));
            /// map.set_max(2);
            /// assert_eq!(map.keys().copied().collect::<Vec<_>>(), [4, 3]);
            /// ```
            #[expr({ $ self.owned.done() })]
            pub fn set_max(&mut self, max: usize);
        }
    }
}

impl<K: Hash + Eq, V, S: BuildHasher, L: RemovalListener<K, V>, E: Expiry, C>
    ManagedMap<K, V, Lru, S, L, E, C>
{
    delegate! {
        to self.owned.raw {
            /// The least recently used entry — the next to be evicted — without changing the order.
            ///
            /// ```
            /// let mut map = mapguard::LruMap::new(3);
            /// map.insert(1, 'a');
            /// map.insert(2, 'b');
            /// assert_eq!(map.peek_lru(), Some((&1, &'a')));
            /// ```
            #[must_use]
            pub fn peek_lru(&self) -> Option<(&K, &V)>;

            /// Removes the least recently used entry and hands it back to you; no hook runs.
            ///
            /// ```
            /// let mut map = mapguard::LruMap::new(3);
            /// map.insert(1, 'a');
            /// map.insert(2, 'b');
            /// assert_eq!(map.pop_lru(), Some((1, 'a')));
            /// assert_eq!(map.len(), 1);
            /// ```
            #[must_use = "`pop_lru` hands the entry back without its hooks (`Cleanup`, listener): use it, or evict through `insert`/`set_max` to close it"]
            #[expr({ let popped = $; self.owned.hand_back(popped, removed_departs) })]
            pub fn pop_lru(&mut self) -> Option<(K, V)>;
        }
    }
}

impl<K: Hash + Eq, V, S: BuildHasher, L: RemovalListener<K, V>, E: Expiry, C>
    ManagedMap<K, V, Reject, S, L, E, C>
{
    delegate! {
        to self.owned.raw {
            /// Stores `value` under `key` as the most recently written entry, or hands both back if
            /// the key is new and the map is full.
            ///
            /// A value already stored under `key` goes through the cleanup path with
            /// [`RemovalCause::Replaced`](crate::RemovalCause::Replaced); updating a present key succeeds even when full.
            ///
            /// # Errors
            ///
            /// [`CapacityError`] holding the key and value when the key is new and the map is full.
            ///
            /// ```
            /// let mut map = mapguard::BoundedMap::new(1);
            /// assert!(map.try_insert(1, 'a').is_ok());
            /// assert!(map.try_insert(1, 'b').is_ok());
            /// assert_eq!(map.try_insert(2, 'c').unwrap_err().into_inner(), (2, 'c'));
            /// ```
            #[expr({ let stored = $; self.owned.hand_back(stored, |stored, _| stored.err().map(rejected_departs)) })]
            pub fn try_insert(&mut self, key: K, value: V) -> Result<(), CapacityError<K, V>>;

            /// Like [`try_insert`](Self::try_insert), but hands back the value it replaced (no hook
            /// runs for it).
            ///
            /// # Errors
            ///
            /// [`CapacityError`] holding the key and value when the key is new and the map is full.
            ///
            /// ```
            /// let mut map = mapguard::BoundedMap::new(1);
            /// assert_eq!(map.try_replace(1, 'a').unwrap(), None);
            /// assert_eq!(map.try_replace(1, 'b').unwrap(), Some('a'));
            /// ```
            #[expr({ let stored = self.owned.raw.try_replace_entry(key, value); self.owned.hand_back(stored, |stored, _| stored_departs(stored)).map(|replaced| replaced.map(|(_, old)| old)) })]
            pub fn try_replace(&mut self, key: K, value: V) -> Result<Option<V>, CapacityError<K, V>>;

            /// The value for `key`. Reads never reorder a bounded map, so this takes `&self`.
            ///
            /// ```
            /// let mut map = mapguard::BoundedMap::new(2);
            /// map.try_insert("a", 1).unwrap();
            /// assert_eq!(map.get("a"), Some(&1));
            /// ```
            #[must_use]
            pub fn get<Q>(&self, key: &Q) -> Option<&V> where K: Borrow<Q>, Q: Hash + Eq + ?Sized;

            /// Whether a new key would be rejected.
            ///
            /// ```
            /// let mut map = mapguard::BoundedMap::new(1);
            /// map.try_insert(1, 1).unwrap();
            /// assert!(map.is_full());
            /// ```
            #[must_use]
            pub fn is_full(&self) -> bool;

            /// How many more keys fit.
            ///
            /// ```
            /// let mut map = mapguard::BoundedMap::new(3);
            /// map.try_insert(1, 1).unwrap();
            /// assert_eq!(map.remaining(), 2);
            /// ```
            #[must_use]
            pub fn remaining(&self) -> usize;

            /// Changes the bound. A bounded map never lets an entry go on its own, so lowering the
            /// bound below the current length keeps every entry: the map rejects new keys (updates
            /// of present keys still succeed) until removals bring its length under the new bound;
            /// until then `len() > max()`. Raising it admits new keys at once. O(1).
            ///
            /// # Panics
            ///
            /// If `max` is 0.
            ///
            /// ```
            /// let mut table = mapguard::BoundedMap::new(4);
            /// (0..4).for_each(|k| table.try_insert(k, ()).unwrap());
            /// table.set_max(2);
            /// assert_eq!((table.len(), table.max()), (4, 2)); // nothing was dropped
            /// assert!(table.try_insert(9, ()).is_err());
            /// table.discard(&0);
            /// table.discard(&1);
            /// table.discard(&2);
            /// assert!(table.try_insert(9, ()).is_ok()); // under the new bound again
            /// ```
            #[expr({ $ self.owned.done() })]
            pub fn set_max(&mut self, max: usize);
        }
    }
}

// Atomic updates: one lookup decides, for a key present or absent; and std's `get_key_value`.
impl<K: Hash + Eq, V, P: Policy, S: BuildHasher, L: RemovalListener<K, V>, E: Expiry, C>
    ManagedMap<K, V, P, S, L, E, C>
{
    /// The stored key and its value, counted and promoted as [`get_mut`](Self::get_mut) is.
    /// O(1) average.
    ///
    /// ```
    /// let mut map = mapguard::LruMap::new(4);
    /// map.insert(String::from("a"), 1);
    /// assert_eq!(map.get_key_value("a"), Some((&String::from("a"), &1)));
    /// ```
    pub fn get_key_value<Q>(&mut self, key: &Q) -> Option<(&K, &V)>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let found = self.owned.raw.find_for_read(key);
        self.owned.done();
        Some(self.owned.raw.key_value_at(found?))
    }

    /// [`get_or_insert_with`](Self::get_or_insert_with) with a `make` that can fail: its
    /// error comes back and nothing is stored. O(1) average.
    ///
    /// # Errors
    ///
    /// What `make` returned, when the key was absent and it failed.
    ///
    /// ```
    /// let mut rows = mapguard::LruMap::<u32, String>::new(100);
    /// assert_eq!(rows.try_get_or_insert_with(7, || Err("no row 7")), Err("no row 7"));
    /// assert!(!rows.contains_key(&7));
    /// let row = rows.try_get_or_insert_with(7, || Ok::<_, &str>(String::from("seven")));
    /// assert_eq!(row.map(|row| row.as_str()), Ok("seven"));
    /// ```
    pub fn try_get_or_insert_with<Er>(
        &mut self,
        key: K,
        make: impl FnOnce() -> Result<V, Er>,
    ) -> Result<&mut V, Er>
    where
        P: Evicting,
    {
        match self.entry(key) {
            crate::map::Entry::Occupied(entry) => Ok(entry.into_mut()),
            crate::map::Entry::Vacant(entry) => Ok(entry.insert(make()?)),
        }
    }

    /// Removes `key`'s entry and hands its value back (no hook runs) if `remove` says so of
    /// it; else leaves it. One lookup, counted as a lookup, not a use. O(1) average.
    ///
    /// ```
    /// let mut channels = mapguard::LruMap::<&str, Vec<u32>>::new(10);
    /// channels.insert("news", vec![]);
    /// channels.insert("sport", vec![7]);
    /// assert_eq!(channels.remove_if("sport", Vec::is_empty), None); // has a subscriber
    /// assert_eq!(channels.remove_if("news", Vec::is_empty), Some(vec![]));
    /// assert_eq!(channels.len(), 1);
    /// ```
    #[must_use = "`remove_if` hands the value back without its hooks (`Cleanup`, listener): use it, or `compute` with `Compute::Discard` to close it through the cleanup path"]
    pub fn remove_if<Q>(&mut self, key: &Q, remove: impl FnOnce(&V) -> bool) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.owned.raw.hash_of(key);
        let taken = self.owned.raw.remove_if_hashed(hash, key, remove);
        // If a hook of what left on the way panics, the caller never gets the value: it goes
        // through the hooks too.
        let taken = self.owned.hand_back(taken, removed_departs);
        taken.map(|(_, value)| value)
    }
}

// An impl-level `P: Evicting`: a bounded map has a `compute` of its own, which can refuse.
impl<K: Hash + Eq, V, P: Evicting, S: BuildHasher, L: RemovalListener<K, V>, E: Expiry, C>
    ManagedMap<K, V, P, S, L, E, C>
{
    /// Looks `key` up once and lets `decide` say what becomes of it, from the value it holds
    /// (`None`: absent): [`Compute::Keep`](crate::Compute::Keep) it,
    /// [`Put`](crate::Compute::Put) a value (the one it replaces goes through the cleanup path
    /// with [`RemovalCause::Replaced`](crate::RemovalCause::Replaced); a new key may evict as
    /// [`insert`](Self::insert) does) or [`Discard`](crate::Compute::Discard) it
    /// ([`RemovalCause::Explicit`](crate::RemovalCause::Explicit)). Returns what the key holds
    /// afterwards. A present key counts as used. O(1) average.
    ///
    /// ```
    /// use mapguard::{Compute, LruMap};
    ///
    /// let mut stock = LruMap::<&str, u32>::new(100);
    /// stock.insert("apples", 1);
    /// // Take one; the last one taken removes the line.
    /// let take = |left: Option<&u32>| match left {
    ///     Some(1) => Compute::Discard,
    ///     Some(n) => Compute::Put(n - 1),
    ///     None => Compute::Keep,
    /// };
    /// assert_eq!(stock.compute("apples", take), None);
    /// assert!(!stock.contains_key("apples"));
    /// assert_eq!(stock.compute("pears", |_| Compute::Put(5)).copied(), Some(5));
    /// ```
    pub fn compute(
        &mut self,
        key: K,
        decide: impl FnOnce(Option<&V>) -> crate::Compute<V>,
    ) -> Option<&mut V> {
        let hash = self.owned.raw.hash_of(&key);
        let holds = self.owned.raw.compute_hashed(hash, key, decide);
        self.owned.done();
        Some(self.owned.raw.value_at_mut(holds?))
    }
}

impl<K: Hash + Eq, V, S: BuildHasher, L: RemovalListener<K, V>, E: Expiry, C>
    ManagedMap<K, V, Reject, S, L, E, C>
{
    /// [`LruMap::compute`](ManagedMap::compute) for a map that never evicts: a value put
    /// under a new key is refused when the map is full (or it does not fit the weight
    /// budget), and comes back; nothing changes then. O(1) average.
    ///
    /// # Errors
    ///
    /// [`CapacityError`] with the key and the value `decide` put, when
    /// the key is new and the map is full.
    ///
    /// ```
    /// use mapguard::{BoundedMap, Compute};
    ///
    /// let mut seats = BoundedMap::<&str, u32>::new(1);
    /// assert_eq!(seats.compute("a", |_| Compute::Put(1)).unwrap().copied(), Some(1));
    /// assert_eq!(seats.compute("a", |n| Compute::Put(n.unwrap() + 1)).unwrap().copied(), Some(2));
    /// let refused = seats.compute("b", |_| Compute::Put(1)).unwrap_err();
    /// assert_eq!(refused.into_inner(), ("b", 1));
    /// ```
    pub fn compute(
        &mut self,
        key: K,
        decide: impl FnOnce(Option<&V>) -> crate::Compute<V>,
    ) -> Result<Option<&mut V>, crate::CapacityError<K, V>> {
        let hash = self.owned.raw.hash_of(&key);
        let holds = self.owned.raw.try_compute_hashed(hash, key, decide);
        let holds = self.owned.hand_back(holds, |holds, _| {
            holds.err().map(crate::raw::rejected_departs)
        });
        Ok(holds?.map(|index| self.owned.raw.value_at_mut(index)))
    }
}

/// The weight budget of a map whose entries carry weights ([`Weighs`](crate::weight::Weighs)).
impl<
    K: Hash + Eq,
    V,
    P: Policy,
    S: BuildHasher,
    L: RemovalListener<K, V>,
    E: crate::storage::expiry::Weighs,
    C,
> ManagedMap<K, V, P, S, L, E, C>
{
    /// Changes the weight budget, as an operator's setting read at run time may. An evicting
    /// map then evicts in the policy's order ([`RemovalCause::Evicted`](crate::RemovalCause::Evicted))
    /// until it fits; a [`BoundedMap`] keeps every entry and refuses new ones until removals
    /// bring it under. O(evicted).
    ///
    /// # Panics
    ///
    /// If `max_weight` is 0.
    ///
    /// ```
    /// let mut pages = mapguard::LruMap::builder(100)
    ///     .weigher(|_: &u32, page: &Vec<u8>| page.len() as u64)
    ///     .max_weight(1_000)
    ///     .build();
    /// (0..10).for_each(|i| pages.insert(i, vec![0; 100]));
    /// pages.set_max_weight(450);
    /// assert_eq!((pages.len(), pages.weight(), pages.max_weight()), (4, 400, Some(450)));
    /// assert!(pages.contains_key(&9) && !pages.contains_key(&5)); // the least recent left
    /// ```
    pub fn set_max_weight(&mut self, max_weight: u64) {
        self.owned.raw.set_max_weight(max_weight);
        self.owned.done();
    }
}

/// Deadlines of single entries, for maps whose entries can expire ([`Expires`]).
impl<K: Hash + Eq, V, P: Policy, S: BuildHasher, L: RemovalListener<K, V>, E: Expiry, C>
    ManagedMap<K, V, P, S, L, E, C>
{
    /// The time `key`'s entry has left before it expires; `None` if the key is absent or its
    /// entry does not expire. O(1) average.
    ///
    /// ```
    /// use mapguard::testing::MockClock;
    /// use std::time::Duration;
    ///
    /// let clock = MockClock::new();
    /// let mut map = mapguard::LruMap::builder(8).ttl(Duration::from_secs(10)).clock(clock.clone()).build();
    /// map.insert("a", 1);
    /// clock.advance(Duration::from_secs(4));
    /// assert_eq!(map.ttl_of("a"), Some(Duration::from_secs(6)));
    /// assert_eq!(map.ttl_of("b"), None);
    /// ```
    #[must_use]
    pub fn ttl_of<Q>(&self, key: &Q) -> Option<Duration>
    where
        E: Expires,
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.owned.raw.ttl_of(key)
    }

    /// Gives `key`'s entry the deadline `ttl` from now, whatever the policy said; `None`: it
    /// never expires. Returns whether the key was there. O(1) average.
    ///
    /// ```
    /// use mapguard::testing::MockClock;
    /// use std::time::Duration;
    ///
    /// let clock = MockClock::new();
    /// let mut map = mapguard::LruMap::builder(8).ttl(Duration::from_secs(10)).clock(clock.clone()).build();
    /// map.insert("pinned", 1);
    /// assert!(map.set_ttl("pinned", None));
    /// clock.advance(Duration::from_secs(60));
    /// assert_eq!(map.get("pinned"), Some(&1));
    /// ```
    pub fn set_ttl<Q>(&mut self, key: &Q, ttl: Option<Duration>) -> bool
    where
        E: Expires,
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let found = self.owned.raw.set_ttl(key, ttl);
        self.owned.done();
        found
    }
}

impl<K: Hash + Eq, V, P: Evicting, S: BuildHasher, L: RemovalListener<K, V>, E: Expiry, C>
    ManagedMap<K, V, P, S, L, E, C>
{
    /// [`insert`](Self::insert) with a deadline of its own: the entry expires `ttl` from now
    /// (leaving with [`RemovalCause::Expired`](crate::RemovalCause::Expired)), whatever the
    /// map's policy or `ttl` says. A later plain `insert` of the key keeps the deadline unless
    /// the policy moves it (a map-wide `ttl` restarts it). O(1) average.
    ///
    /// ```
    /// use mapguard::{expiry::OnlyWhenSet, testing::MockClock, RemovalCause};
    /// use std::time::Duration;
    ///
    /// let clock = MockClock::new();
    /// let mut left = Vec::new();
    /// let mut map = mapguard::LruMap::builder(8)
    ///     .expire_after(OnlyWhenSet)
    ///     .clock(clock.clone())
    ///     .on_removal(|key, _, cause| left.push((key, cause)))
    ///     .build();
    /// map.insert_with_ttl("short", 1, Duration::from_secs(1));
    /// map.insert_with_ttl("long", 2, Duration::from_secs(3600));
    /// clock.advance(Duration::from_secs(2));
    /// assert_eq!(map.get("short"), None);
    /// map.maintain();
    /// assert_eq!(map.keys().copied().collect::<Vec<_>>(), ["long"]);
    /// drop(map);
    /// assert_eq!(left, [("short", RemovalCause::Expired), ("long", RemovalCause::Dropped)]);
    /// ```
    pub fn insert_with_ttl(&mut self, key: K, value: V, ttl: Duration)
    where
        E: Expires,
    {
        with_ttl(&mut self.owned.raw, ttl, |raw| raw.insert(key, value));
        self.owned.done();
    }
}

impl<K: Hash + Eq, V, S: BuildHasher, L: RemovalListener<K, V>, E: Expiry, C>
    ManagedMap<K, V, Reject, S, L, E, C>
{
    /// [`try_insert`](Self::try_insert) with a deadline of its own (see
    /// [`LruMap::insert_with_ttl`](ManagedMap::insert_with_ttl)). A full map first makes
    /// room from its expired entries.
    ///
    /// # Errors
    ///
    /// [`CapacityError`] holding the key and value when the key is new and the map is full of
    /// live entries.
    ///
    /// ```
    /// use mapguard::{expiry::OnlyWhenSet, testing::MockClock};
    /// use std::time::Duration;
    ///
    /// let clock = MockClock::new();
    /// let mut map = mapguard::BoundedMap::builder(1).expire_after(OnlyWhenSet).clock(clock.clone()).build();
    /// map.try_insert_with_ttl(1, 'a', Duration::from_secs(1)).unwrap();
    /// assert!(map.try_insert(2, 'b').is_err());
    /// clock.advance(Duration::from_secs(2));
    /// assert!(map.try_insert(2, 'b').is_ok()); // the expired entry made room
    /// ```
    pub fn try_insert_with_ttl(
        &mut self,
        key: K,
        value: V,
        ttl: Duration,
    ) -> Result<(), CapacityError<K, V>>
    where
        E: Expires,
    {
        let stored = with_ttl(&mut self.owned.raw, ttl, |raw| raw.try_insert(key, value));
        self.owned
            .hand_back(stored, |stored, _| stored.err().map(rejected_departs))
    }
}

impl<K: Hash, V, P: Policy, S: BuildHasher, L: RemovalListener<K, V>, E: Expiry, C> ManagedCache
    for ManagedMap<K, V, P, S, L, E, C>
{
    fn end_scope(&mut self, lifetime: Lifetime) -> usize {
        let ended = self.owned.raw.end_scope(lifetime);
        self.owned.done();
        ended
    }

    fn maintain(&mut self) -> usize {
        let purged = self.owned.raw.maintain();
        self.owned.done();
        purged
    }

    fn stats(&self) -> Vec<MapStats> {
        vec![self.owned.raw.stats_of()]
    }
}

impl<K: Clone, V: Clone, P: Policy, S: Clone, L: RemovalListener<K, V> + Clone, E: Expiry, C> Clone
    for ManagedMap<K, V, P, S, L, E, C>
{
    /// Clones entries, order, bound, hasher and listener. Each copy of a value leaves its own
    /// map through that map's cleanup path.
    fn clone(&self) -> Self {
        Self {
            owned: self.owned.clone(),
            config: PhantomData,
        }
    }
}

impl<K: fmt::Debug, V: fmt::Debug, P: Policy, S, L: RemovalListener<K, V>, E: Expiry, C> fmt::Debug
    for ManagedMap<K, V, P, S, L, E, C>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.owned.raw.fmt(f)
    }
}

impl<K: Hash + Eq, V, P: Evicting, S: BuildHasher, L: RemovalListener<K, V>, E: Expiry, C>
    Extend<(K, V)> for ManagedMap<K, V, P, S, L, E, C>
{
    /// Inserts each pair as [`insert`](ManagedMap::insert) does (replacing and evicting
    /// through the cleanup path).
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, pairs: I) {
        for (key, value) in pairs {
            self.insert(key, value);
        }
    }
}

impl<'a, K, V, P: Policy, S, L: RemovalListener<K, V>, E: Expiry, C> IntoIterator
    for &'a ManagedMap<K, V, P, S, L, E, C>
{
    type Item = (&'a K, &'a V);
    type IntoIter = Iter<'a, K, V>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<'a, K, V, P: Policy, S, L: RemovalListener<K, V>, E: Expiry, C> IntoIterator
    for &'a mut ManagedMap<K, V, P, S, L, E, C>
{
    type Item = (&'a K, &'a mut V);
    type IntoIter = IterMut<'a, K, V>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter_mut()
    }
}

impl<K, V, P: Policy, S, L: RemovalListener<K, V>, E: Expiry, C> IntoIterator
    for ManagedMap<K, V, P, S, L, E, C>
{
    type Item = (K, V);
    type IntoIter = IntoIter<K, V, P, S, L, E>;

    /// Hands every entry to you in arbitrary order. Entries not yet yielded when the iterator
    /// is dropped go through the cleanup path with [`RemovalCause::Dropped`](crate::RemovalCause::Dropped).
    fn into_iter(self) -> Self::IntoIter {
        self.owned.into_iter()
    }
}

impl<K, V, P: Policy, S, L: RemovalListener<K, V>, E: Expiry, C> ManagedMap<K, V, P, S, L, E, C> {
    /// Consumes the map, handing you its values (in slab order, not by recency); their keys
    /// are dropped. Values not yet yielded when the iterator is dropped go through the
    /// cleanup path with [`RemovalCause::Dropped`](crate::RemovalCause::Dropped), as for
    /// [`into_iter`](IntoIterator::into_iter).
    ///
    /// ```
    /// let mut map = mapguard::LruMap::new(4);
    /// map.extend([(1, 'a'), (2, 'b')]);
    /// let mut values: Vec<char> = map.into_values().collect();
    /// values.sort_unstable();
    /// assert_eq!(values, ['a', 'b']);
    /// ```
    pub fn into_values(self) -> IntoValues<K, V, P, S, L, E> {
        self.into_iter().map(|(_, value)| value)
    }

    /// Consumes the map, handing you its keys; the values go through the cleanup path with
    /// [`RemovalCause::Dropped`](crate::RemovalCause::Dropped) (they are not yours to close),
    /// every hook before the first key comes. Clones of the keys, as the hooks take the
    /// stored ones. O(n).
    ///
    /// ```
    /// let mut closed = Vec::new();
    /// let mut map = mapguard::LruMap::builder(4).on_removal(|key: u8, _: char, _| closed.push(key)).build();
    /// map.extend([(1, 'a'), (2, 'b')]);
    /// let mut keys: Vec<u8> = map.into_keys().collect();
    /// keys.sort_unstable();
    /// assert_eq!(keys, [1, 2]);
    /// closed.sort_unstable();
    /// assert_eq!(closed, [1, 2]); // every value went through its hook
    /// ```
    pub fn into_keys(self) -> std::vec::IntoIter<K>
    where
        K: Clone,
    {
        self.owned.into_keys().into_iter()
    }
}

/// `map[&key]`: the value for `key`, like `std`'s maps. Does not change the recency order
/// (as [`peek`](ManagedMap::peek)). O(1) average.
///
/// # Panics
///
/// If `key` is absent (or expired), as `HashMap`'s `Index` does; use
/// [`peek`](ManagedMap::peek) or [`get`](ManagedMap::get) to ask.
///
/// ```
/// let mut map = mapguard::LruMap::new(4);
/// map.insert(String::from("a"), 1);
/// assert_eq!(map["a"], 1);
/// ```
impl<
    K: Hash + Eq + Borrow<Q>,
    Q: Hash + Eq + ?Sized,
    V,
    P: Policy,
    S: BuildHasher,
    L: RemovalListener<K, V>,
    E: Expiry,
    C,
> core::ops::Index<&Q> for ManagedMap<K, V, P, S, L, E, C>
{
    type Output = V;

    #[track_caller]
    fn index(&self, key: &Q) -> &V {
        self.peek(key)
            .expect("mapguard: no entry for the key given to `map[key]`")
    }
}

/// Two maps are equal when they hold the same entries: the same keys with equal values.
/// Order, bound, name and hooks are not compared (as for `HashMap`). O(n).
///
/// ```
/// let mut a = mapguard::LruMap::new(4);
/// let mut b = mapguard::LruMap::new(8);
/// a.insert(1, 'x');
/// a.insert(2, 'y');
/// b.insert(2, 'y');
/// b.insert(1, 'x');
/// assert_eq!(a, b);
/// b.insert(3, 'z');
/// assert_ne!(a, b);
/// ```
impl<K: Hash + Eq, V: PartialEq, P: Policy, S: BuildHasher, L: RemovalListener<K, V>, E: Expiry, C>
    PartialEq for ManagedMap<K, V, P, S, L, E, C>
{
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self
                .iter()
                .all(|(key, value)| other.peek(key).is_some_and(|theirs| theirs == value))
    }
}

/// See [`PartialEq`](#impl-PartialEq-for-ManagedMap<K,+V,+P,+S,+L,+E>).
impl<K: Hash + Eq, V: Eq, P: Policy, S: BuildHasher, L: RemovalListener<K, V>, E: Expiry, C> Eq
    for ManagedMap<K, V, P, S, L, E, C>
{
}

impl<
    K,
    V,
    P: Policy,
    S: BuildHasher + Default,
    L: RemovalListener<K, V> + Default,
    E: Expiry,
    C: FieldConfig<K, V, L>,
> Default for ManagedMap<K, V, P, S, L, E, Configured<C>>
{
    /// An empty map configured by its configuration type `C`. A `MAX` of 0 fails to compile.
    #[track_caller]
    fn default() -> Self {
        let (max, expiry, lifetime, name) = config::settings::<K, V, L, C, E>();
        let store = Store::new(max, S::default(), expiry);
        let map = RawMap::from_parts(store, lifetime, name, Location::caller());
        let map = match config::budget::<K, V, L, C, E>() {
            Some((max_weight, weigher)) => map.with_budget(max_weight, Some(weigher)),
            None => map,
        };
        let map = map.with_expire_after(C::__expire_after::<config::StoredAsIs>());
        Self::from_raw(map, L::default())
    }
}
