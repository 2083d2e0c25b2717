//! [`Scope`]: one request, session or batch as a value, and what makes it current.

use core::fmt;
use core::future::Future;
use core::marker::PhantomData;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::rc::Rc;
use std::sync::Arc;

use pin_project_lite::pin_project;

use super::Lifetime;
use crate::storage::scopes::{self, ScopeCore};

/// One request, session or batch, as a cheap [`Clone`] handle: the entries written into maps
/// of its lifetime while it is current belong to it, and leave when it ends.
///
/// A scope is current on a thread while it is [entered](Self::enter), or while a future
/// [run](Self::run) in it is being polled (on any executor, and across awaits on a
/// multi-threaded runtime). Every insert made then into a map of the scope's lifetime tags
/// the entry with the scope: a concurrent map of any kind, or a single-threaded one that a
/// `#[managed_map(lifetime = ...)]` field declares (an `LruMap`, `AdaptiveMap`, `BoundedMap`
/// or `WeakKeyMap` made with a builder keeps no tags, and ends its whole lifetime with
/// `end_scope`). An entry written again under another scope moves to that one. Scopes of
/// different lifetimes nest (a request inside a session), and so do scopes of one lifetime
/// (the innermost is current).
///
/// The scope ends with [`end`](Self::end), or when its last handle is dropped — at the end
/// of a request, while unwinding from a panic, or when a future running in it is dropped
/// (a cancelled request). Ending it removes exactly its entries from every map of its
/// lifetime, each with [`RemovalCause::ScopeEnded`](crate::RemovalCause::ScopeEnded) through
/// the map's hooks, and touches no other scope's entries, in time proportional to the
/// scope's entries in each map. A concurrent map removes them under its own lock at its next
/// operation (or `maintain()`), and they vanish from its figures at once. A single-threaded
/// map removes them at its next write (before the write evicts anything), whole-map
/// operation, `maintain()` or drop; until then its lookups skip them (one they meet leaves
/// at once), while `len` and iteration still count them, as they do expired entries
/// (`&self` cannot clean). An entry written under a scope that has already ended leaves the
/// same way. An entry that left earlier (evicted, removed, replaced) is no longer the
/// scope's.
///
/// A `Process` scope is inert: `process` maps have no scopes, so it tags nothing.
///
/// # Examples
///
/// ```
/// use mapguard::scope::Scope;
/// use mapguard::{ConcurrentLruMap, Lifetime};
///
/// let rows = ConcurrentLruMap::builder(1_000).lifetime(Lifetime::Request).build();
/// let first = Scope::new(Lifetime::Request);
/// let second = Scope::new(Lifetime::Request);
/// {
///     let _current = first.enter();
///     rows.insert("a", 1);
/// }
/// {
///     let _current = second.enter();
///     rows.insert("b", 2);
/// }
/// assert_eq!(first.end(), 1); // only its own entry
/// rows.maintain();
/// assert_eq!(rows.get("a"), None);
/// assert_eq!(rows.get("b"), Some(2)); // the other request's entry stays
/// ```
///
/// A single-threaded map, shared by the requests one thread serves (a thread-per-core
/// server's cache, say):
///
/// ```
/// use mapguard::scope::Scope;
/// use mapguard::Lifetime;
/// use std::collections::HashMap;
///
/// #[mapguard::managed]
/// #[derive(Default)]
/// struct Worker {
///     #[managed_map(lifetime = "request", max = 100)]
///     rows: HashMap<&'static str, u32>,
/// }
///
/// let mut worker = Worker::default();
/// let request = Scope::new(Lifetime::Request);
/// {
///     let _current = request.enter();
///     worker.rows.insert("a", 1);
/// }
/// drop(request); // the request ends
/// assert_eq!(worker.rows.peek("a"), None); // unseen at once
/// worker.rows.insert("b", 2); // and gone before the next write
/// assert_eq!(worker.rows.len(), 1);
/// ```
#[derive(Clone)]
pub struct Scope {
    handle: Arc<Handle>,
}

/// The scope while a handle lives; ends it when the last one goes.
struct Handle {
    core: ScopeCore,
    lifetime: Lifetime,
}

impl Drop for Handle {
    fn drop(&mut self) {
        // Sets a flag and counts the end: no user code, nothing that can panic
        // while the thread unwinds.
        self.core.end();
    }
}

