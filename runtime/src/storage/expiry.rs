//! Time-based expiry: each entry's deadline, chosen by an [`ExpireAfter`] policy, a map-wide
//! `ttl` (since the last write) or `idle` (since the last read or write), or the caller
//! (`insert_with_ttl`, `set_ttl`), on a [`Clock`].
//!
//! Each deadline lives in its entry's slab node (`storage::store::Node`), and a timer wheel
//! parallel to the slab (`storage::wheel`) orders them, started only when something can
//! expire; maps without expiry store nothing per entry and compile every check away.

use core::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use std::time::{Duration, Instant};

use crate::storage::wheel::{Deadlines, NEVER, Wheel};

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
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a clock",
    label = "not a `mapguard::expiry::Clock`",
    note = "a clock is `mapguard::expiry::SystemClock`, `mapguard::expiry::CoarseClock` (the cheapest to read), `mapguard::expiry::TokioClock` (feature `tokio`), `mapguard::testing::MockClock`, or a type implementing `Clock` (`fn now(&self) -> Duration`, never going backwards)"
)]
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

/// The clock of the tokio runtime: `tokio::time::Instant`, measured from the clock's
/// creation. Under a paused runtime (`#[tokio::test(start_paused = true)]`,
/// `tokio::time::pause`) time moves only with `tokio::time::advance` or auto-advance, and
/// entries expire as it does, so a service's time-based tests see expiry. Outside a runtime it
/// reads the system's monotonic clock, as tokio does. Feature `tokio`.
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// use mapguard::expiry::TokioClock;
/// use std::time::Duration;
///
/// let mut map = mapguard::LruMap::builder(8).ttl(Duration::from_secs(1)).clock(TokioClock::default()).build();
/// map.insert("a", 1);
/// tokio::time::advance(Duration::from_secs(2)).await;
/// assert_eq!(map.get("a"), None);
/// # }
/// ```
#[cfg(feature = "tokio")]
#[derive(Clone, Copy, Debug)]
pub struct TokioClock {
    origin: tokio::time::Instant,
}

#[cfg(feature = "tokio")]
impl Default for TokioClock {
    fn default() -> Self {
        Self {
            origin: tokio::time::Instant::now(),
        }
    }
}

#[cfg(feature = "tokio")]
impl Clock for TokioClock {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }
}

/// A clock on the CPU's time-stamp counter ([quanta](https://docs.rs/quanta), as moka uses):
/// a reading costs a few nanoseconds where [`SystemClock`] (`std::time::Instant`) costs
/// 20-30, and a map whose entries expire reads the clock once or twice an operation. Falls
/// back to the OS clock where the counter is not usable. Feature `quanta`.
///
/// ```
/// use mapguard::expiry::{Clock, QuantaClock};
/// use std::time::Duration;
///
/// let clock = QuantaClock::default();
/// let earlier = clock.now();
/// assert!(clock.now() >= earlier);
/// let map = mapguard::LruMap::<u8, u8>::builder(8).ttl(Duration::from_secs(1)).clock(clock).build();
/// # drop(map);
/// ```
#[cfg(feature = "quanta")]
#[derive(Clone, Debug)]
pub struct QuantaClock {
    clock: quanta::Clock,
    origin: quanta::Instant,
}

#[cfg(feature = "quanta")]
impl Default for QuantaClock {
    fn default() -> Self {
        let clock = quanta::Clock::new();
        let origin = clock.now();
        Self { clock, origin }
    }
}

#[cfg(feature = "quanta")]
impl Clock for QuantaClock {
    fn now(&self) -> Duration {
        self.clock.now().saturating_duration_since(self.origin)
    }
}

