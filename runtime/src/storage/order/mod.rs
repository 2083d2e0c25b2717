//! How the store orders its entries for eviction: each policy's order behind one trait,
//! [`EvictionOrder`], so the store calls the order at each event and never asks which it is.
//!
//! The store threads its slab into one list (the links live in the nodes, the ends in the
//! store); an order rearranges that list through the store's list operations, here.
//!
//! [`RecencyOrder`] is the list itself (LRU, or write order for a bounded map): nothing per
//! slot. [`ProbationOrder`] is an S3-FIFO variant (Yang et al., SOSP '23) whose probation
//! length adapts as ARC's split does (Megiddo and Modha, FAST '03), with TinyLFU's admission as
//! an option. [`AdaptiveOrder`], the adaptive policy, follows the probation queues one of two
//! ways, or the list as recency, whichever its miniature simulation says hits most (see
//! `adaptive`).
//!
//! - New keys serve a probation in a small FIFO queue; the rest of the list is the main
//!   queue. Both live in the store's one linked list: main first, then small, split at
//!   `small_head`. While the main queue has room (a map filling up), new keys go straight in.
//! - A hit raises the entry's 2-bit frequency; nothing is relinked and nothing else is
//!   written. The marks (frequency and "in probation") live in the top three bits of the
//!   node's `prev` link, on the cache line a lookup has just read.
//! - The small queue's tail leaves if it was never hit during probation, and moves to the
//!   main queue otherwise. The main queue is a CLOCK: its tail goes round again while its
//!   frequency lasts (one decrement per turn) and leaves at zero.
//! - A key that leaves is remembered by a 16-bit fingerprint (no key, no value), in one of two
//!   ghost tables by the queue it left. A key back from the probation ghost enters the main
//!   queue and lengthens probation by a quarter of an entry (a longer probation would have
//!   caught its reuse); a key back from the main ghost shortens it by half an entry (a
//!   longer main queue would have kept it), at every miss, so short traces adapt too.
//! - Admitting by frequency instead (`sketch`): probation keeps 1% and the ghosts rest; a key
//!   leaving probation unused takes the main queue's victim's place only if it was asked for
//!   more often lately. This keeps a loop's or a skewed workload's set where the ghosts would
//!   churn it.
//! - A sharded map's shards each adapt on their own requests (the steps are in entries, so a
//!   shard moves its share as fast as a whole map moves its).

use crate::storage::expiry::Expiry;
use crate::storage::store::Store;

mod adaptive;
mod sketch;
pub(crate) use adaptive::AdaptiveOrder;
use sketch::Sketch;

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
impl<K, V, S, E: Expiry, O: EvictionOrder> Store<K, V, S, E, O> {
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
    fn pushed<K, V, S, E: Expiry>(
        store: &mut Store<K, V, S, E, Self>,
        index: u32,
        front: u32,
        hash: u64,
    );
    /// Records a use (a hit or an overwrite) of the entry at `index`, whose key hashed to
    /// `hash`.
    #[doc(hidden)]
    fn used<K, V, S, E: Expiry>(store: &mut Store<K, V, S, E, Self>, index: u32, hash: u64);
    /// Counts the entry at `index` as used without a request for it: the policy chose it as a
    /// victim while it is being written, and is asked again.
    #[doc(hidden)]
    fn requeue<K, V, S, E: Expiry>(store: &mut Store<K, V, S, E, Self>, index: u32);
    /// Takes `index` out of the list, before it leaves the slab.
    #[doc(hidden)]
    fn unlink<K, V, S, E: Expiry>(store: &mut Store<K, V, S, E, Self>, index: u32);
    /// A new key with `hash` took the slot of `victim`, whose key hashed to `victim_hash`:
    /// relinks the slot as a new key.
    #[doc(hidden)]
    fn reborn<K, V, S, E: Expiry>(
        store: &mut Store<K, V, S, E, Self>,
        victim: u32,
        victim_hash: u64,
        hash: u64,
    );
    /// The slab swap-removed `removed` (already unlinked); the last node moved there from
    /// `moved_from`, unless it was the one removed (`None`).
    #[doc(hidden)]
    fn swap_removed<K, V, S, E: Expiry>(
        store: &mut Store<K, V, S, E, Self>,
        removed: u32,
        moved_from: Option<u32>,
    );
    /// The entry to evict next; `None` when empty. `hash_of` hashes a key as the store does,
    /// for an order that weighs candidates by their keys' counts.
    #[doc(hidden)]
    fn next_victim<K, V, S, E: Expiry>(
        store: &mut Store<K, V, S, E, Self>,
        hash_of: fn(&S, &K) -> u64,
    ) -> Option<u32>;
    /// Forgets every entry (the store was emptied).
    #[doc(hidden)]
    fn reset(&mut self) {}
    /// Whether the order keeps a 3-bit mark in each node's `prev` link (then a store holds
    /// at most [`MARKED_LIMIT`] entries).
    #[doc(hidden)]
    const MARKS: bool = false;
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
    /// Makes this (empty) order the template for the `shards` shards of one map: what the
    /// shards share is made here, and each shard `join`s it.
    #[doc(hidden)]
    fn shard_template(&mut self, shards: usize) {
        let _ = shards;
    }
    /// Shares what `template` shares across shards.
    #[doc(hidden)]
    fn join(&mut self, template: &Self) {
        let _ = template;
    }
}