impl Scope {
    /// A new scope of `lifetime`, not yet current anywhere. O(1).
    ///
    /// ```
    /// use mapguard::{Lifetime, scope::Scope};
    /// let request = Scope::new(Lifetime::Request);
    /// assert_eq!(request.lifetime(), Lifetime::Request);
    /// assert!(!request.has_ended());
    /// ```
    #[must_use]
    pub fn new(lifetime: Lifetime) -> Self {
        let slot = lifetime.scope_slot().unwrap_or(usize::MAX);
        Self {
            handle: Arc::new(Handle {
                core: ScopeCore::new(slot),
                lifetime,
            }),
        }
    }

    /// The lifetime whose maps this scope's entries live in.
    ///
    /// ```
    /// use mapguard::{Lifetime, scope::Scope};
    /// assert_eq!(Scope::new(Lifetime::Session).lifetime(), Lifetime::Session);
    /// ```
    #[must_use]
    pub fn lifetime(&self) -> Lifetime {
        self.handle.lifetime
    }

    /// A number no other live scope has, and no earlier one unless a slot of the scope
    /// table has been reused 2³² times: for logs.
    ///
    /// ```
    /// use mapguard::{Lifetime, scope::Scope};
    /// assert_ne!(Scope::new(Lifetime::Request).id(), Scope::new(Lifetime::Request).id());
    /// ```
    #[must_use]
    pub fn id(&self) -> u64 {
        self.handle.core.id()
    }

    /// Makes this scope current on this thread for its lifetime until the guard is dropped;
    /// nestable. The guard cannot leave the thread (`!Send`); for async code use
    /// [`run`](Self::run).
    ///
    /// ```
    /// use mapguard::{ConcurrentLruMap, Lifetime, scope::Scope};
    ///
    /// let carts = ConcurrentLruMap::builder(100).lifetime(Lifetime::Session).build();
    /// let session = Scope::new(Lifetime::Session);
    /// let guard = session.enter();
    /// carts.insert("ada", vec!["tea"]);
    /// drop(guard);
    /// assert_eq!(session.entries(), 1);
    /// ```
    #[must_use = "the scope is current only while the guard lives"]
    pub fn enter(&self) -> Entered<'_> {
        if self.handle.core.slot() < scopes::SCOPED_LIFETIMES {
            scopes::enter(&self.handle.core);
        }
        Entered {
            scope: self,
            not_send: PhantomData,
        }
    }

    /// Runs `future` in this scope: the scope is current during every poll of it, on
    /// whichever thread polls it. The returned future is `Send` when `future` is; dropping
    /// it (a cancelled request) drops its handle, which ends the scope if it was the last.
    ///
    /// ```
    /// use mapguard::{ConcurrentLruMap, Lifetime, scope::Scope};
    /// use std::future::Future;
    /// use std::pin::pin;
    /// use std::task::{Context, Poll, Waker};
    ///
    /// let rows = ConcurrentLruMap::builder(100).lifetime(Lifetime::Request).build();
    /// let request = Scope::new(Lifetime::Request);
    /// let handler = request.run(async { rows.insert(1, "row") });
    /// let mut handler = pin!(handler);
    /// let poll = handler.as_mut().poll(&mut Context::from_waker(Waker::noop()));
    /// assert!(poll.is_ready());
    /// assert_eq!(request.entries(), 1);
    /// ```
    pub fn run<F: Future>(&self, future: F) -> InScope<F> {
        InScope {
            scope: self.clone(),
            future,
        }
    }

    /// Ends the scope now and returns how many entries carried it at that instant (exactly,
    /// whatever other threads are doing: the count is taken in the same atomic step that
    /// marks it ended, before any map can remove an entry of it); each map of its lifetime
    /// removes its own with [`RemovalCause::ScopeEnded`](crate::RemovalCause::ScopeEnded)
    /// at its next operation. Writes of other threads still inside the scope are not
    /// counted yet (see [`entries`](Self::entries)). Ending an ended scope returns 0. O(1).
    ///
    /// ```
    /// use mapguard::{ConcurrentLruMap, Lifetime, scope::Scope};
    ///
    /// let rows = ConcurrentLruMap::builder(100).lifetime(Lifetime::Batch).build();
    /// let batch = Scope::new(Lifetime::Batch);
    /// let guard = batch.enter();
    /// (0..3).for_each(|i| rows.insert(i, i));
    /// drop(guard);
    /// assert_eq!(batch.end(), 3);
    /// assert_eq!(batch.end(), 0);
    /// assert_eq!(rows.maintain(), 3);
    /// assert!(rows.is_empty());
    /// ```
    #[allow(
        clippy::must_use_candidate,
        reason = "ending is the point; the count is a figure for whoever wants it"
    )]
    pub fn end(&self) -> usize {
        self.handle.core.end()
    }

    /// Whether the scope has ended.
    ///
    /// ```
    /// use mapguard::{Lifetime, scope::Scope};
    /// let scope = Scope::new(Lifetime::Request);
    /// scope.end();
    /// assert!(scope.has_ended());
    /// ```
    #[must_use]
    pub fn has_ended(&self) -> bool {
        self.handle.core.has_ended()
    }

    /// How many entries carry this scope now, over every map; once it has ended, how many
    /// carried it when it ended (what [`end`](Self::end) returned), however far the maps have
    /// got with removing them, plus any written after the end by threads still inside it.
    /// Entries written by another thread that is still inside the scope count once that
    /// thread leaves it (a write touches no shared counter); on the writing thread they count
    /// at once. O(1).
    ///
    /// ```
    /// use mapguard::{ConcurrentLruMap, Lifetime, scope::Scope};
    ///
    /// let rows = ConcurrentLruMap::builder(100).lifetime(Lifetime::Request).build();
    /// let request = Scope::new(Lifetime::Request);
    /// assert_eq!(request.entries(), 0);
    /// {
    ///     let _inside = request.enter();
    ///     (0..3).for_each(|i| rows.insert(i, i));
    /// }
    /// assert!(rows.discard(&0)); // removed before the end: no longer carries it
    /// assert_eq!(request.entries(), 2);
    /// assert_eq!(request.end(), 2);
    /// assert_eq!(rows.maintain(), 2);
    /// assert_eq!(request.entries(), 2); // still what it held when it ended
    /// ```
    #[must_use]
    pub fn entries(&self) -> usize {
        self.handle.core.entries()
    }
}

