//! The entry API: insert-or-update with one lookup.

use core::fmt;
use core::hash::{BuildHasher, Hash};

use crate::RemovalCause;
use crate::error::CapacityError;
use crate::hooks::RemovalListener;
use crate::map::owned::Owned;
use crate::policy::{Evicting, Policy, Reject};
use crate::storage::expiry::{Expiry, NoExpiry};

/// A view into one key's slot, from [`ManagedMap::entry`](crate::ManagedMap::entry).
///
/// ```
/// use mapguard::map::Entry;
///use mapguard::LruMap;
///
/// let mut map = LruMap::new(4);
/// match map.entry("a") {
///     Entry::Occupied(_) => unreachable!(),
///     Entry::Vacant(slot) => {
///         slot.insert(1);
///     }
/// }
/// assert_eq!(map.peek("a"), Some(&1));
/// ```
pub enum Entry<'a, K, V, P: Policy, S, L: RemovalListener<K, V>, E: Expiry = NoExpiry> {
    /// The key is present.
    Occupied(OccupiedEntry<'a, K, V, P, S, L, E>),
    /// The key is absent.
    Vacant(VacantEntry<'a, K, V, P, S, L, E>),
}

/// A present key's slot. For an [`LruMap`](crate::LruMap) it is already the most recent.
///
/// ```
/// use mapguard::map::Entry;
///use mapguard::LruMap;
///
/// let mut map = LruMap::new(4);
/// map.insert("a", 1);
/// if let Entry::Occupied(mut slot) = map.entry("a") {
///     *slot.get_mut() += 1;
/// }
/// assert_eq!(map.peek("a"), Some(&2));
/// ```
pub struct OccupiedEntry<'a, K, V, P: Policy, S, L: RemovalListener<K, V>, E: Expiry = NoExpiry> {
    map: &'a mut Owned<K, V, P, S, L, E>,
    index: u32,
}

/// An absent key's slot.
///
/// ```
/// use mapguard::map::Entry;
///use mapguard::LruMap;
///
/// let mut map = LruMap::<&str, i32>::new(4);
/// if let Entry::Vacant(slot) = map.entry("a") {
///     assert_eq!(*slot.key(), "a");
/// }
/// ```
pub struct VacantEntry<'a, K, V, P: Policy, S, L: RemovalListener<K, V>, E: Expiry = NoExpiry> {
    map: &'a mut Owned<K, V, P, S, L, E>,
    hash: u64,
    key: K,
}

impl<K, V, P: Policy, S, L: RemovalListener<K, V>, E: Expiry> Entry<'_, K, V, P, S, L, E> {
    /// The entry's key.
    ///
    /// ```
    /// let mut map = mapguard::LruMap::<u8, u8>::new(2);
    /// assert_eq!(*map.entry(7).key(), 7);
    /// ```
    pub fn key(&self) -> &K {
        match self {
            Entry::Occupied(entry) => entry.key(),
            Entry::Vacant(entry) => entry.key(),
        }
    }

    /// Runs `modify` on the value if the key is present.
    ///
    /// ```
    /// let mut map = mapguard::LruMap::new(2);
    /// map.insert("a", 1);
    /// map.entry("a").and_modify(|v| *v += 1).or_insert(0);
    /// assert_eq!(map.peek("a"), Some(&2));
    /// ```
    #[must_use]
    pub fn and_modify(mut self, modify: impl FnOnce(&mut V)) -> Self {
        if let Entry::Occupied(entry) = &mut self {
            modify(entry.get_mut());
        }
        self
    }
}