/// A coarse clock: the process's recent time, a value one background thread refreshes every
/// millisecond, read with one atomic load that inlines into the map's code. The cheapest
/// clock for a map whose entries expire (see the README's expiry figures); its readings lag
/// real time by up to a millisecond, so entries expire up to a millisecond late and never
/// early. The first `CoarseClock` starts the thread, once per process, which then runs for
/// the life of the process (1,000 short wake-ups a second); where no thread can be started,
/// each reading asks the OS clock instead. Every `CoarseClock` of a process reads the same
/// time.
///
/// Not quanta's recent time, which moka uses: reading that is a call into quanta, which
/// cannot inline into a map's code (about 5% of a Zipf lookup mix, perf).
///
/// ```
/// use mapguard::expiry::{Clock, CoarseClock};
/// use std::time::Duration;
///
/// let clock = CoarseClock::default();
/// let earlier = clock.now();
/// assert!(clock.now() >= earlier);
/// let map = mapguard::ConcurrentLruMap::<u8, u8>::builder(8).ttl(Duration::from_secs(1)).clock(clock).build();
/// # drop(map);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct CoarseClock {
    _started: (),
}

/// The coarse time: nanoseconds since [`coarse_origin`], or [`NO_UPKEEP`] when no thread
/// refreshes it.
static COARSE_NANOS: AtomicU64 = AtomicU64::new(NO_UPKEEP);

/// [`COARSE_NANOS`] while nothing refreshes it: readings ask the OS clock.
const NO_UPKEEP: u64 = u64::MAX;

/// What the coarse time counts from: the first `CoarseClock`'s creation.
fn coarse_origin() -> Instant {
    static ORIGIN: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    *ORIGIN.get_or_init(Instant::now)
}

fn nanos_since(origin: Instant) -> u64 {
    nanos(origin.elapsed())
}

impl Default for CoarseClock {
    fn default() -> Self {
        static UPKEEP: std::sync::Once = std::sync::Once::new();
        UPKEEP.call_once(|| {
            let origin = coarse_origin();
            // The first reading is there before any map reads it.
            COARSE_NANOS.store(nanos_since(origin), Ordering::Relaxed);
            let started = std::thread::Builder::new()
                .name("mapguard-coarse-clock".into())
                .spawn(move || {
                    loop {
                        std::thread::sleep(Duration::from_millis(1));
                        COARSE_NANOS.store(nanos_since(origin), Ordering::Relaxed);
                    }
                });
            if started.is_err() {
                COARSE_NANOS.store(NO_UPKEEP, Ordering::Relaxed);
            }
        });
        Self { _started: () }
    }
}

impl CoarseClock {
    /// The reading in nanoseconds.
    #[allow(
        clippy::unused_self,
        reason = "a `CoarseClock` is the proof that the refreshing thread was started"
    )]
    #[inline]
    fn nanos(self) -> u64 {
        match COARSE_NANOS.load(Ordering::Relaxed) {
            NO_UPKEEP => Self::nanos_without_upkeep(),
            nanos => nanos,
        }
    }

    #[cold]
    #[inline(never)]
    fn nanos_without_upkeep() -> u64 {
        nanos_since(coarse_origin())
    }
}

impl Clock for CoarseClock {
    #[inline]
    fn now(&self) -> Duration {
        Duration::from_nanos(self.nanos())
    }
}

/// A map's clock. The clocks this crate ships are called directly, so a reading inlines to a
/// few instructions (with [`CoarseClock`], one atomic load); any other clock is called
/// through a pointer. Built with [`TimeSource::of`].
#[doc(hidden)]
#[derive(Clone, Debug)]
pub struct TimeSource(Source);

#[derive(Clone, Debug)]
enum Source {
    System(SystemClock),
    Coarse(CoarseClock),
    Other(Arc<dyn Clock>),
}

impl Default for TimeSource {
    fn default() -> Self {
        Self(Source::System(SystemClock::default()))
    }
}

impl TimeSource {
    /// `clock`, called directly when it is one of this crate's.
    #[must_use]
    pub fn of<C: Clock + 'static>(clock: C) -> Self {
        let any: &dyn core::any::Any = &clock;
        if let Some(&system) = any.downcast_ref::<SystemClock>() {
            return Self(Source::System(system));
        }
        if let Some(&coarse) = any.downcast_ref::<CoarseClock>() {
            return Self(Source::Coarse(coarse));
        }
        Self(Source::Other(Arc::new(clock)))
    }

    /// The clock's reading in nanoseconds.
    #[inline]
    fn nanos(&self) -> u64 {
        match &self.0 {
            Source::System(clock) => nanos(clock.now()),
            Source::Coarse(clock) => clock.nanos(),
            Source::Other(clock) => nanos(clock.now()),
        }
    }
}

