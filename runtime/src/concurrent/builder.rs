//! [`Builder`] and [`WeakKeyBuilder`]: shards, hooks, hasher, expiry and name for a new
//! [`ConcurrentMap`] or [`ConcurrentWeakKeyMap`].

use core::hash::BuildHasher;

use weak_table::traits::WeakKey;

use crate::RemovalCause;
use crate::concurrent::{ConcurrentMap, ConcurrentWeakKeyMap, Parts};
use crate::hooks::{Cleanup, ConcurrentListener, ConcurrentListenerOf, WithCleanup};
use crate::policy::{Lru, Policy};
use crate::settings::{NoValueCleanup, ValueCleanup, builder};
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
new = "mapguard::ConcurrentLruMap::<u64, u64>::builder(8)", conn = "mapguard::ConcurrentLruMap::<u64, Conn>::builder(8)";
}

impl<K, V, P: Policy, S, L, C, E: Expiry> Builder<K, V, P, S, L, C, E> {
    /// Splits the map into `shards` shards, each with its own lock (rounded up to a power of
    /// two, at most 65,536, and never more than `max`: each shard holds at least one entry).
    /// More shards mean less contention and a looser bound: the map holds fewer than
    /// `max + shards` entries, and each shard at most `⌈max / shards⌉`.
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

    /// Sends every entry that leaves through the cleanup path to `listener`, on the thread
    /// that made it leave, after the map's lock is released. Replaces any listener set
    /// before; keeps [`cleanup`](Self::cleanup).
    ///
    /// ```
    /// use mapguard::hooks::ConcurrentListener;
    /// use mapguard::{ConcurrentLruMap, RemovalCause};
    ///
    /// struct Log;
    /// impl ConcurrentListener<u32, String> for Log {
    ///     fn on_removal(&self, key: u32, _value: String, cause: RemovalCause) {
    ///         println!("{key} left: {cause}");
    ///     }
    /// }
    /// let map = ConcurrentLruMap::builder(8).listener(Log).build();
    /// map.insert(1, String::from("x"));
    /// ```
    pub fn listener<L2: ConcurrentListenerOf<K, V, ConcurrentMap<K, V, P, S>>>(
        self,
        listener: L2,
    ) -> Builder<K, V, P, S, L2, C, E> {
        self.with_listener(listener)
    }

    /// Calls `on_removal(key, value, cause)` for every entry that leaves through the cleanup
    /// path, possibly from several threads at once. Shorthand for
    /// [`listener`](Self::listener) with a closure.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    ///
    /// let removed = AtomicUsize::new(0);
    /// let map = mapguard::ConcurrentLruMap::builder(1)
    ///     .on_removal(|_key: u8, _value: u8, _cause| {
    ///         removed.fetch_add(1, Ordering::Relaxed);
    ///     })
    ///     .build();
    /// map.insert(1, 1);
    /// map.insert(2, 2);
    /// drop(map);
    /// assert_eq!(removed.into_inner(), 2);
    /// ```
    pub fn on_removal<F: Fn(K, V, RemovalCause) + Send + Sync>(
        self,
        on_removal: F,
    ) -> Builder<K, V, P, S, F, C, E> {
        self.listener(on_removal)
    }

    fn build_with<L2: ConcurrentListener<K, V>>(
        self,
        wrap: impl FnOnce(L) -> L2,
    ) -> ConcurrentMap<K, V, P, S, L2, E>
    where
        P: Policy,
        S: Clone,
    {
        let budget = crate::settings::budget(self.settings.max_weight, self.weigher);
        let (parts, expiry) = Parts::from_settings(self.settings, wrap(self.listener));
        ConcurrentMap::from_parts(parts, &expiry, budget)
    }
}

impl<K, V, P: Policy, S: Clone, L, E: Expiry> Builder<K, V, P, S, L, NoValueCleanup, E> {
    /// Builds the concurrent map.
    ///
    /// ```
    /// let map = mapguard::ConcurrentBoundedMap::<u32, u32>::builder(8).build();
    /// assert!(map.try_insert(1, 1).is_ok());
    /// ```
    pub fn build(self) -> ConcurrentMap<K, V, P, S, L, E>
    where
        L: ConcurrentListenerOf<K, V, ConcurrentMap<K, V, P, S>>,
    {
        self.build_with(|listener| listener)
    }
}

impl<K, V, P: Policy, S: Clone, L, E: Expiry> Builder<K, V, P, S, L, ValueCleanup, E> {
    /// Builds the concurrent map; values leaving through the cleanup path get their
    /// [`Cleanup`] first.
    ///
    /// ```
    /// use mapguard::{Cleanup, ConcurrentLruMap, RemovalCause};
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use std::sync::Arc;
    ///
    /// struct Conn(Arc<AtomicBool>);
    /// impl Cleanup for Conn {
    ///     fn cleanup(&mut self, _: RemovalCause) {
    ///         self.0.store(true, Ordering::Relaxed);
    ///     }
    /// }
    ///
    /// let closed = Arc::new(AtomicBool::new(false));
    /// let map = ConcurrentLruMap::builder(1).cleanup().build();
    /// map.insert(1, Conn(Arc::clone(&closed)));
    /// map.insert(2, Conn(Arc::new(AtomicBool::new(false)))); // evicts 1
    /// assert!(closed.load(Ordering::Relaxed));
    /// ```
    pub fn build(self) -> ConcurrentMap<K, V, P, S, WithCleanup<L>, E>
    where
        V: Cleanup,
        L: ConcurrentListenerOf<K, V, ConcurrentMap<K, V, P, S>>,
    {
        self.build_with(WithCleanup)
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
conn = "mapguard::ConcurrentWeakKeyMap::<std::sync::Weak<u64>, Conn>::builder()";
}

impl<K, V, P: Policy, S, L, C, E: Expiry> WeakKeyBuilder<K, V, P, S, L, C, E> {
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

