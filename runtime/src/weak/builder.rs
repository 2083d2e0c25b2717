//! [`Builder`]: hooks, hasher, expiry and name for a new [`WeakKeyMap`].

use core::hash::BuildHasher;

use weak_table::traits::WeakKey;

use crate::RemovalCause;
use crate::hooks::{Cleanup, ListenerOf, RemovalListener, WithCleanup};
use crate::policy::{Lru, Policy};
use crate::settings::{NoValueCleanup, ValueCleanup, builder};
use crate::storage::expiry::Expiry;
use crate::storage::store::Store;
use crate::weak::{StoredHash, WeakKeyMap};

builder! {
/// Configures a [`WeakKeyMap`]; made by [`WeakKeyMap::builder`],
/// [`lru_builder`](WeakKeyMap::lru_builder) or [`bounded_builder`](WeakKeyMap::bounded_builder).
/// The calls may come in any order.
///
/// # Examples
///
/// ```
/// use mapguard::{ManagedCache, RemovalCause, WeakKeyMap};
/// use std::rc::{Rc, Weak};
///
/// let mut collected = Vec::new();
/// let mut map = WeakKeyMap::<Weak<str>, u32>::builder()
///     .name("Documents.by_path")
///     .on_removal(|_key, value, cause| collected.push((value, cause)))
///     .build();
/// let key: Rc<str> = Rc::from("a.txt");
/// map.insert(Rc::clone(&key), 1);
/// drop(key);
/// assert_eq!(map.maintain(), 1);
/// drop(map);
/// assert_eq!(collected, [(1, RemovalCause::Collected)]);
/// ```
pub struct Builder<K, V, P = Lru>;
new = "mapguard::WeakKeyMap::<std::rc::Weak<u64>, u64>::builder()", conn = "mapguard::WeakKeyMap::<std::rc::Weak<u64>, Conn>::builder()";
}

impl<K: WeakKey, V, P: Policy, S, L, C, E: Expiry> Builder<K, V, P, S, L, C, E> {
    /// Sends every entry that leaves through the cleanup path to `listener`, with the key's
    /// `Weak` (dead for [`Collected`](RemovalCause::Collected) entries). Replaces any
    /// listener set before; keeps [`cleanup`](Self::cleanup).
    ///
    /// ```
    /// use mapguard::hooks::RemovalListener;
    /// use mapguard::{RemovalCause, WeakKeyMap};
    /// use std::rc::Weak;
    ///
    /// struct Log;
    /// impl RemovalListener<Weak<u32>, String> for Log {
    ///     fn on_removal(&mut self, _key: Weak<u32>, value: String, cause: RemovalCause) {
    ///         println!("{value} left: {cause}");
    ///     }
    /// }
    /// let map = WeakKeyMap::builder().listener(Log).build();
    /// assert!(map.is_empty());
    /// ```
    pub fn listener<L2: ListenerOf<K, V, WeakKeyMap<K, V, P, S>>>(
        self,
        listener: L2,
    ) -> Builder<K, V, P, S, L2, C, E> {
        self.with_listener(listener)
    }

    /// Calls `on_removal(key, value, cause)` for every entry that leaves through the cleanup
    /// path. Shorthand for [`listener`](Self::listener) with a closure.
    ///
    /// ```
    /// use std::rc::{Rc, Weak};
    /// let mut removed = 0;
    /// let mut map = mapguard::WeakKeyMap::builder()
    ///     .on_removal(|_key: Weak<u8>, _value: u8, _cause| removed += 1)
    ///     .build();
    /// map.insert(Rc::new(1), 1); // the only strong reference is gone at once
    /// drop(map);
    /// assert_eq!(removed, 1);
    /// ```
    pub fn on_removal<F: FnMut(K, V, RemovalCause)>(
        self,
        on_removal: F,
    ) -> Builder<K, V, P, S, F, C, E> {
        self.listener(on_removal)
    }
}

impl<K: WeakKey, V, P: Policy, S: BuildHasher, L, C, E: Expiry> Builder<K, V, P, S, L, C, E> {
    /// The one way a map is made; the listener wrapped as the cleanup state says.
    fn build_with<L2: RemovalListener<K, V>>(
        self,
        wrap: impl FnOnce(L) -> L2,
    ) -> WeakKeyMap<K, V, P, S, L2, E> {
        let mut settings = self.settings;
        let name = settings.take_name();
        let budget = crate::settings::budget(settings.max_weight, self.weigher);
        WeakKeyMap::from_parts(
            Store::with_capacity(settings.max, StoredHash, settings.expiry, settings.capacity),
            wrap(self.listener),
            settings.lifetime,
            name,
            settings.site,
            settings.hasher,
            budget,
        )
    }
}

impl<K: WeakKey, V, P: Policy, S: BuildHasher, L, E: Expiry>
    Builder<K, V, P, S, L, NoValueCleanup, E>
{
    /// Makes the weak-keyed map.
    ///
    /// ```
    /// use std::rc::{Rc, Weak};
    /// let mut map = mapguard::WeakKeyMap::<Weak<str>, u32>::builder().build();
    /// let key: Rc<str> = Rc::from("k");
    /// map.insert(Rc::clone(&key), 1);
    /// assert_eq!(map.get("k"), Some(&1));
    /// ```
    pub fn build(self) -> WeakKeyMap<K, V, P, S, L, E>
    where
        L: ListenerOf<K, V, WeakKeyMap<K, V, P, S>>,
    {
        self.build_with(|listener| listener)
    }
}

impl<K: WeakKey, V, P: Policy, S: BuildHasher, L, E: Expiry>
    Builder<K, V, P, S, L, ValueCleanup, E>
{
    /// Makes the weak-keyed map; its listener runs each value's cleanup first.
    ///
    /// ```
    /// use mapguard::{Cleanup, RemovalCause};
    /// use std::rc::Weak;
    /// struct Conn;
    /// impl Cleanup for Conn { fn cleanup(&mut self, _: RemovalCause) {} }
    /// let map = mapguard::WeakKeyMap::<Weak<u32>, Conn>::builder().cleanup().build();
    /// assert!(map.is_empty());
    /// ```
    pub fn build(self) -> WeakKeyMap<K, V, P, S, WithCleanup<L>, E>
    where
        V: Cleanup,
        L: ListenerOf<K, V, WeakKeyMap<K, V, P, S>>,
    {
        self.build_with(WithCleanup)
    }
}