/// The list is the order: a use moves the entry to the front, the back leaves first. Keeps
/// nothing of its own.
#[derive(Clone, Copy, Debug, Default)]
pub struct RecencyOrder;

impl EvictionOrder for RecencyOrder {
    #[inline]
    fn pushed<K, V, S, E: Expiry>(
        store: &mut Store<K, V, S, E, Self>,
        index: u32,
        front: u32,
        _: u64,
    ) {
        store.finish_front(index, front);
    }

    #[inline]
    fn used<K, V, S, E: Expiry>(store: &mut Store<K, V, S, E, Self>, index: u32, _: u64) {
        store.touch(index);
    }

    #[inline]
    fn requeue<K, V, S, E: Expiry>(store: &mut Store<K, V, S, E, Self>, index: u32) {
        store.touch(index);
    }

    #[inline]
    fn unlink<K, V, S, E: Expiry>(store: &mut Store<K, V, S, E, Self>, index: u32) {
        store.unlink(index);
    }

    #[inline]
    fn reborn<K, V, S, E: Expiry>(
        store: &mut Store<K, V, S, E, Self>,
        victim: u32,
        _: u64,
        _: u64,
    ) {
        store.touch(victim);
    }

    #[inline]
    fn swap_removed<K, V, S, E: Expiry>(
        store: &mut Store<K, V, S, E, Self>,
        removed: u32,
        from: Option<u32>,
    ) {
        if from.is_some() {
            store.moved(removed);
        }
    }

    #[inline]
    fn next_victim<K, V, S, E: Expiry>(
        store: &mut Store<K, V, S, E, Self>,
        _: fn(&S, &K) -> u64,
    ) -> Option<u32> {
        let back = store.ends.back;
        (back != NIL).then_some(back)
    }
}

/// The probation queues: the split of the list into main and small, the small queue's target
/// length, the two ghosts, and the counts when admitting by frequency; each entry's mark is in
/// its node.
#[derive(Clone, Debug)]
#[allow(
    unreachable_pub,
    reason = "named by `Probing`; public so the bound is, unnameable outside"
)]
pub struct ProbationOrder {
    /// The most recent node of the small queue (`NIL` when empty); main nodes precede it.
    small_head: u32,
    small_len: u32,
    /// Target length of the small queue, as a fraction of the bound in 1/2^32ths (so it
    /// follows a resized bound, and quarter-entry steps stay exact at any size).
    small_share: u64,
    /// Keys that left from probation.
    ghost: Ghost,
    /// Keys that left from the main queue.
    main_ghost: Ghost,
    /// Counting requests, to admit by frequency once the counts are warm.
    by_frequency: bool,
    /// Admitting by frequency (TinyLFU's): a key leaving probation unused displaces the main
    /// queue's victim only if the sketch counts it more often; probation keeps a fixed 1%,
    /// and the ghosts rest. Until the sketch is warm, a map that just switched keeps the
    /// probation queues' ways.
    admits: bool,
    /// The counts, while `by_frequency`.
    sketch: Sketch,
}

/// The whole bound, in `small_share`'s units.
const WHOLE: u64 = 1 << 32;
/// The small queue's share of the bound when a map starts (about 4%).
const INITIAL_SHARE: u64 = WHOLE / 1024 * 40;
/// The share moves within [MIN_SHARE, MAX_SHARE]: 1/128 to 15/16 of the bound.
const MIN_SHARE: u64 = WHOLE / 128;
const MAX_SHARE: u64 = WHOLE / 16 * 15;
/// Entries the small queue's target grows by at a probation ghost's hit, and shrinks by at a
/// main ghost's, in quarters of an entry.
const GROW_QUARTERS: u64 = 1;
const SHRINK_QUARTERS: u64 = 2;

