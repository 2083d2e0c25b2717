//! The cleanup path: what happens to a value that leaves a map without being handed back.
//!
//! The order is a safe delete — close, then notify, then forget:
//! 1. the value's own [`Cleanup::cleanup`] (when the map was built with
//!    [`cleanup()`](crate::map::Builder::cleanup)),
//! 2. the map's [`RemovalListener`], which receives key, value and cause by value,
//! 3. drop.
//!
//! Both hooks are type parameters of the map, so they are dispatched statically: a map without
//! hooks compiles to plain drops, and no `Box<dyn Fn>` sits on the hot path.

use crate::RemovalCause;
pub use crate::panics::HookPanics;

/// A value that holds something to close when it leaves a map: a channel, a connection, a
/// file, a registration elsewhere.
///
/// `Drop` runs when the last owner goes, which may be much later than the value leaves the map
/// (a clone of a `Sender` kept elsewhere keeps the channel open, and the thread blocked on
/// its `Receiver` waits forever). `cleanup` runs at the moment the value leaves, and tells
/// you why.
///
/// # Examples
///
/// ```
/// use mapguard::{Cleanup, LruMap, RemovalCause};
/// use std::sync::mpsc;
///
/// struct Worker {
///     jobs: Option<mpsc::Sender<u32>>,
/// }
///
/// impl Cleanup for Worker {
///     fn cleanup(&mut self, _cause: RemovalCause) {
///         // Close our end now, even if the value itself lives on somewhere.
///         self.jobs = None;
///     }
/// }
///
/// let (tx, rx) = mpsc::channel();
/// let mut workers = LruMap::builder(1).cleanup().build();
/// workers.insert("a", Worker { jobs: Some(tx) });
/// workers.insert("b", Worker { jobs: None }); // evicts "a" and closes its sender
/// assert!(rx.recv().is_err()); // the receiver sees the channel closed
/// ```
///
/// # std types
///
/// Implemented where a std type can really be closed through `&mut self`: [`TcpStream`]
/// (shut down both ways, which also closes every `try_clone` of it), [`Child`] (killed and
/// reaped), and containers of cleanable values (`Option`, `Box`, `Vec`, `Mutex`, `RefCell`,
/// `Arc<Mutex<_>>`).
///
/// Not implemented, on purpose: `std::sync::mpsc::Sender` and other handles whose only close
/// is `drop` — dropping one closes the channel only if it was the last clone, so the
/// channel can outlive the entry. Hold such a handle as `Option<Sender<T>>` in your value and set it to `None`
/// in your own `cleanup` (as above), so this value's end is closed now and you can see that
/// it is. [`File`](std::fs::File) has nothing to close before `drop`; write a `cleanup` that
/// flushes or syncs if that matters to you.
///
/// [`TcpStream`]: std::net::TcpStream
/// [`Child`]: std::process::Child
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not implement `mapguard::Cleanup`, so it cannot be cleaned",
    label = "must implement `Cleanup` to be cleaned",
    note = "implement `mapguard::Cleanup` for `{Self}` (or `#[derive(mapguard::Cleanup)]`), or \
            drop the `cleanup` option (`.cleanup()` on a builder, `cleanup` in #[managed_map]) \
            and close resources in a listener or `on_remove` hook",
    note = "a field of a `#[derive(Cleanup)]` type that has nothing to close (a `String`, a \
            number): mark it `#[cleanup(skip)]`"
)]
pub trait Cleanup {
    /// Releases what the value holds. Called exactly once, just before the map lets go of the
    /// value; `cause` says why it is leaving.
    fn cleanup(&mut self, cause: RemovalCause);
}

/// Cleans the inner value, then sets the option to `None`: close, then forget, so nothing can
/// use the closed value by mistake.
///
/// ```
/// # use mapguard::{Cleanup, RemovalCause};
/// struct Conn;
/// impl Cleanup for Conn { fn cleanup(&mut self, _: RemovalCause) {} }
/// let mut slot = Some(Conn);
/// slot.cleanup(RemovalCause::Explicit);
/// assert!(slot.is_none());
/// ```
impl<T: Cleanup> Cleanup for Option<T> {
    fn cleanup(&mut self, cause: RemovalCause) {
        if let Some(mut inner) = self.take() {
            inner.cleanup(cause);
        }
    }
}

