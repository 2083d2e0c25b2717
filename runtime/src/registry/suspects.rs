//! Leak detection: every registry read is a time-stamped sample of every map; detectors keep
//! a bounded history of them and judge growth on time and trend, not on how often they were
//! asked.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

use super::metrics::event;
use super::{MapReport, clock, snapshot};
use crate::RemovalCause;
use crate::scope::Lifetime;
use crate::storage::expiry::Clock;

/// Samples within one window a detector needs before it judges growth from its history.
///
/// ```
/// assert_eq!(mapguard::registry::GROWTH_CHECKS, 3);
/// ```
pub const GROWTH_CHECKS: usize = 3;

/// Scope ends elsewhere before an uncleared request/batch map counts as
/// [`Suspicion::ScopeNeverEnded`] (the default of [`Thresholds::forgotten_scope_ends`]).
///
/// ```
/// assert_eq!(mapguard::registry::FORGOTTEN_SCOPE_ENDS, 10);
/// ```
pub const FORGOTTEN_SCOPE_ENDS: u64 = 10;

/// Samples a detector keeps per map. With one kept every `window / 8` at most, they span at
/// least four windows; reads in between update the newest sample instead of adding one.
const MAX_SAMPLES: usize = 32;

/// When a detector calls a map a leak. Set them with the methods of the same names.
///
/// - **Growing** (from history): over the last `window`, the map grew by at least
///   `min_growth` entries and never fell below where the window started, and it is below
///   its bound. Pauses do not matter, only the net trend: a map that grows in steps is
///   caught at any check after `window` has passed.
/// - **Growing** (one-shot, when the detector has not watched the map for a whole window —
///   a first call in a process that has run a while): the map is at least `window` old,
///   holds at least `min_growth` entries, is within 10% of its peak and below its bound, and
///   averaged at least `min_rate_per_minute` entries per minute since it was created.
/// - **Thrashing**: the map is at its bound and evicted at least `max` entries since the
///   window's start (or the oldest sample, if the history is shorter); or it has a weight
///   budget, weighs at least 90% of it, and evicted at least as many entries as it holds.
/// - **Scope never ended**: a request- or batch-scoped map holds entries while
///   `forgotten_scope_ends` scopes of its lifetime ended elsewhere since it was last cleared.
///
/// A map at its bound is never *growing*: it cannot grow.
///
/// ```
/// use mapguard::registry::Thresholds;
/// use std::time::Duration;
///
/// let strict = Thresholds::default()
///     .window(Duration::from_secs(60))
///     .min_growth(100);
/// assert_eq!(strict.window, Duration::from_secs(60));
/// assert_eq!(Thresholds::default().window, Duration::from_secs(300));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Thresholds {
    /// How far back growth and evictions are judged. Default 5 minutes.
    pub window: Duration,
    /// The least net growth over a window that counts. Default 1,000 entries.
    pub min_growth: u64,
    /// The least average growth since creation, for the one-shot rule. Default 100 entries
    /// per minute.
    pub min_rate_per_minute: u64,
    /// Default [`FORGOTTEN_SCOPE_ENDS`].
    pub forgotten_scope_ends: u64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(5 * 60),
            min_growth: 1_000,
            min_rate_per_minute: 100,
            forgotten_scope_ends: FORGOTTEN_SCOPE_ENDS,
        }
    }
}

impl Thresholds {
    /// Sets [`window`](Self::window) (at least one nanosecond).
    ///
    /// ```
    /// let t = mapguard::registry::Thresholds::default().window(std::time::Duration::from_secs(30));
    /// assert_eq!(t.window.as_secs(), 30);
    /// ```
    #[must_use]
    pub fn window(mut self, window: Duration) -> Self {
        self.window = window.max(Duration::from_nanos(1));
        self
    }

