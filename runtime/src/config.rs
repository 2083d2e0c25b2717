//! How a map is configured, as its configuration parameter `C` says: at run time by a
//! builder or constructor ([`Built`]), or by a type ([`Configured`] over a [`FieldConfig`]),
//! which is what `#[managed_map(...)]` turns into and what makes a map [`Default`]. Each
//! map kind's `Default` sits beside the kind; what they share is here.

use std::borrow::Cow;
use std::time::Duration;

use crate::hooks::NoListener;
use crate::scope::Lifetime;
use crate::storage::expiry::Expiry;
use crate::storage::expiry::sealed::Timer as _;
use crate::storage::weigher::Weigher;

/// How a map not configured by a type was configured: by a builder or a constructor, at run
/// time. The default of every map's configuration parameter `C`.
///
/// ```
/// let map: mapguard::ManagedMap<u8, u8, mapguard::policy::Lru, mapguard::DefaultHashBuilder,
///     mapguard::hooks::NoListener, mapguard::expiry::NoExpiry, mapguard::config::Built> =
///     mapguard::LruMap::new(4);
/// # drop(map);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Built;

/// How a map configured by a type was configured: by `C`'s [`FieldConfig`], which makes the
/// map [`Default`]. The configuration parameter of a `#[managed_map]` field's type.
///
/// ```
/// use mapguard::config::{Configured, FieldConfig};
/// use mapguard::Lifetime;
///
/// struct Cache;
/// impl FieldConfig<u32, u32> for Cache {
///     const MAX: usize = 64;
///     const LIFETIME: Lifetime = Lifetime::Process;
///     const NAME: &'static str = "cache";
/// }
/// let map: mapguard::ManagedMap<u32, u32, mapguard::policy::Lru, mapguard::DefaultHashBuilder,
///     mapguard::hooks::NoListener, mapguard::expiry::NoExpiry, Configured<Cache>> =
///     Default::default();
/// assert_eq!(map.max(), 64);
/// ```
pub struct Configured<C>(core::marker::PhantomData<fn() -> C>);

impl<C> core::fmt::Debug for Configured<C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Configured<{}>", core::any::type_name::<C>())
    }
}

/// A map's whole configuration as a type: bound, lifetime, name, expiry and weight budget. A
/// map whose configuration parameter is [`Configured<C>`](Configured) for such a `C` is
/// [`Default`], built as configured. The `#[mapguard::managed]` attribute generates a zero-sized
/// implementor per field (beside a listener type of its own when the field has hooks), so
/// `#[derive(Default)]` on the struct builds every map configured, with hooks dispatched
/// statically. The listener stays a listener: configuration never rides on it.
///
/// Implement it by hand to give a hand-written map type the same `Default`:
///
/// ```
/// use mapguard::config::FieldConfig;
/// use mapguard::{Lifetime, ManagedMap, RemovalCause};
///
/// struct Sessions;
/// impl FieldConfig<u64, String> for Sessions {
///     const MAX: usize = 10_000;
///     const LIFETIME: Lifetime = Lifetime::Session;
///     const NAME: &'static str = "App.sessions";
/// }
///
/// type SessionMap = ManagedMap<
///     u64,
///     String,
///     mapguard::policy::Lru,
///     mapguard::DefaultHashBuilder,
///     mapguard::hooks::NoListener,
///     mapguard::expiry::NoExpiry,
///     mapguard::config::Configured<Sessions>,
/// >;
/// let map = SessionMap::default();
/// assert_eq!((map.max(), map.lifetime(), map.name()), (10_000, Lifetime::Session, "App.sessions"));
/// ```
pub trait FieldConfig<K, V, L = NoListener> {
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
    /// The weight budget (`max_bytes`), weighed by [`WEIGHER`](Self::WEIGHER). Needs a map
    /// type whose per-entry state is [`Weighed`](crate::weight::Weighed).
    const MAX_WEIGHT: Option<u64> = None;
    /// What weighs entries under [`MAX_WEIGHT`](Self::MAX_WEIGHT); `None` weighs each 1.
    const WEIGHER: Option<fn(&K, &V) -> u64> = None;

    /// Puts a configured [`ConcurrentMap`](crate::ConcurrentMap) on the
    /// [`maintenance`](crate::maintenance) list if its types can cross threads: the attribute
    /// overrides it where `K`, `V` and the listener `L` are known (the one use of `L` here).
    /// Does nothing everywhere else.
    /// The field's expiry policy (`expire_after = PATH`), shared the way map kind `M`
    /// stores it.
    #[doc(hidden)]
    #[must_use]
    fn __expire_after<M: StorePolicy<K, V>>() -> Option<M::Shared>
    where
        Self: Sized,
    {
        None
    }

    /// The bound, read when the map is built: [`MAX`](Self::MAX), or the value of the
    /// attribute's `max = expression`.
    #[doc(hidden)]
    #[must_use]
    fn __max() -> usize
    where
        Self: Sized,
    {
        Self::MAX
    }

    /// The weight budget, read when the map is built: [`MAX_WEIGHT`](Self::MAX_WEIGHT), or
    /// the value of the attribute's `max_bytes`/`max_weight = expression`.
    #[doc(hidden)]
    #[must_use]
    fn __max_weight() -> Option<u64>
    where
        Self: Sized,
    {
        Self::MAX_WEIGHT
    }

    /// A concurrent field's shard count (`shards = ...`), read when the map is built.
    #[doc(hidden)]
    #[must_use]
    fn __shards() -> Option<usize>
    where
        Self: Sized,
    {
        None
    }

