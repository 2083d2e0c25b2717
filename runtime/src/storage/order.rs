//! How the store orders its entries for eviction: each policy's order behind one trait,
//! [`EvictionOrder`], so the store calls the order at each event and never asks which it is.
//!
//! The store threads its slab into one list (the links live in the nodes, the ends in the
//! store); an order rearranges that list through the store's list operations, here.
//!
//! [`RecencyOrder`] is the list itself (LRU, or write order for a bounded map): nothing per
//! slot. [`AdaptiveOrder`] is the adaptive policy, an
//! S3-FIFO variant (Yang et al., SOSP '23) with a hill-climbed probation share (as Caffeine
//! sizes its window):
//!
//! - New keys serve a probation in a small FIFO queue; the rest of the list is the main
//!   queue. Both live in the store's one linked list: main first, then small, split at
//!   `small_head`. While the main queue has room (a map filling up), new keys go straight in.
//! - A hit raises the entry's 2-bit frequency; nothing is relinked. The marks (frequency and
//!   "in probation") live in the top three bits of the node's `prev` link, on the cache line
//!   a lookup has just read: a byte array of their own cost a hit another line, a concurrent
//!   `get` 5 more instructions, and a byte an entry.
//! - The small queue's tail leaves if it was never hit during probation, and moves to the
//!   main queue otherwise. The main queue is a CLOCK: its tail goes round again while its
//!   frequency lasts (one decrement per turn) and leaves at zero.
//! - A key that leaves from probation is remembered by a 16-bit fingerprint in a ghost table
//!   (no key, no value); if it comes back while remembered, it enters the main queue.
//! - Every `SAMPLE_FACTOR × max` requests (at the first miss after them: a hit only counts)
//!   the probation share moves one step, and turns round when the hit ratio fell since the
//!   previous sample: recency-friendly workloads
//!   climb towards a long probation (LRU-like), loops and scans towards a short one. Steps
//!   start at 1/16 of the bound and shrink by 2% a sample; a jump of 5 points in the hit
//!   ratio (a new workload) makes them big again.
//! - A sharded map's shards share one climb ([`SharedClimb`]): it steps on all their
//!   requests, and every shard takes its share.
//!
//! The constants were chosen on `compare --suite traces` (README, "Choosing a policy").

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use crate::storage::store::Store;

/// The "no node" link.
pub(crate) const NIL: u32 = u32::MAX;

/// A node's mark: in the small queue.
const SMALL: u32 = 0b100;
/// A node's mark: its frequency, 0 to 3.
const FREQUENCY: u32 = 0b011;
/// Where a marking order (`EvictionOrder::MARKS`) keeps a node's mark: the top three bits of
/// its `prev` link. The link is the low bits, plus one (so `NIL` is 0 there).
const MARK_SHIFT: u32 = 29;
const LINK_BITS: u32 = (1 << MARK_SHIFT) - 1;
/// The most entries a marking order's store holds: its links have 29 bits.
pub(crate) const MARKED_LIMIT: usize = LINK_BITS as usize - 1;

/// The `prev` link held in `raw`, a node's `prev` field.
#[inline]
pub(crate) fn prev_link(marks: bool, raw: u32) -> u32 {
    if marks {
        (raw & LINK_BITS).wrapping_sub(1)
    } else {
        raw
    }
}

/// `raw`, a node's `prev` field, linked to `to` instead (its mark kept).
#[inline]
fn with_prev_link(marks: bool, raw: u32, to: u32) -> u32 {
    if marks {
        (raw & !LINK_BITS) | (to.wrapping_add(1) & LINK_BITS)
    } else {
        to
    }
}

/// A new node's `prev` field: no previous node, and no mark.
#[inline]
pub(crate) fn unlinked_prev(marks: bool) -> u32 {
    with_prev_link(marks, 0, NIL)
}

/// The ends of the list threaded through the slab.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ends {
    /// Most recent node.
    pub(crate) front: u32,
    /// Least recent node.
    pub(crate) back: u32,
}

impl Default for Ends {
    fn default() -> Self {
        Self {
            front: NIL,
            back: NIL,
        }
    }
}

