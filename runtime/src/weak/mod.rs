//! [`WeakKeyMap`]: entries whose key is a weak pointer leave when the key's last strong
//! reference goes — through the cleanup path, with [`RemovalCause::Collected`].
//!
//! weak-table's own maps drop a dead key's value silently (inside `retain`,
//! `remove_expired`, and when they grow), so the values must not live in them. This map keeps
//! them in the shared store instead, keyed by the weak pointer plus the hash computed while
//! the key was alive: a dead entry can still be found, removed and handed to the hooks. From
//! weak-table it takes the [`WeakKey`] abstraction over `rc::Weak`/`sync::Weak` and hashing
//! by the pointee.

mod builder;
pub use builder::Builder;

use core::borrow::Borrow;
use core::fmt;
use core::hash::{BuildHasher, Hash, Hasher};
use core::marker::PhantomData;
use std::borrow::Cow;

use hashbrown::DefaultHashBuilder;
/// weak-table's abstraction over `rc::Weak`/`sync::Weak`, re-exported for naming
/// [`WeakKeyMap`]'s bounds.
pub use weak_table::traits::{WeakElement, WeakKey};

use crate::RemovalCause;
use crate::config::Built;
use crate::config::{self, Configured, FieldConfig};
use crate::departures::{Departed, Departures, Resize, Settle, Shard};
use crate::error::CapacityError;
use crate::hooks::{KeptFor, run_departed};
use crate::hooks::{NoListener, RemovalListener};
use crate::map::owned::run_owner_hooks;
use crate::policy::{Evicting, Lru, OrderOf, Policy, Reject};
use crate::raw::iter::Iter;
use crate::raw::{ChoosesDeadline, RawMap, with_ttl};
use crate::scope::{Lifetime, ManagedCache};
use crate::storage::expiry::{ExpireAfter, Expires, Expiry, NoExpiry, SharedPolicy};
use crate::storage::store::{NodeOf, Store};
use crate::storage::weigher::Weigher;
use core::time::Duration;
use std::panic::Location;

/// A weak key and the hash of its pointee, taken while it was alive.
#[doc(hidden)]
pub struct Weakly<K> {
    weak: K,
    hash: u64,
}

impl<K> fmt::Debug for Weakly<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Weakly")
            .field("hash", &self.hash)
            .finish_non_exhaustive()
    }
}

/// An expiry policy over weak keys, applied to the stored wrapper of each.
pub(crate) struct OnWeakKeys<P>(pub(crate) P);

impl<K, V, P: ExpireAfter<K, V>> ExpireAfter<Weakly<K>, V> for OnWeakKeys<P> {
    fn after_create(&self, key: &Weakly<K>, value: &V, now: Duration) -> Option<Duration> {
        self.0.after_create(&key.weak, value, now)
    }
    fn after_update(
        &self,
        key: &Weakly<K>,
        value: &V,
        now: Duration,
        left: Option<Duration>,
    ) -> Option<Duration> {
        self.0.after_update(&key.weak, value, now, left)
    }
    fn reads_move_deadlines(&self) -> bool {
        self.0.reads_move_deadlines()
    }
    fn after_read(
        &self,
        key: &Weakly<K>,
        value: &V,
        now: Duration,
        left: Option<Duration>,
    ) -> Option<Duration> {
        self.0.after_read(&key.weak, value, now, left)
    }
}

impl<K, V> config::StorePolicy<K, V> for config::StoredWeakly {
    type Shared = SharedPolicy<Weakly<K>, V>;
    fn share<P: ExpireAfter<K, V> + 'static>(policy: P) -> Self::Shared {
        std::sync::Arc::new(OnWeakKeys(policy))
    }
}

impl<K> Hash for Weakly<K> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

impl<K: WeakKey> PartialEq for Weakly<K> {
    /// Equal when both keys are alive with equal pointees (a dead key equals nothing).
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash
            && match (self.weak.view(), other.weak.view()) {
                (Some(a), Some(b)) => K::with_key(&a, |a| K::equals(&b, a)),
                _ => false,
            }
    }
}

impl<K: WeakKey> Eq for Weakly<K> {}

/// Hashes a [`Weakly`] key to its stored hash, so dead keys stay findable by slot.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct StoredHash;

impl BuildHasher for StoredHash {
    type Hasher = crate::storage::Prehashed;

    fn build_hasher(&self) -> Self::Hasher {
        crate::storage::Prehashed::default()
    }
}

/// A key found absent by `upsert`: still strong, its hashed weak form, and the value.
type Absent<K, V> = (<K as weak_table::traits::WeakElement>::Strong, Weakly<K>, V);

/// The core map: weak keys with their hashes; what leaves is kept for the hooks exactly when
/// the listener observes removals.
type Inner<K, V, P, L, E> = RawMap<Weakly<K>, V, P, StoredHash, KeptFor<L, K, V>, E>;

/// A map keyed by weak pointers (`std::rc::Weak<T>` or `std::sync::Weak<T>`): it never keeps
/// a key alive, and when a key's last strong reference is dropped, its entry leaves through
/// the cleanup path with [`RemovalCause::Collected`]. A map that indexes objects by strong
/// pointers keeps every object alive as long as the map lives; this one does not.
///
/// Inserts take the strong pointer (`Rc<T>`/`Arc<T>`); lookups take the pointee (`&T`, or
/// any borrowed form of it). Dead entries are purged by [`maintain`](ManagedCache::maintain),
/// and a bounded amount of that work runs on every insert (the least recent entry, then two
/// slots of a round-robin sweep), so an insert-only workload whose keys die stays bounded.
/// Until purged, a dead entry still counts in [`len`](Self::len).
///
/// An entry lives as long as the allocation it was inserted with. Keys compare by pointee,
/// so an equal key in another allocation finds the entry (and `insert` through it replaces
/// the value), but does not keep it alive: when the strong references of the first
/// allocation are gone, the entry is collected. To tie an entry to another allocation,
/// `remove` it and insert it again with that one.
///
/// ```
/// use std::rc::{Rc, Weak};
/// let mut map = mapguard::WeakKeyMap::<Weak<String>, u8>::new();
/// let first = Rc::new(String::from("k"));
/// let twin = Rc::new(String::from("k")); // equal, but another allocation
/// map.insert(Rc::clone(&first), 1);
/// map.insert(Rc::clone(&twin), 2); // same key: replaces the value, keeps `first`'s pointer
/// drop(first);
/// assert_eq!(map.get("k"), None); // collected, though `twin` is alive
/// ```
///
/// The type accepts any weak pointer, so that a struct naming it compiles down to one clear
/// error when the pointee lacks `Hash` or `Eq` (`#[managed_map(weak_keys)]` reports it at the
/// key); building, inserting and looking up need [`WeakKey`], that is `T: Hash + Eq`.
///
/// Unbounded by default; [`lru_builder`](Self::lru_builder) and
/// [`bounded_builder`](Self::bounded_builder) add a `max` with either policy. Expiry,
/// lifetimes, value cleanup and listeners work as for [`ManagedMap`](crate::ManagedMap).
///
/// # Examples
///
/// ```
/// use mapguard::{RemovalCause, WeakKeyMap};
/// use std::rc::{Rc, Weak};
///
/// let mut collected = Vec::new();
/// let mut meta = WeakKeyMap::<Weak<String>, u32>::builder()
///     .on_removal(|_key, value, cause| collected.push((value, cause)))
///     .build();
///
/// let node = Rc::new(String::from("node-1"));
/// meta.insert(Rc::clone(&node), 7);
/// assert_eq!(meta.get("node-1"), Some(&7));
///
/// drop(node); // the last strong reference goes ...
/// mapguard::ManagedCache::maintain(&mut meta); // ... and the entry leaves with its hook
/// drop(meta);
/// assert_eq!(collected, [(7, RemovalCause::Collected)]);
/// ```
pub struct WeakKeyMap<
    K,
    V,
    P = Lru,
    S = DefaultHashBuilder,
    L = NoListener,
    E = NoExpiry,
    C = Built,
