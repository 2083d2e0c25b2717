//! How the store orders its entries for eviction: each policy's order behind one trait,
//! [`EvictionOrder`], so the store calls the order at each event and never asks which it is.
//!
//! The store threads its slab into one list ([`Links`]: the links live in the nodes, the ends
//! here); an order rearranges that list.
//!
//! [`RecencyOrder`] is the list itself (LRU, or write order for a bounded map): nothing per
//! slot. [`AdaptiveOrder`] is the adaptive policy, an
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

use crate::storage::store::Node;

/// The "no node" link.
pub(crate) const NIL: u32 = u32::MAX;

/// A slot's mark: in the small queue.
const SMALL: u8 = 0x80;
/// A slot's mark: its frequency, 0 to 3.
const FREQUENCY: u8 = 0x03;

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

/// The slab's nodes and the ends of their list: what an order rearranges. O(1) each.
#[allow(
    unreachable_pub,
    reason = "named by `EvictionOrder`'s methods; unnameable outside, as that trait is"
)]
pub struct Links<'a, K, V> {
    pub(crate) nodes: &'a mut Vec<Node<K, V>>,
    pub(crate) ends: &'a mut Ends,
}

impl<K, V> core::fmt::Debug for Links<'_, K, V> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Links")
            .field("len", &self.nodes.len())
            .field("ends", &self.ends)
            .finish_non_exhaustive()
    }
}

impl<K, V> Links<'_, K, V> {
    #[inline]
    fn prev(&self, index: u32) -> u32 {
        self.nodes[index as usize].prev
    }

    #[inline]
    fn next(&self, index: u32) -> u32 {
        self.nodes[index as usize].next
    }

    #[inline]
    fn unlink(&mut self, index: u32) {
        let Node { prev, next, .. } = self.nodes[index as usize];
        match prev {
            NIL => self.ends.front = next,
            p => self.nodes[p as usize].next = next,
        }
        match next {
            NIL => self.ends.back = prev,
            n => self.nodes[n as usize].prev = prev,
        }
    }

    /// Links `index` just before `at` (at the back for `NIL`; at the front when `at` is the
    /// front).
    #[inline]
    fn link_before(&mut self, index: u32, at: u32) {
        let prev = match at {
            NIL => self.ends.back,
            at => self.nodes[at as usize].prev,
        };
        let node = &mut self.nodes[index as usize];
        node.prev = prev;
        node.next = at;
        match prev {
            NIL => self.ends.front = index,
            p => self.nodes[p as usize].next = index,
        }
        match at {
            NIL => self.ends.back = index,
            a => self.nodes[a as usize].prev = index,
        }
    }

    #[inline]
    fn link_front(&mut self, index: u32) {
        let front = self.ends.front;
        let node = &mut self.nodes[index as usize];
        node.prev = NIL;
        node.next = front;
        match front {
            NIL => self.ends.back = index,
            f => self.nodes[f as usize].prev = index,
        }
        self.ends.front = index;
    }

    /// Makes `index` the most recent.
    #[inline]
    fn touch(&mut self, index: u32) {
        if self.ends.front != index {
            self.unlink(index);
            self.link_front(index);
        }
    }

    /// Pushes a node onto the slab, linked at the front as it is written (no second write).
    #[inline]
    fn push_front(&mut self, key: K, value: V) -> u32 {
        let index = self.nodes.len() as u32;
        let front = self.ends.front;
        self.nodes.push(Node {
            key,
            value,
            prev: NIL,
            next: front,
        });
        match front {
            NIL => self.ends.back = index,
            f => self.nodes[f as usize].prev = index,
        }
        self.ends.front = index;
        index
    }

    /// The node now at `to` was moved there from elsewhere in the slab: repoints its
    /// neighbours.
    #[inline]
    fn moved(&mut self, to: u32) {
        let Node { prev, next, .. } = self.nodes[to as usize];
        match prev {
            NIL => self.ends.front = to,
            p => self.nodes[p as usize].next = to,
        }
        match next {
            NIL => self.ends.back = to,
            n => self.nodes[n as usize].prev = to,
        }
    }
}