/// The list's operations, O(1) each: what an order rearranges.
impl<K, V, S, E, O: EvictionOrder> Store<K, V, S, E, O> {
    /// The node before `index` (towards the front), or `NIL`.
    #[inline]
    fn prev_of(&self, index: u32) -> u32 {
        prev_link(O::MARKS, self.nodes[index as usize].prev)
    }

    /// Links the node at `index` back to `to` (its mark kept).
    #[inline]
    fn set_prev(&mut self, index: u32, to: u32) {
        let prev = &mut self.nodes[index as usize].prev;
        *prev = with_prev_link(O::MARKS, *prev, to);
    }

    /// Points the node before a place (`prev`; the front end when `NIL`) forward at `to`.
    #[inline]
    fn point_next(&mut self, prev: u32, to: u32) {
        match prev {
            NIL => self.ends.front = to,
            p => self.nodes[p as usize].next = to,
        }
    }

    /// Points the node after a place (`next`; the back end when `NIL`) back at `to`.
    #[inline]
    fn point_prev(&mut self, next: u32, to: u32) {
        match next {
            NIL => self.ends.back = to,
            n => self.set_prev(n, to),
        }
    }

    #[inline]
    fn unlink(&mut self, index: u32) {
        let (prev, next) = (self.prev_of(index), self.nodes[index as usize].next);
        self.point_next(prev, next);
        self.point_prev(next, prev);
    }

    /// Links `index` just before `at` (at the back for `NIL`).
    fn link_before(&mut self, index: u32, at: u32) {
        let prev = match at {
            NIL => self.ends.back,
            at => self.prev_of(at),
        };
        self.set_prev(index, prev);
        self.nodes[index as usize].next = at;
        self.point_next(prev, index);
        self.point_prev(at, index);
    }

    #[inline]
    fn link_front(&mut self, index: u32) {
        let front = self.ends.front;
        self.set_prev(index, NIL);
        self.nodes[index as usize].next = front;
        self.finish_front(index, front);
    }

    /// Makes `index` the most recent.
    #[inline]
    fn touch(&mut self, index: u32) {
        if self.ends.front != index {
            self.unlink(index);
            self.link_front(index);
        }
    }

    /// Completes linking `index` at the front: the node already points at the old `front`
    /// (see `EvictionOrder::pushed`), so only its neighbour and the ends change.
    #[inline]
    fn finish_front(&mut self, index: u32, front: u32) {
        self.point_prev(front, index);
        self.ends.front = index;
    }

    /// The node now at `to` was moved there from elsewhere in the slab: repoints its
    /// neighbours.
    #[inline]
    fn moved(&mut self, to: u32) {
        let (prev, next) = (self.prev_of(to), self.nodes[to as usize].next);
        self.point_next(prev, to);
        self.point_prev(next, to);
    }
}

/// A policy's eviction order: the store calls it at each event that moves an entry in or
/// out of the list, and asks it for the next victim; it keeps its own state in the store
/// (`Store::order`). Hidden: the policies name it, users never do.
#[allow(
    unreachable_pub,
    reason = "the sealed `Policy` names it; public so the bound is, unnameable outside"
)]
pub trait EvictionOrder: Clone + Default + Send + Sync + Sized + 'static {
    /// A node for a new key with `hash` was pushed at `index`, the slab's end, with no
    /// previous node and the list's front, `front`, as its next (so the plain list links it
    /// with no second write to the node): links it.
    #[doc(hidden)]
    fn pushed<K, V, S, E>(store: &mut Store<K, V, S, E, Self>, index: u32, front: u32, hash: u64);
    /// Records a use (a hit or an overwrite) of the entry at `index`.
    #[doc(hidden)]
    fn used<K, V, S, E>(store: &mut Store<K, V, S, E, Self>, index: u32);
    /// Takes `index` out of the list, before it leaves the slab.
    #[doc(hidden)]
    fn unlink<K, V, S, E>(store: &mut Store<K, V, S, E, Self>, index: u32);
    /// A new key with `hash` took the slot of `victim`, whose key hashed to `victim_hash`:
    /// relinks the slot as a new key.
    #[doc(hidden)]
    fn reborn<K, V, S, E>(
        store: &mut Store<K, V, S, E, Self>,
        victim: u32,
        victim_hash: u64,
        hash: u64,
    );
    /// The slab swap-removed `removed` (already unlinked); the last node moved there from
    /// `moved_from`, unless it was the one removed (`None`).
    #[doc(hidden)]
    fn swap_removed<K, V, S, E>(
        store: &mut Store<K, V, S, E, Self>,
        removed: u32,
        moved_from: Option<u32>,
    );
    /// The entry to evict next; `None` when empty.
    #[doc(hidden)]
    fn next_victim<K, V, S, E>(store: &mut Store<K, V, S, E, Self>) -> Option<u32>;
    /// Forgets every entry (the store was emptied).
    #[doc(hidden)]
    fn reset(&mut self) {}
    /// Whether the order tunes itself on the hit ratio (then a sharded map's shards share
    /// one climb, see [`SharedClimb`]).
    #[doc(hidden)]
    const CLIMBS: bool = false;
    /// Whether the order keeps a 3-bit mark in each node's `prev` link (then a store holds
    /// at most [`MARKED_LIMIT`] entries).
    #[doc(hidden)]
    const MARKS: bool = false;
    /// Takes its share from `climb`, with the other shards of its map, from now on.
    #[doc(hidden)]
    fn join(&mut self, climb: &Arc<SharedClimb>) {
        let _ = climb;
    }
    /// Shrinks what it keeps per slot to `slots` slots.
    #[doc(hidden)]
    fn shrink_to(&mut self, slots: usize) {
        let _ = slots;
    }
    /// Heap bytes held.
    #[doc(hidden)]
    fn heap_bytes(&self) -> usize {
        0
    }
}

