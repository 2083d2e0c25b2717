//! [`Builder`]: hooks and hasher for a new map.

use core::fmt;
use core::marker::PhantomData;

use hashbrown::DefaultHashBuilder;

use crate::RemovalCause;
use crate::concurrent::{ConcurrentMap, Sizing};
use crate::core::expiry::{Clock, Expiring, Expiry, NoExpiry};
use crate::core::store::Store;
use crate::hooks::{Cleanup, ConcurrentListener, NoListener, RemovalListener, WithCleanup};
use crate::map::{ManagedMap, assert_valid_max};
use crate::policy::Policy;
use crate::scope::Lifetime;
use crate::weak::{StoredHash, WeakKeyMap};
use core::hash::BuildHasher;
use std::borrow::Cow;
use std::panic::Location;
use std::sync::Arc;
use std::time::Duration;
use weak_table::traits::WeakKey;

/// Builder state: values are dropped without their own [`Cleanup`].
///
/// ```
/// let builder: mapguard::builder::Builder<u8, u8, mapguard::policy::Lru> = mapguard::LruMap::builder(4);
/// # drop(builder);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct NoValueCleanup;

/// Builder state: every value's [`Cleanup::cleanup`] runs before the listener.
///
/// ```
/// use mapguard::builder::{Builder, ValueCleanup};
/// use mapguard::hooks::NoListener;
/// use mapguard::{Cleanup, DefaultHashBuilder, RemovalCause};
/// struct Conn;
/// impl Cleanup for Conn { fn cleanup(&mut self, _: RemovalCause) {} }
/// let builder: Builder<u8, Conn, mapguard::policy::Lru, DefaultHashBuilder, NoListener, ValueCleanup> =
///     mapguard::LruMap::builder(4).cleanup();
/// # drop(builder);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct ValueCleanup;

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
#[must_use = "a builder does nothing until `build` is called"]
pub struct Builder<
    K,
    V,
    P,
    S = DefaultHashBuilder,
    L = NoListener,
    C = NoValueCleanup,
    E = NoExpiry,
    T = MapTarget,
> {
    max: usize,
    /// Entries to allocate room for up front (0: grow with the entries).
    capacity: usize,
    hasher: S,
    listener: L,
    value_cleanup: C,
    lifetime: Lifetime,
    expiry: E,
    name: Option<Cow<'static, str>>,
    /// Where the map is being created: its name when none is given.
    site: &'static Location<'static>,
    target: T,
    marker: TypeMarker<K, V, P>,
}

/// Ties the builder to the map's types without owning any of them.
type TypeMarker<K, V, P> = PhantomData<fn() -> (K, V, P)>;

/// Builder target: [`ManagedMap`] (`LruMap`, `BoundedMap`).
///
/// ```
/// let map = mapguard::BoundedMap::<u8, u8>::builder(4).build(); // built for MapTarget
/// # drop(map);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct MapTarget;

/// Builder target: [`WeakKeyMap`].
///
/// ```
/// use std::rc::Weak;
/// let map = mapguard::WeakKeyMap::<Weak<u8>, u8>::builder().build(); // built for WeakTarget
/// # drop(map);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct WeakTarget;

/// Builder target: [`ConcurrentMap`], with its shard count if set.
///
/// ```
/// let map = mapguard::ConcurrentLruMap::<u8, u8>::builder(8).build(); // built for ConcurrentTarget
/// # drop(map);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct ConcurrentTarget {
    shards: Option<usize>,
}

/// Which builder targets have one owner (`&mut self` maps, with `FnMut` listeners).
mod target {
    #[allow(unreachable_pub, reason = "sealed: public in a private module")]
    pub trait SingleOwner {}
    impl SingleOwner for super::MapTarget {}
    impl SingleOwner for super::WeakTarget {}
}

