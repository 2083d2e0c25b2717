//! # mapguard
//!
//! Maps that cannot leak. A managed map is bounded, gives memory back after removals, and
//! passes every value that leaves it — evicted, replaced, cleared, dropped with the map —
//! through a cleanup hook exactly once, with the cause.
//!
//! | std `HashMap` leak | managed map |
//! |---|---|
//! | grows without bound | [`LruMap`] evicts, [`BoundedMap`] rejects |
//! | `remove`/`clear` keep the allocation | storage shrinks with the live entries |
//! | `insert` over a key drops the old value silently | the old value is cleaned with [`RemovalCause::Replaced`] |
//! | dropping a value does not close what a clone keeps open | [`Cleanup`] runs when the value leaves |
//! | keys kept alive by the map that indexes them | [`WeakKeyMap`] holds weak keys |
//! | request data that outlives the request | [`Lifetime`] scopes clear it, even on panic |
//! | a map shared by threads has all of the above | [`ConcurrentLruMap`], [`ConcurrentBoundedMap`], [`ConcurrentWeakKeyMap`]: sharded, `&self`, hooks outside the locks |
//!
//! ## A guided tour
//!
//! ```
//! use mapguard::{Cleanup, LruMap, RemovalCause};
//!
//! struct Session {
//!     open: bool,
//! }
//!
//! impl Cleanup for Session {
//!     fn cleanup(&mut self, _cause: RemovalCause) {
//!         self.open = false; // close sockets, cancel timers, unregister ...
//!     }
//! }
//!
//! let mut closed = Vec::new();
//! let mut sessions = LruMap::builder(2)
//!     .cleanup()
//!     .on_removal(|id: u64, session: Session, cause| {
//!         assert!(!session.open);
//!         closed.push((id, cause));
//!     })
//!     .build();
//!
//! sessions.insert(1, Session { open: true });
//! sessions.insert(2, Session { open: true });
//! sessions.insert(3, Session { open: true }); // 1 is evicted and closed
//! assert!(sessions.discard(&2)); // closed on request
//! let handed_back = sessions.remove(&3); // handed back: yours to close
//! drop(sessions);
//! drop(handed_back);
//!
//! assert_eq!(closed, [(1, RemovalCause::Evicted), (2, RemovalCause::Explicit)]);
//! ```
//!
//! - [`LruMap`], [`AdaptiveMap`] and [`BoundedMap`] are the three policies of one type,
//!   [`ManagedMap`]: what to do when full (evict the least recently used, evict by an adaptive
//!   blend of recency and frequency, or refuse and hand the entry back).
//! - [`RemovalCause`] says why a value left; [`Cleanup`] is the value's own close, and a
//!   [`RemovalListener`](hooks::RemovalListener) (any `FnMut(K, V, RemovalCause)`) is the map's. Both are type
//!   parameters, so hooks cost nothing when absent and are called statically when present.
//! - [`WeakKeyMap`] holds weak keys (`Weak<T>`): a key's death sends its value through the
//!   cleanup path with [`RemovalCause::Collected`].
//! - `ttl`/`idle` on the [builder](map::Builder) make entries expire on an injectable [`Clock`](expiry::Clock)
//!   ([`testing::MockClock`] in tests). Expiry is a type parameter ([`NoExpiry`](expiry::NoExpiry) by default),
//!   so maps without it pay nothing.
//! - A [`Lifetime`] tags a map; [`ManagedCache::end_scope`] clears the maps of one lifetime and
//!   [`ManagedCache::scope`] returns a guard that does so on drop, even while unwinding.
//! - [`macro@managed`] (`#[mapguard::managed]`) rewrites the `HashMap` fields of a struct
//!   into these maps from `#[managed_map(lifetime = "...", max = N, ...)]`, and refuses to
//!   compile a map field without a lifecycle. [`macro@Cleanup`] and [`macro@ManagedCache`]
//!   derive the traits of the same names.
//! - [`ConcurrentLruMap`] and [`ConcurrentBoundedMap`] ([`ConcurrentMap`]) are the same maps
//!   for sharing between threads: sharded, `&self` methods, `Send + Sync`, and hooks (a
//!   [`ConcurrentListener`](hooks::ConcurrentListener)) that run after the shard's lock is released, so they may use the
//!   map. `#[managed_map(..., concurrent)]` makes a field one.
//! - [`ManagedCache::stats`] gives a [`MapStats`](scope::MapStats) per map: name, lifetime, size, bound, bytes.
//! - Lookups take any borrowed form of the key (`&str` for `String` keys), as `std` does.
//! - The default hasher is foldhash (hashbrown's default): fast and randomly seeded per
//!   process. Keys an attacker controls deserve `std`'s SipHash: pass
//!   `std::collections::hash_map::RandomState` to [`Builder::hasher`](map::Builder::hasher).
//!
//! ## Panics
//!
//! Constructors panic on `max == 0`. Nothing else panics, including on keys whose `Hash`
//! misbehaves. For hooks, `Hash` and `Eq` that panic, see [`ManagedMap`]'s "When a hook
//! panics" and "When `Hash` or `Eq` panics".
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]

