//! What a full map does with one more key: [`Lru`] and [`Adaptive`] evict, [`Reject`]
//! refuses.
//!
//! ```
//! use mapguard::policy::{Lru, Reject};
//! use mapguard::policy::Policy;
//!use mapguard::ManagedMap;
//!
//! let cache: ManagedMap<u32, u32, Lru> = ManagedMap::new(2); // = LruMap
//! let table: ManagedMap<u32, u32, Reject> = ManagedMap::new(2); // = BoundedMap
//! assert_eq!((Lru::NAME, Reject::NAME), ("lru", "reject"));
//! # drop((cache, table));
//! ```
//!
#![doc = include_str!("../docs/policy.md")]

mod sealed {
    /// Sealed, and where each policy names its eviction state.
    pub trait Sealed {
        /// The store's eviction order for this policy.
        type Order: crate::storage::order::EvictionOrder;
    }
}

/// A map's answer to "full, and a new key arrives". Sealed: [`Lru`], [`Adaptive`] and
/// [`Reject`] are the policies; the map's methods differ by policy where the answer matters.
///
/// ```
/// use mapguard::policy::Policy;
/// use mapguard::policy::Lru;
/// fn describe<P: Policy>() -> &'static str { P::NAME }
/// assert_eq!(describe::<Lru>(), "lru");
/// assert!(Lru::READS_PROMOTE);
/// ```
pub trait Policy:
    sealed::Sealed + Copy + Default + core::fmt::Debug + Send + Sync + 'static
{
    /// The name used in registry reports and metrics (`"lru"`, `"adaptive"`, `"reject"`).
    const NAME: &'static str;
    /// The wrapper's user-facing type name, for `Debug`.
    const TYPE_NAME: &'static str;
    /// Whether reads (`get`, `get_mut`, `entry`) count as uses of an entry (LRU: it becomes
    /// the most recent; adaptive: its frequency grows).
    const READS_PROMOTE: bool;
    /// Whether a full map evicts to make room (`Lru`, `Adaptive`) rather than refusing.
    const EVICTS: bool;
}

/// The policies that evict when full ([`Lru`], [`Adaptive`]): their maps share `insert`,
/// `replace`, `get` and `set_max`, so code generic over `P: Evicting` takes either.
///
/// ```
/// use mapguard::ManagedMap;
/// use mapguard::policy::Evicting;
///
/// fn warm<P: Evicting>(map: &mut ManagedMap<u32, u32, P>) {
///     for key in 0..10 {
///         map.insert(key, key * 2);
///     }
/// }
/// let mut lru = mapguard::LruMap::new(4);
/// let mut adaptive = mapguard::AdaptiveMap::new(4);
/// warm(&mut lru);
/// warm(&mut adaptive);
/// assert_eq!((lru.len(), adaptive.len()), (4, 4));
/// ```
///
/// The storing methods that may evict (`insert`, `replace`, an entry's `or_insert*`, a vacant
/// entry's `insert`) exist for every policy and require `P: Evicting` themselves, so calling
/// one on a bounded map is this trait's message, which names the `try_` form.
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not evict: a full map with this policy refuses new keys",
    label = "this policy never evicts: use the `try_` form (below)",
    note = "a bounded map stores with `try_` methods, which hand the key and value back when full: \
            `insert` -> `try_insert`, `replace` -> `try_replace`, `entry(k).or_insert(v)` -> \
            `entry(k).or_try_insert_with(|| v)`, a vacant entry's `insert` -> `try_insert`",
    note = "for a map that makes room by evicting, use `LruMap` (`evict = \"lru\"`) or `AdaptiveMap`"
)]
pub trait Evicting: Policy {}

/// Evict the least recently used entry through the cleanup path ([`LruMap`](crate::LruMap)).
///
/// ```
/// use mapguard::policy::Policy;
/// use mapguard::policy::Lru;
/// assert_eq!(Lru::NAME, "lru");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Lru;

/// Evict by an adaptive blend of recency and frequency ([`AdaptiveMap`](crate::AdaptiveMap)):
/// an S3-FIFO variant whose probation share adapts as ARC's does. Hits write two bits in the
/// entry's node; the entry pushed out goes through the cleanup path with
/// [`RemovalCause::Evicted`](crate::RemovalCause::Evicted).
///
/// ```
/// use mapguard::policy::{Adaptive, Policy};
/// assert_eq!(Adaptive::NAME, "adaptive");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Adaptive;

/// Refuse the new key and hand it back ([`BoundedMap`](crate::BoundedMap)).
///
/// ```
/// use mapguard::policy::Policy;
/// use mapguard::policy::Reject;
/// assert_eq!(Reject::NAME, "reject");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Reject;

impl sealed::Sealed for Lru {
    type Order = crate::storage::order::RecencyOrder;
}
impl sealed::Sealed for Adaptive {
    type Order = crate::storage::order::AdaptiveOrder;
}
impl sealed::Sealed for Reject {
    type Order = crate::storage::order::RecencyOrder;
}

/// The store's eviction order for `P`.
pub(crate) type OrderOf<P> = <P as sealed::Sealed>::Order;

impl Evicting for Lru {}
impl Evicting for Adaptive {}

impl Policy for Lru {
    const NAME: &'static str = "lru";
    const TYPE_NAME: &'static str = "LruMap";
    const READS_PROMOTE: bool = true;
    const EVICTS: bool = true;
}

impl Policy for Adaptive {
    const NAME: &'static str = "adaptive";
    const TYPE_NAME: &'static str = "AdaptiveMap";
    const READS_PROMOTE: bool = true;
    const EVICTS: bool = true;
}

impl Policy for Reject {
    const NAME: &'static str = "reject";
    const TYPE_NAME: &'static str = "BoundedMap";
    const READS_PROMOTE: bool = false;
    const EVICTS: bool = false;
}
