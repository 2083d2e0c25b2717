//! Lifetimes and scopes: the `lifetime = "request" | "session" | "batch" | "process"` half of
//! `#[managed_map(...)]`: how long a map's entries may live, and what ends them.

use core::fmt;
use core::ops::{Deref, DerefMut};
use core::str::FromStr;

use crate::panics::{contain_while_unwinding, each_contained};
pub use crate::stats::MapStats;

mod value;
pub use value::{Entered, InScope, Scope};

/// How long a map's entries are meant to live. Ending a scope clears every map of that
/// lifetime, with [`RemovalCause::ScopeEnded`](crate::RemovalCause::ScopeEnded).
///
/// # Examples
///
/// ```
/// use mapguard::Lifetime;
///
/// assert_eq!("request".parse::<Lifetime>(), Ok(Lifetime::Request));
/// assert_eq!(Lifetime::Session.to_string(), "session");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Lifetime {
    /// One request: cleared when the request's scope ends.
    Request,
    /// One user session.
    Session,
    /// One batch or job run.
    Batch,
    /// The whole process (the default): cleared only when asked, at shutdown say.
    #[default]
    Process,
}

impl Lifetime {
    /// Every lifetime, shortest first.
    ///
    /// ```
    /// assert_eq!(mapguard::Lifetime::ALL.len(), 4);
    /// ```
    pub const ALL: [Self; 4] = [Self::Request, Self::Session, Self::Batch, Self::Process];

    /// The lower-case name used in attributes, reports and metric labels.
    ///
    /// ```
    /// assert_eq!(mapguard::Lifetime::Batch.as_str(), "batch");
    /// ```
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Request => "request",
            Self::Session => "session",
            Self::Batch => "batch",
            Self::Process => "process",
        }
    }
}

impl Lifetime {
    /// This lifetime's slot among the scoped ones (request, session, batch); `None` for
    /// `Process`, which has no scopes.
    pub(crate) const fn scope_slot(self) -> Option<usize> {
        match self {
            Self::Request => Some(0),
            Self::Session => Some(1),
            Self::Batch => Some(2),
            Self::Process => None,
        }
    }
}

impl fmt::Display for Lifetime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not a [`Lifetime`]; its message lists the valid names.
///
/// ```
/// let err = "requset".parse::<mapguard::Lifetime>().unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "unknown lifetime `requset`: expected one of `request`, `session`, `batch`, `process`"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseLifetimeError {
    name: String,
}

impl fmt::Display for ParseLifetimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown lifetime `{}`: expected one of `request`, `session`, `batch`, `process`",
            self.name
        )
    }
}

impl std::error::Error for ParseLifetimeError {}

impl FromStr for Lifetime {
    type Err = ParseLifetimeError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|lifetime| lifetime.as_str() == name)
            .ok_or_else(|| ParseLifetimeError {
                name: name.to_owned(),
            })
    }
}

/// A map, or a struct of maps, whose entries follow [`Lifetime`] scopes.
///
/// Implemented by [`ManagedMap`](crate::ManagedMap), by slices and `Vec`s of implementors, and
/// (by the `#[mapguard::managed]` attribute) by structs of managed maps.
///
/// # Examples
///
/// ```
/// use mapguard::{Lifetime, LruMap, ManagedCache};
///
/// let mut per_request = LruMap::builder(100).lifetime(Lifetime::Request).build();
/// per_request.insert("user", 42);
/// {
///     let mut scope = per_request.scope(Lifetime::Request);
///     scope.insert("trace", 7); // the guard derefs to the map
/// } // scope ends: the request's entries are cleaned with `ScopeEnded`
/// assert!(per_request.is_empty());
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a managed map",
    label = "not a managed map",
    note = "#[derive(ManagedCache)] takes fields that are already managed maps (`LruMap<K, V>`, \
            `BoundedMap<K, V>`, ... built with a `max`); to rewrite a `HashMap` field from its \
            attribute, put #[mapguard::managed] on the struct instead of the derive"
)]
pub trait ManagedCache {
    /// Clears every map of `lifetime` through the cleanup path with
    /// [`RemovalCause::ScopeEnded`](crate::RemovalCause::ScopeEnded); maps of other
    /// lifetimes are untouched. Returns how many entries were released.
    fn end_scope(&mut self, lifetime: Lifetime) -> usize;

    /// Runs every map's maintenance (purging expired entries, for one); returns how many
    /// entries were released.
    fn maintain(&mut self) -> usize;

    /// One [`MapStats`] per managed map, in declaration order.
    fn stats(&self) -> Vec<crate::scope::MapStats>;

    /// A guard that ends `lifetime`'s scope when dropped — also while unwinding from a panic,
    /// so a failing request handler cannot leak its request-scoped entries. Derefs to `self`.
    fn scope(&mut self, lifetime: Lifetime) -> ScopeGuard<'_, Self>
    where
        Self: Sized,
    {
        ScopeGuard {
            cache: self,
            lifetime,
        }
    }
}