> where
    K: WeakElement,
    P: Policy,
    L: RemovalListener<K, V>,
    E: Expiry,
{
    map: Inner<K, V, P, L, E>,
    /// Hears what leaves, with the weak key.
    listener: L,
    hasher: S,
    /// What entries weigh, for a map with a weight budget (the inner map keeps the weights).
    weigher: Option<Weigher<K, V>>,
    /// Next slab position the incremental dead-key sweep looks at.
    sweep: usize,
    /// How the map was configured: [`Built`](crate::config::Built) by a builder or
    /// constructor, or [`Configured<T>`](crate::config::Configured) over a
    /// [`FieldConfig`](crate::config::FieldConfig) type `T` (a `#[managed_map]` field), which
    /// makes it [`Default`].
    config: PhantomData<fn() -> C>,
}

crate::builder::constructors!(weak WeakKeyMap, Builder, rc::Rc);

// Nothing here hashes a key, so it holds for any `Weak<T>`: a struct naming this type
// compiles, and `#[managed_map(weak_keys)]` reports a pointee without `Hash`/`Eq` once, at
// the key, instead of at every use the macro generates.
impl<K: WeakElement, V, P: Policy, S: BuildHasher, L: RemovalListener<K, V>, E: Expiry, C>
    WeakKeyMap<K, V, P, S, L, E, C>
{
    pub(crate) fn from_parts(
        store: Store<Weakly<K>, V, StoredHash, E, OrderOf<P>>,
        listener: L,
        lifetime: Lifetime,
        name: Cow<'static, str>,
        site: &'static std::panic::Location<'static>,
        hasher: S,
        budget: Option<(u64, Weigher<K, V>)>,
    ) -> Self {
        let map = RawMap::from_parts(store, lifetime, name, site);
        Self::with_weigher(map, listener, hasher, budget)
    }

    /// A shard of a [`ConcurrentWeakKeyMap`]: its figures go to the sharded map's registry
    /// entry rather than one of its own.
    pub(crate) fn with_metrics(
        store: Store<Weakly<K>, V, StoredHash, E, OrderOf<P>>,
        listener: L,
        lifetime: Lifetime,
        hasher: S,
        metrics: crate::registry::MapMetrics,
        budget: Option<(u64, Weigher<K, V>)>,
        expire_after: Option<SharedPolicy<Weakly<K>, V>>,
    ) -> Self {
        let map = RawMap::with_metrics(store, lifetime, Cow::Borrowed(""), metrics)
            .with_expire_after(expire_after);
        Self::with_weigher(map, listener, hasher, budget)
    }

    /// The same (empty) map with `policy`, if any, deciding its entries' deadlines.
    pub(crate) fn with_expire_after(mut self, policy: Option<SharedPolicy<Weakly<K>, V>>) -> Self {
        self.map.set_expire_after(policy);
        self
    }

    /// The map around `map`; with a budget, `map` keeps the weights this map's weigher
    /// computes (it sees the weak key, which `map`'s entries wrap).
    fn with_weigher(
        map: Inner<K, V, P, L, E>,
        listener: L,
        hasher: S,
        budget: Option<(u64, Weigher<K, V>)>,
    ) -> Self {
        let (map, weigher) = match budget {
            Some((max_weight, weigher)) => (map.with_budget(max_weight, None), Some(weigher)),
            None => (map, None),
        };
        Self {
            map,
            listener,
            hasher,
            weigher,
            sweep: 0,
            config: PhantomData,
        }
    }

    /// What an entry weighs under this map's weigher (0 without one).
    fn weigh(&self, key: &K, value: &V) -> u64 {
        self.weigher
            .as_ref()
            .map_or(0, |weigher| weigher.weigh(key, value))
    }

    /// What the entries weigh together (0 without a weight budget; see [`crate::weight`]).
    ///
    /// ```
    /// use std::rc::{Rc, Weak};
    /// let mut map = mapguard::WeakKeyMap::<Weak<u8>, String>::builder()
    ///     .weigher(|_key, value| value.len() as u64)
    ///     .max_weight(100)
    ///     .build();
    /// let key = Rc::new(1);
    /// map.insert(Rc::clone(&key), String::from("four"));
    /// assert_eq!(map.weight(), 4);
    /// ```
    #[must_use]
    pub fn weight(&self) -> u64 {
        self.map.weight()
    }

    /// The weight budget, if the map has one.
    ///
    /// ```
    /// use std::rc::Weak;
    /// let map = mapguard::WeakKeyMap::<Weak<u8>, u8>::builder().max_weight(10).build();
    /// assert_eq!(map.max_weight(), Some(10));
    /// ```
    #[must_use]
    pub fn max_weight(&self) -> Option<u64> {
        self.map.max_weight()
    }

    /// Removes the entry at `index` if its key has died, as [`RemovalCause::Collected`].
    fn collect_if_dead(&mut self, index: u32) -> bool {
        if self.map.key_at(index).weak.is_expired() {
            self.map.depart_at(index, RemovalCause::Collected);
            true
        } else {
            false
        }
    }

    /// Bounded dead-key work on every insert: the least recent entry (twice), then two slots
    /// of a round-robin sweep, which reaches every entry within `len / 2` inserts. O(1).
    /// What leaves departs: its hooks wait until the insert is done.
    fn collect_some(&mut self) {
        let is_dead = |map: &Inner<K, V, P, L, E>, index: u32| map.key_at(index).weak.is_expired();
        for _ in 0..2 {
            match self.map.least_recent() {
                Some(back) if is_dead(&self.map, back) => {
                    self.map.depart_at(back, RemovalCause::Collected);
                }
                _ => break,
            }
        }
        for _ in 0..2 {
            let len = self.map.len();
            if len == 0 {
                break;
            }
            let index = self.sweep % len;
            self.sweep = index + 1;
            if is_dead(&self.map, index as u32) {
                self.map.depart_at(index as u32, RemovalCause::Collected);
            }
        }
        self.map.expire_some();
    }

    /// Removes every entry whose key has died, as [`RemovalCause::Collected`]. O(n).
    fn collect_all(&mut self) -> usize {
        let mut collected = 0;
        let mut index = 0;
        while index < self.map.len() {
            if self.collect_if_dead(index as u32) {
                // The last node moved into `index`: look at it next.
                collected += 1;
            } else {
                index += 1;
            }
        }
        collected
    }

    /// Number of entries, including any whose key died and that have not been purged yet
    /// ([`maintain`](ManagedCache::maintain) purges them). O(1).
    ///
    /// ```
    /// use std::rc::{Rc, Weak};
    /// let mut map = mapguard::WeakKeyMap::<Weak<u8>, ()>::new();
    /// let key = Rc::new(1);
    /// map.insert(Rc::clone(&key), ());
    /// assert_eq!(map.len(), 1);
    /// ```
    #[must_use]
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the map holds no entries (dead or alive).
    ///
    /// ```
    /// use std::rc::Weak;
    /// assert!(mapguard::WeakKeyMap::<Weak<u8>, ()>::new().is_empty());
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The most entries the map will hold (`u32::MAX - 1` when unbounded).
    ///
    /// ```
    /// use std::rc::Weak;
    /// assert_eq!(mapguard::WeakKeyMap::<Weak<u8>, ()>::lru_builder(9).build().max(), 9);
    /// ```
    #[must_use]
    pub fn max(&self) -> usize {
        self.map.max()
    }

    /// How many entries the map can hold without reallocating.
    ///
    /// ```
    /// use std::rc::Weak;
    /// let map = mapguard::WeakKeyMap::<Weak<u8>, ()>::builder().capacity(10).build();
    /// assert!(map.capacity() >= 10);
    /// ```
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.map.capacity()
    }

    /// The map's name: the builder's [`name`](Builder::name), `Type.field` for a
    /// `#[managed_map]` field, or else where it was created.
    ///
    /// ```
    /// use std::rc::Weak;
    /// let map = mapguard::WeakKeyMap::<Weak<u8>, ()>::builder().name("Docs.by_key").build();
    /// assert_eq!(map.name(), "Docs.by_key");
    /// ```
    #[must_use]
    pub fn name(&self) -> &str {
        self.map.name()
    }

    /// Estimated heap bytes held by the map's own storage.
    ///
    /// ```
    /// use std::rc::Weak;
    /// assert_eq!(mapguard::WeakKeyMap::<Weak<u8>, ()>::new().heap_bytes(), 0);
    /// ```
    #[must_use]
    pub fn heap_bytes(&self) -> usize {
        self.map.heap_bytes()
    }

    /// The lifetime whose scope end clears this map.
    ///
    /// ```
    /// use std::rc::Weak;
    /// let map = mapguard::WeakKeyMap::<Weak<u8>, ()>::new();
    /// assert_eq!(map.lifetime(), mapguard::Lifetime::Process);
    /// ```
    #[must_use]
    pub fn lifetime(&self) -> Lifetime {
        self.map.lifetime()
    }

    /// Removes every entry: those whose key died with [`RemovalCause::Collected`], the rest
    /// with [`RemovalCause::Cleared`]. Frees the storage. O(n).
    ///
    /// ```
    /// use std::rc::{Rc, Weak};
    /// let mut map = mapguard::WeakKeyMap::<Weak<u8>, ()>::new();
    /// let key = Rc::new(1);
    /// map.insert(Rc::clone(&key), ());
    /// map.clear();
    /// assert!(map.is_empty());
    /// ```
    pub fn clear(&mut self) {
        self.map.settle();
        self.collect_all();
        self.map.remove_all(RemovalCause::Cleared);
        self.done();
    }

    /// Live entries with their strong keys, most recent first. Entries whose key died are
    /// skipped. Does not change the order.
    ///
    /// ```
    /// use std::rc::{Rc, Weak};
    /// let mut map = mapguard::WeakKeyMap::<Weak<u8>, char>::new();
    /// let (a, b) = (Rc::new(1), Rc::new(2));
    /// map.insert(Rc::clone(&a), 'a');
    /// map.insert(Rc::clone(&b), 'b');
    /// drop(a);
    /// let live: Vec<_> = map.iter().map(|(k, v)| (*k, *v)).collect();
    /// assert_eq!(live, [(2, 'b')]);
    /// ```
    pub fn iter(&self) -> WeakIter<'_, K, V> {
        WeakIter {
            inner: self.map.iter(),
        }
    }
}

