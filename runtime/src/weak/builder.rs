//! [`Builder`]: hooks, hasher, expiry and name for a new [`WeakKeyMap`].

use core::hash::BuildHasher;

use weak_table::traits::WeakKey;

use crate::builder::builder;
use crate::hooks::RemovalListener;
use crate::policy::{Lru, Policy};
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
new = "mapguard::WeakKeyMap::<std::rc::Weak<u64>, u64>::builder()", conn = "mapguard::WeakKeyMap::<std::rc::Weak<u64>, Conn>::builder()", key = "std::rc::Weak<u64>";
hooks = WeakKeyMap, ListenerOf, FnMut [], boxed = BoxedListener, where [K: WeakKey, S: BuildHasher,],
    note = "The key is the entry's `Weak`, dead for [`Collected`](crate::RemovalCause::Collected) entries.";
stored_key = crate::weak::Weakly<K>, crate::weak::OnWeakKeys;
}

impl<K: WeakKey, V, P: Policy, S: BuildHasher, L, Vc, E: Expiry> Builder<K, V, P, S, L, Vc, E> {
    /// The one way a map is made; the listener wrapped as the cleanup state says.
    fn build_with<L2: RemovalListener<K, V>>(
        self,
        wrap: impl FnOnce(L) -> L2,
    ) -> WeakKeyMap<K, V, P, S, L2, E> {
        let mut settings = self.settings;
        let name = settings.take_name();
        let budget = crate::builder::budget(settings.max_weight, self.weigher);
        WeakKeyMap::from_parts(
            Store::with_capacity(settings.max, StoredHash, settings.expiry, settings.capacity),
            wrap(self.listener),
            settings.lifetime,
            name,
            settings.site,
            settings.hasher,
            budget,
        )
        .with_expire_after(self.expire_after)
    }
}