/// Cleans the boxed value.
///
/// ```
/// # use mapguard::{Cleanup, RemovalCause};
/// struct Conn(bool);
/// impl Cleanup for Conn { fn cleanup(&mut self, _: RemovalCause) { self.0 = true } }
/// let mut boxed = Box::new(Conn(false));
/// boxed.cleanup(RemovalCause::Evicted);
/// assert!(boxed.0);
/// ```
impl<T: Cleanup + ?Sized> Cleanup for Box<T> {
    fn cleanup(&mut self, cause: RemovalCause) {
        (**self).cleanup(cause);
    }
}

/// Cleans every element, front to back, then empties the vector.
///
/// ```
/// # use mapguard::{Cleanup, RemovalCause};
/// struct Conn;
/// impl Cleanup for Conn { fn cleanup(&mut self, _: RemovalCause) {} }
/// let mut pool = vec![Conn, Conn];
/// pool.cleanup(RemovalCause::Dropped);
/// assert!(pool.is_empty());
/// ```
impl<T: Cleanup> Cleanup for Vec<T> {
    fn cleanup(&mut self, cause: RemovalCause) {
        for mut item in self.drain(..) {
            item.cleanup(cause);
        }
    }
}

/// Cleans the value inside, recovering it if a panic poisoned the lock.
///
/// ```
/// # use mapguard::{Cleanup, RemovalCause};
/// # struct Conn(bool);
/// # impl Cleanup for Conn { fn cleanup(&mut self, _: RemovalCause) { self.0 = true } }
/// let mut shared = std::sync::Mutex::new(Conn(false));
/// shared.cleanup(RemovalCause::Evicted);
/// assert!(shared.lock().unwrap().0);
/// ```
impl<T: Cleanup> Cleanup for std::sync::Mutex<T> {
    fn cleanup(&mut self, cause: RemovalCause) {
        self.get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .cleanup(cause);
    }
}

/// Cleans the value inside.
///
/// ```
/// # use mapguard::{Cleanup, RemovalCause};
/// # struct Conn(bool);
/// # impl Cleanup for Conn { fn cleanup(&mut self, _: RemovalCause) { self.0 = true } }
/// let mut cell = std::cell::RefCell::new(Conn(false));
/// cell.cleanup(RemovalCause::Explicit);
/// assert!(cell.borrow().0);
/// ```
impl<T: Cleanup> Cleanup for std::cell::RefCell<T> {
    fn cleanup(&mut self, cause: RemovalCause) {
        self.get_mut().cleanup(cause);
    }
}

/// Cleans the shared value for every holder: the map's copy of the `Arc` leaving means the
/// resource is done with, even if other clones of the `Arc` live on.
///
/// ```
/// # use mapguard::{Cleanup, RemovalCause};
/// # use std::sync::{Arc, Mutex};
/// # struct Conn(bool);
/// # impl Cleanup for Conn { fn cleanup(&mut self, _: RemovalCause) { self.0 = true } }
/// let shared = Arc::new(Mutex::new(Conn(false)));
/// let mut in_map = Arc::clone(&shared);
/// in_map.cleanup(RemovalCause::Evicted);
/// assert!(shared.lock().unwrap().0);
/// ```
impl<T: Cleanup> Cleanup for std::sync::Arc<std::sync::Mutex<T>> {
    fn cleanup(&mut self, cause: RemovalCause) {
        self.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .cleanup(cause);
    }
}