/// The hash of a strong key: `hash_one` of what it points to, as a lookup by `&K::Key` takes
/// it, so a concurrent map's choice of shard and the shard's table agree (one definition for
/// both).
pub(crate) fn hash_strong<K: WeakKey, S: BuildHasher>(hasher: &S, key: &K::Strong) -> u64 {
    K::with_key(key, |k| hasher.hash_one(k))
}

// Hashing and comparing by pointee: `K: WeakKey`, that is `T: Hash + Eq` in `Weak<T>`.
impl<K: WeakKey, V, P: Policy, S: BuildHasher, L: RemovalListener<K, V>, E: Expiry, C>
    WeakKeyMap<K, V, P, S, L, E, C>
{
    /// The stored form of `key`, whose hash is `hash`: weak, with the hash kept.
    fn weakly_hashed(hash: u64, key: &K::Strong) -> Weakly<K> {
        Weakly {
            weak: K::new(key),
            hash,
        }
    }

    fn hash_strong(&self, key: &K::Strong) -> u64 {
        hash_strong::<K, S>(&self.hasher, key)
    }

    /// Slab position of a live entry for `key` (ignoring expiry).
    fn position<Q>(&self, hash: u64, key: &Q) -> Option<u32>
    where
        K::Key: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        self.map.position_by(hash, |slot: &Weakly<K>| {
            slot.weak
                .view()
                .is_some_and(|strong| K::equals(&strong, key))
        })
    }

    /// A live entry for `key`, whose hash is `hash` (`&self` cannot purge an expired one).
    fn find<Q>(&self, hash: u64, key: &Q) -> Option<u32>
    where
        K::Key: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let index = self.position(hash, key)?;
        (!self.map.expired_at(index) && !self.map.scope_ended_at(index)).then_some(index)
    }

    /// A live entry for `key`, whose hash is `hash`, cleaning an expired one on the way.
    fn find_live<Q>(&mut self, hash: u64, key: &Q) -> Option<u32>
    where
        K::Key: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let index = self.position(hash, key)?;
        self.map.live_or_depart(index)
    }

    /// A live entry for `key`, whose hash is `hash`, for a read: an absent key counts as a
    /// miss (a found one is counted by `read_at`).
    #[inline]
    fn find_for_read<Q>(&mut self, hash: u64, key: &Q) -> Option<u32>
    where
        K::Key: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let found = self
            .position(hash, key)
            .and_then(|index| self.map.read_live(index, hash));
        if found.is_none() {
            self.map.count_miss();
        }
        found
    }

    /// Overwrites the value of a present live `key`, making it the most recent entry; the old
    /// value comes back with a weak key for the listener. An absent key comes back, with its
    /// hashed weak form, still strong (so a rejected insert can hand it back alive).
    /// `hash` is the key's: the caller hashed first, so if `Hash` panicked nothing had left.
    fn upsert(
        &mut self,
        hash: u64,
        key: K::Strong,
        value: V,
    ) -> Result<Option<(K, V)>, Absent<K, V>> {
        let slot = Self::weakly_hashed(hash, &key);
        self.collect_some();
        let found = K::with_key(&key, |k| self.position(slot.hash, k));
        match found.and_then(|index| self.map.live_or_depart(index)) {
            Some(index) => {
                let weight = self.weigh(&slot.weak, &value);
                let old = self.map.overwrite_at(index, slot.hash, value);
                self.map.reweigh_into(index, weight);
                Ok(Some((slot.weak, old)))
            }
            None => Err((key, slot, value)),
        }
    }

    /// A replaced value departs, with its weak key (the listener's view; no hash needed).
    fn release_replaced(&mut self, weak: K, old: V) {
        self.map
            .depart(Weakly { weak, hash: 0 }, old, RemovalCause::Replaced);
    }

    /// The value for a live `key`, without changing the recency order or counting a
    /// lookup. O(1) average.
    ///
    /// ```
    /// use std::rc::{Rc, Weak};
    /// let mut map = mapguard::WeakKeyMap::<Weak<str>, u8>::new();
    /// let key: Rc<str> = Rc::from("a");
    /// map.insert(Rc::clone(&key), 1);
    /// assert_eq!(map.peek("a"), Some(&1));
    /// ```
    #[must_use]
    pub fn peek<Q>(&self, key: &Q) -> Option<&V>
    where
        K::Key: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.peek_hashed(self.hasher.hash_one(key), key)
    }

    /// [`peek`](Self::peek) with the key's hash already taken: a concurrent map's shard is
    /// given the hash that chose it.
    pub(crate) fn peek_hashed<Q>(&self, hash: u64, key: &Q) -> Option<&V>
    where
        K::Key: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        self.find(hash, key).map(|index| self.map.value_at(index))
    }

    /// Changes the value for a live `key` in place and returns what `change` returned
    /// (`None` if absent). Counted as [`get_mut`](Self::get_mut) is (a hit, a use of the
    /// entry); under a weight budget the entry is re-weighed, as
    /// [`LruMap::update`](crate::LruMap::update) does. O(1) average.
    ///
    /// ```
    /// use std::rc::{Rc, Weak};
    /// let mut map = mapguard::WeakKeyMap::<Weak<u8>, Vec<u8>>::new();
    /// let key = Rc::new(1);
    /// map.insert(Rc::clone(&key), vec![]);
    /// assert_eq!(map.update(&1, |v| { v.push(7); v.len() }), Some(1));
    /// assert_eq!(map.update(&2, |v| v.len()), None);
    /// ```
    pub fn update<Q, R>(&mut self, key: &Q, change: impl FnOnce(&mut V) -> R) -> Option<R>
    where
        K::Key: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.update_hashed(self.hasher.hash_one(key), key, change)
    }

    /// [`update`](Self::update) with the key's hash already taken: a concurrent map's shard
    /// is given the hash that chose it.
    #[inline]
    pub(crate) fn update_hashed<Q, R>(
        &mut self,
        hash: u64,
        key: &Q,
        change: impl FnOnce(&mut V) -> R,
    ) -> Option<R>
    where
        K::Key: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let found = self.find_for_read(hash, key);
        let result = found.map(|index| change(self.map.value_at_mut(index)));
        if let Some(index) = found.filter(|_| self.weigher.is_some()) {
            if let Some(strong) = self.map.key_at(index).weak.view() {
                let weak = K::new(&strong);
                let weight = self.weigh(&weak, self.map.value_at(index));
                self.map.reweigh_into(index, weight);
            }
        }
        self.done();
        result
    }

    /// Keeps only the live entries for which `keep` returns `true` (it sees the strong key);
    /// the others leave with [`RemovalCause::Explicit`], and entries whose key died with
    /// [`RemovalCause::Collected`]. O(n).
    ///
    /// ```
    /// use std::rc::{Rc, Weak};
    /// let mut map = mapguard::WeakKeyMap::<Weak<u8>, u8>::new();
    /// let keys: Vec<Rc<u8>> = (0..6).map(Rc::new).collect();
    /// for key in &keys {
    ///     map.insert(Rc::clone(key), **key);
    /// }
    /// map.retain(|key, _| **key % 2 == 0);
    /// assert_eq!(map.len(), 3);
    /// ```
    pub fn retain(&mut self, mut keep: impl FnMut(&K::Strong, &mut V) -> bool) {
        self.map.settle();
        let mut index = 0;
        while index < self.map.len() {
            let at = index as u32;
            let cause = match self.map.key_at(at).weak.view() {
                None => Some(RemovalCause::Collected),
                Some(strong) => {
                    (!keep(&strong, self.map.value_at_mut(at))).then_some(RemovalCause::Explicit)
                }
            };
            match cause {
                // The last node moves into `index`: look at it next.
                Some(cause) => self.map.depart_at(at, cause),
                None => index += 1,
            }
        }
        self.done();
    }

    /// Ends `lifetime`'s scope for this map, as [`ManagedCache::end_scope`] does, without
    /// importing the trait: if the map has `lifetime`, dead-key entries leave as
    /// [`RemovalCause::Collected`] and the rest as [`RemovalCause::ScopeEnded`]. O(n).
    ///
    /// ```
    /// use mapguard::Lifetime;
    /// use std::rc::{Rc, Weak};
    /// let mut map = mapguard::WeakKeyMap::<Weak<u8>, ()>::builder()
    ///     .lifetime(Lifetime::Request)
    ///     .build();
    /// let key = Rc::new(1);
    /// map.insert(Rc::clone(&key), ());
    /// assert_eq!(map.end_scope(Lifetime::Request), 1);
    /// ```
    pub fn end_scope(&mut self, lifetime: Lifetime) -> usize {
        <Self as ManagedCache>::end_scope(self, lifetime)
    }

    /// Purges entries whose key died ([`RemovalCause::Collected`]) and expired ones, as
    /// [`ManagedCache::maintain`] does, without importing the trait; returns how many. O(n).
    ///
    /// ```
    /// use std::rc::{Rc, Weak};
    /// let mut map = mapguard::WeakKeyMap::<Weak<u8>, ()>::new();
    /// let key = Rc::new(1);
    /// map.insert(Rc::clone(&key), ());
    /// drop(key);
    /// assert_eq!(map.maintain(), 1);
    /// ```
    pub fn maintain(&mut self) -> usize {
        <Self as ManagedCache>::maintain(self)
    }

    /// The value for a live `key`, mutably; makes it the most recent entry of an LRU map.
    ///
    /// ```
    /// use std::rc::{Rc, Weak};
    /// let mut map = mapguard::WeakKeyMap::<Weak<u8>, u8>::new();
    /// let key = Rc::new(1);
    /// map.insert(Rc::clone(&key), 1);
    /// *map.get_mut(&1).unwrap() += 1;
    /// assert_eq!(map.get(&1), Some(&2));
    /// ```
    pub fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K::Key: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let found = self.find_for_read(self.hasher.hash_one(key), key);
        self.done();
        Some(self.map.value_at_mut(found?))
    }

    /// Whether a live `key` is present; counted as a lookup (a hit or a miss), as for
    /// [`LruMap::contains_key`](crate::LruMap::contains_key).
    ///
    /// ```
    /// use std::rc::{Rc, Weak};
    /// let mut map = mapguard::WeakKeyMap::<Weak<u8>, ()>::new();
    /// let key = Rc::new(3);
    /// map.insert(Rc::clone(&key), ());
    /// assert!(map.contains_key(&3));
    /// ```
    #[must_use]
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K::Key: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.contains_key_hashed(self.hasher.hash_one(key), key)
    }

    /// [`contains_key`](Self::contains_key) with the key's hash already taken.
    pub(crate) fn contains_key_hashed<Q>(&self, hash: u64, key: &Q) -> bool
    where
        K::Key: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let found = self.find(hash, key).is_some();
        self.map.count_lookup_shared(found);
        found
    }

    /// Removes a live `key` and hands its value back (no hook runs).
    ///
    /// ```
    /// use std::rc::{Rc, Weak};
    /// let mut map = mapguard::WeakKeyMap::<Weak<u8>, char>::new();
    /// let key = Rc::new(1);
    /// map.insert(Rc::clone(&key), 'x');
    /// assert_eq!(map.remove(&1), Some('x'));
    /// ```
    #[must_use = "`remove` hands the value back without its hooks (`Cleanup`, listener): use it, or call `discard` to close it through the cleanup path"]
    pub fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K::Key: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.remove_entry_weak(key).map(|(_, value)| value)
    }

    /// Removes a live `key`, handing back its weak key and value (a concurrent map's shard).
    pub(crate) fn remove_entry_weak<Q>(&mut self, key: &Q) -> Option<(K, V)>
    where
        K::Key: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.remove_entry_weak_hashed(self.hasher.hash_one(key), key)
    }

    /// [`remove_entry_weak`](Self::remove_entry_weak) with the key's hash already taken.
    pub(crate) fn remove_entry_weak_hashed<Q>(&mut self, hash: u64, key: &Q) -> Option<(K, V)>
    where
        K::Key: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let removed = self.find_live(hash, key).map(|index| {
            let (slot, value) = self.map.take_at(index);
            (slot.weak, value)
        });
        self.map.settle();
        self.hand_back(removed, |removed| {
            removed.map(|(key, value)| (key, value, RemovalCause::Explicit))
        })
    }

    /// Removes a live `key`'s entry and hands its value back (no hook runs) if `remove` says
    /// so of it; else leaves it. One lookup, not counted as a use. O(1) average.
    ///
    /// ```
    /// use std::rc::{Rc, Weak};
    /// let mut map = mapguard::WeakKeyMap::<Weak<u8>, Vec<u8>>::new();
    /// let key = Rc::new(1);
    /// map.insert(Rc::clone(&key), vec![]);
    /// assert_eq!(map.remove_if(&1, |v| !v.is_empty()), None);
    /// assert_eq!(map.remove_if(&1, Vec::is_empty), Some(vec![]));
    /// ```
    #[must_use = "`remove_if` hands the value back without its hooks (`Cleanup`, listener): use it, or `compute` with `Compute::Discard` to close it through the cleanup path"]
    pub fn remove_if<Q>(&mut self, key: &Q, remove: impl FnOnce(&V) -> bool) -> Option<V>
    where
        K::Key: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.remove_if_weak_hashed(self.hasher.hash_one(key), key, remove)
            .map(|(_, value)| value)
    }

    /// [`remove_if`](Self::remove_if) with the key's hash taken, handing back the weak key too
    /// (a concurrent map's shard).
    pub(crate) fn remove_if_weak_hashed<Q>(
        &mut self,
        hash: u64,
        key: &Q,
        remove: impl FnOnce(&V) -> bool,
    ) -> Option<(K, V)>
    where
        K::Key: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let removed = self
            .find_live(hash, key)
            .filter(|&index| remove(self.map.value_at(index)))
            .map(|index| {
                let (slot, value) = self.map.take_at(index);
                (slot.weak, value)
            });
        self.map.settle();
        self.hand_back(removed, |removed| {
            removed.map(|(key, value)| (key, value, RemovalCause::Explicit))
        })
    }

    /// Removes a live `key` through the cleanup path with [`RemovalCause::Explicit`]; returns
    /// whether it was present.
    ///
    /// ```
    /// use std::rc::{Rc, Weak};
    /// let mut map = mapguard::WeakKeyMap::<Weak<u8>, ()>::new();
    /// let key = Rc::new(1);
    /// map.insert(Rc::clone(&key), ());
    /// assert!(map.discard(&1));
    /// ```
    pub fn discard<Q>(&mut self, key: &Q) -> bool
    where
        K::Key: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.discard_hashed(self.hasher.hash_one(key), key)
    }

    /// [`discard`](Self::discard) with the key's hash already taken.
    pub(crate) fn discard_hashed<Q>(&mut self, hash: u64, key: &Q) -> bool
    where
        K::Key: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let found = match self.find_live(hash, key) {
            Some(index) => {
                self.map.depart_at(index, RemovalCause::Explicit);
                true
            }
            None => false,
        };
        self.map.settle();
        self.done();
        found
    }
}

