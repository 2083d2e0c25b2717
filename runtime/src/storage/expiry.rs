//! Time-based expiry: `ttl` (since the last write) and `idle` (since the last read or write).
//!
//! Timestamps live in vectors parallel to the slab, allocated only when a map has `ttl` or
//! `idle`, so maps without expiry store nothing per entry and pay one predictable branch.

use core::fmt;
use std::sync::Arc;

use std::time::{Duration, Instant};

/// A monotonic time source for expiry. Implement it to drive expiry from your own clock;
/// tests use [`MockClock`](crate::testing::MockClock).
///
/// # Examples
///
/// ```
/// use mapguard::expiry::{Clock, SystemClock};
/// let clock = SystemClock::default();
/// let earlier = clock.now();
/// assert!(clock.now() >= earlier);
/// ```
pub trait Clock: Send + Sync + fmt::Debug {
    /// Time since an origin fixed for the clock's whole life; must never go backwards.
    fn now(&self) -> Duration;
}

/// The default clock: `std::time::Instant`, measured from the clock's creation.
///
/// ```
/// use mapguard::expiry::{Clock, SystemClock};
/// assert!(SystemClock::default().now() < std::time::Duration::from_secs(60));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct SystemClock {
    origin: Instant,
}

impl Default for SystemClock {
    fn default() -> Self {
        Self {
            origin: Instant::now(),
        }
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

pub(crate) mod sealed {
    /// The timestamps behind expiry, driven by the store: none ([`super::NoExpiry`]) or
    /// [`super::Expiring`]'s. With none every expiry check compiles away.
    #[allow(
        unreachable_pub,
        reason = "sealed supertrait: public in a private module"
    )]
    pub trait Timer: Clone + core::fmt::Debug {
        /// Whether entries can expire; `false` lets the compiler drop all expiry code.
        const ENABLED: bool;
        /// The timer a `FieldConfig` asks for (`NoExpiry` ignores it).
        fn configured(ttl: Option<std::time::Duration>, idle: Option<std::time::Duration>) -> Self;
        fn now(&self) -> u64;
        fn push(&mut self, now: u64);
        fn read(&mut self, index: usize, now: u64);
        fn wrote(&mut self, index: usize, now: u64);
        fn swap_remove(&mut self, index: usize);
        fn clear(&mut self);
        fn shrink_to(&mut self, capacity: usize);
        fn heap_bytes(&self) -> usize;
        fn is_expired(&self, index: usize, now: u64) -> bool;
        fn next_sweep(&mut self, len: usize) -> Option<usize>;
        /// The entry at `index` leaves and a new one takes its slot (eviction in place).
        fn reborn(&mut self, index: usize, now: u64);
        /// The key-lifetime histogram, if the map records one.
        fn ages(&self) -> Option<std::sync::Arc<crate::storage::ages::Ages>>;
        /// The same settings with no entries and a histogram of its own: one shard's state.
        fn split(&self) -> Self;
    }

    /// A map's per-entry state: what each entry carries besides its key and value. Each
    /// feature has its own part, switched on by its own type: timestamps by the timer
    /// ([`super::Expiring`]), weights by [`super::Weighed`], scope tags by
    /// `storage::scopes::Tagged`. A part a map's type leaves out costs nothing: its checks
    /// are constants.
    #[allow(
        unreachable_pub,
        reason = "sealed supertrait: public in a private module"
    )]
    pub trait ExpiryState: Clone + core::fmt::Debug {
        /// The timestamps.
        type Timer: Timer;
        /// This state with a timer that expires entries (what `ttl`, `idle`, `clock` and
        /// `key_lifetimes` on a builder make of it).
        type Timed: super::Expiry + ExpiryState<Timer = super::Expiring>;
        /// This state with weights (what `weigher` and `max_weight` make of it).
        type Weighed: super::Expiry;
        /// Whether entries can expire.
        const ENABLED: bool = <Self::Timer as Timer>::ENABLED;
        /// Whether the store keeps a weight per entry (`Weighed`).
        const WEIGHED: bool = false;
        /// Whether the store keeps each entry's scope (a concurrent map's shard; see
        /// `storage::scopes::Tagged`). `false` compiles every scope hook away.
        const SCOPE_TAGS: bool = false;
        /// Whether a map with tags settles its ended scopes itself, at its own operations
        /// (a single-threaded map: `storage::scopes::Scoped`), rather than being settled by
        /// its sharded layer. `false` compiles those checks away.
        const SELF_SETTLING: bool = false;
        fn timer(&self) -> &Self::Timer;
        fn timer_mut(&mut self) -> &mut Self::Timer;
        fn into_timed(self) -> Self::Timed;
        fn into_weighed(self) -> Self::Weighed;
        /// The state a `FieldConfig` asks for.
        fn configured(ttl: Option<std::time::Duration>, idle: Option<std::time::Duration>) -> Self;
        /// The same settings with no entries: one shard's state.
        fn split(&self) -> Self;
    }
}