impl<K, V, P: Policy, T: Default>
    Builder<K, V, P, DefaultHashBuilder, NoListener, NoValueCleanup, NoExpiry, T>
{
    #[track_caller]
    pub(crate) fn new(max: usize) -> Self {
        assert_valid_max(max);
        Self {
            max,
            capacity: 0,
            hasher: DefaultHashBuilder::default(),
            listener: NoListener,
            value_cleanup: NoValueCleanup,
            lifetime: Lifetime::Process,
            expiry: NoExpiry,
            name: None,
            site: Location::caller(),
            target: T::default(),
            marker: PhantomData,
        }
    }
}

impl<K, V, P: Policy, S, L, C, E: Expiry, T> Builder<K, V, P, S, L, C, E, T> {
    /// Hashes keys with `hasher` instead of the default (foldhash, randomly seeded per
    /// process). Pass `std`'s `RandomState` (SipHash) for keys an attacker may choose.
    ///
    /// ```
    /// use std::collections::hash_map::RandomState;
    /// let map = mapguard::LruMap::<String, u32>::builder(8).hasher(RandomState::new()).build();
    /// # drop(map);
    /// ```
    pub fn hasher<S2>(self, hasher: S2) -> Builder<K, V, P, S2, L, C, E, T> {
        Builder {
            max: self.max,
            capacity: self.capacity,
            hasher,
            listener: self.listener,
            value_cleanup: self.value_cleanup,
            lifetime: self.lifetime,
            expiry: self.expiry,
            name: self.name,
            site: self.site,
            target: self.target,
            marker: PhantomData,
        }
    }

