//! Why a value left a map.

use core::fmt;

/// Why a value left a managed map without being handed back to the caller.
///
/// Every value passes through the cleanup path exactly once with one of these causes,
/// unless a method whose name says so (`remove`, `replace`, `drain`, `into_iter`, a rejected
/// `try_insert`) hands it back to you instead.
///
/// The vocabulary follows Caffeine's `RemovalCause` (`EXPLICIT`, `REPLACED`, `COLLECTED`,
/// `EXPIRED`, `SIZE`) and adds the paths a lifecycle-managed map has: scope end, clear and
/// drop.
///
/// # Examples
///
/// ```
/// use mapguard::{LruMap, RemovalCause};
/// use std::{cell::RefCell, rc::Rc};
///
/// let seen = Rc::new(RefCell::new(Vec::new()));
/// let log = Rc::clone(&seen);
/// let mut map = LruMap::builder(1)
///     .on_removal(move |key, _value: &str, cause| log.borrow_mut().push((key, cause)))
///     .build();
/// map.insert(1, "a");
/// map.insert(1, "b"); // replaces "a"
/// map.insert(2, "c"); // evicts key 1
/// drop(map); // key 2 goes with the map
/// assert_eq!(
///     *seen.borrow(),
///     [(1, RemovalCause::Replaced), (1, RemovalCause::Evicted), (2, RemovalCause::Dropped)]
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RemovalCause {
    /// The caller removed it through the cleanup path (`discard`, `retain`).
    Explicit,
    /// `insert` stored a new value under its key.
    Replaced,
    /// The size bound (or weight budget) pushed it out, in the policy's order: least recently
    /// used first for an LRU map.
    Evicted,
    /// Its deadline passed: a map-wide `ttl` or `idle`, its expiry policy's, or one given to it
    /// (`insert_with_ttl`, `set_ttl`).
    Expired,
    /// Its weak key's last strong reference was dropped.
    Collected,
    /// The lifetime scope it belonged to (request, session, batch) ended.
    ScopeEnded,
    /// `clear` emptied the map.
    Cleared,
    /// The map itself was dropped while holding it.
    Dropped,
}

impl RemovalCause {
    /// Every cause, in declaration order: handy for per-cause tables and counters.
    ///
    /// ```
    /// # use mapguard::RemovalCause;
    /// assert_eq!(RemovalCause::ALL.len(), 8);
    /// assert_eq!(RemovalCause::ALL[0], RemovalCause::Explicit);
    /// ```
    pub const ALL: [Self; 8] = [
        Self::Explicit,
        Self::Replaced,
        Self::Evicted,
        Self::Expired,
        Self::Collected,
        Self::ScopeEnded,
        Self::Cleared,
        Self::Dropped,
    ];

    /// Whether a policy removed it on its own — size bound, expiry or a dead weak key — rather
    /// than the program asking (Caffeine's `wasEvicted`).
    ///
    /// ```
    /// # use mapguard::RemovalCause;
    /// assert!(RemovalCause::Expired.was_evicted());
    /// assert!(!RemovalCause::Explicit.was_evicted());
    /// ```
    #[must_use]
    pub const fn was_evicted(self) -> bool {
        matches!(self, Self::Evicted | Self::Expired | Self::Collected)
    }

    /// Whether a newer value for the same key took its place.
    ///
    /// ```
    /// # use mapguard::RemovalCause;
    /// assert!(RemovalCause::Replaced.was_replaced());
    /// ```
    #[must_use]
    pub const fn was_replaced(self) -> bool {
        matches!(self, Self::Replaced)
    }

    /// Whether the program asked for it: `discard`/`retain`, `clear`, or ending a scope.
    ///
    /// ```
    /// # use mapguard::RemovalCause;
    /// assert!(RemovalCause::ScopeEnded.was_requested());
    /// assert!(!RemovalCause::Dropped.was_requested());
    /// ```
    #[must_use]
    pub const fn was_requested(self) -> bool {
        matches!(self, Self::Explicit | Self::Cleared | Self::ScopeEnded)
    }

    /// A stable lower-case name, for logs and metric labels.
    ///
    /// ```
    /// # use mapguard::RemovalCause;
    /// assert_eq!(RemovalCause::ScopeEnded.as_str(), "scope_ended");
    /// ```
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Explicit => "explicit",
            Self::Replaced => "replaced",
            Self::Evicted => "evicted",
            Self::Expired => "expired",
            Self::Collected => "collected",
            Self::ScopeEnded => "scope_ended",
            Self::Cleared => "cleared",
            Self::Dropped => "dropped",
        }
    }

    /// Position in [`RemovalCause::ALL`], for per-cause counter arrays.
    ///
    /// ```
    /// # use mapguard::RemovalCause;
    /// for cause in RemovalCause::ALL {
    ///     assert_eq!(RemovalCause::ALL[cause.index()], cause);
    /// }
    /// ```
    #[must_use]
    pub const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for RemovalCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