// `P: Evicting` per method: on a bounded map, a call fails with `Evicting`'s message.
impl<K: WeakKey, V, P: Policy, S: BuildHasher, L: RemovalListener<K, V>, E: Expiry, C>
    WeakKeyMap<K, V, P, S, L, E, C>
{
    /// Stores `value` under `key` as the most recent entry. A value already stored for the
    /// key leaves with [`RemovalCause::Replaced`]; a new key arriving when the map is full
    /// evicts the least recently used entry ([`RemovalCause::Evicted`]). O(1) average.
    ///
    /// ```
    /// use std::rc::{Rc, Weak};
    /// let mut map = mapguard::WeakKeyMap::<Weak<u8>, u8>::new();
    /// let key = Rc::new(1);
    /// map.insert(Rc::clone(&key), 10);
    /// map.insert(Rc::clone(&key), 11);
    /// assert_eq!(map.get(&1), Some(&11));
    /// ```
    pub fn insert(&mut self, key: K::Strong, value: V)
    where
        P: Evicting,
    {
        let hash = self.hash_strong(&key);
        self.insert_hashed(hash, key, value);
    }

    /// [`insert`](Self::insert) with the key's hash already taken: a concurrent map's shard
    /// is given the hash that chose it.
    pub(crate) fn insert_hashed(&mut self, hash: u64, key: K::Strong, value: V)
    where
        P: Evicting,
    {
        match self.upsert(hash, key, value) {
            Ok(Some((weak, old))) => self.release_replaced(weak, old),
            Ok(None) => {}
            Err((_strong, slot, value)) => {
                let (hash, weight) = (slot.hash, self.weigh(&slot.weak, &value));
                self.map
                    .insert_absent(hash, slot, value, Some(weight), self.map.clock());
            }
        }
        self.done();
    }
}

