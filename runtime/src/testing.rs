//! Test helpers that prove every value left a map exactly once, with the right cause.
//!
//! [`Tracker`] hands out [`Tracked`] values. Each records its creation, every
//! [`Cleanup::cleanup`] call with its cause, and its drop, so a test can assert the
//! invariant directly: nothing cleaned twice, nothing dropped without a cleanup unless it was
//! handed back, and the cause of each removal.
//!
//! ```
//! use mapguard::testing::Tracker;
//! use mapguard::{LruMap, RemovalCause};
//!
//! let tracker = Tracker::new();
//! let mut map = LruMap::builder(1).cleanup().build();
//! let first = tracker.track("a");
//! let first_id = first.id();
//! map.insert(1, first);
//! map.insert(2, tracker.track("b")); // evicts "a"
//! drop(map);
//!
//! assert_eq!(tracker.cleanups_of(first_id), [RemovalCause::Evicted]);
//! assert_eq!(tracker.cleaned(RemovalCause::Dropped), 1);
//! tracker.assert_exactly_once();
//! ```

use std::collections::HashMap;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::expiry::Clock;
use crate::{Cleanup, RemovalCause};

/// A clock that moves only when told to, for testing expiry without sleeping. Clones share
/// the same time.
///
/// ```
/// use mapguard::expiry::Clock;
/// use mapguard::testing::MockClock;
///use std::time::Duration;
///
/// let clock = MockClock::new();
/// let handle = clock.clone();
/// handle.advance(Duration::from_secs(5));
/// assert_eq!(clock.now(), Duration::from_secs(5));
/// ```
#[derive(Clone, Debug, Default)]
pub struct MockClock {
    nanos: Arc<AtomicU64>,
}

impl MockClock {
    /// A clock at time zero.
    ///
    /// ```
    /// use mapguard::expiry::Clock;
    /// use mapguard::testing::MockClock;
    /// assert_eq!(MockClock::new().now(), std::time::Duration::ZERO);
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves time forward by `by`, stopping at the latest time it can show (about 584
    /// years): it never wraps around.
    ///
    /// ```
    /// use mapguard::expiry::Clock;
    /// use mapguard::testing::MockClock;
    /// use std::time::Duration;
    /// let clock = MockClock::new();
    /// clock.advance(Duration::from_millis(250));
    /// assert_eq!(clock.now(), Duration::from_millis(250));
    /// clock.advance(Duration::MAX);
    /// assert_eq!(clock.now(), Duration::from_nanos(u64::MAX));
    /// ```
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        // Saturates at the end of time rather than wrapping back to its start.
        let mut now = self.nanos.load(Ordering::Relaxed);
        while let Err(actual) = self.nanos.compare_exchange_weak(
            now,
            now.saturating_add(by),
            Ordering::Relaxed,
            Ordering::Relaxed,
        ) {
            now = actual;
        }
    }
}

impl Clock for MockClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::Relaxed))
    }
}

#[derive(Debug, Default)]
struct Ledger {
    created: u64,
    dropped: u64,
    by_cause: [u64; RemovalCause::ALL.len()],
    /// Causes each value was cleaned with, in order; one entry means "exactly once".
    cleanups: HashMap<u64, Vec<RemovalCause>>,
    /// Ids dropped so far.
    dropped_ids: Vec<u64>,
}

/// Counts created, cleaned (by cause) and dropped [`Tracked`] values. Cheap to clone; clones
/// share one ledger, so it can be moved into listeners and across threads.
///
/// ```
/// use mapguard::testing::Tracker;
///
/// let tracker = Tracker::new();
/// let value = tracker.track(5);
/// assert_eq!(tracker.live(), 1);
/// drop(value);
/// assert_eq!((tracker.created(), tracker.dropped()), (1, 1));
/// ```
#[derive(Clone, Default)]
pub struct Tracker {
    ledger: Arc<Mutex<Ledger>>,
}

