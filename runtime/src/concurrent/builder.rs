//! [`Builder`] and [`WeakKeyBuilder`]: shards, hooks, hasher, expiry and name for a new
//! [`ConcurrentMap`] or [`ConcurrentWeakKeyMap`].

use core::hash::BuildHasher;

use weak_table::traits::WeakKey;

use crate::builder::builder;
use crate::concurrent::{ConcurrentMap, ConcurrentWeakKeyMap, Parts};
use crate::hooks::ConcurrentListener;
use crate::policy::{Lru, Policy};
use crate::storage::expiry::Expiry;

builder! {
/// Configures a [`ConcurrentMap`] ([`ConcurrentLruMap`](crate::ConcurrentLruMap) or
/// [`ConcurrentBoundedMap`](crate::ConcurrentBoundedMap)); made by [`ConcurrentMap::builder`].
/// The calls may come in any order.
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
pub struct Builder<K, V, P>;
new = "mapguard::ConcurrentLruMap::<u64, u64>::builder(8)", conn = "mapguard::ConcurrentLruMap::<u64, Conn>::builder(8)", key = "u64";
hooks = ConcurrentMap, ConcurrentListenerOf, Fn [+ Send + Sync], boxed = SharedListener, where [S: Clone,],
    note = "It runs on the thread that made the entry leave, after the shard's lock is released, possibly on several threads at once.";
stored_key = K, crate::storage::expiry::as_is;
}

impl<K, V, P: Policy, S, L, Vc, E: Expiry> Builder<K, V, P, S, L, Vc, E> {
    /// Splits the map into `shards` shards, each with its own lock (rounded up to a power of
    /// two, at most 65,536, and never more than `max`: each shard holds at least one entry).
    /// More shards mean less contention; the limits stay the whole map's (see
    /// [`ConcurrentMap`](crate::ConcurrentMap)'s "Limits of the whole map"), though with more
    /// shards an evicting map's LRU order is kept over smaller parts of it.
    ///
    /// ```
    /// let map = mapguard::ConcurrentLruMap::<u32, u32>::builder(1_000).shards(6).build();
    /// assert_eq!(map.shard_count(), 8);
    /// // More shards than entries would only loosen the bound: capped at `max`.
    /// let tiny = mapguard::ConcurrentLruMap::<u32, u32>::builder(5).shards(usize::MAX).build();
    /// assert_eq!(tiny.shard_count(), 4);
    /// ```
    pub fn shards(mut self, shards: usize) -> Self {
        self.settings.shards = Some(shards);
        self
    }

    fn build_with<L2: ConcurrentListener<K, V>>(
        self,
        wrap: impl FnOnce(L) -> L2,
    ) -> ConcurrentMap<K, V, P, S, L2, E>
    where
        P: Policy,
        S: Clone,
    {
        let budget = crate::builder::budget(self.settings.max_weight, self.weigher);
        let (parts, expiry) = Parts::from_settings(self.settings, wrap(self.listener));
        ConcurrentMap::from_parts(parts, &expiry, budget.as_ref(), self.expire_after.as_ref())
    }
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
pub struct WeakKeyBuilder<K, V, P = Lru>;
new = "mapguard::ConcurrentWeakKeyMap::<std::sync::Weak<u64>, u64>::builder()",
conn = "mapguard::ConcurrentWeakKeyMap::<std::sync::Weak<u64>, Conn>::builder()",
key = "std::sync::Weak<u64>";
hooks = ConcurrentWeakKeyMap, ConcurrentListenerOf, Fn [+ Send + Sync], boxed = SharedListener,
    where [K: WeakKey, S: BuildHasher + Clone,],
    note = "It runs on the thread that made the entry leave, after the shard's lock is released, possibly on several threads at once; the key is the entry's `Weak`, dead for [`Collected`](crate::RemovalCause::Collected) entries.";
stored_key = crate::weak::Weakly<K>, crate::weak::OnWeakKeys;
}

impl<K, V, P: Policy, S, L, Vc, E: Expiry> WeakKeyBuilder<K, V, P, S, L, Vc, E> {
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
}

impl<K: WeakKey, V, P: Policy, S: BuildHasher + Clone, L, Vc, E: Expiry>
    WeakKeyBuilder<K, V, P, S, L, Vc, E>
{
    /// The one way a map is made; the listener wrapped as the cleanup state says.
    fn build_with<L2: ConcurrentListener<K, V>>(
        self,
        wrap: impl FnOnce(L) -> L2,
    ) -> ConcurrentWeakKeyMap<K, V, P, S, L2, E> {
        let budget = crate::builder::budget(self.settings.max_weight, self.weigher);
        let (parts, expiry) = Parts::from_settings(self.settings, wrap(self.listener));
        ConcurrentWeakKeyMap::from_parts(
            parts,
            &expiry,
            budget.as_ref(),
            self.expire_after.as_ref(),
        )
    }
}