    /// Sets [`min_growth`](Self::min_growth) (at least 1).
    ///
    /// ```
    /// assert_eq!(mapguard::registry::Thresholds::default().min_growth(50).min_growth, 50);
    /// ```
    #[must_use]
    pub fn min_growth(mut self, entries: u64) -> Self {
        self.min_growth = entries.max(1);
        self
    }

    /// Sets [`min_rate_per_minute`](Self::min_rate_per_minute).
    ///
    /// ```
    /// let t = mapguard::registry::Thresholds::default().min_rate_per_minute(10);
    /// assert_eq!(t.min_rate_per_minute, 10);
    /// ```
    #[must_use]
    pub fn min_rate_per_minute(mut self, entries: u64) -> Self {
        self.min_rate_per_minute = entries;
        self
    }

    /// Sets [`forgotten_scope_ends`](Self::forgotten_scope_ends) (at least 1).
    ///
    /// ```
    /// let t = mapguard::registry::Thresholds::default().forgotten_scope_ends(3);
    /// assert_eq!(t.forgotten_scope_ends, 3);
    /// ```
    #[must_use]
    pub fn forgotten_scope_ends(mut self, scope_ends: u64) -> Self {
        self.forgotten_scope_ends = scope_ends.max(1);
        self
    }
}

/// Why a map looks like a leak.
///
/// ```
/// use mapguard::registry::{leak_suspects, Suspicion};
/// for suspect in leak_suspects() {
///     match suspect.suspicion {
///         Suspicion::Growing { per_minute, growing_for, .. } => println!(
///             "{} grows by {per_minute} entries a minute, for {growing_for:?} now",
///             suspect.map.name
///         ),
///         Suspicion::Thrashing { evictions } => println!("{}: {evictions} evictions", suspect.map.name),
///         Suspicion::ScopeNeverEnded { .. } => println!("{}: scope never ended", suspect.map.name),
///         _ => {}
///     }
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Suspicion {
    /// It keeps growing (see [`Thresholds`] for the exact rules).
    Growing {
        /// Net entries gained over the span judged (the window, or the map's life for the
        /// one-shot rule).
        growth: u64,
        /// Average growth over that span, in entries per minute.
        per_minute: u64,
        /// How long it has been growing: since the last time it was no larger than every
        /// later sample, as far back as the detector's history reaches (it keeps about four
        /// windows); since its creation, for the one-shot rule.
        growing_for: Duration,
    },
    /// It sits at its bound and evicted `evictions` entries (at least its bound) within the
    /// window: the bound is too small, or keys never repeat (a cache of one-off keys).
    Thrashing {
        /// Evictions within the window.
        evictions: u64,
    },
    /// It is request- or batch-scoped, holds entries, and `scope_ends` scopes of its lifetime
    /// have ended elsewhere since it was last cleared: its own scope is never ended.
    ScopeNeverEnded {
        /// Scopes of its lifetime ended since it was last cleared.
        scope_ends: u64,
    },
    /// A request-lifetime concurrent map whose entries written outside any request scope
    /// grew by at least [`Thresholds::min_growth`] over the window: a writer runs outside
    /// the requests (a background task, a startup path, a handler not behind the layer), and
    /// nothing ends what it writes. Run it in a [`Scope`](crate::scope::Scope), or give its
    /// data a map of its own lifetime.
    UnscopedWrites {
        /// Unscoped entries now.
        unscoped: u64,
        /// Their growth over the window.
        growth: u64,
    },
}

/// One line for an operator: what was seen, with its figures.
///
/// ```
/// use mapguard::registry::Suspicion;
/// let thrashing = Suspicion::Thrashing { evictions: 5_000 };
/// assert_eq!(thrashing.to_string(), "thrashing: 5000 evictions at its bound within the window");
/// ```
impl fmt::Display for Suspicion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Growing {
                growth,
                per_minute,
                growing_for,
            } => write!(
                f,
                "growing: +{growth} entries, {per_minute}/min, for {}",
                Minutes(*growing_for)
            ),
            Self::Thrashing { evictions } => write!(
                f,
                "thrashing: {evictions} evictions at its bound within the window"
            ),
            Self::ScopeNeverEnded { scope_ends } => write!(
                f,
                "scope never ended: {scope_ends} scopes of its lifetime ended elsewhere since it was last cleared"
            ),
            Self::UnscopedWrites { unscoped, growth } => write!(
                f,
                "unscoped writes: {unscoped} entries written outside any scope (+{growth} within the window)"
            ),
        }
    }
}