// `P: Evicting` per method: on a bounded map, a call fails with `Evicting`'s message.
impl<'a, K: Hash + Eq, V, P: Policy, S: BuildHasher, L: RemovalListener<K, V>, E: Expiry>
    Entry<'a, K, V, P, S, L, E>
{
    /// The value, inserting `default` if absent (which may evict an entry, in the policy's
    /// order, through the cleanup path).
    ///
    /// ```
    /// let mut map = mapguard::LruMap::new(2);
    /// *map.entry("hits").or_insert(0) += 1;
    /// assert_eq!(map.peek("hits"), Some(&1));
    /// ```
    pub fn or_insert(self, default: V) -> &'a mut V
    where
        P: Evicting,
    {
        self.or_insert_with(|| default)
    }

    /// The value, inserting `make()` if absent.
    ///
    /// ```
    /// let mut map = mapguard::LruMap::new(2);
    /// map.entry(1).or_insert_with(Vec::new).push('x');
    /// assert_eq!(map.peek(&1), Some(&vec!['x']));
    /// ```
    pub fn or_insert_with(self, make: impl FnOnce() -> V) -> &'a mut V
    where
        P: Evicting,
    {
        match self {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => entry.insert(make()),
        }
    }

    /// The value, inserting `make(&key)` if absent.
    ///
    /// ```
    /// let mut map = mapguard::LruMap::new(2);
    /// assert_eq!(*map.entry(3).or_insert_with_key(|k| k * 10), 30);
    /// ```
    pub fn or_insert_with_key(self, make: impl FnOnce(&K) -> V) -> &'a mut V
    where
        P: Evicting,
    {
        match self {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => {
                let value = make(entry.key());
                entry.insert(value)
            }
        }
    }

    /// The value, inserting `V::default()` if absent.
    ///
    /// ```
    /// let mut map = mapguard::LruMap::<&str, u32>::new(2);
    /// *map.entry("n").or_default() += 5;
    /// assert_eq!(map.peek("n"), Some(&5));
    /// ```
    pub fn or_default(self) -> &'a mut V
    where
        P: Evicting,
        V: Default,
    {
        self.or_insert_with(V::default)
    }
}

impl<'a, K: Hash + Eq, V, S: BuildHasher, L: RemovalListener<K, V>, E: Expiry>
    Entry<'a, K, V, Reject, S, L, E>
{
    /// The value, inserting `make()` if absent and there is room.
    ///
    /// # Errors
    ///
    /// [`CapacityError`] with the key and the made value when the key is absent and the map
    /// is full.
    ///
    /// ```
    /// let mut map = mapguard::BoundedMap::new(1);
    /// *map.entry("a").or_try_insert_with(|| 0).unwrap() += 1;
    /// assert!(map.entry("b").or_try_insert_with(|| 0).is_err());
    /// assert_eq!(map.get("a"), Some(&1));
    /// ```
    pub fn or_try_insert_with(
        self,
        make: impl FnOnce() -> V,
    ) -> Result<&'a mut V, CapacityError<K, V>> {
        match self {
            Entry::Occupied(entry) => Ok(entry.into_mut()),
            Entry::Vacant(entry) => entry.try_insert(make()),
        }
    }
}