/// The list is the order: a use moves the entry to the front, the back leaves first. Keeps
/// nothing of its own.
#[derive(Clone, Copy, Debug, Default)]
pub struct RecencyOrder;

impl EvictionOrder for RecencyOrder {
    #[inline]
    fn pushed<K, V, S, E>(store: &mut Store<K, V, S, E, Self>, index: u32, front: u32, _: u64) {
        store.finish_front(index, front);
    }

    #[inline]
    fn used<K, V, S, E>(store: &mut Store<K, V, S, E, Self>, index: u32) {
        store.touch(index);
    }

    #[inline]
    fn unlink<K, V, S, E>(store: &mut Store<K, V, S, E, Self>, index: u32) {
        store.unlink(index);
    }

    #[inline]
    fn reborn<K, V, S, E>(store: &mut Store<K, V, S, E, Self>, victim: u32, _: u64, _: u64) {
        store.touch(victim);
    }

    #[inline]
    fn swap_removed<K, V, S, E>(
        store: &mut Store<K, V, S, E, Self>,
        removed: u32,
        from: Option<u32>,
    ) {
        if from.is_some() {
            store.moved(removed);
        }
    }

    #[inline]
    fn next_victim<K, V, S, E>(store: &mut Store<K, V, S, E, Self>) -> Option<u32> {
        let back = store.ends.back;
        (back != NIL).then_some(back)
    }
}

/// The adaptive policy's order: the split of the list into main and small, the small
/// queue's target length, and the ghost; each entry's mark is in its node.
#[derive(Clone, Debug)]
pub struct AdaptiveOrder {
    /// The most recent node of the small queue (`NIL` when empty); main nodes precede it.
    small_head: u32,
    small_len: u32,
    /// Target length of the small queue, in 1/1024ths of the bound (moved by `climb`; unused
    /// in a shard of a shared climb, which reads the shared share).
    small_share: u32,
    ghost: Ghost,
    climb: Climber,
    /// In a sharded map, the climb all its shards share; `None` climbs alone.
    shared: Option<Arc<SharedClimb>>,
}

/// Tunes the small queue's share by hill climbing on the hit ratio: every sample of requests,
/// the share moves one step; if the hit ratio fell since the last sample, the direction turns.
/// Steps shrink as the climb settles, and grow back when the hit ratio jumps (the workload
/// changed), as Caffeine's climber does.
#[derive(Clone, Debug, Default)]
struct Climber {
    /// Hits in this sample: a hit only counts (checking the period is left to misses).
    hits: u64,
    misses: u64,
    /// Requests in this sample, at least; 0 until the first request sets it from the bound.
    period: u32,
    /// Hit ratio of the previous sample, in 1/65536ths.
    previous: u32,
    /// Whether the share is moving down.
    down: bool,
    /// The next step, in 1/256ths of a share unit (1/1024 of the bound).
    step: u32,
}