/// Shuts the connection down in both directions, for this handle and every `try_clone` of
/// it; errors (already closed) are ignored.
///
/// ```
/// # use mapguard::{Cleanup, RemovalCause};
/// use std::io::Read;
/// use std::net::{TcpListener, TcpStream};
///
/// let listener = TcpListener::bind("127.0.0.1:0")?;
/// let mut client = TcpStream::connect(listener.local_addr()?)?;
/// let (mut server, _) = listener.accept()?;
/// let _kept_elsewhere = client.try_clone()?; // a clone would keep it open on drop
/// client.cleanup(RemovalCause::Evicted);
/// assert_eq!(server.read(&mut [0; 8])?, 0); // the peer sees end-of-stream now
/// # Ok::<(), std::io::Error>(())
/// ```
impl Cleanup for std::net::TcpStream {
    fn cleanup(&mut self, _cause: RemovalCause) {
        let _ = self.shutdown(std::net::Shutdown::Both);
    }
}

/// Kills the process and reaps it; errors (already exited) are ignored.
///
/// Reaping waits for the process to exit, on purpose: an unreaped child stays in the process
/// table as a zombie, a leak of its own. `SIGKILL` cannot be caught or ignored, so the wait
/// is normally over in well under a millisecond; it lasts longer only while the process is
/// stuck in uninterruptible I/O (a hung network file system, say). If your hooks must never
/// block, keep children in a type of your own whose `cleanup` kills without waiting, and reap
/// them elsewhere:
///
/// ```no_run
/// use mapguard::{Cleanup, RemovalCause};
///
/// /// A child that is killed, not waited for, when it leaves the map.
/// struct Detached(std::process::Child);
///
/// impl Cleanup for Detached {
///     fn cleanup(&mut self, _cause: RemovalCause) {
///         let _ = self.0.kill();
///         let _ = self.0.try_wait(); // reaps it if it is already gone; never blocks
///     }
/// }
/// ```
///
/// ```no_run
/// # use mapguard::{Cleanup, RemovalCause};
/// let mut child = std::process::Command::new("sleep").arg("60").spawn()?;
/// child.cleanup(RemovalCause::ScopeEnded);
/// assert!(child.try_wait()?.is_some());
/// # Ok::<(), std::io::Error>(())
/// ```
impl Cleanup for std::process::Child {
    fn cleanup(&mut self, _cause: RemovalCause) {
        let _ = self.kill();
        let _ = self.wait();
    }
}

/// Receives every entry that leaves a map through the cleanup path, by value, with its cause.
///
/// Implemented for every `FnMut(K, V, RemovalCause)` closure, for [`NoListener`], and for
/// [`WithCleanup`]. Implement it on your own type when the hook must be nameable (a struct
/// field's type) or stateful.
///
/// # Examples
///
/// ```
/// use mapguard::hooks::RemovalListener;
///use mapguard::{LruMap, RemovalCause};
///
/// #[derive(Default)]
///struct CountEvictions(usize);
///
/// impl<K, V> RemovalListener<K, V> for CountEvictions {
///     fn on_removal(&mut self, _key: K, _value: V, cause: RemovalCause) {
///         if cause.was_evicted() {
///             self.0 += 1;
///         }
///     }
///}
///
/// let mut map = LruMap::builder(2).listener(CountEvictions::default()).build();
/// for i in 0..5 {
///     map.insert(i, ());
/// }
/// assert_eq!(map.listener().0, 3);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot listen to removals from a map of `{K}` to `{V}`",
    label = "not a removal listener for `{K}` -> `{V}`",
    note = "a listener is a closure `|key: {K}, value: {V}, cause: RemovalCause| ...` or a type \
            implementing `mapguard::hooks::RemovalListener<{K}, {V}>`"
)]
pub trait RemovalListener<K, V> {
    /// Called once for every entry that leaves through the cleanup path, after the value's
    /// own cleanup and before it is dropped. The map is already consistent when this runs.
    fn on_removal(&mut self, key: K, value: V, cause: RemovalCause);

    /// How the map calls the hooks: each under `panics`, so that a panicking hook stops
    /// neither the other hooks of this value nor other values' hooks. Never override it.
    #[doc(hidden)]
    #[inline]
    fn on_removal_contained(
        &mut self,
        key: K,
        value: V,
        cause: RemovalCause,
        panics: &mut HookPanics,
    ) {
        if Self::CAN_PANIC {
            panics.run(|| self.on_removal(key, value, cause));
        } else {
            // Nothing to catch: such a listener never touches `panics`, so the map can skip
            // looking at it (see `ManagedMap::finish`).
            self.on_removal(key, value, cause);
        }
    }

