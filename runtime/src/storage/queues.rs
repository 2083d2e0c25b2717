//! How the store orders its entries for eviction.
//!
//! [`OneQueue`] is the recency list itself (LRU, or write order for a bounded map): nothing
//! per slot, and every branch on it compiles away. [`TwoQueues`] is the adaptive policy, an
//! S3-FIFO variant (Yang et al., SOSP '23) with a hill-climbed probation share (as Caffeine
//! sizes its window):
//!
//! - New keys serve a probation in a small FIFO queue; the rest of the list is the main
//!   queue. Both live in the store's one linked list: main first, then small, split at
//!   `small_head`. While the main queue has room (a map filling up), new keys go straight in.
//! - A hit writes the entry's mark byte (a 2-bit frequency); nothing is relinked.
//! - The small queue's tail leaves if it was never hit during probation, and moves to the
//!   main queue otherwise. The main queue is a CLOCK: its tail goes round again while its
//!   frequency lasts (one decrement per turn) and leaves at zero.
//! - A key that leaves from probation is remembered by a 16-bit fingerprint in a ghost table
//!   (no key, no value); if it comes back while remembered, it enters the main queue.
//! - Every `SAMPLE_FACTOR × max` requests the probation share moves one step, and turns
//!   round when the hit ratio fell since the previous sample: recency-friendly workloads
//!   climb towards a long probation (LRU-like), loops and scans towards a short one.
//!
//! The constants were chosen on `compare --suite traces` (README, "Choosing a policy").

/// The per-store eviction state behind a [`Policy`](crate::policy::Policy). Hidden: the
/// policies name it, users never do.
#[allow(
    unreachable_pub,
    reason = "the sealed `Policy` names it; public so the bound is, unnameable outside"
)]
pub trait Queues: Clone + Default + Send + Sync + 'static {
    /// `false` for the plain recency list: every two-queue branch compiles away.
    const TWO: bool;
    /// The two-queue state, if this is it.
    fn two(&self) -> Option<&TwoQueues>;
    /// The two-queue state, if this is it.
    fn two_mut(&mut self) -> Option<&mut TwoQueues>;
}

/// One recency list: the store's list is the eviction order.
#[derive(Clone, Copy, Debug, Default)]
pub struct OneQueue;

impl Queues for OneQueue {
    const TWO: bool = false;
    #[inline]
    fn two(&self) -> Option<&TwoQueues> {
        None
    }
    #[inline]
    fn two_mut(&mut self) -> Option<&mut TwoQueues> {
        None
    }
}

/// The "no node" link (the store's own).
pub(crate) const NIL: u32 = u32::MAX;

/// A slot's mark: in the small queue.
pub(crate) const SMALL: u8 = 0x80;
/// A slot's mark: its frequency, 0 to 3.
pub(crate) const FREQUENCY: u8 = 0x03;

/// The adaptive policy's state: one mark byte per slot, the split of the list into main and
/// small, the small queue's target length, and the ghost.
#[derive(Clone, Debug)]
pub struct TwoQueues {
    /// Slab-aligned: [`SMALL`] and a [`FREQUENCY`].
    pub(crate) marks: Vec<u8>,
    /// The most recent node of the small queue (`NIL` when empty); main nodes precede it.
    pub(crate) small_head: u32,
    pub(crate) small_len: u32,
    /// Target length of the small queue, in 1/1024ths of the bound (moved by `climb`).
    small_share: u32,
    ghost: Ghost,
    climb: Climber,
}

/// Tunes the small queue's share by hill climbing on the hit ratio: every sample of requests,
/// the share moves one step; if the hit ratio fell since the last sample, the direction turns.
#[derive(Clone, Debug, Default)]
struct Climber {
    hits: u32,
    requests: u32,
    /// Hit ratio of the previous sample, in 1/65536ths.
    previous: u32,
    /// Whether the share is moving down.
    down: bool,
}

impl Climber {
    /// Requests per sample: long enough that one sample's hit ratio means something.
    fn period(max: usize) -> usize {
        (max * SAMPLE_FACTOR).clamp(256, 1 << 20)
    }

    fn step(&mut self, share: u32) -> u32 {
        let rate = ((u64::from(self.hits) << 16) / u64::from(self.requests.max(1))) as u32;
        if rate < self.previous {
            self.down = !self.down;
        }
        self.previous = rate;
        self.hits = 0;
        self.requests = 0;
        if self.down {
            share.saturating_sub(SHARE_STEP).max(MIN_SHARE)
        } else {
            (share + SHARE_STEP).min(MAX_SHARE)
        }
    }
}

/// The small queue's share of the bound when a map starts (about 6%).
const INITIAL_SHARE: u32 = 60;
/// The share moves within [1/128, 1/2] of the bound.
const MIN_SHARE: u32 = 8;
const MAX_SHARE: u32 = 512;
/// One sample moves the share by this much (about 1.6% of the bound).
const SHARE_STEP: u32 = 16;
/// A sample is this many times the bound in requests.
const SAMPLE_FACTOR: usize = 8;