/// A duration as an operator reads it: `2h 5m`, `5m 30s`, `45s`.
pub(super) struct Minutes(pub(super) Duration);

impl fmt::Display for Minutes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seconds = self.0.as_secs();
        let (hours, minutes, seconds) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
        match (hours, minutes) {
            (0, 0) => write!(f, "{seconds}s"),
            (0, _) => write!(f, "{minutes}m {seconds}s"),
            _ => write!(f, "{hours}h {minutes}m"),
        }
    }
}

/// A map flagged by a [`LeakDetector`] (or [`leak_suspects`]).
///
/// ```
/// let suspects: Vec<mapguard::registry::LeakSuspect> = mapguard::registry::leak_suspects();
/// for suspect in &suspects {
///     eprintln!("{} created at {}: {:?}", suspect.map.name, suspect.map.site, suspect.suspicion);
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LeakSuspect {
    /// The map's figures.
    pub map: MapReport,
    /// Why it is suspected.
    pub suspicion: Suspicion,
}

/// One map's figures at one registry read.
#[derive(Clone, Copy, Debug)]
pub(super) struct Sample {
    pub(super) at: Duration,
    pub(super) len: u64,
    pub(super) weight: u64,
    evictions: u64,
    unscoped: u64,
}

/// What one detector knows.
#[derive(Debug)]
struct State {
    /// `None`: the registry's clock ([`set_clock`](super::set_clock)).
    clock: Option<Arc<dyn Clock>>,
    thresholds: Thresholds,
    /// Per map id, oldest sample first.
    histories: Mutex<HashMap<u64, VecDeque<Sample>>>,
}

impl State {
    fn now(&self) -> Duration {
        match &self.clock {
            Some(clock) => clock.now(),
            None => clock().now(),
        }
    }

    fn histories(&self) -> MutexGuard<'_, HashMap<u64, VecDeque<Sample>>> {
        self.histories
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Records one sample of every map in `reports`, and forgets maps no longer there.
    fn observe(&self, reports: &[MapReport]) {
        let now = self.now();
        let spacing = self.thresholds.window / 8;
        let mut histories = self.histories();
        histories.retain(|id, _| reports.iter().any(|report| report.id == *id));
        for report in reports {
            let sample = Sample {
                at: now,
                len: report.len,
                weight: report.weight,
                evictions: report.removed(RemovalCause::Evicted),
                unscoped: report.unscoped,
            };
            let history = histories.entry(report.id).or_default();
            // A read soon after the last kept sample updates the newest one instead of
            // adding one: frequent reads cannot push the window's start out of the history.
            let crowded = history.len() >= 2
                && (now.saturating_sub(history[history.len() - 2].at) < spacing
                    || history.back().is_some_and(|last| last.at == now));
            if crowded {
                *history.back_mut().expect("two samples") = sample;
            } else {
                history.push_back(sample);
                if history.len() > MAX_SAMPLES {
                    history.pop_front();
                }
            }
        }
    }

    fn judge(&self, report: &MapReport, history: &VecDeque<Sample>) -> Option<Suspicion> {
        let thresholds = &self.thresholds;
        let now = history.back()?;
        let window_start = now.at.checked_sub(thresholds.window);
        // The newest sample at or before the window's start, if the history reaches back
        // that far.
        let start = window_start.and_then(|t| history.iter().rposition(|s| s.at <= t));
        let window = |start| Window {
            history,
            start,
            thresholds,
        };
        let growing = match start {
            Some(start) => unscoped_grew(window(start), report)
                .or_else(|| grew_over_window(window(start), report)),
            None => grew_since_creation(report, thresholds),
        };
        growing
            .or_else(|| thrashed(window(start.unwrap_or(0)), report))
            .or_else(|| scope_forgotten(report, thresholds))
    }
}

