//! Compile-time map configuration: what `#[managed_map(...)]` turns into.

use core::hash::BuildHasher;
use std::borrow::Cow;
use std::panic::Location;
use std::time::Duration;

use weak_table::traits::WeakElement;

use crate::concurrent::{ConcurrentMap, ConcurrentWeakKeyMap, Parts};
use crate::hooks::{ConcurrentListener, RemovalListener};
use crate::map::ManagedMap;
use crate::policy::Policy;
use crate::raw::RawMap;
use crate::scope::Lifetime;
use crate::storage::expiry::Expiry;
use crate::storage::order::EvictionOrder;
use crate::storage::store::Store;
use crate::weak::{StoredHash, WeakKeyMap};

/// A map's whole configuration as a type: bound, lifetime, name, expiry, and (as a
/// [`RemovalListener`]) its removal hook. The `#[mapguard::managed]` attribute generates a
/// zero-sized implementor per field, which makes the field's map type [`Default`] — so
/// `#[derive(Default)]` on the struct builds every map configured, with hooks dispatched
/// statically.
///
/// Implement it by hand to give a hand-written map type the same `Default`:
///
/// ```
/// use mapguard::config::FieldConfig;
///use mapguard::hooks::RemovalListener;
/// use mapguard::{Lifetime, LruMap, RemovalCause};
///
/// #[derive(Default)]
/// struct Sessions;
/// impl FieldConfig for Sessions {
///     const MAX: usize = 10_000;
///     const LIFETIME: Lifetime = Lifetime::Session;
///     const NAME: &'static str = "App.sessions";
/// }
/// impl RemovalListener<u64, String> for Sessions {
///    fn on_removal(&mut self, _id: u64, _session: String, _cause: RemovalCause) {}
/// }
///
/// let map: LruMap<u64, String, mapguard::DefaultHashBuilder, Sessions> = Default::default();
/// assert_eq!((map.max(), map.lifetime()), (10_000, Lifetime::Session));
/// ```
pub trait FieldConfig: Default {
    /// The bound (`usize::MAX` for unbounded weak-keyed maps).
    const MAX: usize;
    /// The lifetime whose scope end clears the map.
    const LIFETIME: Lifetime;
    /// The registry name, `Type.field` by default.
    const NAME: &'static str;
    /// Expire entries this long after their last write.
    const TTL: Option<Duration> = None;
    /// Expire entries this long after their last read or write.
    const IDLE: Option<Duration> = None;
    /// The weight budget (`max_bytes`), weighed by the listener's hidden `WEIGHER` (which the
    /// attribute sets) or, without one, 1 per entry.
    const MAX_WEIGHT: Option<u64> = None;
}

/// The budget a configured map gets: `MAX_WEIGHT`, weighed by `weigher`. Weights are kept only
/// by a map whose per-entry state is `Weighed`, so a `MAX_WEIGHT` on any other map type fails
/// to compile.
fn configured_budget<L: FieldConfig, E: Expiry, K, V>(
    weigher: Option<fn(&K, &V) -> u64>,
) -> Option<(u64, crate::storage::weigher::Weigher<K, V>)> {
    const {
        assert!(
            L::MAX_WEIGHT.is_none() || E::WEIGHED,
            "FieldConfig::MAX_WEIGHT needs a map type whose `E` is `Weighed<...>`"
        );
    };
    L::MAX_WEIGHT?;
    crate::settings::budget(
        L::MAX_WEIGHT,
        weigher.map(crate::storage::weigher::Weigher::Function),
    )
}

/// What every configured map starts from: its bound, expiry state, lifetime and name. A
/// `MAX` of 0 fails to compile.
fn configured<L: FieldConfig, E: Expiry>() -> (usize, E, Lifetime, Cow<'static, str>) {
    const { assert!(L::MAX > 0, "FieldConfig::MAX must be at least 1") };
    (
        L::MAX,
        E::configured(L::TTL, L::IDLE),
        L::LIFETIME,
        Cow::Borrowed(L::NAME),
    )
}

