//! What the builders share: the value-cleanup states of their type parameter `Vc`
//! ([`NoValueCleanup`], [`ValueCleanup`]), the settings every builder sets whichever map it
//! builds (bound, hasher, lifetime, expiry, name), and the macros that write each builder and
//! each kind's constructors once. Each map kind has a builder of its own: [`map::Builder`],
//! [`weak::Builder`], [`concurrent::Builder`]. This module knows no map kind, so imports go one
//! way.
//!
//! ```
//! use mapguard::builder::{NoValueCleanup, ValueCleanup};
//! let plain = mapguard::LruMap::<u8, u8>::builder(4); // Vc = NoValueCleanup
//! # let _: mapguard::map::Builder<u8, u8, mapguard::policy::Lru, mapguard::DefaultHashBuilder,
//! #     mapguard::hooks::NoListener, NoValueCleanup> = plain;
//! # let _ = ValueCleanup;
//! ```
//!
//! [`map::Builder`]: crate::map::Builder
//! [`weak::Builder`]: crate::weak::Builder
//! [`concurrent::Builder`]: crate::concurrent::Builder

use std::borrow::Cow;
use std::panic::Location;

use hashbrown::DefaultHashBuilder;

use crate::scope::Lifetime;
use crate::storage::expiry::sealed::ExpiryState;
use crate::storage::expiry::{Expiring, Expiry, NoExpiry, Timed, WithWeights};

/// Builder state: values are dropped without their own [`Cleanup`](crate::Cleanup).
///
/// ```
/// use mapguard::builder::NoValueCleanup;
/// let builder: mapguard::map::Builder<u8, u8, mapguard::policy::Lru> = mapguard::LruMap::builder(4);
/// assert!(format!("{builder:?}").contains("NoValueCleanup"));
/// # let _ = NoValueCleanup;
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct NoValueCleanup;

/// Builder state: every value's [`Cleanup::cleanup`](crate::Cleanup::cleanup) runs before the
/// listener.
///
/// ```
/// use mapguard::builder::ValueCleanup;
/// use mapguard::hooks::NoListener;
/// use mapguard::map::Builder;
/// use mapguard::{Cleanup, DefaultHashBuilder, RemovalCause};
/// struct Conn;
/// impl Cleanup for Conn { fn cleanup(&mut self, _: RemovalCause) {} }
/// let builder: Builder<u8, Conn, mapguard::policy::Lru, DefaultHashBuilder, NoListener, ValueCleanup> =
///     mapguard::LruMap::builder(4).cleanup();
/// # drop(builder);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct ValueCleanup;

/// Ties a builder to its map's types without owning any of them.
pub(crate) type TypeMarker<K, V, P> = core::marker::PhantomData<fn() -> (K, V, P)>;

/// The weight budget a builder asked for, and its weigher: entries weigh 1 without one, and a
/// weigher without a budget only keeps the sum.
pub(crate) fn budget<K, V>(
    max_weight: Option<u64>,
    weigher: Option<crate::storage::weigher::Weigher<K, V>>,
) -> Option<(u64, crate::storage::weigher::Weigher<K, V>)> {
    match (max_weight, weigher) {
        (None, None) => None,
        (max_weight, weigher) => Some((
            max_weight.unwrap_or(u64::MAX),
            weigher.unwrap_or(crate::storage::weigher::Weigher::Unit),
        )),
    }
}

/// Panics on a weight budget nothing could fit.
#[track_caller]
pub(crate) fn assert_valid_max_weight(max_weight: u64) {
    assert!(
        max_weight > 0,
        "mapguard: `max_weight` must be at least 1 (no entry would fit a budget of 0)"
    );
}

/// Panics on a bound that could hold nothing.
#[track_caller]
pub(crate) fn assert_valid_max(max: usize) {
    assert!(
        max > 0,
        "mapguard: `max` must be at least 1 (a map that can hold nothing would have to clean \
         every value as it arrives)"
    );
}

