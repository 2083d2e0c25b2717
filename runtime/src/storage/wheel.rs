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
//! list it is in. Per entry: two links, 8 bytes. Deadlines are the map's ([`Deadlines`]): kept
//! in the slab beside each entry, a lookup reads its entry's deadline from the node it reads
//! anyway.
//!
//! A deadline that moves later leaves its entry where it is: the bucket it sits in comes up
//! no later than the new deadline's would, and the entry is then filed by its new deadline
//! (an entry in the due list is checked again before it is handed out). A map whose writes
//! push deadlines forward, as a ttl does, so touches no list on a write; each entry is still
//! filed at most once per level per deadline it was given, O(1) amortised per write. For that
//! every entry with a deadline is in a list: one handed out as expired stays at the front of
//! the due list until it leaves the slab or its deadline moves.
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

/// Each slab position's deadline, as the map keeps it.
#[allow(
    unreachable_pub,
    reason = "named by the sealed `Timer` trait; unnameable outside, as that trait is"
)]
pub trait Deadlines {
    /// The deadline of the entry at slab position `index` ([`NEVER`] if it has none).
    fn deadline(&self, index: usize) -> u64;
}

impl Deadlines for [u64] {
    fn deadline(&self, index: usize) -> u64 {
        self[index]
    }
}