// An impl-level `P: Evicting`: a bounded map has a `get` of its own (through `&self`).
impl<K: WeakKey, V, P: Evicting, S: BuildHasher, L: RemovalListener<K, V>, E: Expiry, C>
    WeakKeyMap<K, V, P, S, L, E, C>
{
    /// The value for a live `key`, making it the most recent entry (as every LRU map's
    /// `get` does) and counting a hit or a miss. O(1) average.
    ///
    /// ```
    /// use std::rc::{Rc, Weak};
    /// let mut map = mapguard::WeakKeyMap::<Weak<u8>, char>::lru_builder(2).build();
    /// let (a, b, c) = (Rc::new(1), Rc::new(2), Rc::new(3));
    /// map.insert(Rc::clone(&a), 'a');
    /// map.insert(Rc::clone(&b), 'b');
    /// assert_eq!(map.get(&1), Some(&'a')); // 1 is now the most recent
    /// map.insert(Rc::clone(&c), 'c'); // evicts 2
    /// assert!(map.contains_key(&1) && !map.contains_key(&2));
    /// ```
    pub fn get<Q>(&mut self, key: &Q) -> Option<&V>
    where
        K::Key: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.get_mut(key).map(|value| &*value)
    }

    /// The value for `key`, inserting `make()` first if the key is absent or dead (which may
    /// evict like [`insert`](Self::insert)); the entry becomes the most recent. Given the
    /// only strong key, it still hands the value back: the entry's key dies when this returns
    /// and the entry is collected ([`RemovalCause::Collected`]). A new value heavier than the
    /// whole weight budget is kept (the other entries shed), as
    /// [`LruMap::get_or_insert_with`](crate::LruMap::get_or_insert_with) keeps it. O(1) average.
    ///
    /// ```
    /// use std::rc::{Rc, Weak};
    /// let mut meta = mapguard::WeakKeyMap::<Weak<u8>, String>::new();
    /// let node = Rc::new(7);
    /// meta.get_or_insert_with(Rc::clone(&node), || String::from("first")).push('!');
    /// assert_eq!(meta.get_or_insert_with(node, || unreachable!()), "first!");
    /// ```
    pub fn get_or_insert_with(&mut self, key: K::Strong, make: impl FnOnce() -> V) -> &mut V {
        let hash = self.hash_strong(&key);
        let found = K::with_key(&key, |k| {
            self.position(hash, k)
                .and_then(|index| self.map.live_or_depart(index))
        });
        // An expired entry met on the way leaves before `make` runs.
        self.done();
        if let Some(index) = found {
            return self.map.read_at(index, hash);
        }
        self.map.count_miss();
        let value = make();
        let slot = Self::weakly_hashed(hash, &key);
        self.collect_some();
        let weight = self.weigh(&slot.weak, &value);
        let now = self.map.clock();
        let index = self
            .map
            .insert_absent_kept(hash, slot, value, Some(weight), now);
        self.done();
        // The entry is found by index, so the value comes back even if this was the only
        // strong key (its entry then waits to be collected).
        drop(key);
        self.map.value_at_mut(index)
    }

    /// Looks a live `key` up once and lets `decide` say what becomes of it, from the value it
    /// holds (`None`: absent or dead) — see [`Compute`](crate::Compute): a replaced value
    /// leaves with [`RemovalCause::Replaced`], a discarded one with
    /// [`RemovalCause::Explicit`], and a new key may evict as [`insert`](Self::insert) does.
    /// Returns what the key holds afterwards. O(1) average.
    ///
    /// ```
    /// use mapguard::Compute;
    /// use std::rc::{Rc, Weak};
    ///
    /// let mut visits = mapguard::WeakKeyMap::<Weak<u8>, u32>::lru_builder(8).build();
    /// let page = Rc::new(1);
    /// let count = |now: Option<&u32>| Compute::Put(now.map_or(1, |n| n + 1));
    /// visits.compute(Rc::clone(&page), count);
    /// assert_eq!(visits.compute(Rc::clone(&page), count).copied(), Some(2));
    /// ```
    pub fn compute(
        &mut self,
        key: K::Strong,
        decide: impl FnOnce(Option<&V>) -> crate::Compute<V>,
    ) -> Option<&mut V> {
        let hash = self.hash_strong(&key);
        let found = K::with_key(&key, |k| {
            self.position(hash, k)
                .and_then(|index| self.map.live_or_depart(index))
        });
        // An expired entry met on the way leaves before `decide` runs.
        self.done();
        match decide(found.map(|index| self.map.value_at(index))) {
            crate::Compute::Keep => {
                let Some(index) = found else {
                    self.map.count_miss();
                    return None;
                };
                Some(self.map.read_at(index, hash))
            }
            crate::Compute::Discard => {
                if let Some(index) = found {
                    self.map.depart_at(index, RemovalCause::Explicit);
                    self.done();
                }
                None
            }
            crate::Compute::Put(value) => {
                let kept = K::clone(&key);
                self.insert_hashed(hash, key, value);
                let index = K::with_key(&kept, |k| self.position(hash, k));
                Some(self.map.value_at_mut(index?))
            }
        }
    }

    /// Changes the bound. Shrinking below the current length evicts least recently used
    /// entries through the cleanup path with [`RemovalCause::Evicted`]. O(evicted).
    ///
    /// # Panics
    ///
    /// If `max` is 0.
    ///
    /// ```
    /// use std::rc::{Rc, Weak};
    /// let mut map = mapguard::WeakKeyMap::<Weak<u8>, ()>::lru_builder(4).build();
    /// let keys: Vec<Rc<u8>> = (0..4).map(Rc::new).collect();
    /// keys.iter().for_each(|key| map.insert(Rc::clone(key), ()));
    /// map.set_max(2);
    /// assert_eq!(map.len(), 2);
    /// ```
    pub fn set_max(&mut self, max: usize) {
        self.map.settle();
        self.map.resize(max);
        self.done();
    }
}

