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
//! A deadline that moves later leaves its entry where it is: the bucket it sits in comes up
//! no later than the new deadline's would, and the entry is then filed by its new deadline
//! (an entry in the due list is checked again before it is handed out). A map whose writes
//! push deadlines forward, as a ttl does, so touches no list on a write; each entry is still
//! filed at most once per level per deadline it was given, O(1) amortised per write.
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
    /// Node `n` at `slots[n]`: the lists' sentinels first, then slab position `index` at
    /// `SENTINELS + index`; empty until the wheel is started.
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
        !self.slots.is_empty()
    }

    #[inline]
    fn link(&self, node: u32) -> &Link {
        &self.slots[node as usize].link
    }

    #[inline]
    fn link_mut(&mut self, node: u32) -> &mut Link {
        &mut self.slots[node as usize].link
    }

    #[inline]
    fn slot(&self, index: usize) -> &Slot {
        &self.slots[SENTINELS as usize + index]
    }

    #[inline]
    fn slot_mut(&mut self, index: usize) -> &mut Slot {
        &mut self.slots[SENTINELS as usize + index]
    }

    /// Slab positions the wheel keeps.
    fn entries(&self) -> usize {
        self.slots.len().saturating_sub(SENTINELS as usize)
    }

    /// Room for `capacity` entries in all, as the slab has.
    pub(crate) fn reserve_to(&mut self, capacity: usize) {
        if self.is_started() {
            self.slots
                .reserve_exact(capacity.saturating_sub(self.entries()));
        }
    }

    /// Starts keeping deadlines for a slab of `len` entries, none of which expires yet.
    pub(crate) fn start(&mut self, len: usize) {
        if self.is_started() {
            return;
        }
        self.slots = (0..SENTINELS as usize + len)
            .map(|node| Slot {
                link: Link::alone(node as u32),
                deadline: NEVER,
            })
            .collect();
    }

    #[inline]
    pub(crate) fn deadline(&self, index: usize) -> u64 {
        self.slots
            .get(SENTINELS as usize + index)
            .map_or(NEVER, |slot| slot.deadline)
    }

    /// A new slab position at the end, with `deadline`.
    pub(crate) fn push(&mut self, deadline: u64) {
        if !self.is_started() {
            return;
        }
        let index = self.entries();
        self.slots.push(Slot {
            link: Link::alone(node_of(index)),
            deadline,
        });
        self.file(index);
    }

    /// Moves the entry at `index` to `deadline`. The wheel must be started.
    pub(crate) fn set(&mut self, index: usize, deadline: u64) {
        let slot = self.slot_mut(index);
        let later = deadline >= slot.deadline;
        slot.deadline = deadline;
        // Filed already, and its bucket comes up in time for the later deadline.
        if later && slot.link.next != node_of(index) {
            return;
        }
        self.unlink(node_of(index));
        self.file(index);
    }

    /// The entry at `index` leaves the slab and the last one moves into its place.
    pub(crate) fn swap_remove(&mut self, index: usize) {
        if !self.is_started() {
            return;
        }
        let node = node_of(index);
        self.unlink(node);
        let last = (self.slots.len() - 1) as u32;
        if last != node {
            let moved = *self.slots.last().expect("`index` is in the slab");
            self.slot_mut(index).deadline = moved.deadline;
            if moved.link.next == last {
                self.slot_mut(index).link = Link::alone(node);
            } else {
                self.slot_mut(index).link = moved.link;
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
        self.slots
            .get(DUE as usize)
            .is_none_or(|due| due.link.next == DUE && now >> TICK_BITS <= self.tick)
    }

    #[inline(never)]
    fn pop_expired_slow(&mut self, now: u64) -> Option<u32> {
        loop {
            if self.link(DUE).next == DUE {
                self.advance(now);
            }
            let first = self.link(DUE).next;
            if first == DUE {
                return None;
            }
            self.unlink(first);
            let index = first - SENTINELS;
            if self.slot(index as usize).deadline <= now {
                return Some(index);
            }
            // Its deadline moved later after it became due.
            self.file(index as usize);
        }
    }

    pub(crate) fn clear(&mut self) {
        *self = Self::default();
    }

    pub(crate) fn shrink_to(&mut self, capacity: usize) {
        if self.is_started() {
            self.slots.shrink_to(SENTINELS as usize + capacity);
        }
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.slots.capacity() * size_of::<Slot>()
    }

    /// Files the entry at `index` in the bucket its deadline belongs to now.
    fn file(&mut self, index: usize) {
        let deadline = self.slot(index).deadline;
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
            if self.slot(index).deadline <= now {
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

    #[test]
    fn a_deadline_moved_later_is_found_at_the_new_one_not_the_old() {
        // 0 moves later within the wheel, 1 beyond its level, 2 to never, 3 earlier.
        let mut wheel = wheel_of(&[10 * TICK, 10 * TICK, 10 * TICK, 5_000 * TICK]);
        wheel.set(0, 20 * TICK);
        wheel.set(1, 300_000 * TICK);
        wheel.set(2, NEVER);
        wheel.set(3, 15 * TICK);
        assert!(expired(&mut wheel, 14 * TICK).is_empty());
        assert_eq!(expired(&mut wheel, 16 * TICK), [3]);
        assert!(expired(&mut wheel, 19 * TICK).is_empty());
        assert_eq!(expired(&mut wheel, 21 * TICK), [0]);
        assert!(expired(&mut wheel, 299_999 * TICK).is_empty());
        assert_eq!(expired(&mut wheel, 300_001 * TICK), [1]);
        assert!(expired(&mut wheel, u64::MAX - 1).is_empty());
    }

    #[test]
    fn a_due_entry_whose_deadline_moves_later_is_not_handed_out() {
        let mut wheel = wheel_of(&[10 * TICK, 10 * TICK]);
        // Both become due; one is handed out, the other waits in the due list.
        let first = wheel.pop_expired(12 * TICK).expect("both are due");
        let other = 1 - first;
        wheel.set(other as usize, 50 * TICK);
        assert_eq!(wheel.pop_expired(12 * TICK), None);
        assert!(expired(&mut wheel, 49 * TICK).is_empty());
        assert_eq!(expired(&mut wheel, 51 * TICK), [other]);
    }

    #[derive(Clone, Debug)]
    enum Op {
        Push(u64),
        Set(usize, u64),
        SwapRemove(usize),
        Advance(u64),
    }

    fn op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        // Deadlines up to 2^36 ticks ahead reach every level and the overflow list.
        let ahead = prop_oneof![
            0..64 * TICK,
            0..100_000 * TICK,
            0..(1u64 << 56),
            Just(NEVER)
        ];
        prop_oneof![
            ahead.clone().prop_map(Op::Push),
            (any::<usize>(), ahead).prop_map(|(index, deadline)| Op::Set(index, deadline)),
            any::<usize>().prop_map(Op::SwapRemove),
            prop_oneof![0..4 * TICK, 0..10_000 * TICK].prop_map(Op::Advance),
        ]
    }

    // Hundreds of cases of hundreds of steps: too slow under Miri, which the unit tests above cover.
    #[cfg(not(miri))]
    proptest::proptest! {
        /// Against a list of deadlines: an entry is handed out only once its deadline has
        /// passed, and always by the tick after, wherever and however often it moved.
        #[test]
        fn hands_out_exactly_the_entries_whose_deadline_passed(ops in proptest::collection::vec(op(), 1..200)) {
            let mut wheel = wheel_of(&[]);
            let mut model: Vec<u64> = Vec::new();
            let mut now = 0u64;
            for op in ops {
                match op {
                    Op::Push(ahead) => {
                        let deadline = now.saturating_add(ahead);
                        wheel.push(deadline);
                        model.push(deadline);
                    }
                    Op::Set(index, ahead) if !model.is_empty() => {
                        let index = index % model.len();
                        let deadline = now.saturating_add(ahead);
                        wheel.set(index, deadline);
                        model[index] = deadline;
                    }
                    Op::SwapRemove(index) if !model.is_empty() => {
                        let index = index % model.len();
                        wheel.swap_remove(index);
                        model.swap_remove(index);
                    }
                    Op::Advance(by) => now += by,
                    Op::Set(..) | Op::SwapRemove(_) => {}
                }
                // A map removes what the wheel hands out.
                while let Some(index) = wheel.pop_expired(now) {
                    let index = index as usize;
                    proptest::prop_assert!(model[index] <= now, "early: {} > {now}", model[index]);
                    wheel.swap_remove(index);
                    model.swap_remove(index);
                }
                for &deadline in &model {
                    proptest::prop_assert!(
                        deadline == NEVER || deadline >> TICK_BITS >= now >> TICK_BITS,
                        "late: {deadline} still held at {now}"
                    );
                }
            }
        }
    }
}