/// What a rule judges: the map's samples, where its window starts among them, and the
/// thresholds.
#[derive(Clone, Copy)]
struct Window<'a> {
    history: &'a VecDeque<Sample>,
    /// The window's first sample.
    start: usize,
    thresholds: &'a Thresholds,
}

impl Window<'_> {
    /// How much `figure` grew over the window, if the window has enough samples, the figure
    /// never fell below where it started, and it grew by at least the thresholds' `min_growth`.
    fn growth(self, figure: fn(&Sample) -> u64) -> Option<u64> {
        let Self { history, start, .. } = self;
        let (first, now) = (figure(&history[start]), figure(history.back()?));
        let enough_samples = history.len() - start >= GROWTH_CHECKS;
        let never_below_start = history.iter().skip(start).all(|s| figure(s) >= first);
        let growth = now.saturating_sub(first);
        (enough_samples && never_below_start && growth >= self.thresholds.min_growth)
            .then_some(growth)
    }
}

/// The windowed growth rule.
fn grew_over_window(window: Window<'_>, report: &MapReport) -> Option<Suspicion> {
    if report.len >= report.max {
        return None;
    }
    let growth = window.growth(|s| s.len)?;
    let Window { history, start, .. } = window;
    let (first, now) = (history[start], *history.back()?);
    // The growth began at the last minimum: walk back while the map was no larger before.
    let mut began = start;
    while began > 0 && history[began - 1].len <= history[began].len {
        began -= 1;
    }
    Some(Suspicion::Growing {
        growth,
        per_minute: per_minute(growth, now.at.saturating_sub(first.at)),
        growing_for: now.at.saturating_sub(history[began].at),
    })
}

/// A request-lifetime map's entries written outside any request grew by at least
/// `min_growth` over the window and never fell below where they started: some writer runs
/// outside the request scopes, and nothing ends what it writes.
fn unscoped_grew(window: Window<'_>, report: &MapReport) -> Option<Suspicion> {
    if report.lifetime != Lifetime::Request {
        return None;
    }
    let growth = window.growth(|s| s.unscoped)?;
    Some(Suspicion::UnscopedWrites {
        unscoped: report.unscoped,
        growth,
    })
}

/// The one-shot growth rule, from the figures the map itself keeps.
fn grew_since_creation(report: &MapReport, thresholds: &Thresholds) -> Option<Suspicion> {
    let near_peak = report.len.saturating_mul(10) >= report.peak_len.saturating_mul(9);
    let rate = per_minute(report.len, report.age);
    (report.age >= thresholds.window
        && report.len >= thresholds.min_growth
        && report.len < report.max
        && near_peak
        && rate >= thresholds.min_rate_per_minute)
        .then_some(Suspicion::Growing {
            growth: report.len,
            per_minute: rate,
            growing_for: report.age,
        })
}

/// At its bound, the map evicted at least its bound since the window's start; or, with a
/// weight budget, it weighs at least 90% of it and evicted at least as many entries as it
/// holds (its whole content turned over).
fn thrashed(window: Window<'_>, report: &MapReport) -> Option<Suspicion> {
    let Window { history, start, .. } = window;
    let (first, now) = (history.get(start)?, history.back()?);
    let evictions = now.evictions.saturating_sub(first.evictions);
    let on_count = report.len >= report.max && evictions >= report.max.max(1);
    let on_weight = report.max_weight > 0
        && report.weight.saturating_mul(10) >= report.max_weight.saturating_mul(9)
        && evictions >= report.len.max(1);
    (history.len() > start + 1 && (on_count || on_weight))
        .then_some(Suspicion::Thrashing { evictions })
}

