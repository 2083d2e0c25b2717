//! What a full map does with one more key: [`Lru`] evicts, [`Reject`] refuses.
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

mod sealed {
    pub trait Sealed {}
}

/// A map's answer to "full, and a new key arrives". Sealed: [`Lru`] and [`Reject`] are the
/// policies; the map's methods differ by policy where the answer matters.
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
    /// The name used in registry reports and metrics (`"lru"`, `"reject"`).
    const NAME: &'static str;
    /// The wrapper's user-facing type name, for `Debug`.
    const TYPE_NAME: &'static str;
    /// Whether reads (`get`, `get_mut`, `entry`) make an entry the most recent.
    const READS_PROMOTE: bool;
}

/// Evict the least recently used entry through the cleanup path ([`LruMap`](crate::LruMap)).
///
/// ```
/// use mapguard::policy::Policy;
/// use mapguard::policy::Lru;
/// assert_eq!(Lru::NAME, "lru");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Lru;

/// Refuse the new key and hand it back ([`BoundedMap`](crate::BoundedMap)).
///
/// ```
/// use mapguard::policy::Policy;
/// use mapguard::policy::Reject;
/// assert_eq!(Reject::NAME, "reject");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Reject;

impl sealed::Sealed for Lru {}
impl sealed::Sealed for Reject {}

impl Policy for Lru {
    const NAME: &'static str = "lru";
    const TYPE_NAME: &'static str = "LruMap";
    const READS_PROMOTE: bool = true;
}

impl Policy for Reject {
    const NAME: &'static str = "reject";
    const TYPE_NAME: &'static str = "BoundedMap";
    const READS_PROMOTE: bool = false;
}