    /// `false` for a listener that runs no user code, so no hook of it can panic (one that
    /// ignores what it receives, or a concurrent map's shard queuing departures): the map
    /// calls it without catching.
    #[doc(hidden)]
    const CAN_PANIC: bool = Self::OBSERVES_REMOVALS;

    /// `false` only for a listener that does nothing with what it receives, such as
    /// [`NoListener`]: bulk removals (`clear`, drop) then free storage wholesale instead of
    /// visiting each entry.
    const OBSERVES_REMOVALS: bool = true;
}

/// A [`RemovalListener`] of `K` and `V`, for the map `M`. The builders' `listener` and
/// `build` take this bound, so that a wrong listener's error names the map it was meant for.
/// Implemented for every `RemovalListener<K, V>`; never implement it yourself.
///
/// ```
/// fn takes<L: mapguard::hooks::ListenerOf<u8, u8, ()>>(_: L) {}
/// takes(|_key: u8, _value: u8, _cause| {});
/// ```
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot listen to removals from `{M}`",
    label = "not a removal listener for `{K}` -> `{V}`",
    note = "a listener is a closure `|key: {K}, value: {V}, cause: RemovalCause| ...` or a type \
            implementing `mapguard::hooks::RemovalListener<{K}, {V}>`"
)]
pub trait ListenerOf<K, V, M>: RemovalListener<K, V> {}

impl<K, V, M, L: RemovalListener<K, V>> ListenerOf<K, V, M> for L {}

/// The default listener: removed entries are simply dropped.
///
/// ```
/// use mapguard::hooks::NoListener;
/// use mapguard::LruMap;
/// let map: LruMap<u32, String, mapguard::DefaultHashBuilder, NoListener> = LruMap::new(8);
/// # drop(map);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoListener;

impl<K, V> RemovalListener<K, V> for NoListener {
    #[inline]
    fn on_removal(&mut self, _key: K, _value: V, _cause: RemovalCause) {}

    const OBSERVES_REMOVALS: bool = false;
}

impl<K, V, F: FnMut(K, V, RemovalCause)> RemovalListener<K, V> for F {
    #[inline]
    fn on_removal(&mut self, key: K, value: V, cause: RemovalCause) {
        self(key, value, cause);
    }
}

/// A listener closure in a box, with a type a struct field can name: a map built with
/// `on_removal_boxed(closure)` has the listener type `BoxedListener<K, V>`, whatever the
/// closure (and whatever it captures: this map's own counters, a channel, ...). One call
/// through a pointer per value that leaves. `Default` listens to nothing.
///
/// ```
/// use mapguard::hooks::BoxedListener;
/// use mapguard::{DefaultHashBuilder, LruMap, RemovalCause};
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicUsize, Ordering};
///
/// struct Worker {
///     jobs: LruMap<u64, String, DefaultHashBuilder, BoxedListener<u64, String>>,
///     evicted: Arc<AtomicUsize>,
/// }
///
/// impl Worker {
///     fn new() -> Self {
///         let evicted = Arc::new(AtomicUsize::new(0));
///         let count = Arc::clone(&evicted);
///         let jobs = LruMap::builder(1)
///             .on_removal_boxed(move |_id, _job, cause| {
///                 if cause == RemovalCause::Evicted {
///                     count.fetch_add(1, Ordering::Relaxed);
///                 }
///             })
///             .build();
///         Self { jobs, evicted }
///     }
/// }
///
/// let mut worker = Worker::new();
/// worker.jobs.insert(1, String::from("a"));
/// worker.jobs.insert(2, String::from("b"));
/// assert_eq!(worker.evicted.load(Ordering::Relaxed), 1); // this worker's count, not a global
/// ```
pub struct BoxedListener<K, V>(Box<dyn FnMut(K, V, RemovalCause) + Send>);