/// The wheel that orders a map's deadlines: a list place per slab position.
#[derive(Clone, Debug, Default)]
pub(crate) struct Wheel {
    /// Node `n` at `slots[n]`: the lists' sentinels first, then slab position `index` at
    /// `SENTINELS + index`; empty until the wheel is started.
    slots: Vec<Link>,
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
        &self.slots[node as usize]
    }

    #[inline]
    fn link_mut(&mut self, node: u32) -> &mut Link {
        &mut self.slots[node as usize]
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

    /// Starts ordering deadlines for a slab of `len` entries, none of which expires yet.
    pub(crate) fn start(&mut self, len: usize) {
        if self.is_started() {
            return;
        }
        self.slots = (0..SENTINELS as usize + len)
            .map(|node| Link::alone(node as u32))
            .collect();
    }

    /// A new slab position at the end, with `deadline`; `false` (and nothing kept) if the
    /// wheel is not started, when the entry cannot expire.
    pub(crate) fn push(&mut self, deadline: u64) -> bool {
        if !self.is_started() {
            return false;
        }
        let index = self.entries();
        self.slots.push(Link::alone(node_of(index)));
        self.file(index, deadline);
        true
    }

    /// The entry at `index` moves from deadline `old` to `deadline`. The wheel must be started.
    pub(crate) fn set(&mut self, index: usize, old: u64, deadline: u64) {
        // An entry with a deadline is in a list, whose turn comes in time for a later one.
        if deadline >= old && old != NEVER {
            return;
        }
        self.unlink(node_of(index));
        self.file(index, deadline);
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
            if moved.next == last {
                *self.link_mut(node) = Link::alone(node);
            } else {
                *self.link_mut(node) = moved;
                self.link_mut(moved.prev).next = node;
                self.link_mut(moved.next).prev = node;
            }
        }
        self.slots.pop();
    }

    /// One entry whose deadline is at or before `now` and whose tick has passed, advancing
    /// the wheel as far as `now`. It stays first in the due list until it leaves the slab
    /// (`swap_remove`) or its deadline moves (`set`).
    #[inline]
    pub(crate) fn next_expired(
        &mut self,
        now: u64,
        deadlines: &(impl Deadlines + ?Sized),
    ) -> Option<u32> {
        if self.nothing_due(now) {
            return None;
        }
        self.next_expired_slow(now, deadlines)
    }

    /// Whether no entry can be found expired by `now`: nothing is due, and no bucket can be
    /// ready within the current tick. What most calls learn, inline.
    #[inline]
    pub(crate) fn nothing_due(&self, now: u64) -> bool {
        self.slots
            .get(DUE as usize)
            .is_none_or(|due| due.next == DUE && now >> TICK_BITS <= self.tick)
    }

    #[inline(never)]
    fn next_expired_slow(
        &mut self,
        now: u64,
        deadlines: &(impl Deadlines + ?Sized),
    ) -> Option<u32> {
        loop {
            if self.link(DUE).next == DUE {
                self.advance(now, deadlines);
            }
            let first = self.link(DUE).next;
            if first == DUE {
                return None;
            }
            let index = (first - SENTINELS) as usize;
            let deadline = deadlines.deadline(index);
            if deadline <= now {
                return Some(index as u32);
            }
            // Its deadline moved later after it became due.
            self.unlink(first);
            self.file(index, deadline);
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
        self.slots.capacity() * size_of::<Link>()
    }

    /// Files the entry at `index`, due at `deadline`, in the bucket that deadline belongs to now.
    fn file(&mut self, index: usize, deadline: u64) {
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
    fn advance(&mut self, now: u64, deadlines: &(impl Deadlines + ?Sized)) {
        let now_tick = now >> TICK_BITS;
        // Within the current tick nothing can be ready: most calls end here.
        if now_tick > self.tick {
            self.advance_to(now, now_tick, deadlines);
        }
    }

    #[inline(never)]
    fn advance_to(&mut self, now: u64, now_tick: u64, deadlines: &(impl Deadlines + ?Sized)) {
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
            self.refile(list, now, deadlines);
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
    fn refile(&mut self, list: u32, now: u64, deadlines: &(impl Deadlines + ?Sized)) {
        let mut node = self.link(list).next;
        *self.link_mut(list) = Link::alone(list);
        while node != list {
            let next = self.link(node).next;
            let index = (node - SENTINELS) as usize;
            *self.link_mut(node) = Link::alone(node);
            let deadline = deadlines.deadline(index);
            if deadline <= now {
                self.link_last(DUE, node);
            } else {
                self.file(index, deadline);
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

    /// A wheel with the deadlines it orders, as a map keeps them beside its entries.
    struct Timed {
        wheel: Wheel,
        deadlines: Vec<u64>,
    }

    impl Timed {
        fn of(deadlines: &[u64]) -> Self {
            let mut timed = Self {
                wheel: Wheel::default(),
                deadlines: Vec::new(),
            };
            timed.wheel.start(0);
            for &deadline in deadlines {
                timed.push(deadline);
            }
            timed
        }

        fn push(&mut self, deadline: u64) {
            assert!(self.wheel.push(deadline));
            self.deadlines.push(deadline);
        }

        fn set(&mut self, index: usize, deadline: u64) {
            let old = core::mem::replace(&mut self.deadlines[index], deadline);
            self.wheel.set(index, old, deadline);
        }

        fn swap_remove(&mut self, index: usize) {
            self.wheel.swap_remove(index);
            self.deadlines.swap_remove(index);
        }

        fn next_expired(&mut self, now: u64) -> Option<u32> {
            self.wheel.next_expired(now, &self.deadlines[..])
        }

        /// What is expired by `now`, each taken out of the wheel as a map takes it out of its
        /// slab; sorted by slab position as they were before.
        fn expired(&mut self, now: u64) -> Vec<u32> {
            let mut found = Vec::new();
            while let Some(index) = self.next_expired(now) {
                // Never again: its slab position keeps its place.
                self.set(index as usize, NEVER);
                found.push(index);
            }
            found.sort_unstable();
            found
        }
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
        let mut timed = Timed::of(&ahead);
        timed.push(NEVER);
        for (index, &deadline) in ahead.iter().enumerate() {
            assert!(timed.expired(deadline - 1).is_empty(), "early at {index}");
            assert_eq!(timed.expired(deadline + TICK), [index as u32]);
        }
        assert!(timed.expired(u64::MAX - 1).is_empty());
    }

    #[test]
    fn a_moved_or_removed_entry_is_found_where_it_now_is() {
        let mut timed = Timed::of(&[10 * TICK, 20 * TICK, 30 * TICK]);
        timed.set(0, 40 * TICK);
        // Entry 1 leaves; entry 2 moves into its slot.
        timed.swap_remove(1);
        assert_eq!(timed.expired(35 * TICK), [1]);
        assert!(timed.expired(39 * TICK).is_empty());
        assert_eq!(timed.expired(41 * TICK), [0]);
    }

    #[test]
    fn a_deadline_moved_later_is_found_at_the_new_one_not_the_old() {
        // 0 moves later within the wheel, 1 beyond its level, 2 to never, 3 earlier.
        let mut timed = Timed::of(&[10 * TICK, 10 * TICK, 10 * TICK, 5_000 * TICK]);
        timed.set(0, 20 * TICK);
        timed.set(1, 300_000 * TICK);
        timed.set(2, NEVER);
        timed.set(3, 15 * TICK);
        assert!(timed.expired(14 * TICK).is_empty());
        assert_eq!(timed.expired(16 * TICK), [3]);
        assert!(timed.expired(19 * TICK).is_empty());
        assert_eq!(timed.expired(21 * TICK), [0]);
        assert!(timed.expired(299_999 * TICK).is_empty());
        assert_eq!(timed.expired(300_001 * TICK), [1]);
        assert!(timed.expired(u64::MAX - 1).is_empty());
    }

    #[test]
    fn a_due_entry_whose_deadline_moves_later_is_not_handed_out() {
        let mut timed = Timed::of(&[10 * TICK, 10 * TICK]);
        // Both become due; one is handed out, the other waits in the due list.
        let first = timed.next_expired(12 * TICK).expect("both are due");
        timed.set(first as usize, NEVER);
        let other = 1 - first;
        timed.set(other as usize, 50 * TICK);
        assert_eq!(timed.next_expired(12 * TICK), None);
        assert!(timed.expired(49 * TICK).is_empty());
        assert_eq!(timed.expired(51 * TICK), [other]);
    }

    #[test]
    fn an_entry_handed_out_stays_due_until_it_leaves_or_moves() {
        let mut timed = Timed::of(&[10 * TICK, 20 * TICK]);
        assert_eq!(timed.next_expired(12 * TICK), Some(0));
        // Not taken: handed out again.
        assert_eq!(timed.next_expired(12 * TICK), Some(0));
        // Its slot reused for a new entry with a later deadline (eviction in place).
        timed.set(0, 30 * TICK);
        assert_eq!(timed.next_expired(12 * TICK), None);
        assert_eq!(timed.expired(25 * TICK), [1]);
        assert_eq!(timed.expired(31 * TICK), [0]);
    }

    #[derive(Clone, Debug)]
    enum Op {
        Push(u64),
        Set(usize, u64),
        SwapRemove(usize),
        Advance(u64),
        /// Time moves on by the first figure, and the first expired entry's slot is reused for
        /// a new entry due the second from then, as an eviction in place does.
        Reuse(u64, u64),
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
            (any::<usize>(), ahead.clone()).prop_map(|(index, deadline)| Op::Set(index, deadline)),
            any::<usize>().prop_map(Op::SwapRemove),
            prop_oneof![0..4 * TICK, 0..10_000 * TICK].prop_map(Op::Advance),
            (0..10_000 * TICK, ahead).prop_map(|(by, ahead)| Op::Reuse(by, ahead)),
        ]
    }

    // Hundreds of cases of hundreds of steps: too slow under Miri, which the unit tests above cover.
    #[cfg(not(miri))]
    proptest::proptest! {
        /// Against a list of deadlines: an entry is handed out only once its deadline has
        /// passed, and always by the tick after, wherever and however often it moved.
        #[test]
        fn hands_out_exactly_the_entries_whose_deadline_passed(ops in proptest::collection::vec(op(), 1..200)) {
            let mut timed = Timed::of(&[]);
            let mut now = 0u64;
            for op in ops {
                let len = timed.deadlines.len();
                match op {
                    Op::Push(ahead) => timed.push(now.saturating_add(ahead)),
                    Op::Set(index, ahead) if len > 0 => timed.set(index % len, now.saturating_add(ahead)),
                    Op::SwapRemove(index) if len > 0 => timed.swap_remove(index % len),
                    Op::Advance(by) => now += by,
                    Op::Reuse(by, ahead) => {
                        now += by;
                        if let Some(index) = timed.next_expired(now) {
                            proptest::prop_assert!(timed.deadlines[index as usize] <= now);
                            timed.set(index as usize, now.saturating_add(ahead.max(1)));
                        }
                    }
                    Op::Set(..) | Op::SwapRemove(_) => {}
                }
                // A map removes what the wheel hands out.
                while let Some(index) = timed.next_expired(now) {
                    let index = index as usize;
                    let deadline = timed.deadlines[index];
                    proptest::prop_assert!(deadline <= now, "early: {deadline} > {now}");
                    timed.swap_remove(index);
                }
                for &deadline in &timed.deadlines {
                    proptest::prop_assert!(
                        deadline == NEVER || deadline >> TICK_BITS >= now >> TICK_BITS,
                        "late: {deadline} still held at {now}"
                    );
                }
            }
        }
    }
}