/// When each entry expires: a deadline chosen when it is created, and moved (or kept) when it
/// is updated or read. `None` means the entry does not expire; `left` is the time its current
/// deadline leaves (`None`: it had none). Set with a builder's `expire_after(policy)` or
/// `#[managed_map(expire_after = PATH)]`; a map-wide `ttl`/`idle` is the special case of a
/// policy answering `ttl` on create and update (and `idle` on read), and `expire_after`
/// replaces them. `insert_with_ttl` and `set_ttl` choose one entry's deadline over the
/// policy's. Like Caffeine's `Expiry` and moka's `Expiry`.
///
/// The policy runs while the map (a concurrent map: the key's shard) is locked: keep it short
/// and do not touch the map from it.
///
/// # Examples
///
/// Sessions live 30 minutes from their creation, guests 1 minute; the service account never
/// expires:
///
/// ```
/// use mapguard::expiry::ExpireAfter;
/// use mapguard::testing::MockClock;
/// use std::time::Duration;
///
/// struct ByUser;
/// impl ExpireAfter<String, u64> for ByUser {
///     fn after_create(&self, user: &String, _: &u64, _now: Duration) -> Option<Duration> {
///         match user.as_str() {
///             "service" => None,
///             "guest" => Some(Duration::from_secs(60)),
///             _ => Some(Duration::from_secs(30 * 60)),
///         }
///     }
/// }
///
/// let clock = MockClock::new();
/// let mut sessions = mapguard::LruMap::builder(100).expire_after(ByUser).clock(clock.clone()).build();
/// for user in ["service", "guest", "ada"] {
///     sessions.insert(user.to_string(), 0);
/// }
/// clock.advance(Duration::from_secs(120));
/// assert!(sessions.contains_key("service") && sessions.contains_key("ada"));
/// assert!(!sessions.contains_key("guest"));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an expiry policy for a map of `{K}` to `{V}`",
    label = "not a `mapguard::expiry::ExpireAfter<{K}, {V}>`",
    note = "implement `mapguard::expiry::ExpireAfter<{K}, {V}>` for it (its methods say how long an entry lives after it is created, updated or read), or use `mapguard::expiry::OnlyWhenSet`"
)]
pub trait ExpireAfter<K, V>: Send + Sync {
    /// How long a new entry lives; `None`: it does not expire (the default).
    fn after_create(&self, key: &K, value: &V, now: Duration) -> Option<Duration> {
        let _ = (key, value, now);
        None
    }

    /// How long an entry lives after its value is replaced; by default what it had `left`.
    fn after_update(
        &self,
        key: &K,
        value: &V,
        now: Duration,
        left: Option<Duration>,
    ) -> Option<Duration> {
        let _ = (key, value, now);
        left
    }

    /// Whether [`after_read`](Self::after_read) can move a deadline. Answer `false` when it
    /// never does (the default `after_read` does not): reads then skip the call and the
    /// clock reading it needs. The default is `true`, which is always correct.
    fn reads_move_deadlines(&self) -> bool {
        true
    }

    /// How long an entry lives after it is read; by default what it had `left`.
    fn after_read(
        &self,
        key: &K,
        value: &V,
        now: Duration,
        left: Option<Duration>,
    ) -> Option<Duration> {
        let _ = (key, value, now);
        left
    }
}

/// The policy of a map whose entries expire only when given a deadline of their own
/// (`insert_with_ttl`, `set_ttl`): every answer is the default.
///
/// ```
/// use mapguard::expiry::OnlyWhenSet;
/// use mapguard::testing::MockClock;
/// use std::time::Duration;
///
/// let clock = MockClock::new();
/// let mut keys = mapguard::LruMap::builder(100).expire_after(OnlyWhenSet).clock(clock.clone()).build();
/// keys.insert("kept", 1);
/// keys.insert_with_ttl("session", 2, Duration::from_secs(10));
/// clock.advance(Duration::from_secs(11));
/// assert_eq!(keys.get("session"), None);
/// keys.maintain();
/// assert_eq!(keys.keys().copied().collect::<Vec<_>>(), ["kept"]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OnlyWhenSet;

