//! [`Builder`]: hooks, hasher, expiry and name for a new [`ManagedMap`].

use crate::RemovalCause;
use crate::hooks::{Cleanup, ListenerOf, RemovalListener, WithCleanup};
use crate::map::ManagedMap;
use crate::policy::Policy;
use crate::settings::{NoValueCleanup, ValueCleanup, builder};
use crate::storage::expiry::Expiry;
use crate::storage::store::Store;

builder! {
/// Configures a [`ManagedMap`] ([`LruMap`](crate::LruMap) or
/// [`BoundedMap`](crate::BoundedMap)); made by [`ManagedMap::builder`].
///
/// The listener and value cleanup become type parameters of the map, so hooks are dispatched
/// statically. The calls may come in any order.
///
/// # Examples
///
/// ```
/// use mapguard::{Cleanup, LruMap, RemovalCause};
/// use std::collections::hash_map::RandomState;
///
/// struct Conn {
///     open: bool,
/// }
/// impl Cleanup for Conn {
///     fn cleanup(&mut self, _cause: RemovalCause) {
///         self.open = false;
///     }
/// }
///
/// let mut closed = 0;
/// let mut conns = LruMap::builder(1)
///     .cleanup() // Conn::cleanup runs first ...
///     .on_removal(|_id: u32, conn: Conn, _cause| {
///         // ... so the listener sees it closed.
///         assert!(!conn.open);
///         closed += 1;
///     })
///     .hasher(RandomState::new())
///     .build();
/// conns.insert(1, Conn { open: true });
/// conns.insert(2, Conn { open: true });
/// drop(conns);
/// assert_eq!(closed, 2);
/// ```
pub struct Builder<K, V, P>;
new = "mapguard::LruMap::<u64, u64>::builder(8)", conn = "mapguard::LruMap::<u64, Conn>::builder(8)";
}

impl<K, V, P: Policy, S, L, C, E: Expiry> Builder<K, V, P, S, L, C, E> {
    /// Sends every entry that leaves through the cleanup path to `listener`. Replaces any
    /// listener set before; keeps [`cleanup`](Self::cleanup).
    ///
    /// ```
    /// use mapguard::hooks::RemovalListener;
    /// use mapguard::{LruMap, RemovalCause};
    ///
    /// struct Log;
    /// impl RemovalListener<u32, String> for Log {
    ///     fn on_removal(&mut self, key: u32, _value: String, cause: RemovalCause) {
    ///         println!("{key} left: {cause}");
    ///     }
    /// }
    /// let mut map = LruMap::builder(8).listener(Log).build();
    /// map.insert(1, String::from("x"));
    /// ```
    pub fn listener<L2: ListenerOf<K, V, ManagedMap<K, V, P, S>>>(
        self,
        listener: L2,
    ) -> Builder<K, V, P, S, L2, C, E> {
        self.with_listener(listener)
    }

    /// Calls `on_removal(key, value, cause)` for every entry that leaves through the cleanup
    /// path. Shorthand for [`listener`](Self::listener) with a closure.
    ///
    /// ```
    /// let mut removed = 0;
    /// let mut map = mapguard::LruMap::builder(1)
    ///     .on_removal(|_key: u8, _value: u8, _cause| removed += 1)
    ///     .build();
    /// map.insert(1, 1);
    /// map.insert(2, 2);
    /// drop(map);
    /// assert_eq!(removed, 2);
    /// ```
    pub fn on_removal<F: FnMut(K, V, RemovalCause)>(
        self,
        on_removal: F,
    ) -> Builder<K, V, P, S, F, C, E> {
        self.listener(on_removal)
    }
}

impl<K, V, P: Policy, S, L, C, E: Expiry> Builder<K, V, P, S, L, C, E> {
    /// The one way a map is made; the listener wrapped as the cleanup state says.
    fn build_with<L2: RemovalListener<K, V>>(
        self,
        wrap: impl FnOnce(L) -> L2,
    ) -> ManagedMap<K, V, P, S, L2, E> {
        let mut settings = self.settings;
        let name = settings.take_name();
        let budget = crate::settings::budget(settings.max_weight, self.weigher);
        let map = ManagedMap::from_parts(
            Store::with_capacity(
                settings.max,
                settings.hasher,
                settings.expiry,
                settings.capacity,
            ),
            wrap(self.listener),
            settings.lifetime,
            name,
            settings.site,
        );
        match budget {
            Some((max_weight, weigher)) => map.with_budget(max_weight, Some(weigher)),
            None => map,
        }
    }
}

impl<K, V, P: Policy, S, L, E: Expiry> Builder<K, V, P, S, L, NoValueCleanup, E> {
    /// Makes the map.
    ///
    /// ```
    /// let map = mapguard::LruMap::<u8, u8>::builder(4).build();
    /// assert_eq!(map.max(), 4);
    /// ```
    pub fn build(self) -> ManagedMap<K, V, P, S, L, E>
    where
        L: ListenerOf<K, V, ManagedMap<K, V, P, S>>,
    {
        self.build_with(|listener| listener)
    }
}

impl<K, V, P: Policy, S, L, E: Expiry> Builder<K, V, P, S, L, ValueCleanup, E> {
    /// Makes the map; its listener runs each value's cleanup first.
    ///
    /// ```
    /// # use mapguard::{Cleanup, RemovalCause};
    /// # struct Conn;
    /// # impl Cleanup for Conn { fn cleanup(&mut self, _: RemovalCause) {} }
    /// let map = mapguard::LruMap::<u8, Conn>::builder(4).cleanup().build();
    /// assert_eq!(map.max(), 4);
    /// ```
    pub fn build(self) -> ManagedMap<K, V, P, S, WithCleanup<L>, E>
    where
        V: Cleanup,
        L: ListenerOf<K, V, ManagedMap<K, V, P, S>>,
    {
        self.build_with(WithCleanup)
    }
}