impl Default for TwoQueues {
    fn default() -> Self {
        Self {
            marks: Vec::new(),
            small_head: NIL,
            small_len: 0,
            small_share: INITIAL_SHARE,
            ghost: Ghost::default(),
            climb: Climber::default(),
        }
    }
}

impl Queues for TwoQueues {
    const TWO: bool = true;
    #[inline]
    fn two(&self) -> Option<&TwoQueues> {
        Some(self)
    }
    #[inline]
    fn two_mut(&mut self) -> Option<&mut TwoQueues> {
        Some(self)
    }
}

impl TwoQueues {
    /// Counts a hit: one byte written, saturating at 3.
    #[inline]
    pub(crate) fn hit(&mut self, index: u32) {
        let mark = &mut self.marks[index as usize];
        if *mark & FREQUENCY != FREQUENCY {
            *mark += 1;
        }
    }

    #[inline]
    pub(crate) fn frequency(&self, index: u32) -> u8 {
        self.marks[index as usize] & FREQUENCY
    }

    #[inline]
    pub(crate) fn is_small(&self, index: u32) -> bool {
        self.marks[index as usize] & SMALL != 0
    }

    /// The small queue's target length for a map bounded by `max`.
    #[inline]
    pub(crate) fn small_target(&self, max: usize) -> usize {
        (max * self.small_share as usize / 1024).max(1)
    }

    /// Whether a new key with `hash` goes straight to the main queue: it left probation
    /// recently (the ghost forgets it on the way).
    pub(crate) fn admit_to_main(&mut self, hash: u64) -> bool {
        self.ghost.take(hash)
    }

    /// Counts a request for the hill climber: a hit, or a miss (a new key placed).
    #[inline]
    pub(crate) fn sample(&mut self, hit: bool, max: usize) {
        self.climb.hits += u32::from(hit);
        self.climb.requests += 1;
        if self.climb.requests as usize >= Climber::period(max) {
            self.small_share = self.climb.step(self.small_share);
        }
    }

    /// Remembers the hash of a key evicted from probation, sized for a store of `slots`
    /// slots. Keys evicted from the main queue are not remembered: letting them skip
    /// probation when they return turns loops into churn (measured: lirs-loop at 404 entries
    /// fell from 34% to 0%).
    pub(crate) fn remember(&mut self, hash: u64, slots: usize) {
        self.ghost.fit(slots);
        self.ghost.put(hash);
    }

    /// Frees what the state holds for a store that has been emptied; keeps the learned share.
    pub(crate) fn reset(&mut self) {
        self.marks = Vec::new();
        self.small_head = NIL;
        self.small_len = 0;
        self.ghost = Ghost::default();
    }

    /// Shrinks to what a store of `slots` slots needs.
    pub(crate) fn shrink_to(&mut self, slots: usize) {
        self.marks.shrink_to(slots);
        if Ghost::wanted(slots) < self.ghost.slots.len() {
            self.ghost = Ghost::default();
        }
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.marks.capacity() + self.ghost.slots.capacity() * size_of::<u16>()
    }
}

/// Fingerprints of keys that left probation, in a direct-mapped table: a newer fingerprint
/// overwrites whatever shared its slot, which ages the table out roughly in order. Holds no
/// key and no value: 2 bytes a slot, one slot per two store slots (a power of two). Sized by
/// `compare --suite traces`: twice as many slots lost 0.7 points of mean hit ratio, half as
/// many lost 2.8 points on arc-P3.
#[derive(Clone, Debug, Default)]
struct Ghost {
    /// 0 is empty; otherwise the top bits of a hash, with the lowest bit set.
    slots: Vec<u16>,
}

impl Ghost {
    /// Ghost slots for a store of `slots` slots: half as many, a power of two, at least 16.
    fn wanted(slots: usize) -> usize {
        (slots / 2).next_power_of_two().max(16)
    }

    /// Resizes to fit a store of `slots` slots; what it held is forgotten (rare: the store
    /// doubles or halves first).
    fn fit(&mut self, slots: usize) {
        let wanted = Self::wanted(slots);
        if self.slots.len() != wanted {
            self.slots = vec![0; wanted];
        }
    }

    #[inline]
    fn locate(&self, hash: u64) -> (usize, u16) {
        let print = (hash >> 48) as u16 | 1;
        let slot = (hash as usize) & (self.slots.len() - 1);
        (slot, print)
    }

    fn put(&mut self, hash: u64) {
        let (slot, print) = self.locate(hash);
        self.slots[slot] = print;
    }

    /// Whether `hash` is remembered, forgetting it.
    #[inline]
    fn take(&mut self, hash: u64) -> bool {
        if self.slots.is_empty() {
            return false;
        }
        let (slot, print) = self.locate(hash);
        let found = self.slots[slot] == print;
        if found {
            self.slots[slot] = 0;
        }
        found
    }
}