    /// Names the map in reports and [`stats`](crate::ManagedCache::stats) (default: the
    /// call site that created the builder).
    ///
    /// ```
    /// let map = mapguard::LruMap::<u8, u8>::builder(4).name("Sessions.by_id").build();
    /// assert_eq!(map.name(), "Sessions.by_id");
    /// ```
    pub fn name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The map's name as set, or the creation site.
    /// Allocates room for `capacity` entries (at most `max`) when the map is built, so it does
    /// not reallocate while it fills to that size; like `HashMap::with_capacity`. By default
    /// storage starts empty and grows with the entries. The automatic shrink after removals
    /// still applies.
    ///
    /// ```
    /// let map = mapguard::LruMap::<u64, u64>::builder(1_000).capacity(500).build();
    /// assert!(map.capacity() >= 500);
    /// let cache = mapguard::ConcurrentLruMap::<u64, u64>::builder(1_000).capacity(500).build();
    /// assert!(cache.capacity() >= 500);
    /// ```
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity;
        self
    }

    fn take_name(&mut self) -> Cow<'static, str> {
        self.name
            .take()
            .unwrap_or_else(|| Cow::Owned(self.site.to_string()))
    }

    /// Tags the map with a [`Lifetime`]: [`ManagedCache::end_scope`](crate::ManagedCache::end_scope)
    /// for that lifetime clears it. Default: [`Lifetime::Process`].
    ///
    /// ```
    /// use mapguard::{Lifetime, LruMap, ManagedCache};
    /// let mut map = LruMap::builder(8).lifetime(Lifetime::Session).build();
    /// map.insert(1, 1);
    /// assert_eq!(map.end_scope(Lifetime::Request), 0);
    /// assert_eq!(map.end_scope(Lifetime::Session), 1);
    /// ```
    pub fn lifetime(mut self, lifetime: Lifetime) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// Entries expire `ttl` after they were last written (inserted or replaced). Expired
    /// entries are invisible to lookups at once and leave through the cleanup path with
    /// [`RemovalCause::Expired`]. Each entry then carries one
    /// `u64` timestamp; maps without `ttl`/`idle` store none.
    ///
    /// ```
    /// use mapguard::{testing::MockClock, LruMap};
    /// use std::time::Duration;
    ///
    /// let clock = MockClock::new();
    /// let mut map = LruMap::builder(8).ttl(Duration::from_secs(30)).clock(clock.clone()).build();
    /// map.insert("token", 1);
    /// clock.advance(Duration::from_secs(31));
    /// assert_eq!(map.get("token"), None);
    /// ```
    pub fn ttl(self, ttl: Duration) -> Builder<K, V, P, S, L, C, Expiring, T> {
        let mut builder = self.expiring();
        builder.expiry.set_ttl(ttl);
        builder
    }

    /// Entries expire `idle` after they were last read or written. See [`ttl`](Self::ttl).
    ///
    /// ```
    /// use mapguard::{testing::MockClock, LruMap};
    /// use std::time::Duration;
    ///
    /// let clock = MockClock::new();
    /// let mut map = LruMap::builder(8).idle(Duration::from_secs(10)).clock(clock.clone()).build();
    /// map.insert("session", 1);
    /// clock.advance(Duration::from_secs(9));
    /// assert!(map.get("session").is_some()); // the read resets the idle timer
    /// clock.advance(Duration::from_secs(9));
    /// assert!(map.get("session").is_some());
    /// clock.advance(Duration::from_secs(11));
    /// assert!(map.get("session").is_none());
    /// ```
    pub fn idle(self, idle: Duration) -> Builder<K, V, P, S, L, C, Expiring, T> {
        let mut builder = self.expiring();
        builder.expiry.set_idle(idle);
        builder
    }

    /// Records how long keys live before leaving, for P50/P95/P99 in
    /// [`registry`](crate::registry) reports. Costs one `u64` per entry and a clock read per
    /// insert and removal, so it is off unless asked for.
    ///
    /// ```
    /// let map = mapguard::LruMap::<u8, u8>::builder(8).key_lifetimes().build();
    /// # drop(map);
    /// ```
    pub fn key_lifetimes(self) -> Builder<K, V, P, S, L, C, Expiring, T> {
        let mut builder = self.expiring();
        builder.expiry.record_key_lifetimes();
        builder
    }

    /// The time source for `ttl`/`idle` (default: [`SystemClock`](crate::expiry::SystemClock)). Tests
    /// pass a [`MockClock`](crate::testing::MockClock) and advance it instead of sleeping.
    ///
    /// ```
    /// use mapguard::{testing::MockClock, BoundedMap};
    /// use std::time::Duration;
    ///
    /// let clock = MockClock::new();
    /// let map = BoundedMap::<u8, u8>::builder(8).ttl(Duration::from_millis(250)).clock(clock).build();
    /// # drop(map);
    /// ```
    pub fn clock(self, clock: impl Clock + 'static) -> Builder<K, V, P, S, L, C, Expiring, T> {
        let mut builder = self.expiring();
        builder.expiry.set_clock(Arc::new(clock));
        builder
    }

    /// The same builder with an expiry state (keeping any `ttl`/`idle`/clock already set).
    fn expiring(self) -> Builder<K, V, P, S, L, C, Expiring, T> {
        Builder {
            max: self.max,
            capacity: self.capacity,
            hasher: self.hasher,
            listener: self.listener,
            value_cleanup: self.value_cleanup,
            lifetime: self.lifetime,
            expiry: self.expiry.into_expiring(),
            name: self.name,
            site: self.site,
            target: self.target,
            marker: PhantomData,
        }
    }

    /// The same builder with another listener; the public methods bound it by target.
    fn with_listener<L2>(self, listener: L2) -> Builder<K, V, P, S, L2, C, E, T> {
        Builder {
            max: self.max,
            capacity: self.capacity,
            hasher: self.hasher,
            listener,
            value_cleanup: self.value_cleanup,
            lifetime: self.lifetime,
            expiry: self.expiry,
            name: self.name,
            site: self.site,
            target: self.target,
            marker: PhantomData,
        }
    }
}