/// `hits / requests` in 1/65536ths.
fn hit_rate(hits: u64, requests: u64) -> u32 {
    let rate = (u128::from(hits) << 16) / u128::from(requests.max(1));
    #[allow(
        clippy::cast_possible_truncation,
        reason = "hits <= requests: at most 2^16"
    )]
    let rate = rate as u32;
    rate
}

impl Climber {
    /// Requests in this sample so far.
    fn requests(&self) -> u64 {
        self.hits + self.misses
    }

    /// Requests per sample: long enough that one sample's hit ratio means something.
    fn period(max: usize) -> u32 {
        // At most 2^20: fits.
        #[allow(clippy::cast_possible_truncation, reason = "clamped to 2^20")]
        let period = (max.saturating_mul(SAMPLE_FACTOR)).clamp(256, 1 << 20) as u32;
        period
    }

    /// Ends a sample (or starts the first): the next share. The period is taken from the
    /// bound at each sample's start, so a resized map samples at its new size.
    #[cold]
    fn step(&mut self, share: u32, max: usize) -> u32 {
        let first = self.period == 0;
        self.period = Self::period(max);
        if first {
            self.step = FIRST_STEP;
            return share;
        }
        let rate = hit_rate(self.hits, self.requests());
        if rate < self.previous {
            self.down = !self.down;
        }
        if rate.abs_diff(self.previous) > RESTART_ABOVE {
            self.step = FIRST_STEP;
        }
        self.previous = rate;
        self.hits = 0;
        self.misses = 0;
        let step = self.step >> 8;
        self.step = (self.step * STEP_DECAY / 256).max(LAST_STEP);
        if self.down {
            share.saturating_sub(step).max(MIN_SHARE)
        } else {
            (share + step).min(MAX_SHARE)
        }
    }
}

/// One climb for all the shards of a sharded map: each shard counts its own requests and
/// hands its counts over at the end of its own sample; the climb steps on the sum, at the
/// map's whole bound, and every shard takes the share it sets. Alone, each shard's climb saw
/// an eighth of the requests and settled on its own share.
#[derive(Debug)]
pub struct SharedClimb {
    /// The climb over the whole map's requests, and the share it set.
    climb: Mutex<(Climber, u32)>,
    share: AtomicU32,
    shards: usize,
}

impl SharedClimb {
    /// A climb for a map of `shards` shards.
    pub(crate) fn new(shards: usize) -> Arc<Self> {
        Arc::new(Self {
            climb: Mutex::new((Climber::default(), INITIAL_SHARE)),
            share: AtomicU32::new(INITIAL_SHARE),
            shards,
        })
    }
}

impl Climber {
    /// Ends this shard's part of a sample: its counts go to the shared climb, which steps
    /// when it has a sample of the whole map's.
    #[cold]
    fn hand_over(&mut self, shared: &SharedClimb, max: usize) {
        let first = self.period == 0;
        // Hand over often, so a sample of the whole map is mostly of one share.
        self.period = (Self::period(max) / HAND_OVERS).max(64);
        if !first {
            // Another shard handing over meanwhile only delays this shard's counts to its
            // next sample; no shard waits.
            if let Ok(mut guard) = shared.climb.try_lock() {
                let (climb, share) = &mut *guard;
                climb.hits += self.hits;
                climb.misses += self.misses;
                let whole = max.saturating_mul(shared.shards);
                if climb.requests() >= u64::from(climb.period) {
                    *share = climb.step(*share, whole);
                    shared.share.store(*share, Ordering::Relaxed);
                }
                self.hits = 0;
                self.misses = 0;
            }
        }
    }
}