impl<K, V> ExpireAfter<K, V> for OnlyWhenSet {
    fn reads_move_deadlines(&self) -> bool {
        false
    }
}

/// A policy for a map whose stored key is the caller's.
pub(crate) fn as_is<P>(policy: P) -> P {
    policy
}

/// A map's expiry policy, shared by its shards.
pub(crate) type SharedPolicy<K, V> = Arc<dyn ExpireAfter<K, V>>;

/// The deadline `after` from `now`; `None` never comes.
#[inline]
pub(crate) fn deadline_after(now: u64, after: Option<Duration>) -> u64 {
    after.map_or(NEVER, |after| now.saturating_add(nanos(after)))
}

/// What a deadline leaves at `now`; `None` for one that never comes.
#[inline]
pub(crate) fn time_left(deadline: u64, now: u64) -> Option<Duration> {
    (deadline != NEVER).then(|| Duration::from_nanos(deadline.saturating_sub(now)))
}

#[inline]
pub(crate) fn nanos(duration: Duration) -> u64 {
    // Not `as_nanos`: its u128 arithmetic is most of a clock reading's conversion.
    duration
        .as_secs()
        .saturating_mul(1_000_000_000)
        .saturating_add(u64::from(duration.subsec_nanos()))
}

/// The deadline a node of a store with per-entry state `E` carries (see `sealed::Stamp`).
pub(crate) type StampOf<E> = <<E as sealed::ExpiryState>::Timer as sealed::Timer>::Stamp;

pub(crate) mod sealed {
    use crate::storage::store::{Node, Slab, SlabMut};
    use crate::storage::wheel::Deadlines;