impl<K, V> BoxedListener<K, V> {
    /// Boxes `on_removal`.
    ///
    /// ```
    /// let listener = mapguard::hooks::BoxedListener::<u8, u8>::new(|_, _, _| {});
    /// # drop(listener);
    /// ```
    #[must_use]
    pub fn new(on_removal: impl FnMut(K, V, RemovalCause) + Send + 'static) -> Self {
        Self(Box::new(on_removal))
    }
}

impl<K, V> Default for BoxedListener<K, V> {
    fn default() -> Self {
        Self::new(|_, _, _| {})
    }
}

impl<K, V> core::fmt::Debug for BoxedListener<K, V> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("BoxedListener")
    }
}

impl<K, V> RemovalListener<K, V> for BoxedListener<K, V> {
    #[inline]
    fn on_removal(&mut self, key: K, value: V, cause: RemovalCause) {
        (self.0)(key, value, cause);
    }
}

/// A concurrent map's listener closure behind an `Arc`, with a type a struct field can name:
/// a concurrent map built with `on_removal_boxed(closure)` has the listener type
/// `SharedListener<K, V>`, whatever the closure. `Send + Sync`, and the closure `Fn`: hooks of
/// different threads may run at once. Cloning shares the closure. `Default` listens to nothing.
///
/// ```
/// use mapguard::hooks::SharedListener;
/// use mapguard::{ConcurrentLruMap, DefaultHashBuilder, RemovalCause};
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicUsize, Ordering};
///
/// struct Server {
///     keys: ConcurrentLruMap<String, String, DefaultHashBuilder, SharedListener<String, String>>,
///     expired: Arc<AtomicUsize>,
/// }
///
/// let expired = Arc::new(AtomicUsize::new(0));
/// let count = Arc::clone(&expired);
/// let server = Server {
///     keys: ConcurrentLruMap::builder(1_000)
///         .on_removal_boxed(move |_key, _value, cause| {
///             if cause == RemovalCause::Expired {
///                 count.fetch_add(1, Ordering::Relaxed);
///             }
///         })
///         .build(),
///     expired,
/// };
/// server.keys.insert(String::from("k"), String::from("v"));
/// assert_eq!(server.expired.load(Ordering::Relaxed), 0);
/// ```
pub struct SharedListener<K, V>(std::sync::Arc<dyn Fn(K, V, RemovalCause) + Send + Sync>);

impl<K, V> SharedListener<K, V> {
    /// Shares `on_removal`.
    ///
    /// ```
    /// let listener = mapguard::hooks::SharedListener::<u8, u8>::new(|_, _, _| {});
    /// let also = listener.clone();
    /// # drop((listener, also));
    /// ```
    #[must_use]
    pub fn new(on_removal: impl Fn(K, V, RemovalCause) + Send + Sync + 'static) -> Self {
        Self(std::sync::Arc::new(on_removal))
    }
}

impl<K, V> Clone for SharedListener<K, V> {
    fn clone(&self) -> Self {
        Self(std::sync::Arc::clone(&self.0))
    }
}

impl<K, V> Default for SharedListener<K, V> {
    fn default() -> Self {
        Self::new(|_, _, _| {})
    }
}

impl<K, V> core::fmt::Debug for SharedListener<K, V> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SharedListener")
    }
}

impl<K, V> ConcurrentListener<K, V> for SharedListener<K, V> {
    #[inline]
    fn on_removal(&self, key: K, value: V, cause: RemovalCause) {
        (self.0)(key, value, cause);
    }
}

/// Runs the value's [`Cleanup`] first, then the wrapped listener.
///
/// Built by [`Builder::cleanup`](crate::map::Builder::cleanup); name it when a struct field needs
/// the map's full type.
///
/// ```
/// use mapguard::hooks::{NoListener, WithCleanup};
///use mapguard::{Cleanup, LruMap, RemovalCause};
///
/// struct Conn;
/// impl Cleanup for Conn {
///     fn cleanup(&mut self, _: RemovalCause) {}
///}
///
/// let map: LruMap<u32, Conn, mapguard::DefaultHashBuilder, WithCleanup<NoListener>> =
///     LruMap::builder(8).cleanup().build();
/// # drop(map);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WithCleanup<L = NoListener>(pub L);