impl<K: WeakKey, V, S: BuildHasher, L: RemovalListener<K, V>, E: Expiry, C>
    WeakKeyMap<K, V, Reject, S, L, E, C>
{
    /// The value for a live `key`. Reads never reorder a bounded map, so this takes `&self`;
    /// it counts a hit or a miss. O(1) average.
    ///
    /// ```
    /// use std::rc::{Rc, Weak};
    /// let mut map = mapguard::WeakKeyMap::<Weak<u8>, u8>::bounded_builder(4).build();
    /// let key = Rc::new(1);
    /// map.try_insert(Rc::clone(&key), 10).unwrap();
    /// assert_eq!(map.get(&1), Some(&10));
    /// ```
    #[must_use]
    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K::Key: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let found = self.peek(key);
        self.map.count_lookup_shared(found.is_some());
        found
    }

    /// Changes the bound; lowering it below the current length keeps every entry, as for
    /// [`BoundedMap::set_max`](crate::BoundedMap::set_max). O(1).
    ///
    /// # Panics
    ///
    /// If `max` is 0.
    ///
    /// ```
    /// use std::rc::Weak;
    /// let mut map = mapguard::WeakKeyMap::<Weak<u8>, u8>::bounded_builder(4).build();
    /// map.set_max(8);
    /// assert_eq!(map.max(), 8);
    /// ```
    pub fn set_max(&mut self, max: usize) {
        self.map.settle();
        self.map.resize(max);
        self.done();
    }

    /// Stores `value` under `key`, or hands both back if the key is new and the map is
    /// full. A value already stored for the key leaves with [`RemovalCause::Replaced`].
    ///
    /// # Errors
    ///
    /// [`CapacityError`] with the strong key and the value when the map is full.
    ///
    /// ```
    /// use std::rc::{Rc, Weak};
    /// let mut map = mapguard::WeakKeyMap::<Weak<u8>, u8>::bounded_builder(1).build();
    /// let (a, b) = (Rc::new(1), Rc::new(2));
    /// map.try_insert(Rc::clone(&a), 1).unwrap();
    /// drop(a); // a dead key frees its slot on the next insert
    /// map.try_insert(Rc::clone(&b), 2).unwrap();
    /// ```
    pub fn try_insert(
        &mut self,
        key: K::Strong,
        value: V,
    ) -> Result<(), CapacityError<K::Strong, V>> {
        let hash = self.hash_strong(&key);
        self.try_insert_hashed(hash, key, value)
    }

    /// [`try_insert`](Self::try_insert) with the key's hash already taken.
    pub(crate) fn try_insert_hashed(
        &mut self,
        hash: u64,
        key: K::Strong,
        value: V,
    ) -> Result<(), CapacityError<K::Strong, V>> {
        let stored = match self.upsert(hash, key, value) {
            Ok(Some((weak, old))) => {
                self.release_replaced(weak, old);
                Ok(())
            }
            Ok(None) => Ok(()),
            Err((strong, slot, value)) => {
                let (hash, weight) = (slot.hash, self.weigh(&slot.weak, &value));
                let now = self.map.clock();
                if self.map.claim_room(weight, now) {
                    self.map.push_weighed(hash, slot, value, weight, now);
                    Ok(())
                } else {
                    Err(CapacityError::new(strong, value, self.map.max()))
                }
            }
        };
        self.hand_back(stored, |stored| {
            // The listener sees weak keys: the rejected strong key's weak form.
            stored.err().map(|rejected| {
                let (strong, value) = rejected.into_inner();
                (K::new(&strong), value, RemovalCause::Evicted)
            })
        })
    }
}

/// The weight budget of a map whose entries carry weights ([`Weighs`](crate::weight::Weighs)).
impl<
    K: WeakKey,
    V,
    P: Policy,
    S: BuildHasher,
    L: RemovalListener<K, V>,
    E: crate::storage::expiry::Weighs,
    C,
> WeakKeyMap<K, V, P, S, L, E, C>
{
    /// Changes the weight budget: an evicting map then evicts in its order
    /// ([`RemovalCause::Evicted`]) until it fits; a bounded one keeps every entry and refuses
    /// new ones until removals bring it under. O(evicted).
    ///
    /// # Panics
    ///
    /// If `max_weight` is 0.
    ///
    /// ```
    /// use std::rc::{Rc, Weak};
    /// let mut map = mapguard::WeakKeyMap::<Weak<u8>, Vec<u8>>::lru_builder(8)
    ///     .weigher(|_: &Weak<u8>, v: &Vec<u8>| v.len() as u64)
    ///     .max_weight(100)
    ///     .build();
    /// let keys: Vec<Rc<u8>> = (0..4).map(Rc::new).collect();
    /// keys.iter().for_each(|key| map.insert(Rc::clone(key), vec![0; 20]));
    /// map.set_max_weight(50);
    /// assert_eq!((map.weight(), map.max_weight()), (40, Some(50)));
    /// ```
    pub fn set_max_weight(&mut self, max_weight: u64) {
        self.map.set_max_weight(max_weight);
        self.done();
    }
}

impl<K: WeakElement, V, P: Policy, S, L: RemovalListener<K, V>, E: Expiry, C> ChoosesDeadline
    for WeakKeyMap<K, V, P, S, L, E, C>
{
    fn choose_ttl(&mut self, ttl: Option<Duration>) {
        self.map.choose_ttl(ttl);
    }
}

/// Deadlines of single entries, for maps whose entries can expire ([`Expires`]).
impl<K: WeakKey, V, P: Policy, S: BuildHasher, L: RemovalListener<K, V>, E: Expiry, C>
    WeakKeyMap<K, V, P, S, L, E, C>
{
    /// The time a live `key`'s entry has left before it expires; `None` if it is absent or
    /// does not expire. See [`LruMap::ttl_of`](crate::LruMap::ttl_of).
    ///
    /// ```
    /// use mapguard::testing::MockClock;
    /// use std::rc::{Rc, Weak};
    /// use std::time::Duration;
    ///
    /// let clock = MockClock::new();
    /// let mut map = mapguard::WeakKeyMap::<Weak<u8>, u8>::builder().ttl(Duration::from_secs(5)).clock(clock.clone()).build();
    /// let key = Rc::new(1);
    /// map.insert(Rc::clone(&key), 1);
    /// assert_eq!(map.ttl_of(&1), Some(Duration::from_secs(5)));
    /// ```
    #[must_use]
    pub fn ttl_of<Q>(&self, key: &Q) -> Option<Duration>
    where
        E: Expires,
        K::Key: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.ttl_of_hashed(self.hasher.hash_one(key), key)
    }

    /// Gives a live `key`'s entry the deadline `ttl` from now (`None`: never); whether it was
    /// there. See [`LruMap::set_ttl`](crate::LruMap::set_ttl).
    ///
    /// ```
    /// use mapguard::testing::MockClock;
    /// use std::rc::{Rc, Weak};
    /// use std::time::Duration;
    ///
    /// let clock = MockClock::new();
    /// let mut map = mapguard::WeakKeyMap::<Weak<u8>, u8>::builder().clock(clock.clone()).build();
    /// let key = Rc::new(1);
    /// map.insert(Rc::clone(&key), 1);
    /// assert!(map.set_ttl(&1, Some(Duration::from_secs(1))));
    /// clock.advance(Duration::from_secs(2));
    /// assert_eq!(map.get(&1), None);
    /// ```
    pub fn set_ttl<Q>(&mut self, key: &Q, ttl: Option<Duration>) -> bool
    where
        E: Expires,
        K::Key: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.set_ttl_hashed(self.hasher.hash_one(key), key, ttl)
    }
}