/// `E` with a timer: the per-entry state a builder's `ttl`, `idle`, `clock` or
/// `key_lifetimes` makes of `E` ([`NoExpiry`] becomes [`Expiring`], [`Weighed`](crate::weight::Weighed) keeps its
/// weights).
///
/// ```
/// use mapguard::expiry::{Expiring, NoExpiry, Timed};
/// use mapguard::weight::Weighed;
/// let _: Timed<NoExpiry> = Expiring::default();
/// fn weighed_and_timed(_: Timed<Weighed<NoExpiry>>) {}
/// ```
pub type Timed<E> = <E as sealed::ExpiryState>::Timed;

/// `E` with weights: the per-entry state a builder's `weigher` or `max_weight` makes of `E`
/// ([`Weighed<E>`](crate::weight::Weighed)).
///
/// ```
/// use mapguard::expiry::NoExpiry;
/// use mapguard::weight::{Weighed, WithWeights};
/// let _: WithWeights<NoExpiry> = Weighed::<NoExpiry>::default();
/// ```
pub type WithWeights<E> = <E as sealed::ExpiryState>::Weighed;

/// Whether and how a map's entries expire: [`NoExpiry`] (the default, zero cost) or
/// [`Expiring`] (set by the builder's `ttl`, `idle` or `clock`). A type parameter of the map,
/// so a map without expiry carries no timestamps and runs no expiry checks at all.
///
/// ```
/// use mapguard::expiry::{Expiring, NoExpiry};
/// use mapguard::LruMap;
///use std::time::Duration;
///
/// let plain: LruMap<u32, u32> = LruMap::new(8); // E = NoExpiry
/// let timed: LruMap<u32, u32, mapguard::DefaultHashBuilder, mapguard::hooks::NoListener, Expiring> =
///     LruMap::builder(8).ttl(Duration::from_secs(30)).build();
/// // The same type, by its short name:
/// let same: mapguard::expiry::ExpiringLruMap<u32, u32> = timed;
/// # drop((plain, same));
/// ```
pub trait Expiry: sealed::ExpiryState {}

/// No expiry: nothing stored per entry, no checks. The default.
///
/// ```
/// let map: mapguard::LruMap<u8, u8, mapguard::DefaultHashBuilder, mapguard::hooks::NoListener, mapguard::expiry::NoExpiry> =
///     mapguard::LruMap::new(4);
/// # drop(map);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoExpiry;

impl Expiry for NoExpiry {}

impl sealed::Timer for NoExpiry {
    const ENABLED: bool = false;
    fn configured(_ttl: Option<Duration>, _idle: Option<Duration>) -> Self {
        Self
    }
    #[inline]
    fn now(&self) -> u64 {
        0
    }
    #[inline]
    fn push(&mut self, _now: u64) {}
    #[inline]
    fn read(&mut self, _index: usize, _now: u64) {}
    #[inline]
    fn wrote(&mut self, _index: usize, _now: u64) {}
    #[inline]
    fn swap_remove(&mut self, _index: usize) {}
    #[inline]
    fn clear(&mut self) {}
    #[inline]
    fn shrink_to(&mut self, _capacity: usize) {}
    #[inline]
    fn heap_bytes(&self) -> usize {
        0
    }
    #[inline]
    fn is_expired(&self, _index: usize, _now: u64) -> bool {
        false
    }
    #[inline]
    fn next_sweep(&mut self, _len: usize) -> Option<usize> {
        None
    }
    #[inline]
    fn reborn(&mut self, _index: usize, _now: u64) {}
    fn ages(&self) -> Option<std::sync::Arc<crate::storage::ages::Ages>> {
        None
    }
    fn split(&self) -> Self {
        Self
    }
}