/// A configured map's storage, listener, lifetime and name.
type Configured<T, L> = (T, L, Lifetime, Cow<'static, str>);

/// A configured single-threaded map's storage (hashing with `hasher`), listener, lifetime and
/// name.
fn configured_store<K, V, S, O: EvictionOrder, L: FieldConfig, E: Expiry>(
    hasher: S,
) -> Configured<Store<K, V, S, E, O>, L> {
    let (max, expiry, lifetime, name) = configured::<L, E>();
    (
        Store::new(max, hasher, expiry),
        L::default(),
        lifetime,
        name,
    )
}

/// What a configured concurrent map is made of, created at `site`.
fn configured_parts<S: Default, L: FieldConfig, E: Expiry>(
    site: &'static Location<'static>,
) -> (Parts<S, L>, E) {
    let (max, expiry, lifetime, name) = configured::<L, E>();
    let parts = Parts {
        max,
        capacity: 0,
        shards: None,
        hasher: S::default(),
        listener: L::default(),
        lifetime,
        name,
        site,
    };
    (parts, expiry)
}

impl<K, V, P: Policy, S: BuildHasher + Default, L: RemovalListener<K, V> + FieldConfig, E: Expiry>
    Default for ManagedMap<K, V, P, S, L, E>
{
    /// An empty map configured by its listener type's [`FieldConfig`]. A `MAX` of 0 fails
    /// to compile.
    #[track_caller]
    fn default() -> Self {
        let (store, listener, lifetime, name) = configured_store::<_, _, _, _, L, E>(S::default());
        let map = RawMap::from_parts(store, listener, lifetime, name, Location::caller());
        Self::from_raw(match configured_budget::<L, E, K, V>(L::WEIGHER) {
            Some((max_weight, weigher)) => map.with_budget(max_weight, Some(weigher)),
            None => map,
        })
    }
}

impl<
    K: WeakElement,
    V,
    P: Policy,
    S: BuildHasher + Default,
    L: RemovalListener<K, V> + FieldConfig,
    E: Expiry,
> Default for WeakKeyMap<K, V, P, S, L, E>
{
    /// An empty map configured by its listener type's [`FieldConfig`]. A `MAX` of 0 fails
    /// to compile.
    #[track_caller]
    fn default() -> Self {
        let (store, listener, lifetime, name) = configured_store::<_, _, _, _, L, E>(StoredHash);
        let budget = configured_budget::<L, E, K, V>(L::WEIGHER);
        Self::from_parts(
            store,
            listener,
            lifetime,
            name,
            Location::caller(),
            S::default(),
            budget,
        )
    }
}

/// `Default` for a concurrent map kind: the map its listener type's [`FieldConfig`]
/// configures (what `#[managed_map(concurrent, ...)]` builds), put on the maintenance list
/// when it has something to clean while idle (`enrol` decides whether its types allow).
macro_rules! configured_concurrent {
    ($($map:ident $([$($key_bound:tt)*])? => $enrol:ident, $always:literal;)*) => {$(
        impl<K, V, P, S, L, E> Default for $map<K, V, P, S, L, E>
        where
            $(K: $($key_bound)*,)?
            P: Policy + 'static,
            S: BuildHasher + Clone + Default + Send + Sync + 'static,
            L: ConcurrentListener<K, V> + FieldConfig,
            E: Expiry + Send + 'static,
        {
            /// An empty map configured by its listener type's [`FieldConfig`].
            #[track_caller]
            fn default() -> Self {
                let (parts, expiry) = configured_parts::<S, L, E>(Location::caller());
                let weigher = <L as ConcurrentListener<K, V>>::WEIGHER;
                let map = Self::from_parts(parts, &expiry, configured_budget::<L, E, K, V>(weigher));
                if $always || cleans_while_idle::<L>() {
                    L::$enrol(&map);
                }
                map
            }
        }
    )*};
}

/// Whether a configured map has entries to clean that no operation may come for: expiring
/// ones, or ones of scopes that end. (Weak keys die any time: those maps always have.)
fn cleans_while_idle<L: FieldConfig>() -> bool {
    L::TTL.is_some() || L::IDLE.is_some() || L::LIFETIME != Lifetime::Process
}

configured_concurrent! {
    ConcurrentMap => __enrol_map, false;
    ConcurrentWeakKeyMap[WeakElement] => __enrol_weak_map, true;
}