impl Default for ProbationOrder {
    fn default() -> Self {
        Self {
            small_head: NIL,
            small_len: 0,
            small_share: INITIAL_SHARE,
            ghost: Ghost::default(),
            main_ghost: Ghost::default(),
            by_frequency: false,
            admits: false,
            sketch: Sketch::default(),
        }
    }
}

/// The marks, in the nodes' `prev` links.
impl<K, V, S, E: Expiry, O: Probing> Store<K, V, S, E, O> {
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

impl ProbationOrder {
    /// The small queue's target length for a map bounded by `max`.
    #[inline]
    fn small_target(&self, max: usize) -> usize {
        if self.admits_by_frequency() {
            return (max / 100).max(1);
        }
        // `max` is below 2^29 (MARKED_LIMIT) and the share below 2^32: no overflow.
        ((max as u64 * self.small_share) >> 32).max(1) as usize
    }

    /// Whether it admits by frequency now.
    #[inline]
    fn admits_by_frequency(&self) -> bool {
        self.admits
    }

    /// Counts requests to admit by frequency from now on, or stops (and frees the counts).
    pub(super) fn set_by_frequency(&mut self, on: bool, max: usize) {
        self.by_frequency = on;
        self.admits = false;
        if on {
            if !self.sketch.is_sized() {
                self.sketch.size_for(max);
            }
        } else {
            self.sketch.clear();
        }
    }

    /// Counts a request for `hash` (a hit or a new key), when counting.
    #[inline]
    pub(super) fn count_request(&mut self, hash: u64) {
        if self.by_frequency {
            self.sketch.record(hash);
            self.admits = self.sketch.is_warm();
        }
    }

    /// Moves the small queue's share by `quarters` quarter-entries of a map bounded by `max`,
    /// up or down, within its range.
    #[cold]
    fn adapt(&mut self, max: usize, quarters: u64, grow: bool) {
        let step = WHOLE * quarters / (4 * max.max(1) as u64);
        self.small_share = if grow {
            (self.small_share + step).min(MAX_SHARE)
        } else {
            self.small_share.saturating_sub(step).max(MIN_SHARE)
        };
    }

    /// Links a node that is in no queue as a newly arrived key with `hash`: the small queue's
    /// head, or the main queue's if the probation ghost remembers the key or the main queue
    /// has room (a map filling up). A remembered key moves the probation's length first.
    pub(super) fn place<K, V, S, E: Expiry, O: Probing>(
        store: &mut Store<K, V, S, E, O>,
        index: u32,
        hash: u64,
    ) {
        let (max, len) = (store.max, store.nodes.len());
        let q = store.order.queues_mut();
        let by_frequency = q.admits_by_frequency();
        let from_probation = !by_frequency && q.ghost.take(hash);
        if from_probation {
            q.adapt(max, GROW_QUARTERS, true);
        }
        if !by_frequency && q.main_ghost.take(hash) {
            q.adapt(max, SHRINK_QUARTERS, false);
        }
        let main_len = len - q.small_len as usize - 1;
        let main_room = main_len + q.small_target(max) < max;
        if from_probation || main_room {
            store.set_mark(index, 0);
            store.link_front(index);
        } else {
            store.set_mark(index, SMALL);
            let q = store.order.queues_mut();
            q.small_len += 1;
            let at = q.small_head;
            q.small_head = index;
            store.link_before(index, at);
        }
    }