fn scope_forgotten(report: &MapReport, thresholds: &Thresholds) -> Option<Suspicion> {
    (matches!(report.lifetime, Lifetime::Request | Lifetime::Batch)
        && report.len > 0
        && report.scope_ends_since_cleared >= thresholds.forgotten_scope_ends)
        .then_some(Suspicion::ScopeNeverEnded {
            scope_ends: report.scope_ends_since_cleared,
        })
}

/// `entries` over `span`, in entries per minute (rounded down; 0 over an empty span).
fn per_minute(entries: u64, span: Duration) -> u64 {
    let nanos = span.as_nanos();
    if nanos == 0 {
        return 0;
    }
    u64::try_from(u128::from(entries) * 60_000_000_000 / nanos).unwrap_or(u64::MAX)
}

/// Every live detector: each registry read feeds them all.
static DETECTORS: Mutex<Vec<Weak<State>>> = Mutex::new(Vec::new());

fn detectors() -> MutexGuard<'static, Vec<Weak<State>>> {
    DETECTORS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The process-wide detector behind [`leak_suspects`] and [`watch`].
fn global() -> &'static LeakDetector {
    static GLOBAL: OnceLock<LeakDetector> = OnceLock::new();
    GLOBAL.get_or_init(|| LeakDetector::on(None, Thresholds::default()))
}

/// One registry read, judged by the process-wide detector: every map, and the suspects
/// among them (as [`leak_suspects`]).
pub(super) fn maps_and_suspects() -> (Vec<MapReport>, Vec<LeakSuspect>) {
    global().read()
}

/// The window the process-wide detector judges over.
pub(super) fn window() -> Duration {
    global().state.thresholds.window
}

/// The process-wide detector's samples of every map it has seen (oldest first), by map id:
/// what the operator's page charts.
pub(super) fn histories() -> HashMap<u64, Vec<Sample>> {
    global()
        .state
        .histories()
        .iter()
        .map(|(id, samples)| (*id, samples.iter().copied().collect()))
        .collect()
}

/// Feeds one registry read to every detector.
pub(super) fn observe(reports: &[MapReport]) {
    global();
    let live: Vec<Arc<State>> = {
        let mut all = detectors();
        all.retain(|state| state.strong_count() > 0);
        all.iter().filter_map(Weak::upgrade).collect()
    };
    for state in live {
        state.observe(reports);
    }
}

/// Judges which maps look like leaks, from samples of the registry taken at every read
/// ([`snapshot`], [`report`](super::report), [`render_prometheus`](super::render_prometheus),
/// `export_metrics` with the `metrics` feature, [`suspects`](Self::suspects)), on its own clock
/// and with its own [`Thresholds`]. Several can run at once, each with its own history; the
/// process has one behind [`leak_suspects`].
///
/// ```
/// # #[cfg(feature = "tracking")] { // figures need `tracking`
/// use mapguard::{registry::{LeakDetector, Suspicion, Thresholds}, testing::MockClock, LruMap};
/// use std::time::Duration;
///
/// let clock = MockClock::new();
/// let detector = LeakDetector::with_clock(clock.clone())
///     .thresholds(Thresholds::default().window(Duration::from_secs(60)).min_growth(100));
/// let mut sessions = LruMap::builder(1_000_000).name("Docs.detector").build();
/// // A service scraped every 15 s, whose map gains 125 entries between scrapes.
/// for scrape in 0..12 {
///     for key in 0..125 {
///         sessions.insert((scrape, key), ());
///     }
///     let _ = mapguard::registry::render_prometheus();
///     clock.advance(Duration::from_secs(15));
/// }
/// let suspect = detector
///     .suspects()
///     .into_iter()
///     .find(|s| s.map.name == "Docs.detector")
///     .expect("flagged");
/// let Suspicion::Growing { growth, per_minute, .. } = suspect.suspicion else { panic!() };
/// assert_eq!((growth, per_minute), (375, 375)); // the last minute: three scrapes' worth
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct LeakDetector {
    state: Arc<State>,
}