/// The small queue's share of the bound when a map starts (about 6%).
const INITIAL_SHARE: u32 = 60;
/// The share moves within [MIN_SHARE, MAX_SHARE] 1/1024ths of the bound.
const MIN_SHARE: u32 = 8;
const MAX_SHARE: u32 = 960;
/// The first step (in 1/256ths of a share unit), and again after a jump in the hit ratio.
const FIRST_STEP: u32 = 64 << 8;
/// Each sample the step shrinks to STEP_DECAY/256 of itself, down to LAST_STEP.
const STEP_DECAY: u32 = 251;
const LAST_STEP: u32 = 1 << 8;
/// A change of hit ratio between samples above this (in 1/65536ths) restarts the climb.
const RESTART_ABOVE: u32 = 3_277;
/// A shard of a shared climb hands its counts over this many times a sample of its own.
const HAND_OVERS: u32 = 8;
/// A sample is this many times the bound in requests.
const SAMPLE_FACTOR: usize = 10;

impl Default for AdaptiveOrder {
    fn default() -> Self {
        Self {
            small_head: NIL,
            small_len: 0,
            small_share: INITIAL_SHARE,
            ghost: Ghost::default(),
            climb: Climber::default(),
            shared: None,
        }
    }
}

/// The marks, in the nodes' `prev` links.
impl<K, V, S, E> Store<K, V, S, E, AdaptiveOrder> {
    #[inline]
    fn mark(&self, index: u32) -> u32 {
        self.nodes[index as usize].prev >> MARK_SHIFT
    }

    #[inline]
    fn set_mark(&mut self, index: u32, mark: u32) {
        let prev = &mut self.nodes[index as usize].prev;
        *prev = (*prev & LINK_BITS) | (mark << MARK_SHIFT);
    }

    #[inline]
    fn frequency(&self, index: u32) -> u32 {
        self.mark(index) & FREQUENCY
    }

    #[inline]
    fn is_small(&self, index: u32) -> bool {
        self.mark(index) & SMALL != 0
    }

    /// A hit: the frequency one higher, up to 3 (the flag above it untouched).
    #[inline]
    fn raise_frequency(&mut self, index: u32) {
        let prev = &mut self.nodes[index as usize].prev;
        if (*prev >> MARK_SHIFT) & FREQUENCY != FREQUENCY {
            *prev += 1 << MARK_SHIFT;
        }
    }
}

impl AdaptiveOrder {
    /// The small queue's target length for a map bounded by `max`.
    #[inline]
    fn small_target(&self, max: usize) -> usize {
        // A shared climb's share applies to every shard at once, so each sample it sums was
        // taken under one share (read at each shard's hand-over instead, arc-P3 at 32,768
        // lost 1.8 points sharded; this read costs about 1% of an insert's instructions).
        let share = match &self.shared {
            None => self.small_share,
            Some(shared) => shared.share.load(Ordering::Relaxed),
        };
        (max * share as usize / 1024).max(1)
    }

    /// Counts a hit for the hill climber. Only a miss ends a sample: a hit costs one
    /// increment (checking the period here too cost the concurrent `get` 12 instructions and
    /// about 3% of its time), and while nothing misses nothing is evicted, so no share needs
    /// to change.
    #[inline]
    fn count_hit(&mut self) {
        self.climb.hits += 1;
    }

    /// Counts a miss (a new key placed) for the hill climber, and ends the sample once it
    /// holds a period's requests.
    #[inline]
    fn count_miss(&mut self, max: usize) {
        self.climb.misses += 1;
        if self.climb.requests() >= u64::from(self.climb.period) {
            match &self.shared {
                None => self.small_share = self.climb.step(self.small_share, max),
                // A shard of a shared climb reads the share where it uses it (`small_target`).
                Some(shared) => self.climb.hand_over(shared, max),
            }
        }
    }

    /// Links a node that is in no queue as a newly arrived key with `hash`: the small queue's
    /// head, or the main queue's if the ghost remembers the key (it forgets it on the way) or
    /// the main queue has room (a map filling up).
    fn place<K, V, S, E>(store: &mut Store<K, V, S, E, Self>, index: u32, hash: u64) {
        let (max, len) = (store.max, store.nodes.len());
        let q = &mut store.order;
        q.count_miss(max);
        let main_len = len - q.small_len as usize - 1;
        let main_room = main_len + q.small_target(max) < max;
        if q.ghost.take(hash) || main_room {
            store.set_mark(index, 0);
            store.link_front(index);
        } else {
            store.set_mark(index, SMALL);
            let q = &mut store.order;
            q.small_len += 1;
            let at = q.small_head;
            q.small_head = index;
            store.link_before(index, at);
        }
    }