    /// Takes `index` out of its queue and the list.
    #[inline]
    pub(super) fn leave<K, V, S, E: Expiry, O: Probing>(
        store: &mut Store<K, V, S, E, O>,
        index: u32,
    ) {
        let next = store.nodes[index as usize].next;
        let small = store.is_small(index);
        let q = store.order.queues_mut();
        if small {
            q.small_len -= 1;
        }
        if q.small_head == index {
            q.small_head = next;
        }
        store.unlink(index);
    }
}

/// The probation queues' events, for any order that keeps them (see `Probing`): the plain
/// `ProbationOrder`, and `AdaptiveOrder` while it follows them.
impl ProbationOrder {
    /// Remembers the evicted key, by its hash, in the ghost of the queue it left (each
    /// sized for the store's slots), then places the new key.
    pub(super) fn reborn_in<K, V, S, E: Expiry, O: Probing>(
        store: &mut Store<K, V, S, E, O>,
        victim: u32,
        victim_hash: u64,
        hash: u64,
    ) {
        let from_small = store.is_small(victim);
        Self::leave(store, victim);
        let slots = store.nodes.len();
        let q = store.order.queues_mut();
        if q.admits_by_frequency() {
            Self::place(store, victim, hash);
            return;
        }
        let ghost = if from_small {
            q.ghost.fit(Ghost::wanted(slots, PROBATION_GHOST_SHARE));
            &mut q.ghost
        } else {
            q.main_ghost.fit(Ghost::wanted(slots, MAIN_GHOST_SHARE));
            &mut q.main_ghost
        };
        ghost.put(victim_hash);
        Self::place(store, victim, hash);
    }

    #[inline]
    pub(super) fn swap_removed_in<K, V, S, E: Expiry, O: Probing>(
        store: &mut Store<K, V, S, E, O>,
        removed: u32,
        from: Option<u32>,
    ) {
        // The marks moved with the node.
        let q = store.order.queues_mut();
        if let Some(from) = from {
            if q.small_head == from {
                q.small_head = removed;
            }
            store.moved(removed);
        }
    }

    /// The queues turn over (entries hit since they were last looked at move on instead of
    /// leaving) until a victim is found. Amortized O(1): every turn spends one hit.
    pub(super) fn next_victim_in<K, V, S, E: Expiry, O: Probing>(
        store: &mut Store<K, V, S, E, O>,
        hash_of: fn(&S, &K) -> u64,
    ) -> Option<u32> {
        let small_target = store.order.queues().small_target(store.max);
        loop {
            if store.nodes.is_empty() {
                return None;
            }
            let q = store.order.queues();
            let small_len = q.small_len as usize;
            let main_len = store.nodes.len() - small_len;
            if small_len > 0 && (small_len >= small_target || main_len == 0) {
                // The small queue's tail is the list's back.
                let tail = store.ends.back;
                if store.frequency(tail) == 0 {
                    if q.admits_by_frequency() && main_len > 0 {
                        return Some(Self::admit_by_frequency(store, tail, hash_of));
                    }
                    return Some(tail);
                }
                Self::leave(store, tail);
                store.set_mark(tail, 0);
                store.link_front(tail);
            } else {
                return Some(Self::main_victim(store));
            }
        }
    }

    /// The main queue's victim: its tail goes round again while its frequency lasts (one
    /// decrement per turn) and is the victim at zero. The main queue is not empty.
    fn main_victim<K, V, S, E: Expiry, O: Probing>(store: &mut Store<K, V, S, E, O>) -> u32 {
        loop {
            let tail = match store.order.queues().small_head {
                NIL => store.ends.back,
                head => store.prev_of(head),
            };
            if store.frequency(tail) == 0 {
                return tail;
            }
            store.set_mark(tail, store.frequency(tail) - 1);
            store.touch(tail);
        }
    }

    /// TinyLFU's admission: `candidate`, leaving probation unused, takes the main victim's
    /// place if the sketch counts it more often (the victim leaves instead), and leaves
    /// otherwise. Returns which leaves.
    #[cold]
    fn admit_by_frequency<K, V, S, E: Expiry, O: Probing>(
        store: &mut Store<K, V, S, E, O>,
        candidate: u32,
        hash_of: fn(&S, &K) -> u64,
    ) -> u32 {
        let victim = Self::main_victim(store);
        let count = |store: &Store<K, V, S, E, O>, index: u32| {
            let hash = hash_of(&store.hasher, &store.nodes[index as usize].key);
            store.order.queues().sketch.estimate(hash)
        };
        if count(store, candidate) > count(store, victim) {
            Self::leave(store, candidate);
            store.set_mark(candidate, 0);
            store.link_front(candidate);
            victim
        } else {
            candidate
        }
    }

    /// Frees what it holds; keeps the learned share and whether it admits by frequency.
    pub(super) fn forget(&mut self) {
        self.small_head = NIL;
        self.small_len = 0;
        self.ghost = Ghost::default();
        self.main_ghost = Ghost::default();
        if self.sketch.is_sized() {
            self.sketch = Sketch::default();
            self.admits = false;
        }
    }