impl<K, V, P: Policy, S, L, C, E: Expiry, T: target::SingleOwner> Builder<K, V, P, S, L, C, E, T> {
    /// Sends every entry that leaves through the cleanup path to `listener`. Replaces any
    /// listener set before; keeps [`cleanup`](Self::cleanup).
    ///
    /// ```
    /// use mapguard::hooks::RemovalListener;
    ///use mapguard::{LruMap, RemovalCause};
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
    pub fn listener<L2: RemovalListener<K, V>>(
        self,
        listener: L2,
    ) -> Builder<K, V, P, S, L2, C, E, T> {
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
    ) -> Builder<K, V, P, S, F, C, E, T> {
        self.listener(on_removal)
    }
}

impl<K, V, P: Policy, S, L, E: Expiry, T> Builder<K, V, P, S, L, NoValueCleanup, E, T> {
    /// Runs each value's [`Cleanup::cleanup`] before the listener whenever it leaves through
    /// the cleanup path.
    ///
    /// ```
    /// use mapguard::{BoundedMap, Cleanup, RemovalCause};
    /// use std::{cell::Cell, rc::Rc};
    ///
    /// struct Handle(Rc<Cell<u32>>);
    /// impl Cleanup for Handle {
    ///     fn cleanup(&mut self, _cause: RemovalCause) {
    ///         self.0.set(self.0.get() + 1);
    ///     }
    /// }
    ///
    /// let closed = Rc::new(Cell::new(0));
    /// let mut map = BoundedMap::builder(4).cleanup().build();
    /// map.try_insert(1, Handle(Rc::clone(&closed))).unwrap();
    /// map.discard(&1);
    /// assert_eq!(closed.get(), 1);
    /// ```
    pub fn cleanup(self) -> Builder<K, V, P, S, L, ValueCleanup, E, T>
    where
        // On the method, not the impl, so a missing impl reports `Cleanup`'s own message.
        V: Cleanup,
    {
        Builder {
            max: self.max,
            capacity: self.capacity,
            hasher: self.hasher,
            listener: self.listener,
            value_cleanup: ValueCleanup,
            lifetime: self.lifetime,
            expiry: self.expiry,
            name: self.name,
            site: self.site,
            target: self.target,
            marker: PhantomData,
        }
    }
}

impl<K, V, P: Policy, S, L, E: Expiry> Builder<K, V, P, S, L, NoValueCleanup, E, MapTarget> {
    /// Makes the map.
    ///
    /// ```
    /// let map = mapguard::LruMap::<u8, u8>::builder(4).build();
    /// assert_eq!(map.max(), 4);
    /// ```
    pub fn build(mut self) -> ManagedMap<K, V, P, S, L, E>
    where
        L: RemovalListener<K, V>,
    {
        let name = self.take_name();
        ManagedMap::from_parts(
            Store::with_capacity(self.max, self.hasher, self.expiry, self.capacity),
            self.listener,
            self.lifetime,
            name,
            self.site,
        )
    }
}

impl<K, V, P: Policy, S, L, E: Expiry> Builder<K, V, P, S, L, ValueCleanup, E, MapTarget> {
    /// Makes the map; its listener runs each value's cleanup first.
    ///
    /// ```
    /// # use mapguard::{Cleanup, RemovalCause};
    /// # struct Conn;
    /// # impl Cleanup for Conn { fn cleanup(&mut self, _: RemovalCause) {} }
    /// let map = mapguard::LruMap::<u8, Conn>::builder(4).cleanup().build();
    /// assert_eq!(map.max(), 4);
    /// ```
    pub fn build(mut self) -> ManagedMap<K, V, P, S, WithCleanup<L>, E>
    where
        V: Cleanup,
        L: RemovalListener<K, V>,
    {
        let name = self.take_name();
        ManagedMap::from_parts(
            Store::with_capacity(self.max, self.hasher, self.expiry, self.capacity),
            WithCleanup(self.listener),
            self.lifetime,
            name,
            self.site,
        )
    }
}