/// Entries expire by `ttl` (since the last write) and/or `idle` (since the last read or
/// write) on a [`Clock`]. Per entry: one `u64` timestamp for each of `ttl` and `idle` set.
///
/// ```
/// use mapguard::{testing::MockClock, LruMap};
/// use std::time::Duration;
///
/// let clock = MockClock::new();
/// let mut map = LruMap::builder(8).ttl(Duration::from_secs(1)).clock(clock.clone()).build();
/// map.insert(1, 'a');
/// clock.advance(Duration::from_secs(1));
/// assert!(map.get(&1).is_none());
/// ```
#[derive(Clone, Debug)]
pub struct Expiring {
    ttl: Option<u64>,
    idle: Option<u64>,
    clock: Arc<dyn Clock>,
    /// Last write per slot; empty without `ttl`.
    written: Vec<u64>,
    /// Last read or write per slot; empty without `idle`.
    touched: Vec<u64>,
    /// Next slab position the incremental sweep looks at.
    sweep: usize,
    /// When each key went in; empty unless key lifetimes are recorded.
    born: Vec<u64>,
    /// Where departing keys' lifetimes are counted, when recorded.
    ages: Option<Arc<crate::storage::ages::Ages>>,
}

impl Default for Expiring {
    fn default() -> Self {
        Self {
            ttl: None,
            idle: None,
            clock: Arc::new(SystemClock::default()),
            written: Vec::new(),
            touched: Vec::new(),
            sweep: 0,
            born: Vec::new(),
            ages: None,
        }
    }
}

impl Expiring {
    pub(crate) fn set_ttl(&mut self, ttl: Duration) {
        self.ttl = Some(nanos(ttl));
    }

    pub(crate) fn set_idle(&mut self, idle: Duration) {
        self.idle = Some(nanos(idle));
    }

    pub(crate) fn set_clock(&mut self, clock: Arc<dyn Clock>) {
        self.clock = clock;
    }

    pub(crate) fn record_key_lifetimes(&mut self) {
        self.ages
            .get_or_insert_with(|| Arc::new(crate::storage::ages::Ages::default()));
    }

    /// The timestamp columns in use, slab-aligned: `written` with a `ttl`, `touched` with an
    /// `idle`, `born` when key lifetimes are recorded.
    #[inline]
    fn columns(&mut self) -> impl Iterator<Item = &mut Vec<u64>> {
        let (ttl, idle, ages) = (self.ttl.is_some(), self.idle.is_some(), self.ages.is_some());
        [
            (ttl, &mut self.written),
            (idle, &mut self.touched),
            (ages, &mut self.born),
        ]
        .into_iter()
        .filter_map(|(used, column)| used.then_some(column))
    }

    fn record_departure(&self, index: usize, now: u64) {
        if let (Some(ages), Some(&born)) = (&self.ages, self.born.get(index)) {
            ages.record(now.saturating_sub(born));
        }
    }
}

impl Expiry for Expiring {}

impl sealed::Timer for Expiring {
    const ENABLED: bool = true;

    fn configured(ttl: Option<Duration>, idle: Option<Duration>) -> Self {
        let mut expiring = Expiring::default();
        if let Some(ttl) = ttl {
            expiring.set_ttl(ttl);
        }
        if let Some(idle) = idle {
            expiring.set_idle(idle);
        }
        expiring
    }

    #[inline]
    fn now(&self) -> u64 {
        // A timer with nothing to time (a `clock` alone) reads no clock.
        if self.ttl.is_none() && self.idle.is_none() && self.ages.is_none() {
            return 0;
        }
        nanos(self.clock.now())
    }

    fn push(&mut self, now: u64) {
        for column in self.columns() {
            column.push(now);
        }
    }

    fn read(&mut self, index: usize, now: u64) {
        if let Some(slot) = self.touched.get_mut(index) {
            *slot = now;
        }
    }

    fn wrote(&mut self, index: usize, now: u64) {
        if let Some(slot) = self.written.get_mut(index) {
            *slot = now;
        }
        self.read(index, now);
    }

    fn swap_remove(&mut self, index: usize) {
        if self.ages.is_some() {
            self.record_departure(index, self.now());
        }
        for column in self.columns() {
            column.swap_remove(index);
        }
    }

    fn clear(&mut self) {
        if self.ages.is_some() {
            let now = self.now();
            for index in 0..self.born.len() {
                self.record_departure(index, now);
            }
        }
        self.written = Vec::new();
        self.touched = Vec::new();
        self.born = Vec::new();
        self.sweep = 0;
    }

    fn shrink_to(&mut self, capacity: usize) {
        self.written.shrink_to(capacity);
        self.touched.shrink_to(capacity);
        self.born.shrink_to(capacity);
    }

    fn heap_bytes(&self) -> usize {
        (self.written.capacity() + self.touched.capacity() + self.born.capacity())
            * size_of::<u64>()
    }