impl<'a, K, V, P: Policy, S, L: RemovalListener<K, V>, E: Expiry>
    OccupiedEntry<'a, K, V, P, S, L, E>
{
    pub(crate) fn new(map: &'a mut Owned<K, V, P, S, L, E>, index: u32) -> Self {
        Self { map, index }
    }

    /// The stored key.
    ///
    /// ```
    /// # use mapguard::map::Entry;
    /// let mut map = mapguard::LruMap::new(2);
    /// map.insert(1, 'a');
    /// if let Entry::Occupied(slot) = map.entry(1) {
    ///     assert_eq!(*slot.key(), 1);
    /// }
    /// ```
    #[must_use]
    pub fn key(&self) -> &K {
        self.map.raw.key_at(self.index)
    }

    /// The value.
    ///
    /// ```
    /// # use mapguard::map::Entry;
    /// let mut map = mapguard::LruMap::new(2);
    /// map.insert(1, 'a');
    /// if let Entry::Occupied(slot) = map.entry(1) {
    ///     assert_eq!(*slot.get(), 'a');
    /// }
    /// ```
    #[must_use]
    pub fn get(&self) -> &V {
        self.map.raw.value_at(self.index)
    }

    /// The value, mutably, for as long as the entry lives.
    ///
    /// ```
    /// # use mapguard::map::Entry;
    /// let mut map = mapguard::LruMap::new(2);
    /// map.insert(1, 1);
    /// if let Entry::Occupied(mut slot) = map.entry(1) {
    ///     *slot.get_mut() = 2;
    /// }
    /// assert_eq!(map.peek(&1), Some(&2));
    /// ```
    pub fn get_mut(&mut self) -> &mut V {
        self.map.raw.value_at_mut(self.index)
    }

    /// The value, mutably, for as long as the map borrow lasts.
    ///
    /// ```
    /// # use mapguard::map::Entry;
    /// let mut map = mapguard::LruMap::new(2);
    /// map.insert(1, 1);
    /// let value = match map.entry(1) {
    ///     Entry::Occupied(slot) => slot.into_mut(),
    ///     Entry::Vacant(_) => unreachable!(),
    /// };
    /// *value = 9;
    /// assert_eq!(map.peek(&1), Some(&9));
    /// ```
    #[must_use]
    pub fn into_mut(self) -> &'a mut V {
        self.map.raw.value_at_mut(self.index)
    }

    /// Stores `value` and hands back the old one (no hook runs for it). A write: the entry's
    /// expiry policy (or map-wide `ttl`) dates its deadline from it, as `replace` does.
    ///
    /// ```
    /// # use mapguard::map::Entry;
    /// let mut map = mapguard::LruMap::new(2);
    /// map.insert(1, 'a');
    /// if let Entry::Occupied(mut slot) = map.entry(1) {
    ///     assert_eq!(slot.insert('b'), 'a');
    /// }
    /// ```
    pub fn insert(&mut self, value: V) -> V {
        let now = self.map.raw.clock();
        self.map.raw.rewrite_at(self.index, value, now)
    }
}

impl<K: Hash + Eq, V, P: Policy, S: BuildHasher, L: RemovalListener<K, V>, E: Expiry>
    OccupiedEntry<'_, K, V, P, S, L, E>
{
    /// Removes the entry and hands back its value (no hook runs).
    ///
    /// ```
    /// # use mapguard::map::Entry;
    /// let mut map = mapguard::LruMap::new(2);
    /// map.insert(1, 'a');
    /// if let Entry::Occupied(slot) = map.entry(1) {
    ///     assert_eq!(slot.remove(), 'a');
    /// }
    /// assert!(map.is_empty());
    /// ```
    #[must_use = "`remove` hands the value back without its hooks (`Cleanup`, listener): use it, or call `discard` to close it through the cleanup path"]
    pub fn remove(self) -> V {
        self.remove_entry().1
    }

    /// Removes the entry and hands back its key and value (no hook runs).
    ///
    /// ```
    /// # use mapguard::map::Entry;
    /// let mut map = mapguard::LruMap::new(2);
    /// map.insert(1, 'a');
    /// if let Entry::Occupied(slot) = map.entry(1) {
    ///     assert_eq!(slot.remove_entry(), (1, 'a'));
    /// }
    /// ```
    #[must_use = "`remove_entry` hands the value back without its hooks (`Cleanup`, listener): use it, or call `discard` to close it through the cleanup path"]
    pub fn remove_entry(self) -> (K, V) {
        self.map.raw.take_at(self.index)
    }

    /// Removes the entry through the cleanup path with [`RemovalCause::Explicit`].
    ///
    /// ```
    /// # use mapguard::map::Entry;
    /// let mut causes = Vec::new();
    /// let mut map = mapguard::LruMap::builder(2)
    ///     .on_removal(|_: u8, _: char, cause| causes.push(cause))
    ///     .build();
    /// map.insert(1, 'a');
    /// if let Entry::Occupied(slot) = map.entry(1) {
    ///     slot.discard();
    /// }
    /// drop(map);
    /// assert_eq!(causes, [mapguard::RemovalCause::Explicit]);
    /// ```
    pub fn discard(self) {
        self.map.raw.depart_at(self.index, RemovalCause::Explicit);
        self.map.done();
    }
}