impl Tracker {
    /// A tracker with an empty ledger.
    ///
    /// ```
    /// assert_eq!(mapguard::testing::Tracker::new().created(), 0);
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn ledger(&self) -> MutexGuard<'_, Ledger> {
        // A panicking hook under test may poison the lock; the ledger stays meaningful.
        self.ledger.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Wraps `payload` in a value whose cleanup and drop this tracker records. Ids count up
    /// from 0 in creation order.
    ///
    /// ```
    /// let tracker = mapguard::testing::Tracker::new();
    /// assert_eq!(tracker.track('a').id(), 0);
    /// assert_eq!(tracker.track('b').id(), 1);
    /// ```
    pub fn track<T>(&self, payload: T) -> Tracked<T> {
        let mut ledger = self.ledger();
        let id = ledger.created;
        ledger.created += 1;
        drop(ledger);
        Tracked {
            id,
            payload,
            tracker: self.clone(),
        }
    }

    /// Values created so far.
    ///
    /// ```
    /// let tracker = mapguard::testing::Tracker::new();
    /// let _a = tracker.track(());
    /// assert_eq!(tracker.created(), 1);
    /// ```
    #[must_use]
    pub fn created(&self) -> u64 {
        self.ledger().created
    }

    /// Values dropped so far.
    ///
    /// ```
    /// let tracker = mapguard::testing::Tracker::new();
    /// drop(tracker.track(()));
    /// assert_eq!(tracker.dropped(), 1);
    /// ```
    #[must_use]
    pub fn dropped(&self) -> u64 {
        self.ledger().dropped
    }

    /// Values created and not yet dropped.
    ///
    /// ```
    /// let tracker = mapguard::testing::Tracker::new();
    /// let kept = tracker.track(());
    /// assert_eq!(tracker.live(), 1);
    /// # drop(kept);
    /// ```
    #[must_use]
    pub fn live(&self) -> u64 {
        let ledger = self.ledger();
        ledger.created - ledger.dropped
    }

    /// Cleanup calls with `cause` so far.
    ///
    /// ```
    /// use mapguard::{testing::Tracker, Cleanup, RemovalCause};
    /// let tracker = Tracker::new();
    /// tracker.track(()).cleanup(RemovalCause::Expired);
    /// assert_eq!(tracker.cleaned(RemovalCause::Expired), 1);
    /// ```
    #[must_use]
    pub fn cleaned(&self, cause: RemovalCause) -> u64 {
        self.ledger().by_cause[cause.index()]
    }

    /// Cleanup calls of any cause so far.
    ///
    /// ```
    /// use mapguard::{testing::Tracker, Cleanup, RemovalCause};
    /// let tracker = Tracker::new();
    /// tracker.track(()).cleanup(RemovalCause::Cleared);
    /// assert_eq!(tracker.cleaned_total(), 1);
    /// ```
    #[must_use]
    pub fn cleaned_total(&self) -> u64 {
        self.ledger().by_cause.iter().sum()
    }

    /// The causes value `id` was cleaned with, in order (empty if never cleaned).
    ///
    /// ```
    /// use mapguard::{testing::Tracker, Cleanup, RemovalCause};
    /// let tracker = Tracker::new();
    /// let mut value = tracker.track(());
    /// value.cleanup(RemovalCause::Replaced);
    /// assert_eq!(tracker.cleanups_of(value.id()), [RemovalCause::Replaced]);
    /// ```
    #[must_use]
    pub fn cleanups_of(&self, id: u64) -> Vec<RemovalCause> {
        self.ledger().cleanups.get(&id).cloned().unwrap_or_default()
    }

    /// Whether value `id` has been dropped.
    ///
    /// ```
    /// let tracker = mapguard::testing::Tracker::new();
    /// let value = tracker.track(());
    /// let id = value.id();
    /// assert!(!tracker.is_dropped(id));
    /// drop(value);
    /// assert!(tracker.is_dropped(id));
    /// ```
    #[must_use]
    pub fn is_dropped(&self, id: u64) -> bool {
        self.ledger().dropped_ids.contains(&id)
    }

    /// Asserts that no value was cleaned more than once and that every value is dropped.
    /// Values handed back and dropped by the caller have no cleanup, which is allowed.
    ///
    /// # Panics
    ///
    /// With a list of the offending ids when the invariant is broken.
    ///
    /// ```
    /// use mapguard::{testing::Tracker, Cleanup, RemovalCause};
    /// let tracker = Tracker::new();
    /// let mut value = tracker.track(());
    /// value.cleanup(RemovalCause::Evicted);
    /// drop(value);
    /// tracker.assert_exactly_once();
    /// ```
    #[track_caller]
    pub fn assert_exactly_once(&self) {
        let ledger = self.ledger();
        let mut twice: Vec<_> = ledger
            .cleanups
            .iter()
            .filter(|(_, causes)| causes.len() > 1)
            .map(|(id, causes)| (*id, causes.clone()))
            .collect();
        twice.sort_unstable();
        assert!(twice.is_empty(), "values cleaned more than once: {twice:?}");
        assert_eq!(
            ledger.created,
            ledger.dropped,
            "{} of {} tracked values were never dropped (leaked)",
            ledger.created - ledger.dropped,
            ledger.created
        );
    }
}