/// The part of a builder that does not depend on the listener.
#[derive(Debug)]
pub(crate) struct Settings<S, E> {
    pub(crate) max: usize,
    /// Entries to allocate room for up front (0: grow with the entries).
    pub(crate) capacity: usize,
    pub(crate) hasher: S,
    pub(crate) lifetime: Lifetime,
    pub(crate) expiry: E,
    name: Option<Cow<'static, str>>,
    /// Where the map is being created: its name when none is given.
    pub(crate) site: &'static Location<'static>,
    /// Shard count, if set (concurrent maps only).
    pub(crate) shards: Option<usize>,
    /// The weight budget, if set.
    pub(crate) max_weight: Option<u64>,
}

impl Settings<DefaultHashBuilder, NoExpiry> {
    #[track_caller]
    pub(crate) fn new(max: usize) -> Self {
        assert_valid_max(max);
        Self {
            max,
            capacity: 0,
            hasher: DefaultHashBuilder::default(),
            lifetime: Lifetime::Process,
            expiry: NoExpiry,
            name: None,
            site: Location::caller(),
            shards: None,
            max_weight: None,
        }
    }
}

impl<S, E: Expiry> Settings<S, E> {
    /// The same settings with the hasher and the per-entry state passed through `hasher` and
    /// `state`: the one place a setting's type changes.
    fn retype<S2, E2>(
        self,
        hasher: impl FnOnce(S) -> S2,
        state: impl FnOnce(E) -> E2,
    ) -> Settings<S2, E2> {
        Settings {
            max: self.max,
            capacity: self.capacity,
            hasher: hasher(self.hasher),
            lifetime: self.lifetime,
            expiry: state(self.expiry),
            name: self.name,
            site: self.site,
            shards: self.shards,
            max_weight: self.max_weight,
        }
    }

    pub(crate) fn with_hasher<S2>(self, hasher: S2) -> Settings<S2, E> {
        self.retype(|_| hasher, |state| state)
    }

    /// The same settings with a timer (keeping any `ttl`/`idle`/clock already set), which
    /// `set` then configures.
    pub(crate) fn timed(self, set: impl FnOnce(&mut Expiring)) -> Settings<S, Timed<E>> {
        self.retype(
            |hasher| hasher,
            |state| {
                let mut state = state.into_timed();
                set(state.timer_mut());
                state
            },
        )
    }

    /// The same settings keeping a weight per entry.
    pub(crate) fn weighed(self) -> Settings<S, WithWeights<E>> {
        self.retype(|hasher| hasher, ExpiryState::into_weighed)
    }

    pub(crate) fn set_name(&mut self, name: Cow<'static, str>) {
        self.name = Some(name);
    }

    /// The name as set, or the creation site.
    pub(crate) fn take_name(&mut self) -> Cow<'static, str> {
        self.name
            .take()
            .unwrap_or_else(|| Cow::Owned(self.site.to_string()))
    }
}

