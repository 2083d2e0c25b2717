//! A hierarchical timer wheel over slab positions: how a map finds its expired entries
//! without looking at the live ones.
//!
//! Each entry with a deadline sits in one bucket of one level. Level 0 has 64 buckets of one
//! tick (2^20 ns, about a millisecond); each level above has 64 buckets as wide as the whole
//! level below, so five levels span 2^50 ns (about 13 days), and an overflow list holds what
//! lies further. An entry is filed by the highest bit in which its deadline's tick differs
//! from the wheel's current tick, so every bucket above level 0 lies ahead of the current
//! tick within its level's current turn. Advancing the wheel visits only non-empty buckets
//! (a bitmask per level finds the next one): a level-0 bucket whose tick has passed holds
//! only expired entries, which move to the due list; a higher bucket whose time has come
//! spreads its entries over the levels below. Each entry is therefore touched at most once
//! per level: O(1) amortised per entry, whatever the map holds.
//!
//! Lists are circular and doubly linked through `u32` links, with one sentinel node per list
//! in front of the entries' nodes, so an entry leaves its list in O(1) without knowing which
//! list it is in. Per entry: its deadline (`u64`) and two links, 16 bytes.
//!
//! Lookups compare deadlines exactly; the wheel only tells maps which entries to remove. An
//! entry is found by the wheel once the tick of its deadline has passed: at most one tick
//! after it expired.

/// Deadline of an entry that never expires.
pub(crate) const NEVER: u64 = u64::MAX;

const TICK_BITS: u32 = 20;
const SLOT_BITS: u32 = 6;
const SLOTS: u32 = 1 << SLOT_BITS;
const LEVELS: u32 = 5;
/// Bits of a tick the levels cover; deadlines further ahead wait in the overflow list.
const SPAN_BITS: u32 = SLOT_BITS * LEVELS;
const OVERFLOW: u32 = SLOTS * LEVELS;
const DUE: u32 = OVERFLOW + 1;
const SENTINELS: u32 = DUE + 1;

#[derive(Clone, Copy, Debug)]
struct Link {
    prev: u32,
    next: u32,
}

impl Link {
    const fn alone(node: u32) -> Self {
        Self {
            prev: node,
            next: node,
        }
    }
}

/// One slab position's deadline and its place in a list: together, so a write touches one
/// cache line of its own.
#[derive(Clone, Copy, Debug)]
struct Slot {
    link: Link,
    deadline: u64,
}

/// Deadlines per slab position, and the wheel that orders them.
#[derive(Clone, Debug, Default)]
pub(crate) struct Wheel {
    /// The lists' sentinels (empty until started).
    heads: Box<[Link]>,
    /// Slab-aligned, node `SENTINELS + index`; empty until the wheel is started.
    slots: Vec<Slot>,
    /// Per level, which buckets may hold entries (a bit may outlive its bucket's last entry:
    /// the bucket is then visited once more, found empty and cleared).
    occupied: [u64; LEVELS as usize],
    /// Every bucket before this tick has been visited.
    tick: u64,
}

impl Wheel {
    /// Whether the wheel keeps deadlines (see [`start`](Self::start)).
    #[inline]
    pub(crate) fn is_started(&self) -> bool {
        !self.heads.is_empty()
    }

    #[inline]
    fn link(&self, node: u32) -> &Link {
        match node.checked_sub(SENTINELS) {
            Some(index) => &self.slots[index as usize].link,
            None => &self.heads[node as usize],
        }
    }

    #[inline]
    fn link_mut(&mut self, node: u32) -> &mut Link {
        match node.checked_sub(SENTINELS) {
            Some(index) => &mut self.slots[index as usize].link,
            None => &mut self.heads[node as usize],
        }
    }

    /// Room for `capacity` entries in all, as the slab has.
    pub(crate) fn reserve_to(&mut self, capacity: usize) {
        if self.is_started() {
            self.slots
                .reserve_exact(capacity.saturating_sub(self.slots.len()));
        }
    }

    /// Starts keeping deadlines for a slab of `len` entries, none of which expires yet.
    pub(crate) fn start(&mut self, len: usize) {
        if self.is_started() {
            return;
        }
        self.heads = (0..SENTINELS).map(Link::alone).collect();
        self.slots = (0..len)
            .map(|index| Slot {
                link: Link::alone(node_of(index)),
                deadline: NEVER,
            })
            .collect();
    }

