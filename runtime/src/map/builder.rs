//! [`Builder`]: hooks, hasher, expiry and name for a new [`ManagedMap`].

use crate::builder::builder;
use crate::hooks::RemovalListener;
use crate::map::ManagedMap;
use crate::policy::Policy;
use crate::raw::RawMap;
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
new = "mapguard::LruMap::<u64, u64>::builder(8)", conn = "mapguard::LruMap::<u64, Conn>::builder(8)", key = "u64";
hooks = ManagedMap, ListenerOf, FnMut [], boxed = BoxedListener, where [], note = "";
stored_key = K, crate::storage::expiry::as_is;
}

impl<K, V, P: Policy, S, L, Vc, E: Expiry> Builder<K, V, P, S, L, Vc, E> {
    /// The one way a map is made; the listener wrapped as the cleanup state says.
    fn build_with<L2: RemovalListener<K, V>>(
        self,
        wrap: impl FnOnce(L) -> L2,
    ) -> ManagedMap<K, V, P, S, L2, E> {
        let mut settings = self.settings;
        let name = settings.take_name();
        let budget = crate::builder::budget(settings.max_weight, self.weigher);
        let map = RawMap::from_parts(
            Store::with_capacity(
                settings.max,
                settings.hasher,
                settings.expiry,
                settings.capacity,
            ),
            settings.lifetime,
            name,
            settings.site,
        );
        let map = match budget {
            Some((max_weight, weigher)) => map.with_budget(max_weight, Some(weigher)),
            None => map,
        };
        ManagedMap::from_raw(
            map.with_expire_after(self.expire_after),
            wrap(self.listener),
        )
    }
}