    /// Sends every entry that leaves through the cleanup path to `listener`, on the thread
    /// that made it leave, after the map's lock is released.
    ///
    /// ```
    /// use mapguard::hooks::ConcurrentListener;
    /// use mapguard::{ConcurrentWeakKeyMap, RemovalCause};
    /// use std::sync::Weak;
    ///
    /// struct Log;
    /// impl ConcurrentListener<Weak<u32>, String> for Log {
    ///     fn on_removal(&self, _key: Weak<u32>, value: String, cause: RemovalCause) {
    ///         println!("{value} left: {cause}");
    ///     }
    /// }
    /// let map = ConcurrentWeakKeyMap::builder().listener(Log).build();
    /// assert!(map.is_empty());
    /// ```
    pub fn listener<L2: ConcurrentListenerOf<K, V, ConcurrentWeakKeyMap<K, V, P, S>>>(
        self,
        listener: L2,
    ) -> WeakKeyBuilder<K, V, P, S, L2, C, E>
    where
        K: WeakKey,
    {
        self.with_listener(listener)
    }

    /// Calls `on_removal(key, value, cause)` for every entry that leaves through the cleanup
    /// path, possibly from several threads at once.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::{Arc, Weak};
    ///
    /// let removed = AtomicUsize::new(0);
    /// let map = mapguard::ConcurrentWeakKeyMap::builder()
    ///     .on_removal(|_key: Weak<u8>, _value: u8, _cause| {
    ///         removed.fetch_add(1, Ordering::Relaxed);
    ///     })
    ///     .build();
    /// map.insert(Arc::new(1), 1); // dead at once: no other strong reference
    /// drop(map);
    /// assert_eq!(removed.into_inner(), 1);
    /// ```
    pub fn on_removal<F: Fn(K, V, RemovalCause) + Send + Sync>(
        self,
        on_removal: F,
    ) -> WeakKeyBuilder<K, V, P, S, F, C, E> {
        self.with_listener(on_removal)
    }
}

impl<K: WeakKey, V, P: Policy, S: BuildHasher + Clone, L, C, E: Expiry>
    WeakKeyBuilder<K, V, P, S, L, C, E>
{
    /// The one way a map is made; the listener wrapped as the cleanup state says.
    fn build_with<L2: ConcurrentListener<K, V>>(
        self,
        wrap: impl FnOnce(L) -> L2,
    ) -> ConcurrentWeakKeyMap<K, V, P, S, L2, E> {
        let budget = crate::settings::budget(self.settings.max_weight, self.weigher);
        let (parts, expiry) = Parts::from_settings(self.settings, wrap(self.listener));
        ConcurrentWeakKeyMap::from_parts(parts, &expiry, budget)
    }
}

impl<K: WeakKey, V, P: Policy, S: BuildHasher + Clone, L, E: Expiry>
    WeakKeyBuilder<K, V, P, S, L, NoValueCleanup, E>
{
    /// Makes the map.
    ///
    /// ```
    /// use std::sync::Weak;
    /// let map = mapguard::ConcurrentWeakKeyMap::<Weak<u8>, u8>::builder().build();
    /// assert!(map.is_empty());
    /// ```
    pub fn build(self) -> ConcurrentWeakKeyMap<K, V, P, S, L, E>
    where
        L: ConcurrentListenerOf<K, V, ConcurrentWeakKeyMap<K, V, P, S>>,
    {
        self.build_with(|listener| listener)
    }
}

impl<K: WeakKey, V, P: Policy, S: BuildHasher + Clone, L, E: Expiry>
    WeakKeyBuilder<K, V, P, S, L, ValueCleanup, E>
{
    /// Makes the map; values leaving through the cleanup path get their [`Cleanup`] first.
    ///
    /// ```
    /// use mapguard::{Cleanup, RemovalCause};
    /// use std::sync::Weak;
    /// struct Conn;
    /// impl Cleanup for Conn { fn cleanup(&mut self, _: RemovalCause) {} }
    /// let map = mapguard::ConcurrentWeakKeyMap::<Weak<u8>, Conn>::builder().cleanup().build();
    /// assert!(map.is_empty());
    /// ```
    pub fn build(self) -> ConcurrentWeakKeyMap<K, V, P, S, WithCleanup<L>, E>
    where
        V: Cleanup,
        L: ConcurrentListenerOf<K, V, ConcurrentWeakKeyMap<K, V, P, S>>,
    {
        self.build_with(WithCleanup)
    }
}