/// A map kind's short names, one per policy (`LruMap = Lru;`), each with the docs before it:
/// the kind's own parameters but the policy.
macro_rules! kind_aliases {
    ($kind:ident; $($(#[$doc:meta])* $alias:ident = $policy:ident;)*) => {$(
        $(#[$doc])*
        pub type $alias<K, V, S = DefaultHashBuilder, L = NoListener, E = NoExpiry, C = Built> =
            $kind<K, V, $policy, S, L, E, C>;
    )*};
}

/// Short names for the map kinds whose entries carry the per-entry state `$state`
/// (`ExpiringLruMap = LruMap;`), each with the docs before it.
macro_rules! state_aliases {
    ($state:ty; $($(#[$doc:meta])* $alias:ident = $map:ident;)*) => {$(
        $(#[$doc])*
        pub type $alias<K, V, S = $crate::DefaultHashBuilder, L = $crate::hooks::NoListener> =
            $crate::$map<K, V, S, L, $state>;
    )*};
}

pub mod builder;
mod cause;
mod compute;
pub mod concurrent;
pub mod config;
mod departures;
mod error;
pub mod guide;
pub mod hooks;
mod lifecycle;
pub mod maintenance;
pub mod map;
mod panics;
pub mod policy;
mod raw;
pub mod registry;
pub mod scope;
#[cfg(feature = "serde")]
mod serde_support;
mod stats;
mod storage;
pub mod testing;
#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub mod tower;
pub mod weak;
pub mod weight;

/// Expiry: per-entry deadlines ([`ExpireAfter`](expiry::ExpireAfter), `insert_with_ttl`,
/// `set_ttl`), map-wide `ttl`/`idle`, and the clocks they are measured on.
///
/// ```
/// use mapguard::expiry::{Clock, SystemClock};
/// let clock = SystemClock::default();
/// assert!(clock.now() < std::time::Duration::from_secs(60));
/// ```
pub mod expiry {
    #[cfg(feature = "quanta")]
    pub use crate::storage::expiry::QuantaClock;
    #[cfg(feature = "tokio")]
    pub use crate::storage::expiry::TokioClock;
    pub use crate::storage::expiry::{
        Clock, CoarseClock, ExpireAfter, Expires, Expiring, Expiry, NoExpiry, OnlyWhenSet,
        SystemClock, Timed,
    };

    state_aliases! { Expiring;
        /// An [`LruMap`](crate::LruMap) built with `ttl`, `idle`, `clock` or `key_lifetimes`:
        /// the name to write for such a map's type.
        ///
        /// ```
        /// use mapguard::expiry::ExpiringLruMap;
        /// use std::time::Duration;
        ///
        /// struct Sessions {
        ///     by_token: ExpiringLruMap<String, u64>,
        /// }
        /// let sessions = Sessions {
        ///     by_token: mapguard::LruMap::builder(1_000).ttl(Duration::from_secs(30)).build(),
        /// };
        /// assert!(sessions.by_token.is_empty());
        /// ```
        ExpiringLruMap = LruMap;

        /// A [`BoundedMap`](crate::BoundedMap) with expiry; see [`ExpiringLruMap`].
        ///
        /// ```
        /// use std::time::Duration;
        /// let map: mapguard::expiry::ExpiringBoundedMap<u8, u8> =
        ///     mapguard::BoundedMap::builder(4).idle(Duration::from_secs(5)).build();
        /// # drop(map);
        /// ```
        ExpiringBoundedMap = BoundedMap;

        /// A [`ConcurrentLruMap`](crate::ConcurrentLruMap) with expiry; see [`ExpiringLruMap`].
        ///
        /// ```
        /// use std::time::Duration;
        /// let map: mapguard::expiry::ExpiringConcurrentLruMap<u8, u8> =
        ///     mapguard::ConcurrentLruMap::builder(4).ttl(Duration::from_secs(5)).build();
        /// # drop(map);
        /// ```
        ExpiringConcurrentLruMap = ConcurrentLruMap;

        /// A [`ConcurrentBoundedMap`](crate::ConcurrentBoundedMap) with expiry; see
        /// [`ExpiringLruMap`].
        ///
        /// ```
        /// use std::time::Duration;
        /// let map: mapguard::expiry::ExpiringConcurrentBoundedMap<u8, u8> =
        ///     mapguard::ConcurrentBoundedMap::builder(4).ttl(Duration::from_secs(5)).build();
        /// # drop(map);
        /// ```
        ExpiringConcurrentBoundedMap = ConcurrentBoundedMap;
    }
}

pub use cause::RemovalCause;
pub use compute::Compute;
pub use concurrent::{
    ConcurrentAdaptiveMap, ConcurrentBoundedMap, ConcurrentLruMap, ConcurrentMap,
    ConcurrentWeakKeyMap,
};
pub use error::CapacityError;
pub use hashbrown::DefaultHashBuilder;
pub use hooks::Cleanup;
pub use map::{AdaptiveMap, BoundedMap, LruMap, ManagedMap};
pub use scope::{Lifetime, ManagedCache};
pub use weak::WeakKeyMap;

pub use mapguard_macros::{Cleanup, ManagedCache, managed, unmanaged};

/// What the macros' generated code names, and nothing else: paths here are not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::config::{
        Configured, FieldConfig, StorePolicy, checked_budget, checked_max, checked_shards, clock_of,
    };
    pub use crate::expiry::Clock;
    pub use crate::expiry::{Expiring, NoExpiry};
    pub use crate::hooks::{ConcurrentListener, HookPanics, NoListener, RemovalListener};
    pub use crate::lifecycle::{
        AnyWeakKey, HashedWeakKey, HoldsMap, MapProbe, MapType, PlainProbe, Probe, WeakKeyProbe,
        require_lifecycle, require_managed_values, require_weak_key,
    };
    pub use crate::maintenance::{
        CrossingProbe, CrossingWeakProbe, EnrolMap, EnrolWeakMap, LocalProbe,
    };
    pub use crate::panics::EachField;
    pub use crate::policy::{Adaptive, Lru, Reject};
    pub use crate::scope::MapStats;
    pub use crate::storage::expiry::TimeSource;
    pub use crate::storage::scopes::Scoped;
    pub use crate::weight::Weighed;
    pub use crate::weight::by_value;
    pub use crate::{
        Cleanup, ConcurrentMap, ConcurrentWeakKeyMap, DefaultHashBuilder, Lifetime, ManagedCache,
        ManagedMap, RemovalCause, WeakKeyMap,
    };
    pub use core::assert;
    pub use core::clone::Clone;
    pub use core::default::Default;
    pub use core::fmt;
    pub use core::iter::Extend;
    pub use core::marker::{Copy, PhantomData};
    pub use core::option::Option;
    pub use core::primitive::{u64, usize};
    pub use core::result::Result;
    pub use core::time::Duration;
    pub use std::sync::Arc;
    pub use std::vec::Vec;
}