    /// What each node carries for expiry: its deadline (`u64`, in the node so a lookup reads
    /// it with the key), or nothing (`()`) in a map whose entries cannot expire.
    #[allow(
        unreachable_pub,
        reason = "sealed supertrait: public in a private module"
    )]
    pub trait Stamp: Copy + core::fmt::Debug + Send + Sync + 'static {
        /// The stamp of an entry due at `deadline`.
        fn at(deadline: u64) -> Self;
        /// Its deadline; `wheel::NEVER` for none.
        fn deadline(self) -> u64;
        fn slab<K, V>(nodes: &[Node<K, V, Self>]) -> Slab<'_, K, V>;
        fn slab_mut<K, V>(nodes: &mut [Node<K, V, Self>]) -> SlabMut<'_, K, V>;
    }

    impl Stamp for () {
        #[inline]
        fn at(_deadline: u64) -> Self {}
        #[inline]
        fn deadline(self) -> u64 {
            crate::storage::wheel::NEVER
        }
        fn slab<K, V>(nodes: &[Node<K, V, Self>]) -> Slab<'_, K, V> {
            Slab::Plain(nodes)
        }
        fn slab_mut<K, V>(nodes: &mut [Node<K, V, Self>]) -> SlabMut<'_, K, V> {
            SlabMut::Plain(nodes.iter_mut())
        }
    }

    impl Stamp for u64 {
        #[inline]
        fn at(deadline: u64) -> Self {
            deadline
        }
        #[inline]
        fn deadline(self) -> u64 {
            self
        }
        fn slab<K, V>(nodes: &[Node<K, V, Self>]) -> Slab<'_, K, V> {
            Slab::Stamped(nodes)
        }
        fn slab_mut<K, V>(nodes: &mut [Node<K, V, Self>]) -> SlabMut<'_, K, V> {
            SlabMut::Stamped(nodes.iter_mut())
        }
    }

    /// The deadlines behind expiry, driven by the store: none ([`super::NoExpiry`]) or
    /// [`super::Expiring`]'s. With none every expiry check compiles away. Times are the
    /// clock's nanoseconds; a deadline of `wheel::NEVER` never comes.
    #[allow(
        unreachable_pub,
        reason = "sealed supertrait: public in a private module"
    )]
    pub trait Timer: Clone + core::fmt::Debug {
        /// What each node carries for it.
        type Stamp: Stamp;
        /// Whether entries can expire; `false` lets the compiler drop all expiry code.
        const ENABLED: bool;
        /// The timer a `FieldConfig` asks for (`NoExpiry` ignores it).
        fn configured(ttl: Option<std::time::Duration>, idle: Option<std::time::Duration>) -> Self;
        /// The clock's time, or 0 while nothing is timed (no clock is read then).
        fn now(&self) -> u64;
        /// The clock's time, read whatever is timed: a deadline is about to be set.
        fn clock_now(&self) -> u64;
        /// Measures time with `clock` (`NoExpiry` ignores it).
        fn use_clock(&mut self, clock: super::TimeSource);
        /// Keeps deadlines from the first entry on: a policy will choose them.
        fn start(&mut self);
        /// A new slab position at the end, written at `now`, due at `deadline`; returns the
        /// deadline to keep in its node (`wheel::NEVER` while nothing is timed).
        fn push(&mut self, now: u64, deadline: u64) -> u64;
        /// The entry at `index` of a slab of `len` entries moves from deadline `old` to
        /// `deadline` (its node has the new one).
        fn set_deadline(&mut self, index: usize, len: usize, old: u64, deadline: u64);
        /// The entry at `index` was written at `now`.
        fn wrote(&mut self, index: usize, now: u64);
        /// The map-wide `ttl`/`idle` deadline of an entry written at `now`, if the map has either.
        fn written_deadline(&self, now: u64) -> Option<u64>;
        /// The map-wide deadline of the entry at `index` read at `now`, if reads move it (`idle`).
        fn read_deadline(&self, index: usize, now: u64) -> Option<u64>;
        /// Whether reads can move deadlines without a policy (`idle`).
        fn reads_move_deadlines(&self) -> bool;
        /// The time to live (ns) the caller chose for the next entry written (`insert_with_ttl`).
        fn take_chosen(&mut self) -> Option<u64>;
        /// Chooses the next written entry's time to live (ns), for a slab of `len` entries.
        fn choose(&mut self, ttl: Option<u64>, len: usize);
        fn swap_remove(&mut self, index: usize);
        fn clear(&mut self);
        fn shrink_to(&mut self, capacity: usize);
        /// Room for `capacity` entries in all, as the slab has: the columns grow with it.
        fn reserve_to(&mut self, capacity: usize);
        fn heap_bytes(&self) -> usize;
        /// One entry found expired by `now` (see `storage::wheel`), of a slab whose deadlines
        /// are `deadlines`.
        fn next_expired(&mut self, now: u64, deadlines: &(impl Deadlines + ?Sized)) -> Option<u32>;
        /// Whether [`next_expired`](Self::next_expired) would find nothing by `now`.
        fn nothing_due(&self, now: u64) -> bool;
        /// The entry at `index`, due at `old`, leaves and a new one due at `deadline` takes its
        /// slot (eviction in place); returns the deadline to keep in its node.
        fn reborn(&mut self, index: usize, now: u64, old: u64, deadline: u64) -> u64;
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
        /// Whether the store may share its limits with the other shards of its map (a
        /// concurrent map's shard: see `storage::pool`). `false` compiles the pool away.
        const POOLED: bool = false;
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

/// A per-entry state whose entries can be given deadlines of their own: what
/// `insert_with_ttl`, `ttl_of` and `set_ttl` need. Every map built with `expire_after`,
/// `ttl`, `idle` or `clock` (or a `#[managed_map]` field with one of them) has it.
///
/// ```
/// use mapguard::expiry::{Expires, Expiring};
/// fn can_expire<E: Expires>() {}
/// can_expire::<Expiring>();
/// ```
#[diagnostic::on_unimplemented(
    message = "this map's entries cannot expire (its per-entry state is `{Self}`)",
    label = "a map without expiry",
    note = "build it with `.expire_after(mapguard::expiry::OnlyWhenSet)`, `.ttl(..)`, `.idle(..)` or `.clock(..)`, or give the field `expire_after = ...`, `ttl = \"..\"` or `clock = ...` in `#[managed_map(...)]`"
)]
pub trait Expires: Expiry {}