/// Declares a builder: the struct (fields `settings`, `listener`, `value_cleanup`, `marker`;
/// parameters `<K, V, P, S, L, Vc, E>`), its `new`, the setters every builder shares, and its
/// hooks and `build` — written once here. `new` and `conn` are builder expressions for the doc
/// examples (`u64` keys, or `Weak<u64>` ones, and `u64` values; `Conn` values); `key` is that
/// key type. `hooks` names the map the builder makes, the trait its listeners meet
/// (`ListenerOf` or `ConcurrentListenerOf`), the closure trait `on_removal` takes and the
/// bounds under which the map is made (each builder's own `build_with` makes it).
macro_rules! builder {
    (
        $(#[$doc:meta])*
        pub struct $builder:ident<K, V, P $(= $policy:ty)?>;
        new = $new:literal, conn = $conn:literal, key = $key:literal;
        hooks = $map:ident, $listener_of:ident, $closure:ident [$($closure_bounds:tt)*],
            boxed = $boxed:ident, where [$($build_bounds:tt)*], note = $note:literal;
        stored_key = $stored_key:ty, $on_stored:path;
    ) => {
        $(#[$doc])*
        #[must_use = "a builder does nothing until `build` is called"]
        pub struct $builder<
            K,
            V,
            P $(= $policy)?,
            S = $crate::DefaultHashBuilder,
            L = $crate::hooks::NoListener,
            Vc = $crate::builder::NoValueCleanup,
            E = $crate::storage::expiry::NoExpiry,
        > {
            settings: $crate::builder::Settings<S, E>,
            listener: L,
            value_cleanup: Vc,
            /// What entries weigh, if weighed ([`crate::weight`]).
            weigher: Option<$crate::storage::weigher::Weigher<K, V>>,
            /// What decides each entry's deadline, if not `ttl`/`idle` ([`crate::expiry`]).
            expire_after: Option<$crate::storage::expiry::SharedPolicy<$stored_key, V>>,
            marker: $crate::builder::TypeMarker<K, V, P>,
        }

        impl<K, V, P: Policy, S, L, Vc, E> $builder<K, V, P, S, L, Vc, E> {
            /// The same builder with its settings, listener and cleanup state passed through
            /// `change`: the one place a setter that changes a type parameter rebuilds it.
            fn retype<S2, L2, C2, E2>(
                self,
                change: impl FnOnce(
                    $crate::builder::Settings<S, E>,
                    L,
                    Vc,
                ) -> ($crate::builder::Settings<S2, E2>, L2, C2),
            ) -> $builder<K, V, P, S2, L2, C2, E2> {
                let (settings, listener, value_cleanup) =
                    change(self.settings, self.listener, self.value_cleanup);
                $builder {
                    settings,
                    listener,
                    value_cleanup,
                    weigher: self.weigher,
                    expire_after: self.expire_after,
                    marker: ::core::marker::PhantomData,
                }
            }

            /// The same builder with a timer, which `set` configures (`ttl`, `idle`, `clock`,
            /// `key_lifetimes`).
            fn timed(
                self,
                set: impl FnOnce(&mut $crate::storage::expiry::Expiring),
            ) -> $builder<K, V, P, S, L, Vc, $crate::storage::expiry::Timed<E>>
            where
                E: $crate::storage::expiry::Expiry,
            {
                self.retype(|settings, listener, value_cleanup| (settings.timed(set), listener, value_cleanup))
            }

            /// The same builder with another listener; each kind's `listener` bounds it.
            fn with_listener<L2>(self, listener: L2) -> $builder<K, V, P, S, L2, Vc, E> {
                self.retype(|settings, _, value_cleanup| (settings, listener, value_cleanup))
            }
        }

        impl<K, V, P: $crate::policy::Policy> $builder<K, V, P> {
            #[track_caller]
            pub(crate) fn new(max: usize) -> Self {
                Self {
                    settings: $crate::builder::Settings::new(max),
                    listener: $crate::hooks::NoListener,
                    value_cleanup: $crate::builder::NoValueCleanup,
                    weigher: None,
                    expire_after: None,
                    marker: ::core::marker::PhantomData,
                }
            }
        }

        impl<K, V, P: Policy, S, L, Vc, E: $crate::storage::expiry::Expiry> $builder<K, V, P, S, L, Vc, E> {
            /// Hashes keys with `hasher` instead of the default (foldhash, randomly seeded per
            /// process). Pass `std`'s `RandomState` (SipHash) for keys an attacker may choose.
            ///
            /// ```
            /// use std::collections::hash_map::RandomState;
            #[doc = concat!("let map = ", $new, ".hasher(RandomState::new()).build();")]
            /// assert!(map.is_empty());
            /// ```
            pub fn hasher<S2>(self, hasher: S2) -> $builder<K, V, P, S2, L, Vc, E> {
                self.retype(|settings, listener, value_cleanup| (settings.with_hasher(hasher), listener, value_cleanup))
            }

            /// Names the map in reports and [`stats`](crate::ManagedCache::stats) (default:
            /// the call site that created the builder).
            ///
            /// ```
            #[doc = concat!("let map = ", $new, ".name(\"Sessions.by_id\").build();")]
            /// assert_eq!(map.name(), "Sessions.by_id");
            /// ```
            pub fn name(mut self, name: impl Into<::std::borrow::Cow<'static, str>>) -> Self {
                self.settings.set_name(name.into());
                self
            }

            /// Allocates room for `capacity` entries (at most `max`) when the map is built, so
            /// it does not reallocate while it fills to that size; like
            /// `HashMap::with_capacity`. By default storage starts empty and grows with the
            /// entries. The automatic shrink after removals still applies.
            ///
            /// ```
            #[doc = concat!("let map = ", $new, ".capacity(6).build();")]
            /// assert!(map.capacity() >= 6);
            /// ```
            pub fn capacity(mut self, capacity: usize) -> Self {
                self.settings.capacity = capacity;
                self
            }

            /// Weighs entries with `weigher` (usually the heap bytes a value owns): the map
            /// keeps their sum ([`weight`](crate::ManagedMap::weight)), and with
            /// [`max_weight`](Self::max_weight) bounds it. See [`crate::weight`] for what
            /// happens when an entry does not fit. [`weight::by_value`](crate::weight::by_value)
            /// weighs values through their [`Weigh`](crate::weight::Weigh) impl.
            ///
            /// A weighed map keeps one `u64` weight per entry: its per-entry state `E` becomes
            /// [`Weighed<E>`](crate::weight::Weighed) (keeping any expiry), so maps without
            /// weights carry none and pay nothing for them.
            ///
            /// ```
            #[doc = concat!("let map = ", $new, ".weigher(|_key, value| *value).max_weight(1 << 20).build();")]
            /// assert!(map.is_empty());
            /// ```
            pub fn weigher(
                self,
                weigher: impl Fn(&K, &V) -> u64 + Send + Sync + 'static,
            ) -> $builder<K, V, P, S, L, Vc, $crate::storage::expiry::WithWeights<E>> {
                let mut builder =
                    self.retype(|settings, listener, value_cleanup| (settings.weighed(), listener, value_cleanup));
                builder.weigher = Some($crate::storage::weigher::Weigher::Shared(::std::sync::Arc::new(weigher)));
                builder
            }

            /// Bounds what the entries weigh together (beside `max`, which still bounds how
            /// many there are). Without a [`weigher`](Self::weigher) each entry weighs 1.
            /// See [`crate::weight`]; like `weigher`, it makes `E`
            /// [`Weighed<E>`](crate::weight::Weighed).
            ///
            /// # Panics
            ///
            /// If `max_weight` is 0.
            ///
            /// ```
            #[doc = concat!("let map = ", $new, ".weigher(|_key, value| *value).max_weight(64).build();")]
            /// assert_eq!(map.max_weight(), Some(64));
            /// ```
            #[track_caller]
            pub fn max_weight(
                self,
                max_weight: u64,
            ) -> $builder<K, V, P, S, L, Vc, $crate::storage::expiry::WithWeights<E>> {
                assert!(max_weight > 0, "mapguard: `max_weight` must be at least 1");
                self.retype(|settings, listener, value_cleanup| {
                    let mut settings = settings.weighed();
                    settings.max_weight = Some(max_weight);
                    (settings, listener, value_cleanup)
                })
            }

            /// Tags the map with a [`Lifetime`](crate::Lifetime):
            /// [`ManagedCache::end_scope`](crate::ManagedCache::end_scope) for that lifetime
            /// clears it. Default: [`Lifetime::Process`](crate::Lifetime::Process). A
            /// concurrent map also tags each entry with the [`Scope`](crate::scope::Scope) of
            /// that lifetime current when it was written, and removes exactly a scope's
            /// entries when it ends; a single-threaded map made by a builder does not (a
            /// `#[managed_map]` field of that lifetime does: its type says so).
            ///
            /// ```
            /// use mapguard::Lifetime;
            #[doc = concat!("let map = ", $new, ".lifetime(Lifetime::Session).build();")]
            /// assert_eq!(map.lifetime(), Lifetime::Session);
            /// ```
            pub fn lifetime(mut self, lifetime: $crate::Lifetime) -> Self {
                self.settings.lifetime = lifetime;
                self
            }

            /// Entries expire `ttl` after they were last written (inserted or replaced).
            /// Expired entries are invisible to lookups at once and leave through the cleanup
            /// path with [`RemovalCause::Expired`](crate::RemovalCause::Expired). Each entry
            /// then carries a deadline and its place in a timer wheel (16 bytes; 24 with
            /// `idle` too); maps without expiry store none, and their type says so (`E` =
            /// [`NoExpiry`](crate::expiry::NoExpiry)). The special case of
            /// [`expire_after`](Self::expire_after) with a policy answering `ttl` on every write.
            ///
            /// ```
            /// use std::time::Duration;
            #[doc = concat!("let map = ", $new, ".ttl(Duration::from_secs(30)).build();")]
            /// assert!(map.is_empty());
            /// ```
            pub fn ttl(self, ttl: ::std::time::Duration) -> $builder<K, V, P, S, L, Vc, $crate::storage::expiry::Timed<E>> {
                self.timed(|timer| timer.set_ttl(ttl))
            }

            /// Entries expire `idle` after they were last read or written. See
            /// [`ttl`](Self::ttl).
            ///
            /// ```
            /// use std::time::Duration;
            #[doc = concat!("let map = ", $new, ".idle(Duration::from_secs(10)).build();")]
            /// assert!(map.is_empty());
            /// ```
            pub fn idle(self, idle: ::std::time::Duration) -> $builder<K, V, P, S, L, Vc, $crate::storage::expiry::Timed<E>> {
                self.timed(|timer| timer.set_idle(idle))
            }

            /// Records how long keys live before leaving, for P50/P95/P99 in
            /// [`registry`](crate::registry) reports. Costs one `u64` per entry and a clock
            /// read per insert and removal, so it is off unless asked for.
            ///
            /// ```
            #[doc = concat!("let map = ", $new, ".key_lifetimes().build();")]
            /// assert!(map.is_empty());
            /// ```
            pub fn key_lifetimes(self) -> $builder<K, V, P, S, L, Vc, $crate::storage::expiry::Timed<E>> {
                self.timed($crate::storage::expiry::Expiring::record_key_lifetimes)
            }

            /// Lets `policy` choose each entry's deadline when it is created, updated and read
            /// (see [`ExpireAfter`](crate::expiry::ExpireAfter)); replaces `ttl`/`idle`.
            /// Each entry then carries a deadline and its place in a timer wheel (16 bytes);
            /// expired entries are invisible at once, leave with
            /// [`RemovalCause::Expired`](crate::RemovalCause::Expired) at the next writes (or
            /// [`maintain`](crate::ManagedCache::maintain)), and go before any live entry when
            /// room is needed.
            ///
            /// ```
            /// use mapguard::expiry::OnlyWhenSet;
            /// use std::time::Duration;
            #[doc = concat!("let map = ", $new, ".expire_after(OnlyWhenSet).build();")]
            /// assert!(map.is_empty());
            /// ```
            pub fn expire_after(
                self,
                policy: impl $crate::expiry::ExpireAfter<K, V> + 'static,
            ) -> $builder<K, V, P, S, L, Vc, $crate::storage::expiry::Timed<E>> {
                let mut builder = self.timed($crate::storage::expiry::Expiring::start_wheel);
                builder.expire_after = Some(::std::sync::Arc::new($on_stored(policy)));
                builder
            }

            /// The time source for expiry: `ttl`/`idle`, `expire_after`, `insert_with_ttl` (default:
            /// [`SystemClock`](crate::expiry::SystemClock)). Tests pass a
            /// [`MockClock`](crate::testing::MockClock) and advance it instead of sleeping.
            ///
            /// ```
            /// use mapguard::testing::MockClock;
            /// use std::time::Duration;
            ///
            /// let clock = MockClock::new();
            #[doc = concat!("let map = ", $new, ".ttl(Duration::from_millis(250)).clock(clock.clone()).build();")]
            /// clock.advance(Duration::from_secs(1));
            /// assert!(map.is_empty());
            /// ```
            pub fn clock(self, clock: impl $crate::expiry::Clock + 'static) -> $builder<K, V, P, S, L, Vc, $crate::storage::expiry::Timed<E>> {
                self.timed(|timer| timer.set_clock($crate::storage::expiry::TimeSource::of(clock)))
            }
        }

        impl<K, V, P: Policy, S, L, E: $crate::storage::expiry::Expiry>
            $builder<K, V, P, S, L, $crate::builder::NoValueCleanup, E>
        {
            /// Runs each value's [`Cleanup::cleanup`](crate::Cleanup::cleanup) before the
            /// listener whenever it leaves through the cleanup path.
            ///
            /// ```
            /// use mapguard::{Cleanup, RemovalCause};
            ///
            /// struct Conn;
            /// impl Cleanup for Conn {
            ///     fn cleanup(&mut self, _cause: RemovalCause) { /* close it */ }
            /// }
            #[doc = concat!("let map = ", $conn, ".cleanup().build();")]
            /// assert!(map.is_empty());
            /// ```
            pub fn cleanup(self) -> $builder<K, V, P, S, L, $crate::builder::ValueCleanup, E>
            where
                // On the method, not the impl, so a missing impl reports `Cleanup`'s own message.
                V: $crate::Cleanup,
            {
                self.retype(|settings, listener, _| (settings, listener, $crate::builder::ValueCleanup))
            }
        }

        impl<K, V, P: Policy, S, L, Vc, E: $crate::storage::expiry::Expiry>
            $builder<K, V, P, S, L, Vc, E>
        where
            $($build_bounds)*
        {
            /// Sends every entry that leaves through the cleanup path to `listener` (a closure
            /// or a type implementing the listener trait), with its
            /// [`RemovalCause`](crate::RemovalCause).
            #[doc = $note]
            /// Replaces any listener set before; keeps [`cleanup`](Self::cleanup).
            ///
            /// ```
            /// use mapguard::RemovalCause;
            #[doc = concat!("let map = ", $new, ".listener(|_key: ", $key, ", value: u64, cause: RemovalCause| println!(\"{value} left: {cause}\")).build();")]
            /// assert!(map.is_empty());
            /// ```
            pub fn listener<L2: $crate::hooks::$listener_of<K, V, $map<K, V, P, S>>>(
                self,
                listener: L2,
            ) -> $builder<K, V, P, S, L2, Vc, E> {
                self.with_listener(listener)
            }

            /// Calls `on_removal(key, value, cause)` for every entry that leaves through the
            /// cleanup path: shorthand for [`listener`](Self::listener) with a closure.
            ///
            /// ```
            /// use std::sync::atomic::{AtomicUsize, Ordering};
            ///
            /// let removed = AtomicUsize::new(0);
            #[doc = concat!("let map = ", $new, ".on_removal(|_key, _value, _cause| { removed.fetch_add(1, Ordering::Relaxed); }).build();")]
            /// drop(map);
            /// assert_eq!(removed.into_inner(), 0); // it held nothing
            /// ```
            pub fn on_removal<F: $closure(K, V, $crate::RemovalCause) $($closure_bounds)*>(
                self,
                on_removal: F,
            ) -> $builder<K, V, P, S, F, Vc, E> {
                self.with_listener(on_removal)
            }

            /// [`on_removal`](Self::on_removal) with the closure boxed, so the map's listener
            #[doc = concat!("type is [`", stringify!($boxed), "<K, V>`](crate::hooks::", stringify!($boxed), ")")]
            /// whatever the closure: a struct field can name the map's type and still be built
            /// with a closure that captures its owner's own state. One call through a pointer
            /// per value that leaves.
            ///
            /// ```
            /// use std::sync::Arc;
            /// use std::sync::atomic::{AtomicUsize, Ordering};
            ///
            /// let removed = Arc::new(AtomicUsize::new(0));
            /// let count = Arc::clone(&removed);
            #[doc = concat!("let map = ", $new, ".on_removal_boxed(move |_key, _value, _cause| { count.fetch_add(1, Ordering::Relaxed); }).build();")]
            #[doc = concat!("let _: &mapguard::", stringify!($map), "<_, _, _, _, mapguard::hooks::", stringify!($boxed), "<_, _>> = &map;")]
            /// drop(map);
            /// assert_eq!(removed.load(Ordering::Relaxed), 0); // it held nothing
            /// ```
            pub fn on_removal_boxed<F>(
                self,
                on_removal: F,
            ) -> $builder<K, V, P, S, $crate::hooks::$boxed<K, V>, Vc, E>
            where
                F: $closure(K, V, $crate::RemovalCause) $($closure_bounds)* + Send + 'static,
            {
                self.with_listener($crate::hooks::$boxed::new(on_removal))
            }
        }

        impl<K, V, P: Policy, S, L, E: $crate::storage::expiry::Expiry>
            $builder<K, V, P, S, L, $crate::builder::NoValueCleanup, E>
        where
            $($build_bounds)*
        {
            /// Makes the map.
            ///
            /// ```
            #[doc = concat!("let map = ", $new, ".build();")]
            /// assert!(map.is_empty());
            /// ```
            pub fn build(self) -> $map<K, V, P, S, L, E>
            where
                L: $crate::hooks::$listener_of<K, V, $map<K, V, P, S>>,
            {
                self.build_with(|listener| listener)
            }
        }

        impl<K, V, P: Policy, S, L, E: $crate::storage::expiry::Expiry>
            $builder<K, V, P, S, L, $crate::builder::ValueCleanup, E>
        where
            $($build_bounds)*
        {
            /// Makes the map; values leaving through the cleanup path get their
            /// [`Cleanup`](crate::Cleanup) first, then the listener.
            ///
            /// ```
            /// use mapguard::{Cleanup, RemovalCause};
            ///
            /// struct Conn;
            /// impl Cleanup for Conn {
            ///     fn cleanup(&mut self, _cause: RemovalCause) { /* close it */ }
            /// }
            #[doc = concat!("let map = ", $conn, ".cleanup().build();")]
            /// assert!(map.is_empty());
            /// ```
            pub fn build(self) -> $map<K, V, P, S, $crate::hooks::WithCleanup<L>, E>
            where
                V: $crate::Cleanup,
                L: $crate::hooks::$listener_of<K, V, $map<K, V, P, S>>,
            {
                self.build_with($crate::hooks::WithCleanup)
            }
        }

        impl<K, V, P: $crate::policy::Policy, S, L, Vc: ::core::fmt::Debug, E: ::core::fmt::Debug>
            ::core::fmt::Debug for $builder<K, V, P, S, L, Vc, E>
        {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.debug_struct(stringify!($builder))
                    .field("policy", &P::NAME)
                    .field("max", &self.settings.max)
                    .field("value_cleanup", &self.value_cleanup)
                    .field("lifetime", &self.settings.lifetime)
                    .field("expiry", &self.settings.expiry)
                    .field("max_weight", &self.settings.max_weight)
                    .finish_non_exhaustive()
            }
        }
    };
}

pub(crate) use builder;

/// The constructors of a map kind, written once: for a bounded kind (`bounded`), `new(max)`
/// and `builder(max)`, each with the docs given before its name; for a weak-keyed kind
/// (`weak`, with the `std` module of its pointers), `new()`, `builder()` (unbounded),
/// `lru_builder(max)`, `bounded_builder(max)` and `Default` (as `new`).
macro_rules! constructors {
    (
        bounded $map:ident, $builder:ident;
        $(#[$new:meta])* new;
        $(#[$build:meta])* builder;
    ) => {
        impl<K, V, P: $crate::policy::Policy> $map<K, V, P> {
            $(#[$new])*
            #[must_use]
            #[track_caller]
            pub fn new(max: usize) -> Self {
                Self::builder(max).build()
            }

            $(#[$build])*
            #[track_caller]
            pub fn builder(max: usize) -> $builder<K, V, P> {
                $builder::new(max)
            }
        }
    };
    (weak $map:ident, $builder:ident, $module:ident::$pointer:ident) => {
        impl<K: ::weak_table::traits::WeakKey, V> $map<K, V> {
            /// An empty, unbounded map with the default hasher and no hooks.
            ///
            /// ```
            #[doc = concat!("use std::", stringify!($module), "::Weak;")]
            #[doc = concat!("let map = mapguard::", stringify!($map), "::<Weak<u32>, &str>::new();")]
            /// assert!(map.is_empty());
            /// ```
            #[must_use]
            #[track_caller]
            pub fn new() -> Self {
                Self::builder().build()
            }

            /// A builder for an unbounded map: hooks, hasher, lifetime, expiry (and for a
            /// concurrent map, shards).
            ///
            /// ```
            /// use mapguard::Lifetime;
            #[doc = concat!("use std::", stringify!($module), "::Weak;")]
            #[doc = concat!("let map = mapguard::", stringify!($map), "::<Weak<u64>, String>::builder()")]
            ///     .lifetime(Lifetime::Session)
            ///     .build();
            /// assert_eq!(map.lifetime(), Lifetime::Session);
            /// ```
            #[track_caller]
            pub fn builder() -> $builder<K, V> {
                $builder::new($crate::storage::store::MAX_LIMIT)
            }

            /// A builder for a map of at most `max` entries that evicts the least recently
            /// used (a concurrent map: its key's shard's, each shard holding about
            /// `max / shards`).
            ///
            /// # Panics
            ///
            /// If `max` is 0.
            ///
            /// ```
            #[doc = concat!("use std::", stringify!($module), "::Weak;")]
            #[doc = concat!("let map = mapguard::", stringify!($map), "::<Weak<u8>, u8>::lru_builder(64).build();")]
            /// assert_eq!(map.max(), 64);
            /// ```
            #[track_caller]
            pub fn lru_builder(max: usize) -> $builder<K, V> {
                $builder::new(max)
            }

            /// A builder for a map of at most `max` entries that rejects new keys when full (a
            /// concurrent map: when the key's shard is full).
            ///
            /// # Panics
            ///
            /// If `max` is 0.
            ///
            /// ```
            /// # #![allow(unused_mut)]
            #[doc = concat!("use std::", stringify!($module), "::{", stringify!($pointer), ", Weak};")]
            #[doc = concat!("let mut map = mapguard::", stringify!($map), "::<Weak<u8>, u8>::bounded_builder(1).build();")]
            #[doc = concat!("let (a, b) = (", stringify!($pointer), "::new(1), ", stringify!($pointer), "::new(2));")]
            #[doc = concat!("assert!(map.try_insert(", stringify!($pointer), "::clone(&a), 1).is_ok());")]
            #[doc = concat!("assert!(map.try_insert(", stringify!($pointer), "::clone(&b), 2).is_err());")]
            /// ```
            #[track_caller]
            pub fn bounded_builder(max: usize) -> $builder<K, V, $crate::policy::Reject> {
                $builder::new(max)
            }
        }

        /// An empty, unbounded map with the default hasher and no hooks, as `new`.
        impl<K: ::weak_table::traits::WeakKey, V> Default for $map<K, V> {
            #[track_caller]
            fn default() -> Self {
                Self::new()
            }
        }
    };
}

pub(crate) use constructors;