impl fmt::Debug for Tracker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ledger = self.ledger();
        let mut cleaned = f.debug_map();
        for cause in RemovalCause::ALL {
            let count = ledger.by_cause[cause.index()];
            if count > 0 {
                cleaned.entry(&cause.as_str(), &count);
            }
        }
        let cleaned = format!("{:?}", cleaned.finish());
        f.debug_struct("Tracker")
            .field("created", &ledger.created)
            .field("dropped", &ledger.dropped)
            .field("cleaned", &format_args!("{cleaned}"))
            .finish()
    }
}

/// A value whose [`Cleanup`] and `Drop` are recorded by its [`Tracker`]. Derefs to the
/// payload.
///
/// ```
/// let tracker = mapguard::testing::Tracker::new();
/// let value = tracker.track(String::from("payload"));
/// assert_eq!(value.len(), 7); // through Deref
/// ```
pub struct Tracked<T> {
    id: u64,
    payload: T,
    tracker: Tracker,
}

impl<T> Tracked<T> {
    /// This value's id, unique within its tracker.
    ///
    /// ```
    /// let tracker = mapguard::testing::Tracker::new();
    /// let value = tracker.track(());
    /// assert_eq!(value.id(), 0);
    /// ```
    #[must_use]
    pub fn id(&self) -> u64 {
        self.id
    }
}

impl<T> Cleanup for Tracked<T> {
    fn cleanup(&mut self, cause: RemovalCause) {
        let mut ledger = self.tracker.ledger();
        ledger.by_cause[cause.index()] += 1;
        ledger.cleanups.entry(self.id).or_default().push(cause);
    }
}

impl<T> Drop for Tracked<T> {
    fn drop(&mut self) {
        let mut ledger = self.tracker.ledger();
        ledger.dropped += 1;
        ledger.dropped_ids.push(self.id);
    }
}

impl<T> Deref for Tracked<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.payload
    }
}

impl<T> DerefMut for Tracked<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.payload
    }
}

impl<T: fmt::Debug> fmt::Debug for Tracked<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tracked")
            .field("id", &self.id)
            .field("payload", &self.payload)
            .finish_non_exhaustive()
    }
}

// The examples that install dhat's allocator are `standalone_crate`: merged with the others,
// it would be the allocator of every doctest, and its global lock made them all ~8× slower.
/// The live heap at one moment, to assert later that memory came back (feature `dhat-heap`):
/// a test that a workload gives back everything it took, measured on the real heap rather than
/// read off `capacity()`.
///
/// It reads [dhat]'s live-heap counter, so the test binary must install dhat's allocator and
/// start its profiler in testing mode. dhat was chosen over a hand-written counting allocator
/// because writing a `GlobalAlloc` needs `unsafe`, which this crate forbids, and dhat is the
/// well-kept tool for exactly these assertions.
///
/// ```standalone_crate
/// # #[cfg(feature = "dhat-heap")]
/// # fn main() {
/// use mapguard::{testing::HeapCheckpoint, LruMap};
///
/// #[global_allocator]
/// static ALLOC: dhat::Alloc = dhat::Alloc;
///
/// let _profiler = dhat::Profiler::builder().testing().build();
/// let mut map = LruMap::new(100_000);
/// let empty = HeapCheckpoint::now();
/// for k in 0..50_000_u64 {
///     map.insert(k, k);
/// }
/// assert!(empty.grown() > 0);
/// map.clear();
/// empty.assert_returned(0); // every byte the entries took is back
/// # }
/// # #[cfg(not(feature = "dhat-heap"))]
/// # fn main() {}
/// ```
#[cfg(feature = "dhat-heap")]
#[cfg_attr(docsrs, doc(cfg(feature = "dhat-heap")))]
#[derive(Clone, Copy, Debug)]
pub struct HeapCheckpoint {
    live_bytes: usize,
}