impl Expires for Expiring {}

impl<E: Expires> Expires for Weighed<E> {}

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
    type Stamp = ();
    const ENABLED: bool = false;
    fn configured(_ttl: Option<Duration>, _idle: Option<Duration>) -> Self {
        Self
    }
    #[inline]
    fn now(&self) -> u64 {
        0
    }
    #[inline]
    fn clock_now(&self) -> u64 {
        0
    }
    fn use_clock(&mut self, _clock: TimeSource) {}
    fn start(&mut self) {}
    #[inline]
    fn push(&mut self, _now: u64, _deadline: u64) -> u64 {
        NEVER
    }
    #[inline]
    fn set_deadline(&mut self, _index: usize, _len: usize, _old: u64, _deadline: u64) {}
    #[inline]
    fn wrote(&mut self, _index: usize, _now: u64) {}
    #[inline]
    fn written_deadline(&self, _now: u64) -> Option<u64> {
        None
    }
    #[inline]
    fn read_deadline(&self, _index: usize, _now: u64) -> Option<u64> {
        None
    }
    #[inline]
    fn reads_move_deadlines(&self) -> bool {
        false
    }
    #[inline]
    fn take_chosen(&mut self) -> Option<u64> {
        None
    }
    #[inline]
    fn choose(&mut self, _ttl: Option<u64>, _len: usize) {}
    #[inline]
    fn swap_remove(&mut self, _index: usize) {}
    #[inline]
    fn clear(&mut self) {}
    #[inline]
    fn shrink_to(&mut self, _capacity: usize) {}
    #[inline]
    fn reserve_to(&mut self, _capacity: usize) {}
    #[inline]
    fn heap_bytes(&self) -> usize {
        0
    }
    #[inline]
    fn next_expired(&mut self, _now: u64, _deadlines: &(impl Deadlines + ?Sized)) -> Option<u32> {
        None
    }
    #[inline]
    fn nothing_due(&self, _now: u64) -> bool {
        true
    }
    #[inline]
    fn reborn(&mut self, _index: usize, _now: u64, _old: u64, _deadline: u64) -> u64 {
        NEVER
    }
    fn ages(&self) -> Option<std::sync::Arc<crate::storage::ages::Ages>> {
        None
    }
    fn split(&self) -> Self {
        Self
    }
}

/// Entries expire: by a map-wide `ttl` (since the last write) and/or `idle` (since the last
/// read or write), by an [`ExpireAfter`] policy, or by a deadline given to one entry
/// (`insert_with_ttl`, `set_ttl`), on a [`Clock`]. Per entry: a deadline (in the entry's own
/// node, read with its key) and its place in a timer wheel, 16 bytes, plus the write time
/// when both `ttl` and `idle` are set. Finding the
/// expired entries costs O(1) amortised per entry, never a scan of the map.
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
#[derive(Clone, Debug, Default)]
pub struct Expiring {
    ttl: Option<u64>,
    idle: Option<u64>,
    clock: TimeSource,
    /// Each entry's deadline; not started until something can expire.
    wheel: Wheel,
    /// Last write per slot; kept only when both `ttl` and `idle` are set.
    written: Vec<u64>,
    /// The time to live (ns) the caller chose for the entry being written.
    chosen: Option<u64>,
    /// When each key went in; empty unless key lifetimes are recorded.
    born: Vec<u64>,
    /// Where departing keys' lifetimes are counted, when recorded.
    ages: Option<Arc<crate::storage::ages::Ages>>,
}

impl Expiring {
    pub(crate) fn set_ttl(&mut self, ttl: Duration) {
        self.ttl = Some(nanos(ttl));
        self.wheel.start(0);
    }

    pub(crate) fn set_idle(&mut self, idle: Duration) {
        self.idle = Some(nanos(idle));
        self.wheel.start(0);
    }

    pub(crate) fn set_clock(&mut self, clock: TimeSource) {
        self.clock = clock;
    }