/// Every value reaches both hooks: if its `cleanup` panics, the listener still receives it
/// (and the panic resumes afterwards).
impl<K, V: Cleanup, L: RemovalListener<K, V>> RemovalListener<K, V> for WithCleanup<L> {
    #[inline]
    fn on_removal(&mut self, key: K, value: V, cause: RemovalCause) {
        HookPanics::resuming(|panics| self.on_removal_contained(key, value, cause, panics));
    }

    #[inline]
    fn on_removal_contained(
        &mut self,
        key: K,
        value: V,
        cause: RemovalCause,
        panics: &mut HookPanics,
    ) {
        let value = cleaned(value, cause, panics);
        self.0.on_removal_contained(key, value, cause, panics);
    }
}

/// `value` after its own [`Cleanup`], run under `panics`: the first hook of every removal
/// from a map built with `cleanup`.
#[inline]
fn cleaned<V: Cleanup>(mut value: V, cause: RemovalCause, panics: &mut HookPanics) -> V {
    panics.run(|| value.cleanup(cause));
    value
}

/// The listener of a [`ConcurrentMap`](crate::ConcurrentMap): like [`RemovalListener`], but
/// called through `&self`, from whichever thread made the entry leave, possibly from several
/// threads at once. It runs after the map's lock is released, so it may use the map.
///
/// Implemented for every `Fn(K, V, RemovalCause) + Send + Sync` closure, for [`NoListener`],
/// and for [`WithCleanup`].
///
/// # Examples
///
/// ```
/// use mapguard::hooks::ConcurrentListener;
/// use mapguard::{ConcurrentLruMap, RemovalCause};
///use std::sync::atomic::{AtomicUsize, Ordering};
///
/// #[derive(Default)]
///struct CountEvictions(AtomicUsize);
///
/// impl<K, V> ConcurrentListener<K, V> for CountEvictions {
///     fn on_removal(&self, _key: K, _value: V, cause: RemovalCause) {
///         if cause.was_evicted() {
///             self.0.fetch_add(1, Ordering::Relaxed);
///         }
///     }
///}
///
/// let cache = ConcurrentLruMap::builder(2)
///     .shards(1)
///     .listener(CountEvictions::default())
///     .build();
/// std::thread::scope(|s| {
///     s.spawn(|| (0..5).for_each(|i| cache.insert(i, ())));
/// });
/// assert_eq!(cache.listener().0.load(Ordering::Relaxed), 3);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot listen to removals from a concurrent map of `{K}` to `{V}`",
    label = "not a concurrent removal listener for `{K}` -> `{V}`",
    note = "a concurrent listener is a closure `|key: {K}, value: {V}, cause: RemovalCause| ...` \
            that is `Fn + Send + Sync` (it may run on several threads at once), or a type \
            implementing `mapguard::hooks::ConcurrentListener<{K}, {V}>`"
)]
pub trait ConcurrentListener<K, V>: Send + Sync {
    /// Called once for every entry that leaves through the cleanup path, after the value's
    /// own cleanup and before it is dropped, with no lock of the map held.
    fn on_removal(&self, key: K, value: V, cause: RemovalCause);

    /// How the map calls the hooks: each under `panics`, so that a panicking hook stops
    /// neither the other hooks of this value nor other values' hooks. Never override it.
    #[doc(hidden)]
    #[inline]
    fn on_removal_contained(&self, key: K, value: V, cause: RemovalCause, panics: &mut HookPanics) {
        panics.run(|| self.on_removal(key, value, cause));
    }
}

/// A [`ConcurrentListener`] of `K` and `V`, for the concurrent map `M`: the concurrent
/// counterpart of [`ListenerOf`]. Never implement it yourself.
///
/// ```
/// fn takes<L: mapguard::hooks::ConcurrentListenerOf<u8, u8, ()>>(_: L) {}
/// takes(|_key: u8, _value: u8, _cause| {});
/// ```
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot listen to removals from `{M}`",
    label = "not a concurrent removal listener for `{K}` -> `{V}`",
    note = "a concurrent listener is a closure `|key: {K}, value: {V}, cause: RemovalCause| ...` \
            that is `Fn + Send + Sync` (it may run on several threads at once), or a type \
            implementing `mapguard::hooks::ConcurrentListener<{K}, {V}>`"
)]
pub trait ConcurrentListenerOf<K, V, M>: ConcurrentListener<K, V> {}

