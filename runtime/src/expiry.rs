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
/// use mapguard::{Clock, SystemClock};
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
/// use mapguard::{Clock, SystemClock};
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

/// What the builder collected.
#[derive(Clone, Debug)]
pub(crate) struct ExpiryConfig {
    pub(crate) ttl: Option<Duration>,
    pub(crate) idle: Option<Duration>,
    pub(crate) clock: Arc<dyn Clock>,
}

impl Default for ExpiryConfig {
    fn default() -> Self {
        Self {
            ttl: None,
            idle: None,
            clock: Arc::new(SystemClock::default()),
        }
    }
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// Per-entry timestamps (nanoseconds on the map's clock), index-aligned with the slab.
#[derive(Clone, Debug)]
pub(crate) struct Stamps {
    ttl: Option<u64>,
    idle: Option<u64>,
    clock: Arc<dyn Clock>,
    /// Last write per slot; empty without `ttl`.
    written: Vec<u64>,
    /// Last read or write per slot; empty without `idle`.
    touched: Vec<u64>,
    /// Next slab position the incremental sweep looks at.
    sweep: usize,
}

impl Stamps {
    /// `None` when the configuration sets no expiry at all.
    pub(crate) fn new(config: ExpiryConfig) -> Option<Self> {
        (config.ttl.is_some() || config.idle.is_some()).then(|| Self {
            ttl: config.ttl.map(nanos),
            idle: config.idle.map(nanos),
            clock: config.clock,
            written: Vec::new(),
            touched: Vec::new(),
            sweep: 0,
        })
    }

    #[inline]
    pub(crate) fn now(&self) -> u64 {
        nanos(self.clock.now())
    }

    pub(crate) fn push(&mut self, now: u64) {
        if self.ttl.is_some() {
            self.written.push(now);
        }
        if self.idle.is_some() {
            self.touched.push(now);
        }
    }

    /// Out of line: only maps with expiry get here, and the clock call dominates anyway.
    #[inline(never)]
    pub(crate) fn read_now(&mut self, index: usize) {
        let now = self.now();
        self.read(index, now);
    }

    #[inline(never)]
    pub(crate) fn wrote_now(&mut self, index: usize) {
        let now = self.now();
        self.wrote(index, now);
    }

    pub(crate) fn wrote(&mut self, index: usize, now: u64) {
        if let Some(slot) = self.written.get_mut(index) {
            *slot = now;
        }
        self.read(index, now);
    }

    pub(crate) fn read(&mut self, index: usize, now: u64) {
        if let Some(slot) = self.touched.get_mut(index) {
            *slot = now;
        }
    }

    pub(crate) fn swap_remove(&mut self, index: usize) {
        if self.ttl.is_some() {
            self.written.swap_remove(index);
        }
        if self.idle.is_some() {
            self.touched.swap_remove(index);
        }
    }

    pub(crate) fn clear(&mut self) {
        self.written = Vec::new();
        self.touched = Vec::new();
        self.sweep = 0;
    }

    pub(crate) fn shrink_to(&mut self, capacity: usize) {
        self.written.shrink_to(capacity);
        self.touched.shrink_to(capacity);
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        (self.written.capacity() + self.touched.capacity()) * size_of::<u64>()
    }

    pub(crate) fn is_expired(&self, index: usize, now: u64) -> bool {
        let past = |stamps: &[u64], limit: Option<u64>| match (stamps.get(index), limit) {
            (Some(&at), Some(limit)) => now >= at.saturating_add(limit),
            _ => false,
        };
        past(&self.written, self.ttl) || past(&self.touched, self.idle)
    }

    /// The next slab position for the incremental sweep, round-robin over `len` slots.
    pub(crate) fn next_sweep(&mut self, len: usize) -> Option<usize> {
        if len == 0 {
            return None;
        }
        let index = self.sweep % len;
        self.sweep = index + 1;
        Some(index)
    }
}