#[cfg(feature = "dhat-heap")]
impl HeapCheckpoint {
    /// The live heap now.
    ///
    /// ```standalone_crate
    /// # #[cfg(feature = "dhat-heap")]
    /// # fn main() {
    /// # #[global_allocator]
    /// # static ALLOC: dhat::Alloc = dhat::Alloc;
    /// # let _profiler = dhat::Profiler::builder().testing().build();
    /// let checkpoint = mapguard::testing::HeapCheckpoint::now();
    /// let buffer = vec![0_u8; 4096];
    /// assert!(checkpoint.grown() >= 4096);
    /// drop(buffer);
    /// checkpoint.assert_returned(0);
    /// # }
    /// # #[cfg(not(feature = "dhat-heap"))]
    /// # fn main() {}
    /// ```
    ///
    /// # Panics
    ///
    /// If no dhat profiler is running (dhat's own check).
    #[must_use]
    pub fn now() -> Self {
        Self {
            live_bytes: dhat::HeapStats::get().curr_bytes,
        }
    }

    /// Live heap bytes gained since the checkpoint (negative if fewer are live now).
    ///
    /// ```standalone_crate
    /// # #[cfg(feature = "dhat-heap")]
    /// # fn main() {
    /// # #[global_allocator]
    /// # static ALLOC: dhat::Alloc = dhat::Alloc;
    /// # let _profiler = dhat::Profiler::builder().testing().build();
    /// let checkpoint = mapguard::testing::HeapCheckpoint::now();
    /// let buffer = vec![0_u8; 4096];
    /// assert!(checkpoint.grown() >= 4096);
    /// drop(buffer);
    /// checkpoint.assert_returned(0);
    /// # }
    /// # #[cfg(not(feature = "dhat-heap"))]
    /// # fn main() {}
    /// ```
    #[must_use]
    pub fn grown(&self) -> isize {
        let now = dhat::HeapStats::get().curr_bytes;
        isize::try_from(now).unwrap_or(isize::MAX)
            - isize::try_from(self.live_bytes).unwrap_or(isize::MAX)
    }

    /// Asserts that at most `slack_bytes` more are live than at the checkpoint.
    ///
    /// ```standalone_crate
    /// # #[cfg(feature = "dhat-heap")]
    /// # fn main() {
    /// # #[global_allocator]
    /// # static ALLOC: dhat::Alloc = dhat::Alloc;
    /// # let _profiler = dhat::Profiler::builder().testing().build();
    /// let checkpoint = mapguard::testing::HeapCheckpoint::now();
    /// let buffer = vec![0_u8; 4096];
    /// assert!(checkpoint.grown() >= 4096);
    /// drop(buffer);
    /// checkpoint.assert_returned(0);
    /// # }
    /// # #[cfg(not(feature = "dhat-heap"))]
    /// # fn main() {}
    /// ```
    ///
    /// # Panics
    ///
    /// With the number of bytes still held when memory did not come back.
    #[track_caller]
    pub fn assert_returned(&self, slack_bytes: usize) {
        let grown = self.grown();
        assert!(
            grown <= isize::try_from(slack_bytes).unwrap_or(isize::MAX),
            "memory did not come back: {grown} bytes more are live than at the checkpoint \
             (allowed: {slack_bytes})"
        );
    }
}

/// Runs `future` to completion on this thread, parking it while the future waits: enough for
/// tests and examples of the async methods (`get_or_insert_async`, ...), which need no
/// particular executor. Not a runtime: it runs one future, and nothing it spawns.
///
/// ```
/// let map = mapguard::ConcurrentLruMap::<u8, u8>::new(4);
/// let value = mapguard::testing::block_on(map.get_or_insert_async(1, async { 10 }));
/// assert_eq!(value, 10);
/// ```
pub fn block_on<F: core::future::Future>(future: F) -> F::Output {
    use std::sync::Arc;
    use std::task::{Context, Poll, Wake, Waker};

    /// Wakes the blocked thread.
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.unpark();
        }
    }

    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = core::pin::pin!(future);
    loop {
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(output) => return output,
            // A wake that came before the park makes the park return at once.
            Poll::Pending => std::thread::park(),
        }
    }
}