impl<K, V, P: Policy, S, L, C: fmt::Debug, E: fmt::Debug, T> fmt::Debug
    for Builder<K, V, P, S, L, C, E, T>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("policy", &P::NAME)
            .field("max", &self.max)
            .field("value_cleanup", &self.value_cleanup)
            .field("lifetime", &self.lifetime)
            .field("expiry", &self.expiry)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl<K: WeakKey, V, P: Policy, S: BuildHasher, L, E: Expiry>
    Builder<K, V, P, S, L, NoValueCleanup, E, WeakTarget>
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
    pub fn build(mut self) -> WeakKeyMap<K, V, P, S, L, E>
    where
        L: RemovalListener<K, V>,
    {
        let name = self.take_name();
        WeakKeyMap::from_parts(
            Store::with_capacity(self.max, StoredHash, self.expiry, self.capacity),
            self.listener,
            self.lifetime,
            name,
            self.site,
            self.hasher,
        )
    }
}

impl<K: WeakKey, V, P: Policy, S: BuildHasher, L, E: Expiry>
    Builder<K, V, P, S, L, ValueCleanup, E, WeakTarget>
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
    pub fn build(mut self) -> WeakKeyMap<K, V, P, S, WithCleanup<L>, E>
    where
        V: Cleanup,
        L: RemovalListener<K, V>,
    {
        let name = self.take_name();
        WeakKeyMap::from_parts(
            Store::with_capacity(self.max, StoredHash, self.expiry, self.capacity),
            WithCleanup(self.listener),
            self.lifetime,
            name,
            self.site,
            self.hasher,
        )
    }
}

impl<K, V, P: Policy, S, L, C, E: Expiry> Builder<K, V, P, S, L, C, E, ConcurrentTarget> {
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
        self.target.shards = Some(shards);
        self
    }

    /// Sends every entry that leaves through the cleanup path to `listener`, on the thread
    /// that made it leave, after the map's lock is released. Replaces any listener set
    /// before; keeps [`cleanup`](Self::cleanup).
    ///
    /// ```
    /// use mapguard::hooks::ConcurrentListener;
    ///use mapguard::{ConcurrentLruMap, RemovalCause};
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
    pub fn listener<L2: ConcurrentListener<K, V>>(
        self,
        listener: L2,
    ) -> Builder<K, V, P, S, L2, C, E, ConcurrentTarget> {
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
    ) -> Builder<K, V, P, S, F, C, E, ConcurrentTarget> {
        self.listener(on_removal)
    }

    fn build_concurrent<L2: ConcurrentListener<K, V>>(
        mut self,
        wrap: impl FnOnce(L) -> L2,
    ) -> ConcurrentMap<K, V, P, S, L2, E>
    where
        S: Clone,
    {
        let name = self.take_name();
        ConcurrentMap::from_parts(
            Sizing {
                max: self.max,
                capacity: self.capacity,
                shards: self.target.shards,
            },
            self.hasher,
            &self.expiry,
            wrap(self.listener),
            self.lifetime,
            name,
            self.site,
        )
    }
}

impl<K, V, P: Policy, S: Clone, L, E: Expiry>
    Builder<K, V, P, S, L, NoValueCleanup, E, ConcurrentTarget>
{
    /// Builds the concurrent map.
    ///
    /// ```
    /// let map = mapguard::ConcurrentBoundedMap::<u32, u32>::builder(8).build();
    /// assert!(map.try_insert(1, 1).is_ok());
    /// ```
    pub fn build(self) -> ConcurrentMap<K, V, P, S, L, E>
    where
        L: ConcurrentListener<K, V>,
    {
        self.build_concurrent(|listener| listener)
    }
}

impl<K, V, P: Policy, S: Clone, L, E: Expiry>
    Builder<K, V, P, S, L, ValueCleanup, E, ConcurrentTarget>
{
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
        L: ConcurrentListener<K, V>,
    {
        self.build_concurrent(WithCleanup)
    }
}