    /// Deadlines are kept from the first entry on: a policy decides them.
    pub(crate) fn start_wheel(&mut self) {
        self.wheel.start(0);
    }

    pub(crate) fn record_key_lifetimes(&mut self) {
        self.ages
            .get_or_insert_with(|| Arc::new(crate::storage::ages::Ages::default()));
    }

    fn keeps_written(&self) -> bool {
        self.ttl.is_some() && self.idle.is_some()
    }

    fn record_departure(&self, index: usize, now: u64) {
        if let (Some(ages), Some(&born)) = (&self.ages, self.born.get(index)) {
            ages.record(now.saturating_sub(born));
        }
    }
}

impl Expiry for Expiring {}

impl sealed::Timer for Expiring {
    type Stamp = u64;
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
        if !self.wheel.is_started() && self.ages.is_none() {
            return 0;
        }
        self.clock.nanos()
    }

    fn clock_now(&self) -> u64 {
        self.clock.nanos()
    }

    fn use_clock(&mut self, clock: TimeSource) {
        self.clock = clock;
    }

    fn start(&mut self) {
        self.wheel.start(0);
    }

    fn push(&mut self, now: u64, deadline: u64) -> u64 {
        let timed = self.wheel.push(deadline);
        if self.keeps_written() {
            self.written.push(now);
        }
        if self.ages.is_some() {
            self.born.push(now);
        }
        if timed { deadline } else { NEVER }
    }

    fn set_deadline(&mut self, index: usize, len: usize, old: u64, deadline: u64) {
        if deadline == old {
            return;
        }
        self.wheel.start(len);
        self.wheel.set(index, old, deadline);
    }

    fn wrote(&mut self, index: usize, now: u64) {
        if let Some(slot) = self.written.get_mut(index) {
            *slot = now;
        }
    }

    #[inline]
    fn written_deadline(&self, now: u64) -> Option<u64> {
        let after = match (self.ttl, self.idle) {
            (None, None) => return None,
            (Some(ttl), Some(idle)) => ttl.min(idle),
            (Some(after), None) | (None, Some(after)) => after,
        };
        Some(now.saturating_add(after))
    }

    #[inline]
    fn read_deadline(&self, index: usize, now: u64) -> Option<u64> {
        let idle = now.saturating_add(self.idle?);
        Some(match (self.ttl, self.written.get(index)) {
            (Some(ttl), Some(&written)) => idle.min(written.saturating_add(ttl)),
            _ => idle,
        })
    }

    #[inline]
    fn reads_move_deadlines(&self) -> bool {
        self.idle.is_some()
    }

    #[inline]
    fn take_chosen(&mut self) -> Option<u64> {
        self.chosen.take()
    }

    fn choose(&mut self, ttl: Option<u64>, len: usize) {
        if ttl.is_some() {
            self.wheel.start(len);
        }
        self.chosen = ttl;
    }

    fn swap_remove(&mut self, index: usize) {
        if self.ages.is_some() {
            self.record_departure(index, self.now());
            self.born.swap_remove(index);
        }
        self.wheel.swap_remove(index);
        if self.keeps_written() {
            self.written.swap_remove(index);
        }
    }

    fn clear(&mut self) {
        if self.ages.is_some() {
            let now = self.now();
            for index in 0..self.born.len() {
                self.record_departure(index, now);
            }
        }
        let started = self.wheel.is_started();
        self.wheel.clear();
        if started {
            self.wheel.start(0);
        }
        self.written = Vec::new();
        self.born = Vec::new();
    }

    fn shrink_to(&mut self, capacity: usize) {
        self.wheel.shrink_to(capacity);
        self.written.shrink_to(capacity);
        self.born.shrink_to(capacity);
    }

    fn reserve_to(&mut self, capacity: usize) {
        self.wheel.reserve_to(capacity);
        let used = [self.keeps_written(), self.ages.is_some()];
        for (column, used) in [&mut self.written, &mut self.born].into_iter().zip(used) {
            if used {
                column.reserve_exact(capacity.saturating_sub(column.len()));
            }
        }
    }

    fn heap_bytes(&self) -> usize {
        self.wheel.heap_bytes()
            + (self.written.capacity() + self.born.capacity()) * size_of::<u64>()
    }

    #[inline]
    fn next_expired(&mut self, now: u64, deadlines: &(impl Deadlines + ?Sized)) -> Option<u32> {
        self.wheel.next_expired(now, deadlines)
    }

    #[inline]
    fn nothing_due(&self, now: u64) -> bool {
        self.wheel.nothing_due(now)
    }

    fn reborn(&mut self, index: usize, now: u64, old: u64, deadline: u64) -> u64 {
        let kept = if self.wheel.is_started() {
            self.wheel.set(index, old, deadline);
            deadline
        } else {
            NEVER
        };
        if let Some(slot) = self.written.get_mut(index) {
            *slot = now;
        }
        if self.ages.is_some() {
            self.record_departure(index, now);
            if let Some(slot) = self.born.get_mut(index) {
                *slot = now;
            }
        }
        kept
    }

    fn ages(&self) -> Option<Arc<crate::storage::ages::Ages>> {
        self.ages.clone()
    }

    fn split(&self) -> Self {
        let mut wheel = Wheel::default();
        if self.wheel.is_started() {
            wheel.start(0);
        }
        Self {
            ttl: self.ttl,
            idle: self.idle,
            clock: self.clock.clone(),
            wheel,
            // Each shard writes its own histogram: one writer per counter.
            ages: self.ages.as_ref().map(|_| Arc::default()),
            ..Self::default()
        }
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

/// A per-entry state whose entries carry weights: what `set_max_weight` needs. Every map built
/// with a `weigher` or `max_weight` (or a `#[managed_map]` field with `max_bytes` or
/// `max_weight`) has it.
///
/// ```
/// use mapguard::weight::{Weighed, Weighs};
/// fn has_weights<E: Weighs>() {}
/// has_weights::<Weighed>();
/// ```
#[diagnostic::on_unimplemented(
    message = "this map has no weight budget (its per-entry state is `{Self}`)",
    label = "a map without weights",
    note = "build it with `.max_weight(..)` or `.weigher(..)`, or give the field `max_bytes = \"64MiB\"` or `max_weight = N` in `#[managed_map(...)]`"
)]
pub trait Weighs: Expiry {}