    /// Takes `index` out of its queue and the list.
    #[inline]
    fn leave<K, V, S, E>(store: &mut Store<K, V, S, E, Self>, index: u32) {
        let next = store.nodes[index as usize].next;
        let small = store.is_small(index);
        let q = &mut store.order;
        if small {
            q.small_len -= 1;
        }
        if q.small_head == index {
            q.small_head = next;
        }
        store.unlink(index);
    }
}

impl EvictionOrder for AdaptiveOrder {
    const CLIMBS: bool = true;
    const MARKS: bool = true;

    fn join(&mut self, climb: &Arc<SharedClimb>) {
        self.shared = Some(Arc::clone(climb));
    }

    fn pushed<K, V, S, E>(store: &mut Store<K, V, S, E, Self>, index: u32, _: u32, hash: u64) {
        Self::place(store, index, hash);
    }

    /// A hit raises the frequency, saturating at 3; nothing is relinked.
    #[inline]
    fn used<K, V, S, E>(store: &mut Store<K, V, S, E, Self>, index: u32) {
        store.raise_frequency(index);
        store.order.count_hit();
    }

    #[inline]
    fn unlink<K, V, S, E>(store: &mut Store<K, V, S, E, Self>, index: u32) {
        Self::leave(store, index);
    }

    /// Remembers a key evicted from probation, by its hash, sized for the store's slots.
    /// Keys evicted from the main queue are not remembered: letting them skip probation when
    /// they return turns loops into churn (measured: lirs-loop at 404 entries fell from 34%
    /// to 0%).
    fn reborn<K, V, S, E>(
        store: &mut Store<K, V, S, E, Self>,
        victim: u32,
        victim_hash: u64,
        hash: u64,
    ) {
        let from_small = store.is_small(victim);
        Self::leave(store, victim);
        if from_small {
            let slots = store.nodes.len();
            store.order.ghost.fit(slots);
            store.order.ghost.put(victim_hash);
        }
        Self::place(store, victim, hash);
    }

    #[inline]
    fn swap_removed<K, V, S, E>(
        store: &mut Store<K, V, S, E, Self>,
        removed: u32,
        from: Option<u32>,
    ) {
        // The marks moved with the node.
        let q = &mut store.order;
        if let Some(from) = from {
            if q.small_head == from {
                q.small_head = removed;
            }
            store.moved(removed);
        }
    }

    /// The queues turn over (entries hit since they were last looked at move on instead of
    /// leaving) until a victim is found. Amortized O(1): every turn spends one hit.
    fn next_victim<K, V, S, E>(store: &mut Store<K, V, S, E, Self>) -> Option<u32> {
        let small_target = store.order.small_target(store.max);
        loop {
            if store.nodes.is_empty() {
                return None;
            }
            let q = &store.order;
            let small_len = q.small_len as usize;
            let main_len = store.nodes.len() - small_len;
            if small_len > 0 && (small_len >= small_target || main_len == 0) {
                // The small queue's tail is the list's back.
                let tail = store.ends.back;
                if store.frequency(tail) == 0 {
                    return Some(tail);
                }
                Self::leave(store, tail);
                store.set_mark(tail, 0);
                store.link_front(tail);
            } else {
                let tail = match q.small_head {
                    NIL => store.ends.back,
                    head => store.prev_of(head),
                };
                if store.frequency(tail) == 0 {
                    return Some(tail);
                }
                store.set_mark(tail, store.frequency(tail) - 1);
                store.touch(tail);
            }
        }
    }

    /// Frees what it holds; keeps the learned share.
    fn reset(&mut self) {
        self.small_head = NIL;
        self.small_len = 0;
        self.ghost = Ghost::default();
    }

    fn shrink_to(&mut self, slots: usize) {
        if Ghost::wanted(slots) < self.ghost.slots.len() {
            self.ghost = Ghost::default();
        }
    }

    fn heap_bytes(&self) -> usize {
        self.ghost.slots.capacity() * size_of::<u16>()
    }
}