    pub(super) fn shrink_ghosts(&mut self, slots: usize) {
        if Ghost::wanted(slots, PROBATION_GHOST_SHARE) < self.ghost.slots.len() {
            self.ghost = Ghost::default();
        }
        if Ghost::wanted(slots, MAIN_GHOST_SHARE) < self.main_ghost.slots.len() {
            self.main_ghost = Ghost::default();
        }
    }

    pub(super) fn ghost_bytes(&self) -> usize {
        (self.ghost.slots.capacity() + self.main_ghost.slots.capacity()) * size_of::<u16>()
            + self.sketch.heap_bytes()
    }
}

/// An order that keeps the probation queues (`ProbationOrder`'s state) and the marks in the
/// nodes: the queues' operations work on any of them. Hidden, as `EvictionOrder` is.
#[allow(
    unreachable_pub,
    reason = "bounds the store's queue operations; public as the store is, unnameable outside"
)]
pub trait Probing: EvictionOrder {
    #[doc(hidden)]
    fn queues(&self) -> &ProbationOrder;
    #[doc(hidden)]
    fn queues_mut(&mut self) -> &mut ProbationOrder;
}

impl Probing for ProbationOrder {
    #[inline]
    fn queues(&self) -> &ProbationOrder {
        self
    }

    #[inline]
    fn queues_mut(&mut self) -> &mut ProbationOrder {
        self
    }
}

/// The probation queues on their own: what `AdaptiveOrder` follows unless recency serves
/// better, and what its miniature simulation of them runs.
impl EvictionOrder for ProbationOrder {
    const MARKS: bool = true;

    fn pushed<K, V, S, E: Expiry>(
        store: &mut Store<K, V, S, E, Self>,
        index: u32,
        _: u32,
        hash: u64,
    ) {
        Self::place(store, index, hash);
        store.order.count_request(hash);
    }

    /// A hit raises the frequency, saturating at 3; nothing is relinked.
    #[inline]
    fn used<K, V, S, E: Expiry>(store: &mut Store<K, V, S, E, Self>, index: u32, hash: u64) {
        store.raise_frequency(index);
        store.order.count_request(hash);
    }

    #[inline]
    fn requeue<K, V, S, E: Expiry>(store: &mut Store<K, V, S, E, Self>, index: u32) {
        store.raise_frequency(index);
    }

    #[inline]
    fn unlink<K, V, S, E: Expiry>(store: &mut Store<K, V, S, E, Self>, index: u32) {
        Self::leave(store, index);
    }

    fn reborn<K, V, S, E: Expiry>(
        store: &mut Store<K, V, S, E, Self>,
        victim: u32,
        victim_hash: u64,
        hash: u64,
    ) {
        Self::reborn_in(store, victim, victim_hash, hash);
        store.order.count_request(hash);
    }

    #[inline]
    fn swap_removed<K, V, S, E: Expiry>(
        store: &mut Store<K, V, S, E, Self>,
        removed: u32,
        from: Option<u32>,
    ) {
        Self::swap_removed_in(store, removed, from);
    }

    fn next_victim<K, V, S, E: Expiry>(
        store: &mut Store<K, V, S, E, Self>,
        hash_of: fn(&S, &K) -> u64,
    ) -> Option<u32> {
        Self::next_victim_in(store, hash_of)
    }

    fn reset(&mut self) {
        self.forget();
    }

    fn shrink_to(&mut self, slots: usize) {
        self.shrink_ghosts(slots);
    }

    fn heap_bytes(&self) -> usize {
        self.ghost_bytes()
    }
}

#[cfg(test)]
impl<K, V, S, E: Expiry, O: Probing> Store<K, V, S, E, O> {
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
        let q = self.order.queues();
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

/// Fingerprints of keys that left a queue, in a direct-mapped table: a newer fingerprint
/// overwrites whatever shared its slot, which ages the table out roughly in order. Holds no
/// key and no value: 2 bytes a slot, a power of two of them.
#[derive(Clone, Debug, Default)]
struct Ghost {
    /// 0 is empty; otherwise the top bits of a hash, with the lowest bit set.
    slots: Vec<u16>,
}

/// The probation ghost has a slot per `PROBATION_GHOST_SHARE` store slots, the main ghost
/// one per `MAIN_GHOST_SHARE` (together about 2 bytes an entry). Sized in a simulator of this
/// policy replaying `compare --suite traces`: a probation ghost twice as big put multi1 at
/// 1,042 about 1.5 points further behind, half as big arc-P3 at 32,768 3 points; a main ghost
/// four times as big put `recency` at 1,000 3.2 points behind LRU.
const PROBATION_GHOST_SHARE: usize = 2;
const MAIN_GHOST_SHARE: usize = 4;

impl Ghost {
    /// Ghost slots for a store of `slots` slots, one per `share`: a power of two, at least 16.
    fn wanted(slots: usize, share: usize) -> usize {
        (slots / share).next_power_of_two().max(16)
    }