    fn reborn(&mut self, index: usize, now: u64) {
        if self.ages.is_some() {
            self.record_departure(index, now);
            if let Some(slot) = self.born.get_mut(index) {
                *slot = now;
            }
        }
    }

    fn ages(&self) -> Option<Arc<crate::storage::ages::Ages>> {
        self.ages.clone()
    }

    fn split(&self) -> Self {
        Self {
            ttl: self.ttl,
            idle: self.idle,
            clock: Arc::clone(&self.clock),
            // Each shard writes its own histogram: one writer per counter.
            ages: self.ages.as_ref().map(|_| Arc::default()),
            ..Self::default()
        }
    }

    fn is_expired(&self, index: usize, now: u64) -> bool {
        let past = |stamps: &[u64], limit: Option<u64>| match (stamps.get(index), limit) {
            (Some(&at), Some(limit)) => now >= at.saturating_add(limit),
            _ => false,
        };
        past(&self.written, self.ttl) || past(&self.touched, self.idle)
    }

    fn next_sweep(&mut self, len: usize) -> Option<usize> {
        if len == 0 {
            return None;
        }
        let index = self.sweep % len;
        self.sweep = index + 1;
        Some(index)
    }
}

/// The per-entry state of a map without weights or scope tags: its timer alone.
macro_rules! timer_only {
    ($($timer:ident => $timed:expr;)*) => {$(
        impl sealed::ExpiryState for $timer {
            type Timer = Self;
            type Timed = Expiring;
            type Weighed = Weighed<Self>;
            #[inline]
            fn timer(&self) -> &Self {
                self
            }
            #[inline]
            fn timer_mut(&mut self) -> &mut Self {
                self
            }
            fn into_timed(self) -> Expiring {
                let timed: fn(Self) -> Expiring = $timed;
                timed(self)
            }
            fn into_weighed(self) -> Weighed<Self> {
                Weighed(self)
            }
            fn configured(ttl: Option<Duration>, idle: Option<Duration>) -> Self {
                <Self as sealed::Timer>::configured(ttl, idle)
            }
            fn split(&self) -> Self {
                <Self as sealed::Timer>::split(self)
            }
        }
    )*};
}

timer_only! {
    NoExpiry => |_| Expiring::default();
    Expiring => |expiring| expiring;
}

/// The methods of a per-entry part that adds to a state `E` held in `.0`: the timer is `E`'s,
/// and configuring or splitting goes through to `E`.
macro_rules! wraps_a_state {
    () => {
        #[inline]
        fn timer(&self) -> &E::Timer {
            self.0.timer()
        }
        #[inline]
        fn timer_mut(&mut self) -> &mut E::Timer {
            self.0.timer_mut()
        }
        fn configured(ttl: Option<Duration>, idle: Option<Duration>) -> Self {
            Self(E::configured(ttl, idle))
        }
        fn split(&self) -> Self {
            Self(self.0.split())
        }
    };
}
pub(crate) use wraps_a_state;

/// Entries carry a weight ([`crate::weight`]): the per-entry state a builder's `weigher` or
/// `max_weight` (or `#[managed_map(max_bytes = ...)]`) gives a map, over its expiry `E`. One
/// `u64` per entry; maps without it keep none and run no weight code.
///
/// ```
/// use mapguard::expiry::NoExpiry;
/// use mapguard::weight::Weighed;
/// let map: mapguard::LruMap<u8, Vec<u8>, mapguard::DefaultHashBuilder, mapguard::hooks::NoListener, Weighed<NoExpiry>> =
///     mapguard::LruMap::builder(8).weigher(|_key: &u8, value: &Vec<u8>| value.len() as u64).build();
/// // The same type, by its short name:
/// let same: mapguard::weight::WeighedLruMap<u8, Vec<u8>> = map;
/// # drop(same);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Weighed<E = NoExpiry>(pub(crate) E);

impl<E: Expiry> Expiry for Weighed<E> {}

impl<E: Expiry> sealed::ExpiryState for Weighed<E> {
    type Timer = E::Timer;
    type Timed = Weighed<E::Timed>;
    type Weighed = Self;
    const WEIGHED: bool = true;
    const SCOPE_TAGS: bool = E::SCOPE_TAGS;
    const SELF_SETTLING: bool = E::SELF_SETTLING;
    wraps_a_state!();
    fn into_timed(self) -> Self::Timed {
        Weighed(self.0.into_timed())
    }
    fn into_weighed(self) -> Self {
        self
    }
}