#[cfg(test)]
impl<K, V, S, E> Store<K, V, S, E, AdaptiveOrder> {
    /// The split stays consistent: main nodes, then small nodes, `small_head` the first small
    /// one, `small_len` their count; the `prev` links (under the marks) walk the list back.
    pub(crate) fn assert_adaptive_consistent(&self) {
        let mut at = self.ends.front;
        let order: Vec<u32> = core::iter::from_fn(|| {
            (at != NIL).then(|| {
                let here = at;
                at = self.nodes[here as usize].next;
                here
            })
        })
        .collect();
        assert_eq!(order.len(), self.nodes.len());
        let mut at = self.ends.back;
        let backwards: Vec<u32> = core::iter::from_fn(|| {
            (at != NIL).then(|| {
                let here = at;
                at = self.prev_of(here);
                here
            })
        })
        .collect();
        assert!(
            order.iter().rev().eq(&backwards),
            "prev links mend next links"
        );
        let q = &self.order;
        let first_small = order.iter().position(|&i| self.is_small(i));
        if let Some(first) = first_small {
            assert!(
                order[first..].iter().all(|&i| self.is_small(i)),
                "main after small"
            );
            assert_eq!(q.small_head, order[first]);
        } else {
            assert_eq!(q.small_head, NIL);
        }
        let small = order.iter().filter(|&&i| self.is_small(i)).count();
        assert_eq!(q.small_len as usize, small);
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

#[cfg(test)]
mod mark_tests {
    use super::*;
    use crate::storage::expiry::NoExpiry;
    use hashbrown::DefaultHashBuilder;

    #[test]
    fn a_link_and_a_mark_share_the_prev_field_without_touching() {
        for link in [0, 1, 12_345, MARKED_LIMIT as u32 - 1, NIL] {
            for mark in 0..8 {
                let raw = with_prev_link(true, mark << MARK_SHIFT, link);
                assert_eq!(prev_link(true, raw), link, "mark {mark}");
                assert_eq!(raw >> MARK_SHIFT, mark, "link {link}");
                // Relinking keeps the mark.
                let relinked = with_prev_link(true, raw, 7);
                assert_eq!(
                    (prev_link(true, relinked), relinked >> MARK_SHIFT),
                    (7, mark)
                );
            }
        }
        assert_eq!(prev_link(true, unlinked_prev(true)), NIL);
        assert_eq!(
            unlinked_prev(true) >> MARK_SHIFT,
            0,
            "a new node has no mark"
        );
        assert_eq!(
            unlinked_prev(false),
            NIL,
            "an order without marks: the plain link"
        );
    }

    #[test]
    fn a_marking_store_holds_at_most_what_its_links_can_name() {
        let store: Store<u64, u64, DefaultHashBuilder, NoExpiry, AdaptiveOrder> =
            Store::new(usize::MAX, DefaultHashBuilder::default(), NoExpiry);
        assert_eq!(store.max(), MARKED_LIMIT);
        // The last index a node can have still decodes.
        assert_eq!(
            prev_link(true, with_prev_link(true, 0, MARKED_LIMIT as u32 - 1)),
            MARKED_LIMIT as u32 - 1
        );
        let lru: Store<u64, u64, DefaultHashBuilder> =
            Store::new(usize::MAX, DefaultHashBuilder::default(), NoExpiry);
        assert_eq!(lru.max(), crate::storage::store::MAX_LIMIT);
    }
}

#[cfg(test)]
mod climber_tests {
    use super::*;

    /// Ends a sample of 1,000 requests with `hits` hits; returns the next share.
    fn sample(climb: &mut Climber, share: u32, hits: u64) -> u32 {
        climb.hits = hits;
        climb.misses = 1_000 - hits;
        climb.step(share, 1_000)
    }

    #[test]
    fn the_share_climbs_while_the_hit_ratio_rises_in_shrinking_steps() {
        let mut climb = Climber::default();
        let mut share = climb.step(INITIAL_SHARE, 1_000);
        assert_eq!(share, INITIAL_SHARE, "the first call only starts a sample");
        let mut moves = Vec::new();
        for hits in [100, 110, 120, 130] {
            let next = sample(&mut climb, share, hits);
            moves.push(next - share);
            share = next;
        }
        assert_eq!(moves[0], FIRST_STEP >> 8);
        assert!(moves.windows(2).all(|pair| pair[1] < pair[0]), "{moves:?}");
    }

    #[test]
    fn a_fall_turns_the_climb_round() {
        let mut climb = Climber::default();
        let share = climb.step(INITIAL_SHARE, 1_000);
        let up = sample(&mut climb, share, 500);
        assert!(up > share);
        let down = sample(&mut climb, up, 490);
        assert!(down < up, "the hit ratio fell: the share moves back");
    }

    #[test]
    fn a_jump_in_the_hit_ratio_makes_the_steps_big_again() {
        let mut climb = Climber::default();
        let mut share = climb.step(INITIAL_SHARE, 1_000);
        // 0.98 a sample: 64 to 1 takes about 206 samples.
        for _ in 0..300 {
            share = sample(&mut climb, share, 500);
        }
        assert_eq!(
            climb.step, LAST_STEP,
            "a settled climb takes its smallest steps"
        );
        // Five points and more: a new workload.
        sample(&mut climb, share, 560);
        assert_eq!(climb.step, FIRST_STEP * STEP_DECAY / 256);
        // Less than five: the climb carries on settling.
        sample(&mut climb, share, 600);
        assert!(climb.step < FIRST_STEP * STEP_DECAY / 256);
    }

    #[test]
    fn the_share_stays_within_its_range() {
        let mut climb = Climber::default();
        let mut share = climb.step(INITIAL_SHARE, 1_000);
        for hits in 1..=300 {
            share = sample(&mut climb, share, hits);
            assert!((MIN_SHARE..=MAX_SHARE).contains(&share));
        }
        assert_eq!(
            share, MAX_SHARE,
            "a hit ratio that keeps rising climbs to the top"
        );
    }
}

#[cfg(test)]
mod shared_climb_tests {
    use super::*;

    fn joined(shared: &Arc<SharedClimb>) -> AdaptiveOrder {
        let mut order = AdaptiveOrder::default();
        order.join(shared);
        order
    }

    /// The requests the shared climb holds, not yet spent on a step.
    fn pending(shared: &SharedClimb) -> u64 {
        shared.climb.lock().expect("not poisoned").0.requests()
    }

    /// A hit or a miss, as a map counts it.
    fn request(order: &mut AdaptiveOrder, hit: bool, max: usize) {
        if hit {
            order.count_hit();
        } else {
            order.count_miss(max);
        }
    }

    #[test]
    fn the_shards_hand_their_requests_to_one_climb() {
        let shared = SharedClimb::new(2);
        let (mut a, mut b) = (joined(&shared), joined(&shared));
        // Shards of 100: a hand-over every 125 requests, a step every 2,000 of the map's.
        for at in 0..700 {
            request(&mut a, at % 2 == 0, 100);
        }
        for at in 0..300 {
            request(&mut b, at % 3 == 0, 100);
        }
        // Below one sample of the whole map: nothing was spent on a step. Each shard holds
        // less than one hand-over's worth of its own.
        assert_eq!(
            pending(&shared) + a.climb.requests() + b.climb.requests(),
            1_000
        );
        assert!(pending(&shared) > 0);
        let hand_over = u64::from(Climber::period(100) / HAND_OVERS);
        assert!(a.climb.requests() < hand_over && b.climb.requests() < hand_over);
        assert_eq!(shared.share.load(Ordering::Relaxed), INITIAL_SHARE);
    }

    #[test]
    fn every_shard_takes_the_share_the_climb_sets() {
        let shared = SharedClimb::new(2);
        let (mut a, mut b) = (joined(&shared), joined(&shared));
        // The hit ratio rises sample after sample: the climb goes up.
        // Shards of 100: the map's sample is 2,000 requests, 1,000 from each shard.
        for round in 0..8_u32 {
            for at in 0..1_000_u32 {
                let hit = at % 10 < round;
                request(&mut a, hit, 100);
                request(&mut b, hit, 100);
            }
        }
        let share = shared.share.load(Ordering::Relaxed);
        assert!(share > INITIAL_SHARE, "{share}");
        assert_eq!(a.small_target(1_000), 1_000 * share as usize / 1_024);
        assert_eq!(b.small_target(1_000), a.small_target(1_000));
        // A map alone keeps its own share.
        let alone = AdaptiveOrder::default();
        assert_eq!(
            alone.small_target(1_000),
            1_000 * INITIAL_SHARE as usize / 1_024
        );
    }
}