    #[inline]
    pub(crate) fn deadline(&self, index: usize) -> u64 {
        self.slots.get(index).map_or(NEVER, |slot| slot.deadline)
    }

    /// A new slab position at the end, with `deadline`.
    pub(crate) fn push(&mut self, deadline: u64) {
        if !self.is_started() {
            return;
        }
        let index = self.slots.len();
        self.slots.push(Slot {
            link: Link::alone(node_of(index)),
            deadline,
        });
        self.file(index);
    }

    /// Moves the entry at `index` to `deadline`. The wheel must be started.
    pub(crate) fn set(&mut self, index: usize, deadline: u64) {
        self.unlink(node_of(index));
        self.slots[index].deadline = deadline;
        self.file(index);
    }

    /// The entry at `index` leaves the slab and the last one moves into its place.
    pub(crate) fn swap_remove(&mut self, index: usize) {
        if !self.is_started() {
            return;
        }
        let node = node_of(index);
        self.unlink(node);
        let last = node_of(self.slots.len() - 1);
        if last != node {
            let moved = *self.slots.last().expect("`index` is in the slab");
            self.slots[index].deadline = moved.deadline;
            if moved.link.next == last {
                self.slots[index].link = Link::alone(node);
            } else {
                self.slots[index].link = moved.link;
                self.link_mut(moved.link.prev).next = node;
                self.link_mut(moved.link.next).prev = node;
            }
        }
        self.slots.pop();
    }

    /// Takes out one entry whose deadline is at or before `now` and whose tick has passed
    /// (it stays in the slab; its node is unlinked), advancing the wheel as far as `now`.
    #[inline]
    pub(crate) fn pop_expired(&mut self, now: u64) -> Option<u32> {
        if self.nothing_due(now) {
            return None;
        }
        self.pop_expired_slow(now)
    }

    /// Whether no entry can be found expired by `now`: nothing is due, and no bucket can be
    /// ready within the current tick. What most calls learn, inline.
    #[inline]
    pub(crate) fn nothing_due(&self, now: u64) -> bool {
        self.heads
            .get(DUE as usize)
            .is_none_or(|due| due.next == DUE && now >> TICK_BITS <= self.tick)
    }

    #[inline(never)]
    fn pop_expired_slow(&mut self, now: u64) -> Option<u32> {
        if self.link(DUE).next == DUE {
            self.advance(now);
        }
        let first = self.link(DUE).next;
        (first != DUE).then(|| {
            self.unlink(first);
            first - SENTINELS
        })
    }

    pub(crate) fn clear(&mut self) {
        *self = Self::default();
    }

    pub(crate) fn shrink_to(&mut self, capacity: usize) {
        self.slots.shrink_to(capacity);
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.heads.len() * size_of::<Link>() + self.slots.capacity() * size_of::<Slot>()
    }

    /// Files the entry at `index` in the bucket its deadline belongs to now.
    fn file(&mut self, index: usize) {
        let deadline = self.slots[index].deadline;
        if deadline == NEVER {
            return;
        }
        // A deadline already past is filed in the current tick: found once it passes.
        let due_tick = (deadline >> TICK_BITS).max(self.tick);
        let differs = due_tick ^ self.tick;
        let level = if differs == 0 {
            0
        } else {
            (u64::BITS - 1 - differs.leading_zeros()) / SLOT_BITS
        };
        let list = if level >= LEVELS {
            OVERFLOW
        } else {
            let slot = ((due_tick >> (SLOT_BITS * level)) & u64::from(SLOTS - 1)) as u32;
            self.occupied[level as usize] |= 1 << slot;
            level * SLOTS + slot
        };
        self.link_last(list, node_of(index));
    }

    /// Visits, in time order, every bucket whose time has come by `now`: expired entries move
    /// to the due list, the rest to the buckets they now belong to.
    #[inline]
    fn advance(&mut self, now: u64) {
        let now_tick = now >> TICK_BITS;
        // Within the current tick nothing can be ready: most calls end here.
        if now_tick > self.tick {
            self.advance_to(now, now_tick);
        }
    }

    #[inline(never)]
    fn advance_to(&mut self, now: u64, now_tick: u64) {
        while let Some((start, list)) = self.next_bucket() {
            // A level-0 bucket is one tick: its entries are all expired once it has passed.
            let ready = if list < SLOTS {
                start < now_tick
            } else {
                start <= now_tick
            };
            if !ready {
                break;
            }
            self.tick = self.tick.max(start);
            if list < OVERFLOW {
                self.occupied[(list / SLOTS) as usize] &= !(1 << (list % SLOTS));
            }
            self.refile(list, now);
        }
        self.tick = self.tick.max(now_tick);
    }