/// A policy's eviction order: the store calls it at each event that moves an entry in or
/// out of the list, and asks it for the next victim. Hidden: the policies name it, users
/// never do.
#[allow(
    unreachable_pub,
    reason = "the sealed `Policy` names it; public so the bound is, unnameable outside"
)]
pub trait EvictionOrder: Clone + Default + Send + Sync + 'static {
    /// Pushes a node for a new key with `hash` onto the slab and links it; returns its slot.
    #[doc(hidden)]
    fn push<K, V>(
        &mut self,
        links: &mut Links<'_, K, V>,
        key: K,
        value: V,
        hash: u64,
        max: usize,
    ) -> u32;
    /// Records a use (a hit or an overwrite) of the entry at `index`.
    #[doc(hidden)]
    fn used<K, V>(&mut self, links: &mut Links<'_, K, V>, index: u32, max: usize);
    /// Takes `index` out of the list, before it leaves the slab.
    #[doc(hidden)]
    fn unlink<K, V>(&mut self, links: &mut Links<'_, K, V>, index: u32);
    /// A new key with `hash` took the slot of `victim`, whose key hashed to `victim_hash`:
    /// relinks the slot as a new key.
    #[doc(hidden)]
    fn reborn<K, V>(
        &mut self,
        links: &mut Links<'_, K, V>,
        victim: u32,
        victim_hash: u64,
        hash: u64,
        max: usize,
    );
    /// The slab swap-removed `removed` (already unlinked); the last node, at `last` before,
    /// now sits there if it was not itself removed.
    #[doc(hidden)]
    fn swap_removed<K, V>(&mut self, links: &mut Links<'_, K, V>, removed: u32, last: u32);
    /// The entry to evict next; `None` when empty.
    #[doc(hidden)]
    fn next_victim<K, V>(&mut self, links: &mut Links<'_, K, V>, max: usize) -> Option<u32>;
    /// Forgets every entry (the store was emptied).
    #[doc(hidden)]
    fn reset(&mut self) {}
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
    fn push<K, V>(
        &mut self,
        links: &mut Links<'_, K, V>,
        key: K,
        value: V,
        _: u64,
        _: usize,
    ) -> u32 {
        links.push_front(key, value)
    }

    #[inline]
    fn used<K, V>(&mut self, links: &mut Links<'_, K, V>, index: u32, _max: usize) {
        links.touch(index);
    }

    #[inline]
    fn unlink<K, V>(&mut self, links: &mut Links<'_, K, V>, index: u32) {
        links.unlink(index);
    }

    #[inline]
    fn reborn<K, V>(&mut self, links: &mut Links<'_, K, V>, victim: u32, _: u64, _: u64, _: usize) {
        links.touch(victim);
    }

    #[inline]
    fn swap_removed<K, V>(&mut self, links: &mut Links<'_, K, V>, removed: u32, last: u32) {
        if removed != last {
            links.moved(removed);
        }
    }

    #[inline]
    fn next_victim<K, V>(&mut self, links: &mut Links<'_, K, V>, _max: usize) -> Option<u32> {
        let back = links.ends.back;
        (back != NIL).then_some(back)
    }
}

/// The adaptive policy's order: one mark byte per slot, the split of the list into main and
/// small, the small queue's target length, and the ghost.
#[derive(Clone, Debug)]
pub struct AdaptiveOrder {
    /// Slab-aligned: [`SMALL`] and a [`FREQUENCY`].
    marks: Vec<u8>,
    /// The most recent node of the small queue (`NIL` when empty); main nodes precede it.
    small_head: u32,
    small_len: u32,
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

impl Default for AdaptiveOrder {
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

impl AdaptiveOrder {
    #[inline]
    fn frequency(&self, index: u32) -> u8 {
        self.marks[index as usize] & FREQUENCY
    }

    #[inline]
    fn is_small(&self, index: u32) -> bool {
        self.marks[index as usize] & SMALL != 0
    }

    /// The small queue's target length for a map bounded by `max`.
    #[inline]
    fn small_target(&self, max: usize) -> usize {
        (max * self.small_share as usize / 1024).max(1)
    }

    /// Counts a request for the hill climber: a hit, or a miss (a new key placed).
    #[inline]
    fn sample(&mut self, hit: bool, max: usize) {
        self.climb.hits += u32::from(hit);
        self.climb.requests += 1;
        if self.climb.requests as usize >= Climber::period(max) {
            self.small_share = self.climb.step(self.small_share);
        }
    }

    /// Links a node that is in no queue as a newly arrived key with `hash`: the small queue's
    /// head, or the main queue's if the ghost remembers the key (it forgets it on the way) or
    /// the main queue has room (a map filling up).
    fn place<K, V>(&mut self, links: &mut Links<'_, K, V>, index: u32, hash: u64, max: usize) {
        self.sample(false, max);
        let main_len = links.nodes.len() - self.small_len as usize - 1;
        let main_room = main_len + self.small_target(max) < max;
        if self.ghost.take(hash) || main_room {
            self.marks[index as usize] = 0;
            links.link_front(index);
        } else {
            self.marks[index as usize] = SMALL;
            self.small_len += 1;
            links.link_before(index, self.small_head);
            self.small_head = index;
        }
    }

    /// Takes `index` out of its queue and the list.
    #[inline]
    fn leave<K, V>(&mut self, links: &mut Links<'_, K, V>, index: u32) {
        if self.is_small(index) {
            self.small_len -= 1;
        }
        if self.small_head == index {
            self.small_head = links.next(index);
        }
        links.unlink(index);
    }
}

impl EvictionOrder for AdaptiveOrder {
    fn push<K, V>(
        &mut self,
        links: &mut Links<'_, K, V>,
        key: K,
        value: V,
        hash: u64,
        max: usize,
    ) -> u32 {
        let index = links.nodes.len() as u32;
        links.nodes.push(Node {
            key,
            value,
            prev: NIL,
            next: NIL,
        });
        self.marks.push(0);
        self.place(links, index, hash, max);
        index
    }

    /// A hit writes one byte, saturating at 3; nothing is relinked.
    #[inline]
    fn used<K, V>(&mut self, _links: &mut Links<'_, K, V>, index: u32, max: usize) {
        let mark = &mut self.marks[index as usize];
        if *mark & FREQUENCY != FREQUENCY {
            *mark += 1;
        }
        self.sample(true, max);
    }

    #[inline]
    fn unlink<K, V>(&mut self, links: &mut Links<'_, K, V>, index: u32) {
        self.leave(links, index);
    }

    /// Remembers a key evicted from probation, by its hash, sized for the store's slots.
    /// Keys evicted from the main queue are not remembered: letting them skip probation when
    /// they return turns loops into churn (measured: lirs-loop at 404 entries fell from 34%
    /// to 0%).
    fn reborn<K, V>(
        &mut self,
        links: &mut Links<'_, K, V>,
        victim: u32,
        victim_hash: u64,
        hash: u64,
        max: usize,
    ) {
        let from_small = self.is_small(victim);
        self.leave(links, victim);
        if from_small {
            self.ghost.fit(links.nodes.len());
            self.ghost.put(victim_hash);
        }
        self.place(links, victim, hash, max);
    }

    #[inline]
    fn swap_removed<K, V>(&mut self, links: &mut Links<'_, K, V>, removed: u32, last: u32) {
        self.marks.swap_remove(removed as usize);
        if removed != last {
            if self.small_head == last {
                self.small_head = removed;
            }
            links.moved(removed);
        }
    }

    /// The queues turn over (entries hit since they were last looked at move on instead of
    /// leaving) until a victim is found. Amortized O(1): every turn spends one hit.
    fn next_victim<K, V>(&mut self, links: &mut Links<'_, K, V>, max: usize) -> Option<u32> {
        loop {
            if links.nodes.is_empty() {
                return None;
            }
            let small_len = self.small_len as usize;
            let main_len = links.nodes.len() - small_len;
            if small_len > 0 && (small_len >= self.small_target(max) || main_len == 0) {
                // The small queue's tail is the list's back.
                let tail = links.ends.back;
                if self.frequency(tail) == 0 {
                    return Some(tail);
                }
                self.leave(links, tail);
                self.marks[tail as usize] = 0;
                links.link_front(tail);
            } else {
                let tail = match self.small_head {
                    NIL => links.ends.back,
                    head => links.prev(head),
                };
                if self.frequency(tail) == 0 {
                    return Some(tail);
                }
                self.marks[tail as usize] -= 1;
                links.touch(tail);
            }
        }
    }

    /// Frees what it holds; keeps the learned share.
    fn reset(&mut self) {
        self.marks = Vec::new();
        self.small_head = NIL;
        self.small_len = 0;
        self.ghost = Ghost::default();
    }

    fn shrink_to(&mut self, slots: usize) {
        self.marks.shrink_to(slots);
        if Ghost::wanted(slots) < self.ghost.slots.len() {
            self.ghost = Ghost::default();
        }
    }

    fn heap_bytes(&self) -> usize {
        self.marks.capacity() + self.ghost.slots.capacity() * size_of::<u16>()
    }
}

#[cfg(test)]
impl AdaptiveOrder {
    /// The split stays consistent: main nodes, then small nodes, `small_head` the first small
    /// one, `small_len` their count, marks slab-aligned.
    pub(crate) fn assert_consistent<K, V>(&self, nodes: &[Node<K, V>], ends: Ends) {
        assert_eq!(self.marks.len(), nodes.len());
        let mut at = ends.front;
        let order: Vec<u32> = core::iter::from_fn(|| {
            (at != NIL).then(|| {
                let here = at;
                at = nodes[here as usize].next;
                here
            })
        })
        .collect();
        assert_eq!(order.len(), nodes.len());
        let first_small = order.iter().position(|&i| self.is_small(i));
        if let Some(first) = first_small {
            assert!(
                order[first..].iter().all(|&i| self.is_small(i)),
                "main after small"
            );
            assert_eq!(self.small_head, order[first]);
        } else {
            assert_eq!(self.small_head, NIL);
        }
        let small = order.iter().filter(|&&i| self.is_small(i)).count();
        assert_eq!(self.small_len as usize, small);
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