    /// The field's clock (`clock = TYPE`).
    #[doc(hidden)]
    #[must_use]
    fn __clock() -> Option<crate::storage::expiry::TimeSource>
    where
        Self: Sized,
    {
        None
    }

    #[doc(hidden)]
    fn __enrol_map<M: crate::maintenance::EnrolMap<K, V, L>>(_map: &M)
    where
        Self: Sized,
    {
    }

    /// [`__enrol_map`](Self::__enrol_map) for a
    /// [`ConcurrentWeakKeyMap`](crate::ConcurrentWeakKeyMap).
    #[doc(hidden)]
    fn __enrol_weak_map<M: crate::maintenance::EnrolWeakMap<K, V, L>>(_map: &M)
    where
        Self: Sized,
    {
    }
}

/// The budget a configured map gets: `MAX_WEIGHT`, weighed by `WEIGHER`. Weights are kept only
/// by a map whose per-entry state is `Weighed`, so a `MAX_WEIGHT` on any other map type fails
/// to compile.
/// A field's `clock = TYPE`, built with the struct.
#[doc(hidden)]
#[must_use]
pub fn clock_of<C: crate::expiry::Clock + Default + 'static>() -> crate::storage::expiry::TimeSource
{
    crate::storage::expiry::TimeSource::of(C::default())
}

/// How a map kind keeps an expiry policy over keys `K`: as it is, or over the stored form of
/// its keys (weak-keyed maps).
#[doc(hidden)]
pub trait StorePolicy<K, V> {
    /// The shared policy the kind's storage takes.
    type Shared;
    /// `policy`, shared.
    fn share<P: crate::expiry::ExpireAfter<K, V> + 'static>(policy: P) -> Self::Shared;
}

/// Maps that store their keys as they are.
#[doc(hidden)]
#[derive(Debug)]
pub struct StoredAsIs;

impl<K, V> StorePolicy<K, V> for StoredAsIs {
    type Shared = crate::storage::expiry::SharedPolicy<K, V>;
    fn share<P: crate::expiry::ExpireAfter<K, V> + 'static>(policy: P) -> Self::Shared {
        std::sync::Arc::new(policy)
    }
}

/// Weak-keyed maps, which store each key with its hash (its `StorePolicy` is `weak`'s).
#[doc(hidden)]
#[derive(Debug)]
pub struct StoredWeakly;

pub(crate) fn budget<K, V, L, C: FieldConfig<K, V, L>, E: Expiry>() -> Option<(u64, Weigher<K, V>)>
{
    const {
        assert!(
            C::MAX_WEIGHT.is_none() || E::WEIGHED,
            "FieldConfig::MAX_WEIGHT needs a map type whose `E` is `Weighed<...>`"
        );
    };
    let max_weight = C::__max_weight()?;
    debug_assert!(E::WEIGHED, "a run-time budget needs a `Weighed` map type");
    crate::builder::budget(Some(max_weight), C::WEIGHER.map(Weigher::Function))
}

/// A field's `max = expression`, read when its struct is built: the value, or a panic that
/// names the field.
///
/// # Panics
///
/// If `max` is 0 or more than a map can hold.
#[doc(hidden)]
#[track_caller]
#[must_use]
pub fn checked_max(max: usize, field: &str) -> usize {
    assert!(
        max > 0,
        "mapguard: `max` of `{field}` is 0 (read when the struct was built): a map that holds \
         nothing would clean every value as it arrives; give it at least 1"
    );
    assert!(
        max <= crate::storage::store::MAX_LIMIT,
        "mapguard: `max` of `{field}` is {max}, more than the {} entries a map can hold",
        crate::storage::store::MAX_LIMIT
    );
    max
}

/// A field's `max_bytes`/`max_weight = expression` (`key` says which), read when its struct
/// is built.
///
/// # Panics
///
/// If the budget is 0.
#[doc(hidden)]
#[track_caller]
#[must_use]
pub fn checked_budget(budget: u64, key: &str, field: &str) -> u64 {
    assert!(
        budget > 0,
        "mapguard: `{key}` of `{field}` is 0 (read when the struct was built): no entry would \
         fit; give it a positive budget"
    );
    budget
}

/// A concurrent field's `shards = expression`, read when its struct is built.
///
/// # Panics
///
/// If the count is 0 or more than 65,536.
#[doc(hidden)]
#[track_caller]
#[must_use]
pub fn checked_shards(shards: usize, field: &str) -> usize {
    assert!(
        (1..=1 << 16).contains(&shards),
        "mapguard: `shards` of `{field}` is {shards} (read when the struct was built): a \
         concurrent map has 1 to 65,536 shards"
    );
    shards
}

/// What every configured map starts from: its bound, per-entry state, lifetime and name. A
/// `MAX` of 0 fails to compile.
pub(crate) fn settings<K, V, L, C: FieldConfig<K, V, L>, E: Expiry>()
-> (usize, E, Lifetime, Cow<'static, str>) {
    const { assert!(C::MAX > 0, "FieldConfig::MAX must be at least 1") };
    let mut expiry = E::configured(C::TTL, C::IDLE);
    if let Some(clock) = C::__clock() {
        expiry.timer_mut().use_clock(clock);
    }
    (C::__max(), expiry, C::LIFETIME, Cow::Borrowed(C::NAME))
}

/// Whether a configured map has entries to clean that no operation may come for: expiring
/// ones, or ones of scopes that end. (Weak keys die any time: those maps always have.)
pub(crate) fn cleans_while_idle<K, V, L, C: FieldConfig<K, V, L>>() -> bool {
    C::TTL.is_some()
        || C::IDLE.is_some()
        || C::__expire_after::<StoredAsIs>().is_some()
        || C::LIFETIME != Lifetime::Process
}