    /// The earliest bucket that may hold entries, with the tick it starts at.
    fn next_bucket(&self) -> Option<(u64, u32)> {
        let mut best: Option<(u64, u32)> = None;
        for level in 0..LEVELS {
            let mask = self.occupied[level as usize];
            if mask == 0 {
                continue;
            }
            let shift = SLOT_BITS * level;
            let current = ((self.tick >> shift) & u64::from(SLOTS - 1)) as u32;
            let ahead = mask.rotate_right(current).trailing_zeros();
            let slot = current + ahead;
            let turn = (self.tick >> (shift + SLOT_BITS)) << (shift + SLOT_BITS);
            let start = turn + (u64::from(slot) << shift);
            // On a tie the higher level goes first: its entries may belong before the lower bucket's.
            if best.is_none_or(|(earliest, _)| start <= earliest) {
                best = Some((start, level * SLOTS + slot % SLOTS));
            }
        }
        if self.link(OVERFLOW).next != OVERFLOW {
            let start = ((self.tick >> SPAN_BITS) + 1) << SPAN_BITS;
            if best.is_none_or(|(earliest, _)| start <= earliest) {
                best = Some((start, OVERFLOW));
            }
        }
        best
    }

    /// Empties `list`: what has expired by `now` goes to the due list, the rest is filed again.
    fn refile(&mut self, list: u32, now: u64) {
        let mut node = self.link(list).next;
        *self.link_mut(list) = Link::alone(list);
        while node != list {
            let next = self.link(node).next;
            let index = (node - SENTINELS) as usize;
            *self.link_mut(node) = Link::alone(node);
            if self.slots[index].deadline <= now {
                self.link_last(DUE, node);
            } else {
                self.file(index);
            }
            node = next;
        }
    }

    fn link_last(&mut self, list: u32, node: u32) {
        let tail = self.link(list).prev;
        *self.link_mut(node) = Link {
            prev: tail,
            next: list,
        };
        self.link_mut(tail).next = node;
        self.link_mut(list).prev = node;
    }

    fn unlink(&mut self, node: u32) {
        let Link { prev, next } = *self.link(node);
        if next == node {
            return;
        }
        self.link_mut(prev).next = next;
        self.link_mut(next).prev = prev;
        *self.link_mut(node) = Link::alone(node);
    }
}

#[inline]
fn node_of(index: usize) -> u32 {
    SENTINELS + index as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    const TICK: u64 = 1 << TICK_BITS;

    fn wheel_of(deadlines: &[u64]) -> Wheel {
        let mut wheel = Wheel::default();
        wheel.start(0);
        for &deadline in deadlines {
            wheel.push(deadline);
        }
        wheel
    }

    fn expired(wheel: &mut Wheel, now: u64) -> Vec<u32> {
        let mut found: Vec<u32> = core::iter::from_fn(|| wheel.pop_expired(now)).collect();
        found.sort_unstable();
        found
    }

    #[test]
    fn finds_each_deadline_once_its_tick_has_passed_at_every_level() {
        let ahead = [
            3 * TICK,
            100 * TICK,
            5_000 * TICK,
            300_000 * TICK,
            1 << 45,
            1 << 52,
        ];
        let mut wheel = wheel_of(&ahead);
        wheel.push(NEVER);
        for (index, &deadline) in ahead.iter().enumerate() {
            assert!(
                expired(&mut wheel, deadline - 1).is_empty(),
                "early at {index}"
            );
            assert_eq!(expired(&mut wheel, deadline + TICK), [index as u32]);
        }
        assert!(expired(&mut wheel, u64::MAX - 1).is_empty());
    }

    #[test]
    fn a_moved_or_removed_entry_is_found_where_it_now_is() {
        let mut wheel = wheel_of(&[10 * TICK, 20 * TICK, 30 * TICK]);
        wheel.set(0, 40 * TICK);
        // Entry 1 leaves; entry 2 moves into its slot.
        wheel.swap_remove(1);
        assert_eq!(expired(&mut wheel, 35 * TICK), [1]);
        assert!(expired(&mut wheel, 39 * TICK).is_empty());
        assert_eq!(expired(&mut wheel, 41 * TICK), [0]);
    }
}