impl fmt::Debug for Scope {
    /// Shows the id, lifetime, whether it ended and its entries.
    ///
    /// ```
    /// use mapguard::{Lifetime, scope::Scope};
    /// let scope = Scope::new(Lifetime::Request);
    /// assert!(format!("{scope:?}").starts_with("Scope { id: "));
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scope")
            .field("id", &self.id())
            .field("lifetime", &self.lifetime())
            .field("ended", &self.has_ended())
            .field("entries", &self.entries())
            .finish()
    }
}

/// The guard of [`Scope::enter`]: its scope is current on this thread until it is dropped.
///
/// ```
/// use mapguard::{Lifetime, scope::Scope};
/// let scope = Scope::new(Lifetime::Request);
/// let entered = scope.enter();
/// assert_eq!(entered.scope().id(), scope.id());
/// ```
pub struct Entered<'a> {
    scope: &'a Scope,
    /// The thread's current scope is per thread: the guard stays where it was made.
    not_send: PhantomData<Rc<()>>,
}

impl Entered<'_> {
    /// The scope this guard made current.
    #[must_use]
    pub fn scope(&self) -> &Scope {
        self.scope
    }
}

impl Drop for Entered<'_> {
    fn drop(&mut self) {
        if self.scope.handle.core.slot() < scopes::SCOPED_LIFETIMES {
            scopes::leave(&self.scope.handle.core);
        }
    }
}

impl fmt::Debug for Entered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entered")
            .field("scope", self.scope)
            .finish()
    }
}

pin_project! {
    /// A future running in a [`Scope`]: from [`Scope::run`]. The scope is current during
    /// each poll; dropping the future drops its handle on the scope.
    ///
    /// ```
    /// use mapguard::{Lifetime, scope::Scope};
    /// let scope = Scope::new(Lifetime::Request);
    /// let future = scope.run(async { 1 + 1 });
    /// assert_eq!(future.scope().id(), scope.id());
    /// ```
    pub struct InScope<F> {
        scope: Scope,
        #[pin]
        future: F,
    }
}

impl<F> InScope<F> {
    /// The scope the future runs in.
    #[must_use]
    pub fn scope(&self) -> &Scope {
        &self.scope
    }
}

impl<F: Future> Future for InScope<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _current = this.scope.enter();
        this.future.poll(cx)
    }
}

impl<F> fmt::Debug for InScope<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InScope")
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}