impl<K, V, M, L: ConcurrentListener<K, V>> ConcurrentListenerOf<K, V, M> for L {}

impl<K, V> ConcurrentListener<K, V> for NoListener {
    #[inline]
    fn on_removal(&self, _key: K, _value: V, _cause: RemovalCause) {}
}

impl<K, V, F: Fn(K, V, RemovalCause) + Send + Sync> ConcurrentListener<K, V> for F {
    #[inline]
    fn on_removal(&self, key: K, value: V, cause: RemovalCause) {
        self(key, value, cause);
    }
}

/// Every value reaches both hooks, as for [`RemovalListener`].
impl<K, V: Cleanup, L: ConcurrentListener<K, V>> ConcurrentListener<K, V> for WithCleanup<L> {
    #[inline]
    fn on_removal(&self, key: K, value: V, cause: RemovalCause) {
        HookPanics::resuming(|panics| self.on_removal_contained(key, value, cause, panics));
    }

    #[inline]
    fn on_removal_contained(&self, key: K, value: V, cause: RemovalCause, panics: &mut HookPanics) {
        self.0
            .on_removal_contained(key, cleaned(value, cause, panics), cause, panics);
    }
}

/// An owner's choice of what its core map keeps: what leaves is kept for the hooks exactly
/// when the listener `L` observes removals (a map with no hooks drops what leaves at once).
pub(crate) struct KeptFor<L, K, V>(Unused<(L, K, V)>);

/// A type named for its traits only (never held).
type Unused<T> = core::marker::PhantomData<fn() -> T>;

impl<K, V, L: RemovalListener<K, V>> crate::departures::Keeping for KeptFor<L, K, V> {
    const KEEPS: bool = L::OBSERVES_REMOVALS;
}

/// The one place hooks run. Every value in `departed` reaches `hook` once (its `Cleanup`,
/// then the listener), whatever an earlier hook did; `back`, what the operation hands to its
/// caller, comes back. If a hook panicked, the caller will never receive `back`, so the values
/// in it (as `hand_back` gives them, each with its cause) go through the hooks too; then the
/// first panic resumes, after `panicked` has counted them all.
#[inline]
pub(crate) fn run_departed<K, V, T, I>(
    departed: impl IntoIterator<Item = crate::departures::Departed<K, V>>,
    mut hook: impl FnMut(K, V, RemovalCause, &mut HookPanics),
    back: T,
    hand_back: impl FnOnce(T) -> I,
    panicked: impl FnOnce(u64),
) -> T
where
    I: IntoIterator<Item = crate::departures::Departed<K, V>>,
{
    let mut panics = HookPanics::default();
    each_departed(departed, &mut hook, &mut panics);
    if panics.will_resume() {
        each_departed(hand_back(back), &mut hook, &mut panics);
        panics.resume_now(panicked);
    }
    panics.finish(panicked);
    back
}

/// [`run_departed`] within an operation that goes on (a concurrent map's pass over its
/// shards): every value in `departed` reaches `hook` once; panics wait in `panics`.
#[inline]
pub(crate) fn each_departed<K, V>(
    departed: impl IntoIterator<Item = crate::departures::Departed<K, V>>,
    mut hook: impl FnMut(K, V, RemovalCause, &mut HookPanics),
    panics: &mut HookPanics,
) {
    for (key, value, cause) in departed {
        hook(key, value, cause, panics);
    }
}

/// A weak-keyed shard of a concurrent map queues what leaves under its lock as its listener;
/// the map runs the hooks after unlocking.
impl<K, V> RemovalListener<K, V> for crate::departures::Departures<K, V> {
    #[inline]
    fn on_removal(&mut self, key: K, value: V, cause: RemovalCause) {
        self.push(key, value, cause);
    }

    /// Queuing runs no user code: nothing to catch.
    const CAN_PANIC: bool = false;
}