/// Deadlines by hash, for the concurrent shards (any expiry state: its type is the shard's).
impl<K: WeakKey, V, P: Policy, S: BuildHasher, L: RemovalListener<K, V>, E: Expiry, C>
    WeakKeyMap<K, V, P, S, L, E, C>
{
    /// [`ttl_of`](Self::ttl_of) with the key's hash already taken.
    pub(crate) fn ttl_of_hashed<Q>(&self, hash: u64, key: &Q) -> Option<Duration>
    where
        K::Key: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        self.find(hash, key)
            .and_then(|index| self.map.ttl_at(index))
    }

    /// [`set_ttl`](Self::set_ttl) with the key's hash already taken.
    pub(crate) fn set_ttl_hashed<Q>(&mut self, hash: u64, key: &Q, ttl: Option<Duration>) -> bool
    where
        K::Key: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let found = self.find_live(hash, key);
        if let Some(index) = found {
            self.map.set_ttl_at(index, ttl);
        }
        self.done();
        found.is_some()
    }
}

impl<K: WeakKey, V, P: Evicting, S: BuildHasher, L: RemovalListener<K, V>, E: Expiry, C>
    WeakKeyMap<K, V, P, S, L, E, C>
{
    /// [`insert`](Self::insert) with a deadline of its own: the entry expires `ttl` from now
    /// unless its key dies first. See [`LruMap::insert_with_ttl`](crate::LruMap::insert_with_ttl).
    ///
    /// ```
    /// use mapguard::testing::MockClock;
    /// use std::rc::{Rc, Weak};
    /// use std::time::Duration;
    ///
    /// let clock = MockClock::new();
    /// let mut map = mapguard::WeakKeyMap::<Weak<u8>, u8>::lru_builder(8).clock(clock.clone()).build();
    /// let (short, long) = (Rc::new(1), Rc::new(2));
    /// map.insert_with_ttl(Rc::clone(&short), 1, Duration::from_secs(1));
    /// map.insert_with_ttl(Rc::clone(&long), 2, Duration::from_secs(3600));
    /// clock.advance(Duration::from_secs(2));
    /// assert_eq!(map.get(&1), None);
    /// assert_eq!(map.get(&2), Some(&2));
    /// ```
    pub fn insert_with_ttl(&mut self, key: K::Strong, value: V, ttl: Duration)
    where
        E: Expires,
    {
        let hash = self.hash_strong(&key);
        with_ttl(self, ttl, |map| map.insert_hashed(hash, key, value));
    }
}

impl<K: WeakKey, V, S: BuildHasher, L: RemovalListener<K, V>, E: Expiry, C>
    WeakKeyMap<K, V, Reject, S, L, E, C>
{
    /// [`try_insert`](Self::try_insert) with a deadline of its own; a full map first makes
    /// room from its expired entries.
    ///
    /// # Errors
    ///
    /// [`CapacityError`] holding the key and value when the key is new and the map is full of
    /// live entries.
    ///
    /// ```
    /// use mapguard::testing::MockClock;
    /// use std::rc::{Rc, Weak};
    /// use std::time::Duration;
    ///
    /// let clock = MockClock::new();
    /// let mut map = mapguard::WeakKeyMap::<Weak<u8>, u8>::bounded_builder(1).clock(clock.clone()).build();
    /// let (a, b) = (Rc::new(1), Rc::new(2));
    /// map.try_insert_with_ttl(Rc::clone(&a), 1, Duration::from_secs(1)).unwrap();
    /// assert!(map.try_insert(Rc::clone(&b), 2).is_err());
    /// clock.advance(Duration::from_secs(2));
    /// assert!(map.try_insert(Rc::clone(&b), 2).is_ok());
    /// ```
    pub fn try_insert_with_ttl(
        &mut self,
        key: K::Strong,
        value: V,
        ttl: Duration,
    ) -> Result<(), CapacityError<K::Strong, V>>
    where
        E: Expires,
    {
        let hash = self.hash_strong(&key);
        with_ttl(self, ttl, |map| map.try_insert_hashed(hash, key, value))
    }
}

impl<'a, K: WeakElement, V, P: Policy, S: BuildHasher, L: RemovalListener<K, V>, E: Expiry, C>
    IntoIterator for &'a WeakKeyMap<K, V, P, S, L, E, C>
{
    type Item = (K::Strong, &'a V);
    type IntoIter = WeakIter<'a, K, V>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<K: WeakElement, V, P: Policy, S: BuildHasher, L: RemovalListener<K, V>, E: Expiry, C>
    ManagedCache for WeakKeyMap<K, V, P, S, L, E, C>
{
    /// If the map has `lifetime`: dead-key entries leave as [`RemovalCause::Collected`], the
    /// rest as [`RemovalCause::ScopeEnded`]. Returns how many left. O(n).
    fn end_scope(&mut self, lifetime: Lifetime) -> usize {
        if lifetime != self.map.lifetime() {
            return 0;
        }
        let ended = self.collect_all() + self.map.end_scope(lifetime);
        self.done();
        ended
    }

    /// Purges entries whose key died ([`RemovalCause::Collected`]) and expired ones. O(n).
    fn maintain(&mut self) -> usize {
        let purged = self.collect_all() + self.map.maintain();
        self.done();
        purged
    }

    /// This map's figures, as the only element.
    fn stats(&self) -> Vec<crate::scope::MapStats> {
        vec![self.map.stats_of()]
    }
}

impl<K: WeakElement, V, P: Policy, S, L: RemovalListener<K, V>, E: Expiry, C> Drop
    for WeakKeyMap<K, V, P, S, L, E, C>
{
    /// Entries whose key died leave as [`RemovalCause::Collected`], then the rest as
    /// [`RemovalCause::Dropped`]. As for [`ManagedMap`](crate::ManagedMap), every value reaches its hooks even
    /// if one panics; the first panic then resumes.
    fn drop(&mut self) {
        if L::OBSERVES_REMOVALS {
            let leaving = self.take_for_drop();
            let listener = &mut self.listener;
            let metrics = self.map.metrics();
            run_departed(
                leaving,
                |key, value, cause, panics| {
                    listener.on_removal_contained(key, value, cause, panics);
                },
                (),
                |()| None,
                |count| metrics.hook_panicked(count),
            );
        }
    }
}

impl<
    K: WeakElement,
    V: fmt::Debug,
    P: Policy,
    S: BuildHasher,
    L: RemovalListener<K, V>,
    E: Expiry,
    C,
> fmt::Debug for WeakKeyMap<K, V, P, S, L, E, C>
where
    K::Strong: fmt::Debug,
{
    /// Shows the bound and the live entries, most recent first.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Live<'a, K: WeakElement, V>(WeakIter<'a, K, V>);
        impl<K: WeakElement, V: fmt::Debug> fmt::Debug for Live<'_, K, V>
        where
            K::Strong: fmt::Debug,
        {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_map().entries(self.0.clone()).finish()
            }
        }
        f.debug_struct("WeakKeyMap")
            .field("len", &self.len())
            .field("max", &self.max())
            .field("policy", &P::NAME)
            .field("lifetime", &self.lifetime())
            .field("live", &Live(self.iter()))
            .finish_non_exhaustive()
    }
}

/// Live entries of a [`WeakKeyMap`] with their strong keys, most recent first; from
/// [`WeakKeyMap::iter`].
///
/// ```
/// use std::rc::{Rc, Weak};
/// let mut map = mapguard::WeakKeyMap::<Weak<u8>, ()>::new();
/// let key = Rc::new(1);
/// map.insert(Rc::clone(&key), ());
/// assert_eq!(map.iter().count(), 1);
/// ```
pub struct WeakIter<'a, K, V> {
    inner: Iter<'a, Weakly<K>, V>,
}