impl<E: Expiry> Weighs for Weighed<E> {}

impl<E: Expiry> sealed::ExpiryState for Weighed<E> {
    type Timer = E::Timer;
    type Timed = Weighed<E::Timed>;
    type Weighed = Self;
    const WEIGHED: bool = true;
    const SCOPE_TAGS: bool = E::SCOPE_TAGS;
    const SELF_SETTLING: bool = E::SELF_SETTLING;
    const POOLED: bool = E::POOLED;
    wraps_a_state!();
    fn into_timed(self) -> Self::Timed {
        Weighed(self.0.into_timed())
    }
    fn into_weighed(self) -> Self {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    // Its refreshing thread runs for the life of the process, which Miri refuses.
    #[cfg_attr(miri, ignore = "starts a thread that never ends")]
    fn the_coarse_clock_is_called_directly_and_never_reads_ahead_of_real_time() {
        let clock = CoarseClock::default();
        assert!(matches!(TimeSource::of(clock).0, Source::Coarse(_)));
        let mut last = 0;
        for _ in 0..1_000 {
            let reading = TimeSource::of(clock).nanos();
            // A reading is a past value of the real time since the origin, read after it.
            assert!(reading <= nanos_since(coarse_origin()));
            assert!(reading >= last, "went back from {last} to {reading}");
            last = reading;
        }
    }

    #[derive(Debug)]
    struct Frozen;

    impl Clock for Frozen {
        fn now(&self) -> Duration {
            Duration::from_secs(7)
        }
    }

    #[test]
    fn other_clocks_are_called_through_a_pointer() {
        let source = TimeSource::of(Frozen);
        assert!(matches!(source.0, Source::Other(_)));
        assert_eq!(source.nanos(), 7_000_000_000);
        assert!(matches!(
            TimeSource::of(SystemClock::default()).0,
            Source::System(_)
        ));
    }
}