    /// Resizes to `wanted` slots; what it held is forgotten (rare: the store doubles or
    /// halves first).
    fn fit(&mut self, wanted: usize) {
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

    #[cfg(test)]
    fn remembers(&self, hash: u64) -> bool {
        !self.slots.is_empty() && {
            let (slot, print) = self.locate(hash);
            self.slots[slot] == print
        }
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
mod adapt_tests {
    use super::*;
    use crate::storage::expiry::NoExpiry;
    use std::collections::hash_map::DefaultHasher;
    use std::hash::BuildHasherDefault;

    /// SipHash with fixed keys: the same hashes, so the same ghost slots, every run.
    type Fixed = BuildHasherDefault<DefaultHasher>;
    type Adaptive = Store<u32, (), Fixed, NoExpiry, ProbationOrder>;

    /// Stores an absent `key` as a map does: in a free slot, or in the policy's victim's.
    fn insert(store: &mut Adaptive, key: u32) {
        let hash = store.hash(&key);
        assert!(store.find(hash, &key).is_none());
        if store.is_full() {
            let victim = store.next_victim().expect("full, so not empty");
            store.replace_at(victim, hash, key, (), 0);
        } else {
            store.push_front(hash, key, (), 0);
        }
    }

    /// A full store of `max` keys `0..max`.
    fn full(max: usize) -> Adaptive {
        let mut store = Adaptive::new(max, Fixed::default(), NoExpiry);
        for key in 0..max as u32 {
            insert(&mut store, key);
        }
        store
    }

    #[test]
    fn a_key_back_from_probation_lengthens_probation_by_a_quarter_entry() {
        let mut order = ProbationOrder::default();
        let before = order.small_share;
        order.ghost.fit(Ghost::wanted(1_000, PROBATION_GHOST_SHARE));
        order.ghost.put(7);
        assert!(order.ghost.take(7));
        order.adapt(1_000, GROW_QUARTERS, true);
        assert_eq!(order.small_share - before, WHOLE / 4_000);
        order.adapt(1_000, SHRINK_QUARTERS, false);
        assert_eq!(
            order.small_share,
            before + WHOLE / 4_000 - WHOLE * 2 / 4_000,
            "half an entry down from a quarter up"
        );
    }

    #[test]
    fn the_share_stays_within_its_range() {
        let mut order = ProbationOrder::default();
        for _ in 0..10_000 {
            order.adapt(100, GROW_QUARTERS, true);
        }
        assert_eq!(order.small_share, MAX_SHARE);
        assert_eq!(order.small_target(1_024), 960);
        for _ in 0..10_000 {
            order.adapt(100, SHRINK_QUARTERS, false);
        }
        assert_eq!(order.small_share, MIN_SHARE);
        assert_eq!(order.small_target(1_024), 8);
        assert_eq!(order.small_target(10), 1, "never below one entry");
    }

    #[test]
    fn evicted_keys_are_remembered_by_the_queue_they_left() {
        // Keys that are never hit: each new key evicts the oldest probation key, which the
        // probation ghost then remembers; the main queue keeps what filled it first.
        let mut store = full(64);
        store.assert_adaptive_consistent();
        for key in 64..200 {
            insert(&mut store, key);
        }
        store.assert_adaptive_consistent();
        let q = store.order.queues();
        assert!(!q.ghost.slots.is_empty(), "probation evicted");
        assert!(
            q.main_ghost.slots.iter().all(|&print| print == 0),
            "main kept"
        );
        // Asking again for a key probation lost: it lengthens probation and enters main.
        let share = store.order.small_share;
        let lost = (64..200).find(|&key| store.order.ghost.remembers(store.hash(&key)));
        let lost = lost.expect("the ghost remembers a recent key");
        insert(&mut store, lost);
        assert!(store.order.small_share > share);
        store.assert_adaptive_consistent();
    }
}