impl<'a, K, V, P: Policy, S, L: RemovalListener<K, V>, E: Expiry>
    VacantEntry<'a, K, V, P, S, L, E>
{
    pub(crate) fn new(map: &'a mut Owned<K, V, P, S, L, E>, hash: u64, key: K) -> Self {
        Self { map, hash, key }
    }

    /// The key that would be inserted.
    ///
    /// ```
    /// # use mapguard::map::Entry;
    /// let mut map = mapguard::LruMap::<u8, u8>::new(2);
    /// if let Entry::Vacant(slot) = map.entry(4) {
    ///     assert_eq!(*slot.key(), 4);
    /// }
    /// ```
    pub fn key(&self) -> &K {
        &self.key
    }

    /// Takes the key back without inserting.
    ///
    /// ```
    /// # use mapguard::map::Entry;
    /// let mut map = mapguard::LruMap::<String, u8>::new(2);
    /// if let Entry::Vacant(slot) = map.entry(String::from("k")) {
    ///     assert_eq!(slot.into_key(), "k");
    /// }
    /// ```
    pub fn into_key(self) -> K {
        self.key
    }
}

// `P: Evicting` per method: on a bounded map, a call fails with `Evicting`'s message.
impl<'a, K: Hash + Eq, V, P: Policy, S: BuildHasher, L: RemovalListener<K, V>, E: Expiry>
    VacantEntry<'a, K, V, P, S, L, E>
{
    /// Inserts `value` as the most recently used entry, evicting one (in the policy's order)
    /// through the cleanup path if the map is full.
    ///
    /// ```
    /// # use mapguard::map::Entry;
    /// let mut map = mapguard::LruMap::new(1);
    /// map.insert(1, 'a');
    /// if let Entry::Vacant(slot) = map.entry(2) {
    ///     slot.insert('b'); // evicts 1
    /// }
    /// assert_eq!(map.keys().copied().collect::<Vec<_>>(), [2]);
    /// ```
    pub fn insert(self, value: V) -> &'a mut V
    where
        P: Evicting,
    {
        // Kept even when heavier than the whole budget: the caller gets a reference to it.
        // The clock is read again: time may have passed while the caller held the entry.
        let now = self.map.raw.clock();
        let index = self
            .map
            .raw
            .insert_absent_kept(self.hash, self.key, value, None, now);
        // What it evicted leaves now; the new entry is in place first.
        self.map.done();
        self.map.raw.value_at_mut(index)
    }
}

impl<'a, K: Hash + Eq, V, S: BuildHasher, L: RemovalListener<K, V>, E: Expiry>
    VacantEntry<'a, K, V, Reject, S, L, E>
{
    /// Inserts `value` if there is room.
    ///
    /// # Errors
    ///
    /// [`CapacityError`] with the key and value when the map is full.
    ///
    /// ```
    /// # use mapguard::map::Entry;
    /// let mut map = mapguard::BoundedMap::new(1);
    /// map.try_insert(1, 'a').unwrap();
    /// if let Entry::Vacant(slot) = map.entry(2) {
    ///     assert!(slot.try_insert('b').is_err());
    /// }
    /// ```
    pub fn try_insert(self, value: V) -> Result<&'a mut V, CapacityError<K, V>> {
        let raw = &mut self.map.raw;
        let now = raw.clock();
        let index = raw.try_push_absent(self.hash, self.key, value, now)?;
        Ok(raw.value_at_mut(index))
    }
}

impl<K: fmt::Debug, V: fmt::Debug, P: Policy, S, L: RemovalListener<K, V>, E: Expiry> fmt::Debug
    for Entry<'_, K, V, P, S, L, E>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Entry::Occupied(entry) => f.debug_tuple("Occupied").field(entry).finish(),
            Entry::Vacant(entry) => f.debug_tuple("Vacant").field(entry).finish(),
        }
    }
}

impl<K: fmt::Debug, V: fmt::Debug, P: Policy, S, L: RemovalListener<K, V>, E: Expiry> fmt::Debug
    for OccupiedEntry<'_, K, V, P, S, L, E>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OccupiedEntry")
            .field("key", self.key())
            .field("value", self.get())
            .finish()
    }
}

impl<K: fmt::Debug, V, P: Policy, S, L: RemovalListener<K, V>, E: Expiry> fmt::Debug
    for VacantEntry<'_, K, V, P, S, L, E>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("VacantEntry").field(&self.key).finish()
    }
}