impl<K, V> Clone for WeakIter<'_, K, V> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<'a, K: WeakElement, V> Iterator for WeakIter<'a, K, V> {
    type Item = (K::Strong, &'a V);

    fn next(&mut self) -> Option<Self::Item> {
        self.inner
            .by_ref()
            .find_map(|(slot, value)| slot.weak.view().map(|strong| (strong, value)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, self.inner.size_hint().1)
    }
}

impl<K: WeakElement, V> core::iter::FusedIterator for WeakIter<'_, K, V> {}

impl<K, V> fmt::Debug for WeakIter<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeakIter")
            .field("remaining_at_most", &self.inner.len())
            .finish()
    }
}

impl<K: WeakElement, V, P: Policy, S, L: RemovalListener<K, V>, E: Expiry, C>
    WeakKeyMap<K, V, P, S, L, E, C>
{
    /// Ends an operation: the hooks of what left during it run (the listener sees the weak
    /// key). Nothing at all when the listener observes nothing.
    #[inline]
    fn done(&mut self) {
        self.hand_back((), |()| None);
    }

    /// Ends an operation that hands `back` to its caller: the hooks of what left run, and if
    /// one panicked, what `departs` makes of `back` goes through them too (the caller will
    /// never receive it) before the first panic resumes.
    #[inline]
    fn hand_back<T, I>(&mut self, back: T, departs: impl FnOnce(T) -> I) -> T
    where
        I: IntoIterator<Item = Departed<K, V>>,
    {
        if !self.map.has_departed() {
            return back;
        }
        self.run_hooks(back, departs)
    }

    /// [`hand_back`](Self::hand_back) once something left.
    fn run_hooks<T, I>(&mut self, back: T, departs: impl FnOnce(T) -> I) -> T
    where
        I: IntoIterator<Item = Departed<K, V>>,
    {
        run_owner_hooks(
            &mut self.map,
            &mut self.listener,
            |slot: Weakly<K>| slot.weak,
            back,
            |back, _| departs(back),
        )
    }

    /// Takes every entry out at once, dead keys first, each with its cause (`Collected`,
    /// `ScopeEnded` or `Dropped`), uncounted, after whatever departed and was not taken yet:
    /// what a `Drop` hands to the hooks.
    fn take_for_drop(&mut self) -> Vec<Departed<K, V>> {
        let mut nodes = self.map.take_for_drop();
        nodes.sort_unstable_by_key(|(node, _)| !node.key.weak.is_expired());
        let departed = self.map.take_departed().into_iter();
        departed
            .map(|(key, value, cause)| (key.weak, value, cause))
            .chain(nodes.into_iter().map(|(node, cause)| {
                let cause = if node.key.weak.is_expired() {
                    RemovalCause::Collected
                } else {
                    cause
                };
                (node.key.weak, node.value, cause)
            }))
            .collect()
    }
}

impl<K: WeakElement, V, P: Policy, S, E: Expiry, C> Settle
    for WeakKeyMap<K, V, P, S, Departures<K, V>, E, C>
{
    #[inline]
    fn settle_scopes(&mut self) -> usize {
        let settled = self.map.settle_scopes();
        // Queues them with the shard's listener: no user code runs.
        self.done();
        settled
    }

    fn shed_over_budget(&mut self, at_most: usize) -> usize {
        let shed = self.map.shed_over_budget(at_most);
        self.done();
        shed
    }
}

impl<K: WeakKey, V, P: Policy, S, E: Expiry, C> Resize
    for WeakKeyMap<K, V, P, S, Departures<K, V>, E, C>
{
    fn resize(&mut self, max: usize) {
        self.map.resize(max);
        self.done();
    }

    fn set_weight_limit(&mut self, max_weight: u64) {
        self.map.set_weight_limit(max_weight);
    }
}

/// A [`ConcurrentWeakKeyMap`](crate::ConcurrentWeakKeyMap)'s shard: its listener queues what
/// leaves under the lock. `clear` and a scope end take dead keys' entries with the rest.
impl<K: WeakElement, V, P: Policy, S, E: Expiry, C> Shard
    for WeakKeyMap<K, V, P, S, Departures<K, V>, E, C>
{
    type Key = K;
    type Value = V;
    type Taken = core::iter::Map<
        std::vec::IntoIter<NodeOf<Weakly<K>, V, E>>,
        fn(NodeOf<Weakly<K>, V, E>) -> (K, V),
    >;
    type Left = Vec<Departed<K, V>>;

    fn take_departed(&mut self) -> Departures<K, V> {
        self.done();
        self.listener.take()
    }

    fn has_departed(&self) -> bool {
        !self.listener.is_empty() || self.map.has_departed()
    }

    fn take_all(&mut self, cause: RemovalCause) -> Self::Taken {
        self.map
            .take_all_leaving(cause)
            .into_iter()
            .map(|node| (node.key.weak, node.value))
    }

    fn take_left(&mut self) -> Self::Left {
        self.take_for_drop()
    }

    fn len(&self) -> usize {
        self.map.live_len()
    }

    fn capacity(&self) -> usize {
        self.map.capacity()
    }

    fn heap_bytes(&self) -> usize {
        self.map.heap_bytes()
    }

    fn weight(&self) -> u64 {
        self.map.weight()
    }

    fn unscoped(&self) -> usize {
        self.map.unscoped()
    }
}

/// `map[&key]`: the value for a live `key`, like `std`'s maps. O(1) average.
///
/// # Panics
///
/// If `key` is absent, or its entry's key has died.
///
/// ```
/// use std::rc::{Rc, Weak};
/// let mut map = mapguard::WeakKeyMap::<Weak<str>, u8>::new();
/// let key: Rc<str> = Rc::from("a");
/// map.insert(Rc::clone(&key), 1);
/// assert_eq!(map["a"], 1);
/// ```
impl<K: WeakKey, Q: ?Sized, V, P: Policy, S, L, E: Expiry, C> core::ops::Index<&Q>
    for WeakKeyMap<K, V, P, S, L, E, C>
where
    K::Key: Borrow<Q>,
    Q: Hash + Eq,
    S: BuildHasher,
    L: RemovalListener<K, V>,
{
    type Output = V;

    #[track_caller]
    fn index(&self, key: &Q) -> &V {
        self.peek(key)
            .expect("mapguard: no live entry for the key given to `map[key]`")
    }
}

/// Two weak-keyed maps are equal when their live entries are: the same keys (compared by
/// what they point to) with equal values. Entries whose key died are not compared. O(n).
///
/// ```
/// use std::rc::{Rc, Weak};
/// let key: Rc<str> = Rc::from("a");
/// let mut a = mapguard::WeakKeyMap::<Weak<str>, u8>::new();
/// let mut b = mapguard::WeakKeyMap::<Weak<str>, u8>::new();
/// a.insert(Rc::clone(&key), 1);
/// b.insert(Rc::from("a"), 1); // a different pointer to an equal key, dead at once
/// assert_ne!(a, b);
/// b.insert(Rc::clone(&key), 1);
/// assert_eq!(a, b);
/// ```
impl<K: WeakKey, V: PartialEq, P: Policy, S: BuildHasher, L: RemovalListener<K, V>, E: Expiry, C>
    PartialEq for WeakKeyMap<K, V, P, S, L, E, C>
{
    fn eq(&self, other: &Self) -> bool {
        self.iter().count() == other.iter().count()
            && self.iter().all(|(strong, value)| {
                K::with_key(&strong, |key| other.peek(key)).is_some_and(|theirs| theirs == value)
            })
    }
}

impl<K: WeakElement, V, P: Policy, S, L, E: Expiry, C> Default
    for WeakKeyMap<K, V, P, S, L, E, Configured<C>>
where
    S: BuildHasher + Default,
    L: RemovalListener<K, V> + Default,
    C: FieldConfig<K, V, L>,
{
    /// An empty map configured by its configuration type `C`. A `MAX` of 0 fails to compile.
    #[track_caller]
    fn default() -> Self {
        let (max, expiry, lifetime, name) = config::settings::<K, V, L, C, E>();
        Self::from_parts(
            Store::new(max, StoredHash, expiry),
            L::default(),
            lifetime,
            name,
            Location::caller(),
            S::default(),
            config::budget::<K, V, L, C, E>(),
        )
        .with_expire_after(C::__expire_after::<config::StoredWeakly>())
    }
}