/// Ends a [`Lifetime`] scope when dropped; from [`ManagedCache::scope`].
///
/// When it is dropped while a panic unwinds, a hook that panics as well cannot abort the
/// process: that second panic is contained, the scope end stops there, and the entries it had
/// not reached stay in their maps (they leave later, at the latest when their map is
/// dropped). The first panic goes on unwinding.
///
/// ```
/// use mapguard::{Lifetime, LruMap, ManagedCache};
/// use std::panic::{catch_unwind, AssertUnwindSafe};
///
/// let mut cache = LruMap::builder(10).lifetime(Lifetime::Request).build();
/// let outcome = catch_unwind(AssertUnwindSafe(|| {
///     let mut scope = cache.scope(Lifetime::Request);
///     scope.insert(1, "partial work");
///     panic!("handler failed");
/// }));
/// assert!(outcome.is_err());
/// assert!(cache.is_empty()); // the scope ended during unwinding
/// ```
pub struct ScopeGuard<'a, C: ManagedCache + ?Sized> {
    cache: &'a mut C,
    lifetime: Lifetime,
}

impl<C: ManagedCache + ?Sized> ScopeGuard<'_, C> {
    /// The lifetime this guard ends.
    ///
    /// ```
    /// use mapguard::{Lifetime, LruMap, ManagedCache};
    /// let mut map = LruMap::<u8, u8>::new(4);
    /// assert_eq!(map.scope(Lifetime::Batch).lifetime(), Lifetime::Batch);
    /// ```
    #[must_use]
    pub fn lifetime(&self) -> Lifetime {
        self.lifetime
    }
}

impl<C: ManagedCache + ?Sized> Deref for ScopeGuard<'_, C> {
    type Target = C;

    fn deref(&self) -> &C {
        self.cache
    }
}

impl<C: ManagedCache + ?Sized> DerefMut for ScopeGuard<'_, C> {
    fn deref_mut(&mut self) -> &mut C {
        self.cache
    }
}

impl<C: ManagedCache + ?Sized> Drop for ScopeGuard<'_, C> {
    fn drop(&mut self) {
        // Every map's hooks run, and a hook's panic resumes once they have; while the thread
        // already unwinds, a panic out of here would abort the process, so it is contained.
        let Self { cache, lifetime } = self;
        contain_while_unwinding(|| {
            cache.end_scope(*lifetime);
        });
    }
}

impl<C: ManagedCache + ?Sized + fmt::Debug> fmt::Debug for ScopeGuard<'_, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScopeGuard")
            .field("lifetime", &self.lifetime)
            .field("cache", &self.cache)
            .finish()
    }
}

/// Every element in turn.
///
/// ```
/// use mapguard::{Lifetime, LruMap, ManagedCache};
///
/// let mut maps = vec![
///     LruMap::builder(4).lifetime(Lifetime::Request).build(),
///     LruMap::builder(4).lifetime(Lifetime::Session).build(),
/// ];
/// maps[0].insert(1, 1);
/// maps[1].insert(1, 1);
/// assert_eq!(maps.end_scope(Lifetime::Request), 1);
/// assert_eq!((maps[0].len(), maps[1].len()), (0, 1));
/// ```
impl<C: ManagedCache> ManagedCache for [C] {
    /// Every element's scope ends, even if a hook of an earlier one panics; the first panic
    /// resumes afterwards.
    fn end_scope(&mut self, lifetime: Lifetime) -> usize {
        let mut ended = 0;
        each_contained(self.iter_mut(), |cache| ended += cache.end_scope(lifetime));
        ended
    }

    /// Every element's maintenance runs, even if a hook of an earlier one panics.
    fn maintain(&mut self) -> usize {
        let mut purged = 0;
        each_contained(self.iter_mut(), |cache| purged += cache.maintain());
        purged
    }

    fn stats(&self) -> Vec<crate::scope::MapStats> {
        self.iter().flat_map(ManagedCache::stats).collect()
    }
}

/// Every element in turn.
///
/// ```
/// use mapguard::{Lifetime, LruMap, ManagedCache};
/// let mut maps = vec![LruMap::<u8, u8>::builder(4).lifetime(Lifetime::Batch).build()];
/// assert_eq!(maps.end_scope(Lifetime::Batch), 0);
/// ```
impl<C: ManagedCache> ManagedCache for Vec<C> {
    fn end_scope(&mut self, lifetime: Lifetime) -> usize {
        self.as_mut_slice().end_scope(lifetime)
    }

    fn maintain(&mut self) -> usize {
        self.as_mut_slice().maintain()
    }

    fn stats(&self) -> Vec<crate::scope::MapStats> {
        self.as_slice().stats()
    }
}