impl LeakDetector {
    /// A detector on the registry's clock ([`set_clock`](super::set_clock)) with default
    /// thresholds. It hears of every registry read from now on.
    ///
    /// ```
    /// let detector = mapguard::registry::LeakDetector::new();
    /// assert!(detector.suspects().iter().all(|s| !s.map.name.is_empty()));
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::on(None, Thresholds::default())
    }

    /// A detector measuring time with `clock` (a [`MockClock`](crate::testing::MockClock)
    /// in tests).
    ///
    /// ```
    /// use mapguard::{registry::LeakDetector, testing::MockClock};
    /// let detector = LeakDetector::with_clock(MockClock::new());
    /// # drop(detector);
    /// ```
    #[must_use]
    pub fn with_clock(clock: impl Clock + 'static) -> Self {
        Self::on(Some(Arc::new(clock)), Thresholds::default())
    }

    /// The same detector judging with `thresholds` (its history is kept).
    ///
    /// ```
    /// use mapguard::registry::{LeakDetector, Thresholds};
    /// let detector = LeakDetector::new().thresholds(Thresholds::default().min_growth(10));
    /// assert_eq!(detector.current_thresholds().min_growth, 10);
    /// ```
    #[must_use]
    pub fn thresholds(self, thresholds: Thresholds) -> Self {
        let histories = std::mem::take(&mut *self.state.histories());
        let detector = Self::on(self.state.clock.clone(), thresholds);
        *detector.state.histories() = histories;
        detector
    }

    /// The thresholds this detector judges with.
    ///
    /// ```
    /// let detector = mapguard::registry::LeakDetector::new();
    /// assert_eq!(*detector.current_thresholds(), mapguard::registry::Thresholds::default());
    /// ```
    #[must_use]
    pub fn current_thresholds(&self) -> &Thresholds {
        &self.state.thresholds
    }

    fn on(clock: Option<Arc<dyn Clock>>, thresholds: Thresholds) -> Self {
        let state = Arc::new(State {
            clock,
            thresholds,
            histories: Mutex::new(HashMap::new()),
        });
        detectors().push(Arc::downgrade(&state));
        Self { state }
    }

    /// Reads the registry (a sample, for every detector) and returns the maps that look like
    /// leaks, judged on this detector's history. O(maps × samples).
    ///
    /// ```
    /// let detector = mapguard::registry::LeakDetector::new();
    /// for suspect in detector.suspects() {
    ///     eprintln!("{}: {:?}", suspect.map.name, suspect.suspicion);
    /// }
    /// ```
    #[must_use]
    pub fn suspects(&self) -> Vec<LeakSuspect> {
        self.read().1
    }

    /// One registry read: every map, and those that look like leaks.
    fn read(&self) -> (Vec<MapReport>, Vec<LeakSuspect>) {
        let reports = snapshot();
        let histories = self.state.histories();
        let suspects = reports
            .iter()
            .filter_map(|map| {
                let suspicion = self.state.judge(map, histories.get(&map.id)?)?;
                Some(LeakSuspect {
                    map: map.clone(),
                    suspicion,
                })
            })
            .collect();
        (reports, suspects)
    }
}

impl Default for LeakDetector {
    fn default() -> Self {
        Self::new()
    }
}

/// Maps that look like leaks, judged by the process-wide [`LeakDetector`] (registry clock,
/// default [`Thresholds`]) on the samples every registry read has left — so a service that is
/// only scraped ([`render_prometheus`](super::render_prometheus)) gets a real answer from one
/// call. A map is also judged from its own creation figures when nothing watched it for a
/// whole window.
///
/// ```
/// # #[cfg(feature = "tracking")] { // figures need `tracking`
/// use mapguard::{registry, LruMap};
///
/// let mut cache = LruMap::builder(2).name("Docs.thrash").build();
/// let _ = registry::snapshot(); // any read is a sample
/// for key in 0..100 {
///     cache.insert(key, ()); // keys never repeat: every insert evicts
/// }
/// let suspects = registry::leak_suspects();
/// assert!(suspects.iter().any(|s| s.map.name == "Docs.thrash"));
/// # }
/// ```
#[must_use]
pub fn leak_suspects() -> Vec<LeakSuspect> {
    global().suspects()
}

/// A background check started by [`watch`]; dropping it stops the thread (and waits for it).
///
/// ```
/// let watch = mapguard::registry::watch(std::time::Duration::from_secs(60), |_| {});
/// drop(watch); // stops at once, without waiting for the interval
/// ```
#[derive(Debug)]
pub struct Watch {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Watch {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            // A callback that panicked ended the thread already; nothing more to stop.
            let _ = thread.join();
        }
    }
}

/// Calls `callback` with [`leak_suspects`] every `interval`, on a thread of its own, until the
/// returned [`Watch`] is dropped: alerts without writing a loop. The callback runs on that
/// thread; if it panics, the watch ends.
///
/// # Panics
///
/// If the operating system cannot start a thread (as [`std::thread::spawn`]).
///
/// ```
/// use std::sync::mpsc;
/// use std::time::Duration;
///
/// let (alerts, inbox) = mpsc::channel();
/// let watch = mapguard::registry::watch(Duration::from_millis(10), move |suspects| {
///     let _ = alerts.send(suspects.len());
/// });
/// let first = inbox.recv_timeout(Duration::from_secs(30)).expect("the watch reported");
/// drop(watch);
/// # let _ = first;
/// ```
#[must_use = "dropping the Watch stops it"]
pub fn watch(
    interval: Duration,
    mut callback: impl FnMut(Vec<LeakSuspect>) + Send + 'static,
) -> Watch {
    let (stop, stopped) = mpsc::channel::<()>();
    // The watch's events go where the caller's would (its thread's `tracing` subscriber).
    #[cfg(feature = "tracing")]
    let dispatch = tracing::dispatcher::get_default(Clone::clone);
    let thread = std::thread::Builder::new()
        .name("mapguard-watch".into())
        .spawn(move || {
            #[cfg(feature = "tracing")]
            let _events = tracing::dispatcher::set_default(&dispatch);
            let mut reported = Vec::new();
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(interval) {
                let suspects = leak_suspects();
                warn_of_new(&suspects, &mut reported);
                callback(suspects);
            }
        })
        .expect("spawning the watch thread");
    Watch {
        stop: Some(stop),
        thread: Some(thread),
    }
}

/// A `warn` event (feature `tracing`) for each suspect not `reported` at the last check, or
/// suspected now for another kind of reason: an alert once per leak, not once per interval.
/// `reported` becomes this check's suspects.
fn warn_of_new(
    suspects: &[LeakSuspect],
    reported: &mut Vec<(u64, std::mem::Discriminant<Suspicion>)>,
) {
    let now: Vec<_> = suspects
        .iter()
        .map(|suspect| (suspect.map.id, std::mem::discriminant(&suspect.suspicion)))
        .collect();
    for (suspect, key) in suspects.iter().zip(&now) {
        if !reported.contains(key) {
            // Without the `tracing` feature `event!` is nothing, and `suspect` unused.
            let _ = suspect;
            event!(
                tracing::Level::WARN,
                map = %suspect.map.name,
                site = %suspect.map.site,
                lifetime = %suspect.map.lifetime,
                entries = suspect.map.len,
                suspicion = %suspect.suspicion,
                "leak suspect"
            );
        }
    }
    *reported = now;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_minute_rounds_down_and_survives_empty_spans() {
        assert_eq!(per_minute(500, Duration::from_secs(60)), 500);
        assert_eq!(per_minute(1, Duration::from_secs(120)), 0);
        assert_eq!(per_minute(10, Duration::ZERO), 0);
    }
}
