//! Per-entry scope tags: which request, session or batch scope wrote each entry, so that
//! ending one scope removes exactly its entries, at a cost in proportion to them.
//!
//! A scope is a [`ScopeCore`]; the public handle (`scope::Scope`) owns one. While a scope is
//! current on a thread (entered, or polling a future that runs in it), every write on that
//! thread into a map of its lifetime tags the entry with it. A map with a request, session or
//! batch lifetime keeps [`ScopeTags`] beside its slab: each entry's scope, threaded into one
//! list per scope (so a scope's entries are found without a scan), and one head per scope
//! that has entries there. Ending a scope marks it ended, counts the end in one
//! process-wide counter and writes its id to a ring of recent ends; a map that sees the
//! counter move checks the ends since it last looked against its own scopes (O(those ends),
//! or O(scopes with entries in it) if fewer or if the ring has moved past them) at its next
//! operation under its own lock (`ManagedMap::settle_scopes`), and removes their entries with
//! [`RemovalCause::ScopeEnded`](crate::RemovalCause). The scope never reaches into a map:
//! maps are owned by their users, often behind locks, and of any key and value types.
//!
//! The write path touches nothing shared: a scope is a key into a process-wide table
//! (`table`: ended flag and entry count, one word per live scope), not a reference-counted
//! object, so neither entering a scope nor tagging an entry changes a reference count; the
//! current scope lives in plain thread-local cells (`TOP`); a map finds a scope's head in a
//! table indexed by the scope's slot (`Heads`), without hashing; and a thread counts the
//! entries it tags in its own cell, adding them to the scope's count when it leaves the
//! scope. A scoped insert so costs about 1.27× an unscoped one (`scope_cost` bench).
//!
//! Only concurrent maps' shards keep tags (`Tagged`); every other map compiles them away.

use std::cell::{Cell, RefCell};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering, fence};

// Built with `--cfg mapguard_shuttle`, the thread-local current scopes are shuttle's, and
// reading or setting a scope's ended flag yields to shuttle's scheduler (`yield_point`), so
// its model test explores their interleavings (an insert racing its scope's end) as it does
// the shard locks' (see `concurrent::lock`).

use hashbrown::HashMap;

use std::time::Duration;

use crate::storage::expiry::Expiry;
use crate::storage::expiry::sealed::ExpiryState;
use crate::storage::order::NIL;

/// The lifetimes that have scopes, as slots of the thread's current-scope table: request,
/// session, batch.
pub(crate) const SCOPED_LIFETIMES: usize = 3;

/// Scope ends so far, over the process: a map whose figure of it is older looks for ended
/// scopes among its own (see `ScopeTags::take_pending`). One counter, not a list of the maps
/// each scope touched: registering a map with a scope on its first write there cost more
/// than the insert itself. End number `n` is also written to `RECENT_ENDS`.
static ENDS: AtomicU64 = AtomicU64::new(0);

/// How many recent ends [`RECENT_ENDS`] keeps.
const RECENT: usize = 1024;

/// The ids of the last [`RECENT`] scopes to end, end number `n` in slot `n % RECENT`: a map
/// that last looked `lag` ends ago checks those `lag` ids against its own scopes (O(lag)
/// hash lookups) instead of every scope it holds entries of; a service ends scopes all the
/// time, so most operations of a busy map see a few new ends, almost never its own.
static RECENT_ENDS: [RecentEnd; RECENT] = [const { RecentEnd::new() }; RECENT];

/// One slot of [`RECENT_ENDS`], written as a seqlock: `stamp` is `2n + 1` while end `n`'s
/// id is written and `2n + 2` once it is, so a reader knows whether the id it read is end
/// `n`'s, not yet written, or already replaced by a later end.
struct RecentEnd {
    stamp: AtomicU64,
    id: AtomicU64,
}

impl RecentEnd {
    const fn new() -> Self {
        Self {
            stamp: AtomicU64::new(0),
            id: AtomicU64::new(0),
        }
    }

    /// Records that end number `n` was scope `id`'s.
    fn write(&self, n: u64, id: u64) {
        self.stamp.store(2 * n + 1, Ordering::Relaxed);
        fence(Ordering::Release);
        self.id.store(id, Ordering::Relaxed);
        self.stamp.store(2 * n + 2, Ordering::Release);
    }

    /// The id of end number `n`, if this slot holds it whole.
    fn read(&self, n: u64) -> Option<u64> {
        let before = self.stamp.load(Ordering::Acquire);
        let id = self.id.load(Ordering::Relaxed);
        fence(Ordering::Acquire);
        let after = self.stamp.load(Ordering::Relaxed);
        (before == 2 * n + 2 && after == before).then_some(id)
    }
}

/// The process's scope table: one word per live scope, so a map refers to a scope by a
/// number (its key) and neither a write nor entering a scope touches a reference count.
///
/// A scope's key is `generation << 32 | slot`. The slot's word packs the generation of the
/// scope that holds it, whether that scope has ended, and how many entries carry it. A slot
/// is reused once its scope is dropped, under a new generation, so a key outlives its scope
/// harmlessly: a map that still holds entries of it reads "ended", and its removals no
/// longer count against anything.
mod table {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Mutex, OnceLock, PoisonError};

    /// Bit of a slot's word set once its scope has ended.
    const ENDED: u64 = 1 << 31;
    /// The entry count: 31 bits, wrapping (a removal may be counted before the write it
    /// undoes is flushed from its thread; read as signed, floored at 0).
    const COUNT: u64 = ENDED - 1;
    /// Slots in the first chunk, a static array that every service's live scopes fit in;
    /// chunk `c` holds `2^FIRST_BITS << c` slots, allocated on first use, so 22 chunks
    /// address every `u32` slot and the table grows without moving a word.
    const FIRST_BITS: u32 = 10;
    const CHUNKS: usize = 22;
    /// Generation 1: no key is 0, the tag of an entry no scope wrote.
    const FRESH: u64 = 1 << 32;

    static FIRST: [AtomicU64; 1 << FIRST_BITS] = [const { AtomicU64::new(FRESH) }; 1 << FIRST_BITS];
    static LATER: [OnceLock<Box<[AtomicU64]>>; CHUNKS] = [const { OnceLock::new() }; CHUNKS];

    /// Free slots (the last freed is reused first, so slots stay few) and the next
    /// never-used one.
    static FREE: Mutex<(Vec<u32>, u32)> = Mutex::new((Vec::new(), 0));

    /// The chunk of `LATER` and the offset in it of a slot past `FIRST`.
    fn later(slot: u32) -> (usize, usize) {
        let at = u64::from(slot);
        let chunk = at.ilog2() - FIRST_BITS;
        (chunk as usize, (at - (1 << (chunk + FIRST_BITS))) as usize)
    }

    fn slot_word(slot: u32) -> &'static AtomicU64 {
        FIRST.get(slot as usize).unwrap_or_else(|| {
            let (chunk, offset) = later(slot);
            // A key is only made by `allocate`, after its chunk exists.
            &LATER[chunk].get().expect("a scope key's chunk exists")[offset]
        })
    }

    fn word(key: u64) -> &'static AtomicU64 {
        slot_word(key as u32)
    }

    fn generation(key_or_word: u64) -> u64 {
        key_or_word >> 32
    }

    /// A slot for a new scope: its key (never 0).
    pub(super) fn allocate() -> u64 {
        let mut free = FREE.lock().unwrap_or_else(PoisonError::into_inner);
        let slot = if let Some(slot) = free.0.pop() {
            slot
        } else {
            let slot = free.1;
            free.1 = slot.checked_add(1).expect("fewer than 2^32 live scopes");
            if slot as usize >= FIRST.len() {
                let (chunk, _) = later(slot);
                LATER[chunk].get_or_init(|| {
                    (0..FIRST.len() << chunk)
                        .map(|_| AtomicU64::new(FRESH))
                        .collect()
                });
            }
            slot
        };
        drop(free);
        let word = slot_word(slot).load(Ordering::Acquire);
        (generation(word) << 32) | u64::from(slot)
    }

    /// The scope of `key` is gone: its slot goes to the next scope, under a new generation.
    pub(super) fn release(key: u64) {
        let next = match generation(key) as u32 {
            u32::MAX => 1,
            generation => generation + 1,
        };
        word(key).store(u64::from(next) << 32, Ordering::Release);
        let mut free = FREE.lock().unwrap_or_else(PoisonError::into_inner);
        free.0.push(key as u32);
    }

    /// Whether the scope of `key` has ended (or is gone).
    pub(super) fn has_ended(key: u64) -> bool {
        super::yield_point();
        let word = word(key).load(Ordering::Acquire);
        generation(word) != generation(key) || word & ENDED != 0
    }

    /// `word` with `delta` added to its count.
    fn counted(word: u64, delta: i64) -> u64 {
        (word & !COUNT) | ((word & COUNT).wrapping_add_signed(delta) & COUNT)
    }

    /// The signed count of a slot's word.
    fn count_of(word: u64) -> i64 {
        // The 31-bit count, its top bit the sign.
        let count = i64::try_from(word & COUNT).unwrap_or(0);
        if count >= 1 << 30 {
            count - (1 << 31)
        } else {
            count
        }
    }

    /// Entries that carry the scope of `key`, as threads have counted them so far: negative
    /// while a removal is counted before the write it undoes (see `COUNT`).
    pub(super) fn entries(key: u64) -> i64 {
        let word = word(key).load(Ordering::Acquire);
        if generation(word) != generation(key) {
            return 0;
        }
        count_of(word)
    }

    /// Adds `delta` to the scope's entries, if it is still the slot's scope. Once it has
    /// ended, removals no longer count: its entries leave because it ended, and the count
    /// stays the number that carried it (writes flushed later still add to it).
    pub(super) fn count(key: u64, delta: i64) {
        let _ = word(key).fetch_update(Ordering::Relaxed, Ordering::Relaxed, |word| {
            (generation(word) == generation(key) && (delta > 0 || word & ENDED == 0))
                .then(|| counted(word, delta))
        });
    }

    /// Marks the scope ended, adding `unflushed` (the caller's own uncounted writes) to its
    /// count in the same step; the count then, or `None` if it had already ended. One atomic
    /// step: no map can remove an entry of the scope (they wait for the flag) between the
    /// end and the count.
    pub(super) fn end(key: u64, unflushed: i64) -> Option<i64> {
        super::yield_point();
        let before = word(key)
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |word| {
                (generation(word) == generation(key) && word & ENDED == 0)
                    .then(|| counted(word, unflushed) | ENDED)
            })
            .ok()?;
        Some(count_of(before) + unflushed)
    }
}

/// Under the model checker, a point where another thread may run: where the scope's ended
/// flag is read or set (the flag lives in a process-wide table of plain atomics).
#[cfg(mapguard_shuttle)]
fn yield_point() {
    shuttle::thread::yield_now();
}
#[cfg(not(mapguard_shuttle))]
#[inline(always)]
fn yield_point() {}

/// A scope: its key in the scope table, and its lifetime's slot. Dropping it frees the key's
/// slot for a later scope.
#[derive(Debug)]
pub(crate) struct ScopeCore {
    key: u64,
    slot: usize,
}

impl ScopeCore {
    /// A new scope for the lifetime in `slot` (see [`SCOPED_LIFETIMES`]).
    pub(crate) fn new(slot: usize) -> Self {
        Self {
            key: table::allocate(),
            slot,
        }
    }

    pub(crate) fn id(&self) -> u64 {
        self.key
    }

    pub(crate) fn slot(&self) -> usize {
        self.slot
    }

    pub(crate) fn has_ended(&self) -> bool {
        table::has_ended(self.key)
    }

    /// Entries that carry this scope now, over every map; once it has ended, how many
    /// carried it then (and any written after, by threads still inside it).
    pub(crate) fn entries(&self) -> usize {
        let unflushed = i64::try_from(unflushed(self.slot, self.key)).unwrap_or(i64::MAX);
        let counted = table::entries(self.key).saturating_add(unflushed);
        usize::try_from(counted).unwrap_or(0)
    }

    /// Ends the scope: marks it ended and counts the end, so that every map holding its
    /// entries removes them at its next operation; returns how many entries carried it.
    /// Ending twice does nothing the second time (and returns 0). O(1).
    pub(crate) fn end(&self) -> usize {
        // This thread's own writes, moved into the count with the end itself.
        let own = take_unflushed(self.slot, self.key);
        let own = i64::try_from(own).unwrap_or(i64::MAX);
        let Some(carried) = table::end(self.key, own) else {
            // Ended already: the writes still count, as a thread's later flush would.
            if own > 0 {
                table::count(self.key, own);
            }
            return 0;
        };
        yield_point();
        // After the flag: a map that sees the new count sees the scope ended (also when the
        // key below is not written yet: the map then looks at all its scopes' flags).
        let n = ENDS.fetch_add(1, Ordering::AcqRel);
        RECENT_ENDS[(n % RECENT as u64) as usize].write(n, self.key);
        usize::try_from(carried).unwrap_or(0)
    }
}

impl Drop for ScopeCore {
    fn drop(&mut self) {
        table::release(self.key);
    }
}

/// The innermost scope current on this thread for one lifetime: its key (0: none), the
/// entries this thread tagged with it that its count does not hold yet (added when the
/// thread leaves it: no shared write per entry), and how many scopes of the lifetime it hides
/// (in `OUTER`). Plain cells, so the write path reads them with no borrow flag.
struct Top {
    key: Cell<u64>,
    unflushed: Cell<u32>,
    hidden: Cell<u32>,
}

impl Top {
    const fn new() -> Self {
        Self {
            key: Cell::new(0),
            unflushed: Cell::new(0),
            hidden: Cell::new(0),
        }
    }
}

/// A scope hidden by one entered inside it, and its unflushed entries.
#[derive(Clone, Copy, Debug)]
struct Hidden {
    key: u64,
    unflushed: u32,
}

#[cfg(not(mapguard_shuttle))]
thread_local! {
    /// Per scoped lifetime, the scope current on this thread.
    static TOP: [Top; SCOPED_LIFETIMES] = const { [Top::new(), Top::new(), Top::new()] };
    /// Per scoped lifetime, the scopes entered on this thread that an inner one hides,
    /// innermost last.
    static OUTER: RefCell<[Vec<Hidden>; SCOPED_LIFETIMES]> =
        const { RefCell::new([Vec::new(), Vec::new(), Vec::new()]) };
}
#[cfg(mapguard_shuttle)]
shuttle::thread_local! {
    static TOP: [Top; SCOPED_LIFETIMES] = const { [Top::new(), Top::new(), Top::new()] };
    static OUTER: RefCell<[Vec<Hidden>; SCOPED_LIFETIMES]> =
        const { RefCell::new([Vec::new(), Vec::new(), Vec::new()]) };
}

/// Makes `scope` current on this thread for its lifetime, until [`leave`] (nestable).
pub(crate) fn enter(scope: &ScopeCore) {
    TOP.with(|top| {
        let top = &top[scope.slot];
        if top.key.get() != 0 {
            let hidden = Hidden {
                key: top.key.get(),
                unflushed: top.unflushed.get(),
            };
            // Gone only while the thread exits: the outer scope then stops being current.
            if OUTER
                .try_with(|outer| outer.borrow_mut()[scope.slot].push(hidden))
                .is_ok()
            {
                top.hidden.set(top.hidden.get() + 1);
            }
        }
        top.key.set(scope.key);
        top.unflushed.set(0);
    });
}

/// Undoes the matching [`enter`], and adds the entries written meanwhile to the scope's count.
/// Guards may be dropped out of order: the innermost entry of the scope is the one undone.
pub(crate) fn leave(scope: &ScopeCore) {
    let written = TOP.with(|top| {
        let top = &top[scope.slot];
        if top.key.get() == scope.key {
            let written = top.unflushed.get();
            let outer = if top.hidden.get() > 0 {
                top.hidden.set(top.hidden.get() - 1);
                OUTER
                    .try_with(|outer| outer.borrow_mut()[scope.slot].pop())
                    .ok()
                    .flatten()
            } else {
                None
            };
            let outer = outer.unwrap_or(Hidden {
                key: 0,
                unflushed: 0,
            });
            top.key.set(outer.key);
            top.unflushed.set(outer.unflushed);
            return written;
        }
        let Ok(Some(left)) = OUTER.try_with(|outer| {
            let mut outer = outer.borrow_mut();
            let stack = &mut outer[scope.slot];
            let at = stack.iter().rposition(|hidden| hidden.key == scope.key)?;
            Some(stack.remove(at))
        }) else {
            return 0;
        };
        top.hidden.set(top.hidden.get() - 1);
        left.unflushed
    });
    if written > 0 {
        table::count(scope.key, i64::from(written));
    }
}

/// Entries this thread tagged with the scope `key` of the lifetime in `slot` and has not
/// added to its count yet.
fn unflushed(slot: usize, key: u64) -> usize {
    this_threads_writes(slot, key, false)
}

/// [`unflushed`], taken: this thread's cells for the scope `key` read 0 afterwards.
fn take_unflushed(slot: usize, key: u64) -> usize {
    this_threads_writes(slot, key, true)
}

/// This thread's uncounted writes under the scope `key` (current or hidden), zeroed if `take`.
fn this_threads_writes(slot: usize, key: u64, take: bool) -> usize {
    if slot >= SCOPED_LIFETIMES {
        return 0;
    }
    let read = |cell: &mut u32| (if take { core::mem::take(cell) } else { *cell }) as usize;
    let top = TOP.with(|top| {
        let top = &top[slot];
        if top.key.get() == key {
            let mut count = top.unflushed.get();
            let found = read(&mut count);
            top.unflushed.set(count);
            found
        } else {
            0
        }
    });
    let hidden = OUTER
        .try_with(|outer| {
            outer.borrow_mut()[slot]
                .iter_mut()
                .filter(|hidden| hidden.key == key)
                .map(|hidden| read(&mut hidden.unflushed))
                .sum()
        })
        .unwrap_or(0);
    top + hidden
}

/// The key of the scope current on this thread in `slot` (0: none).
fn current(slot: usize) -> u64 {
    TOP.with(|top| top[slot].key.get())
}

/// The key of the scope current on this thread in `slot` (0: none), counting one more entry
/// tagged with it.
#[inline]
fn tag_current(slot: usize) -> u64 {
    TOP.with(|top| {
        let top = &top[slot];
        let key = top.key.get();
        if key != 0 {
            top.unflushed.set(top.unflushed.get() + 1);
        }
        key
    })
}

/// Heads a map keeps room for however few scopes it holds entries of.
const MIN_KEPT_HEADS: usize = 64;

/// One entry's scope (0: none) and its neighbours in that scope's list.
#[derive(Clone, Copy, Debug)]
struct Tag {
    scope: u64,
    prev: u32,
    next: u32,
}

/// The tag of an entry no scope wrote.
const UNTAGGED: Tag = Tag {
    scope: 0,
    prev: NIL,
    next: NIL,
};

/// A scope's entries in one map: the scope's key (0: a free place), the first of its list,
/// and how many.
#[derive(Clone, Copy, Debug, Default)]
struct Head {
    key: u64,
    first: u32,
    count: u32,
}

/// The heads of the scopes with entries in one map, by key. A key's place in `direct` is its
/// scope's slot in the scope table, modulo the length: slots are few and reused lowest
/// first, so nearly every scope finds its place free, and a write under a new scope costs
/// one probe and no hash. Keys whose place is taken go to `overflow`.
#[derive(Clone, Debug, Default)]
struct Heads {
    /// Empty, or a power of two long.
    direct: Vec<Head>,
    overflow: HashMap<u64, Head>,
    len: usize,
}

impl Heads {
    #[inline]
    fn place(&self, key: u64) -> Option<usize> {
        (!self.direct.is_empty()).then(|| (key as u32 as usize) & (self.direct.len() - 1))
    }

    fn len(&self) -> usize {
        self.len
    }

    #[inline]
    fn get(&self, key: u64) -> Option<&Head> {
        match self.place(key) {
            Some(at) if self.direct[at].key == key => Some(&self.direct[at]),
            _ => self.overflow.get(&key),
        }
    }

    #[inline]
    fn get_mut(&mut self, key: u64) -> Option<&mut Head> {
        match self.place(key) {
            Some(at) if self.direct[at].key == key => Some(&mut self.direct[at]),
            _ => self.overflow.get_mut(&key),
        }
    }

    fn contains(&self, key: u64) -> bool {
        self.get(key).is_some()
    }

    /// Adds the head of a scope that has none here.
    #[inline(always)]
    #[allow(
        clippy::inline_always,
        reason = "inlined into the out-of-line `push`: about 20 fewer instructions per scoped insert (`scope_cost`)"
    )]
    fn insert(&mut self, head: Head) {
        if self.len >= self.direct.len() / 2 {
            self.resize((2 * (self.len + 1)).max(MIN_KEPT_HEADS));
        }
        self.len += 1;
        match self.place(head.key) {
            Some(at) if self.direct[at].key == 0 => self.direct[at] = head,
            _ => {
                self.overflow.insert(head.key, head);
            }
        }
    }

    fn remove(&mut self, key: u64) {
        match self.place(key) {
            Some(at) if self.direct[at].key == key => self.direct[at] = Head::default(),
            _ => {
                if self.overflow.remove(&key).is_none() {
                    return;
                }
            }
        }
        self.len -= 1;
    }

    fn iter(&self) -> impl Iterator<Item = &Head> {
        self.direct
            .iter()
            .filter(|head| head.key != 0)
            .chain(self.overflow.values())
    }

    fn clear(&mut self) {
        self.direct.fill(Head::default());
        self.overflow.clear();
        self.len = 0;
    }

    /// Rebuilds with `direct` of at least `room` places: every head moves to its place
    /// there if free.
    #[cold]
    #[inline(never)]
    fn resize(&mut self, room: usize) {
        let heads: Vec<Head> = self.iter().copied().collect();
        self.direct = vec![Head::default(); room.next_power_of_two()];
        self.overflow = HashMap::new();
        self.len = 0;
        for head in heads {
            self.insert(head);
        }
    }

    /// Gives memory back when few heads are left, never below a few dozen places (a request
    /// map that empties between bursts would otherwise regrow them every burst).
    fn shrink(&mut self) {
        if self.direct.len() > MIN_KEPT_HEADS && self.len <= self.direct.len() / 8 {
            self.resize((2 * self.len).max(MIN_KEPT_HEADS));
        }
    }

    fn heap_bytes(&self) -> usize {
        self.direct.capacity() * size_of::<Head>()
            + self.overflow.capacity() * (size_of::<(u64, Head)>() + 1)
    }
}

/// The scope tags of one map's entries, slab-aligned (see the module docs).
#[derive(Debug)]
pub(crate) struct ScopeTags {
    /// Which lifetime's current scope tags writes.
    slot: usize,
    /// Slab-aligned once the first entry is written under a scope; empty before, when every
    /// entry is unscoped (a map only ever written outside scopes pays no memory for tags).
    tags: Vec<Tag>,
    heads: Heads,
    /// Entries written with no current scope of the map's lifetime.
    unscoped: usize,
    /// `unscoped`, published for the registry (one writer: the map, under its lock).
    published: Arc<AtomicUsize>,
    /// `ENDS` when this map last looked for ended scopes among its own.
    seen_ends: u64,
    /// Look at every scope's flag next time, not only at the recent ends (a clone).
    rescan: bool,
    /// Scopes that had ended when an entry of theirs was written here: their entries leave
    /// at the map's next operation.
    ended_at_write: Vec<u64>,
}

impl ScopeTags {
    /// Tags for a map whose lifetime is in `slot`.
    pub(crate) fn new(slot: usize) -> Self {
        Self {
            slot,
            tags: Vec::new(),
            heads: Heads::default(),
            unscoped: 0,
            published: Arc::default(),
            seen_ends: ENDS.load(Ordering::Acquire),
            rescan: false,
            ended_at_write: Vec::new(),
        }
    }

    /// Entries that no scope wrote.
    pub(crate) fn unscoped(&self) -> usize {
        self.unscoped
    }

    /// The unscoped count as the registry reads it, from any thread.
    pub(crate) fn published_unscoped(&self) -> Arc<AtomicUsize> {
        Arc::clone(&self.published)
    }

    fn set_unscoped(&mut self, count: usize) {
        self.unscoped = count;
        self.published.store(count, Ordering::Relaxed);
    }

    /// Entries of ended scopes still here: they leave at the map's next operation, and no
    /// figure counts them meanwhile.
    pub(crate) fn pending_entries(&self) -> usize {
        if !self.has_pending() {
            return 0;
        }
        self.heads
            .iter()
            .filter(|head| table::has_ended(head.key))
            .map(|head| head.count as usize)
            .sum()
    }

    /// Whether the entry at `index` belongs to a scope that has ended.
    pub(crate) fn has_ended_entry(&self, index: u32) -> bool {
        self.has_pending()
            && self
                .tags
                .get(index as usize)
                .is_some_and(|tag| tag.scope != 0 && table::has_ended(tag.scope))
    }

    /// Which slots hold an entry of an ended scope, for a map's drop; empty when none do.
    pub(crate) fn ended_slots(&mut self) -> Vec<bool> {
        if !self.has_pending() {
            return Vec::new();
        }
        let mut ended = vec![false; self.tags.len()];
        for id in self.take_pending() {
            for slot in self.slots_of(id) {
                ended[slot as usize] = true;
            }
        }
        ended
    }

    /// Whether an ended scope's entries wait to leave.
    #[inline]
    pub(crate) fn has_pending(&self) -> bool {
        self.rescan
            || !self.ended_at_write.is_empty()
            || ENDS.load(Ordering::Acquire) != self.seen_ends
    }

    /// The ids of ended scopes whose entries are to leave now: O(ends since the last look),
    /// or O(scopes with entries here) when that is less or the recent ends are gone.
    pub(crate) fn take_pending(&mut self) -> Vec<u64> {
        // Read before looking: an end counted later is looked for at the next operation.
        let ends = ENDS.load(Ordering::Acquire);
        let (seen, rescan) = (self.seen_ends, self.rescan);
        self.seen_ends = ends;
        self.rescan = false;
        let mut ended = core::mem::take(&mut self.ended_at_write);
        ended.retain(|&id| self.heads.contains(id));
        let lag = ends.wrapping_sub(seen);
        if !rescan && lag <= RECENT as u64 && lag <= self.heads.len() as u64 {
            for n in seen..ends {
                let Some(id) = RECENT_ENDS[(n % RECENT as u64) as usize].read(n) else {
                    // Not written yet, or already replaced: the flags say it all.
                    return self.ended_heads();
                };
                if self.heads.contains(id) && !ended.contains(&id) {
                    ended.push(id);
                }
            }
            return ended;
        }
        self.ended_heads()
    }

    /// Every scope with entries here that has ended. O(scopes with entries here).
    fn ended_heads(&self) -> Vec<u64> {
        self.heads
            .iter()
            .filter(|head| table::has_ended(head.key))
            .map(|head| head.key)
            .collect()
    }

    /// Slots of the entries of scope `id`, highest first: removing them in this order never
    /// moves one still to be removed (a removal moves the last slot into the hole).
    pub(crate) fn slots_of(&self, id: u64) -> Vec<u32> {
        let Some(head) = self.heads.get(id) else {
            return Vec::new();
        };
        let mut slots = Vec::with_capacity(head.count as usize);
        let mut at = head.first;
        while at != NIL {
            slots.push(at);
            at = self.tags[at as usize].next;
        }
        if slots.len() > 1 {
            slots.sort_unstable_by(|a, b| b.cmp(a));
        }
        slots
    }

    /// A new entry at `index` (the end of the slab), tagged with the current scope.
    // Out of line: it would grow every shard operation, scoped or not.
    #[inline(never)]
    pub(crate) fn push(&mut self, index: u32) {
        if self.tags.is_empty() && !self.materialize(index as usize) {
            self.set_unscoped(self.unscoped + 1);
            return;
        }
        debug_assert_eq!(index as usize, self.tags.len());
        let tag = self.link_current(index);
        self.tags.push(tag);
    }

    /// The entry at `index` was written again: it now belongs to the current scope.
    // Out of line: it would grow every shard operation, scoped or not.
    #[inline(never)]
    pub(crate) fn rewrite(&mut self, index: u32) {
        if self.tags.is_empty() && !self.materialize(self.unscoped) {
            return;
        }
        self.unlink(index);
        self.tags[index as usize] = self.link_current(index);
    }

    /// Before the first scoped write: if a scope of the map's lifetime is current, gives the
    /// `len` entries so far (all unscoped) their tags and returns `true`.
    #[cold]
    fn materialize(&mut self, len: usize) -> bool {
        if current(self.slot) == 0 {
            return false;
        }
        self.tags = vec![UNTAGGED; len];
        true
    }

    /// The entry at `index` leaves and the last one moves into its slot.
    // Out of line: it would grow every shard operation, scoped or not.
    #[inline(never)]
    pub(crate) fn swap_remove(&mut self, index: u32) {
        if self.tags.is_empty() {
            self.set_unscoped(self.unscoped - 1);
            return;
        }
        self.unlink(index);
        let last = (self.tags.len() - 1) as u32;
        self.tags.swap_remove(index as usize);
        if index == last {
            return;
        }
        let Tag { scope, prev, next } = self.tags[index as usize];
        if scope == 0 {
            return;
        }
        match prev {
            NIL => {
                if let Some(head) = self.heads.get_mut(scope) {
                    head.first = index;
                }
            }
            p => self.tags[p as usize].next = index,
        }
        if next != NIL {
            self.tags[next as usize].prev = index;
        }
    }

    /// Every entry left at once.
    pub(crate) fn clear(&mut self) {
        for head in self.heads.iter() {
            table::count(head.key, -i64::from(head.count));
        }
        self.heads.clear();
        self.tags = Vec::new();
        self.set_unscoped(0);
    }

    pub(crate) fn shrink_to(&mut self, capacity: usize) {
        self.tags.shrink_to(capacity);
        self.heads.shrink();
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.tags.capacity() * size_of::<Tag>() + self.heads.heap_bytes()
    }

    /// The tag of the entry at `index` for this thread's current scope of the map's
    /// lifetime, linked first in that scope's list (the caller stores it).
    #[inline(always)]
    #[allow(
        clippy::inline_always,
        reason = "inlined into the out-of-line `push`: about 20 fewer instructions per scoped insert (`scope_cost`)"
    )]
    fn link_current(&mut self, index: u32) -> Tag {
        match tag_current(self.slot) {
            0 => {
                self.set_unscoped(self.unscoped + 1);
                UNTAGGED
            }
            key => self.link(index, key),
        }
    }

    /// The tag of the entry at `index` for the scope `id`, linked first in its list.
    #[inline(always)]
    #[allow(
        clippy::inline_always,
        reason = "inlined into the out-of-line `push`: about 20 fewer instructions per scoped insert (`scope_cost`)"
    )]
    fn link(&mut self, index: u32, id: u64) -> Tag {
        let next = if let Some(head) = self.heads.get_mut(id) {
            let next = head.first;
            head.first = index;
            head.count += 1;
            next
        } else {
            // A scope that has already ended (another thread ended it, and this map may
            // have counted that end already) takes the entry with it at the map's next
            // operation, as if it had ended just after this write.
            if table::has_ended(id) {
                self.ended_at_write.push(id);
            }
            self.heads.insert(Head {
                key: id,
                first: index,
                count: 1,
            });
            NIL
        };
        if next != NIL {
            self.tags[next as usize].prev = index;
        }
        Tag {
            scope: id,
            prev: NIL,
            next,
        }
    }

    /// Takes the entry at `index` out of its scope's list.
    /// An untagged entry stops counting as unscoped; `push`/`rewrite` count it again.
    fn unlink(&mut self, index: u32) {
        let Tag { scope, prev, next } = self.tags[index as usize];
        if scope == 0 {
            self.set_unscoped(self.unscoped - 1);
            return;
        }
        if next != NIL {
            self.tags[next as usize].prev = prev;
        }
        if prev == NIL {
            if let Some(head) = self.heads.get_mut(scope) {
                head.first = next;
                head.count -= 1;
                table::count(scope, -1);
                if head.count == 0 {
                    self.heads.remove(scope);
                }
            }
        } else {
            self.tags[prev as usize].next = next;
            if let Some(head) = self.heads.get_mut(scope) {
                head.count -= 1;
                table::count(scope, -1);
            }
        }
        self.tags[index as usize] = UNTAGGED;
    }
}

impl Clone for ScopeTags {
    /// A clone holds the same entries of the same scopes, and looks for ended ones at its
    /// first operation.
    fn clone(&self) -> Self {
        for head in self.heads.iter() {
            table::count(head.key, i64::from(head.count));
        }
        Self {
            slot: self.slot,
            tags: self.tags.clone(),
            heads: self.heads.clone(),
            unscoped: self.unscoped,
            published: Arc::new(AtomicUsize::new(self.unscoped)),
            seen_ends: self.seen_ends,
            rescan: true,
            ended_at_write: self.ended_at_write.clone(),
        }
    }
}

impl Drop for ScopeTags {
    fn drop(&mut self) {
        self.clear();
    }
}

/// The per-entry state of a map whose entries carry their scope: the map's expiry `E`, and
/// scope tags (`SCOPE_TAGS`). Every other map compiles the scope hooks away. With
/// `SETTLES = false` it is a concurrent map's shard, which the sharded layer settles before
/// each operation; [`Scoped`] is a single-threaded map that settles itself (its lookups skip
/// an ended scope's entries, its writes remove them).
#[derive(Clone, Copy, Debug, Default)]
pub struct Tagged<E, const SETTLES: bool = false>(pub(crate) E);

/// A single-threaded map's per-entry state with scope tags: the expiry type
/// `#[managed_map(...)]` gives a field of a request, session or batch lifetime.
pub type Scoped<E> = Tagged<E, true>;

impl<E: Expiry, const SETTLES: bool> Expiry for Tagged<E, SETTLES> {}

impl<E: crate::storage::expiry::Expires, const SETTLES: bool> crate::storage::expiry::Expires
    for Tagged<E, SETTLES>
{
}

impl<E: crate::storage::expiry::Weighs, const SETTLES: bool> crate::storage::expiry::Weighs
    for Tagged<E, SETTLES>
{
}

impl<E: Expiry, const SETTLES: bool> ExpiryState for Tagged<E, SETTLES> {
    type Timer = E::Timer;
    type Timed = Tagged<E::Timed, SETTLES>;
    type Weighed = Tagged<E::Weighed, SETTLES>;
    const WEIGHED: bool = E::WEIGHED;
    const SCOPE_TAGS: bool = true;
    const SELF_SETTLING: bool = SETTLES;
    const POOLED: bool = !SETTLES;
    crate::storage::expiry::wraps_a_state!();
    fn into_timed(self) -> Self::Timed {
        Tagged(self.0.into_timed())
    }
    fn into_weighed(self) -> Self::Weighed {
        Tagged(self.0.into_weighed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap as Model;

    #[derive(Clone, Debug)]
    enum HeadsOp {
        Insert(u64),
        Remove(u64),
        Bump(u64),
        Shrink,
    }

    /// Keys of a few generations over slots that share places in a small table, so that
    /// inserts collide and go to the overflow.
    fn key() -> impl Strategy<Value = u64> {
        (
            1..4u64,
            prop::sample::select(vec![0u64, 1, 5, 64, 65, 128, 192, 1_000, 1_024]),
        )
            .prop_map(|(generation, slot)| generation << 32 | slot)
    }

    fn heads_op() -> impl Strategy<Value = HeadsOp> {
        prop_oneof![
            4 => key().prop_map(HeadsOp::Insert),
            3 => key().prop_map(HeadsOp::Remove),
            2 => key().prop_map(HeadsOp::Bump),
            1 => Just(HeadsOp::Shrink),
        ]
    }

    proptest! {
        // A handful of short runs under Miri (`.ci/miri`).
        #![proptest_config(ProptestConfig::with_cases(if cfg!(miri) { 4 } else { 256 }))]
        #[test]
        fn heads_find_every_key_as_a_map_does(
            ops in prop::collection::vec(heads_op(), 1..if cfg!(miri) { 40 } else { 200 })
        ) {
            let mut heads = Heads::default();
            let mut model: Model<u64, (u32, u32)> = Model::new();
            for (step, op) in ops.into_iter().enumerate() {
                let step = step as u32;
                match op {
                    HeadsOp::Insert(key) => {
                        if let std::collections::hash_map::Entry::Vacant(slot) = model.entry(key) {
                            slot.insert((step, 1));
                            heads.insert(Head { key, first: step, count: 1 });
                        }
                    }
                    HeadsOp::Remove(key) => {
                        model.remove(&key);
                        heads.remove(key);
                    }
                    HeadsOp::Bump(key) => {
                        if let Some(head) = heads.get_mut(key) {
                            head.count += 1;
                            head.first = step;
                        }
                        if let Some(entry) = model.get_mut(&key) {
                            *entry = (step, entry.1 + 1);
                        }
                    }
                    HeadsOp::Shrink => heads.shrink(),
                }
                prop_assert_eq!(heads.len(), model.len());
                prop_assert_eq!(heads.iter().count(), model.len());
                for head in heads.iter() {
                    prop_assert_eq!(model.get(&head.key), Some(&(head.first, head.count)));
                }
                for (&key, &(first, count)) in &model {
                    let head = heads.get(key).copied();
                    prop_assert_eq!(head.map(|h| (h.first, h.count)), Some((first, count)));
                    prop_assert!(heads.contains(key));
                }
            }
        }
    }

    /// A scope created after `old` was dropped, on the slot `old` had (tests run in
    /// parallel, so other scopes may take it first; they are short-lived).
    fn on_the_slot_of(old: u64) -> (ScopeCore, Vec<ScopeCore>) {
        let mut held = Vec::new();
        loop {
            let scope = ScopeCore::new(0);
            if scope.id() as u32 == old as u32 {
                return (scope, held);
            }
            held.push(scope);
            assert!(
                held.len() < 1_000_000,
                "slot {} never came back",
                old as u32
            );
        }
    }

    #[test]
    fn a_reused_slot_is_a_new_scope_and_the_old_key_stays_ended() {
        let old = ScopeCore::new(0);
        let old_key = old.id();
        table::count(old_key, 3);
        assert_eq!(old.entries(), 3);
        drop(old);
        let (new, _held) = on_the_slot_of(old_key);
        assert_ne!(new.id(), old_key, "a new generation");
        assert!(table::has_ended(old_key));
        assert!(!new.has_ended());
        assert_eq!(new.entries(), 0);
        table::count(new.id(), 5);
        // A map that removes the old scope's entries late counts nothing against the new one.
        table::count(old_key, -3);
        assert_eq!(new.entries(), 5);
        table::count(new.id(), -5);
        assert!(
            table::end(old_key, 0).is_none(),
            "the old key cannot end the new scope"
        );
        assert!(!new.has_ended());
        assert_eq!(new.end(), 0);
        assert!(new.has_ended());
    }

    #[test]
    fn entries_written_inside_a_scope_count_at_once_on_the_thread_and_after_leaving_everywhere() {
        let scope = ScopeCore::new(0);
        enter(&scope);
        assert_eq!(tag_current(0), scope.id());
        assert_eq!(tag_current(0), scope.id());
        assert_eq!(table::entries(scope.id()), 0, "nothing shared written yet");
        assert_eq!(scope.entries(), 2);
        // One of them leaves (a map removes it) before the thread leaves the scope.
        table::count(scope.id(), -1);
        assert_eq!(scope.entries(), 1);
        leave(&scope);
        assert_eq!(table::entries(scope.id()), 1);
        let other = std::thread::scope(|s| s.spawn(|| scope.entries()).join().unwrap());
        assert_eq!(other, 1);
        assert_eq!(current(0), 0);
    }

    #[test]
    fn nested_scopes_of_one_lifetime_may_be_left_in_any_order() {
        let (outer, middle, inner) = (ScopeCore::new(1), ScopeCore::new(1), ScopeCore::new(1));
        enter(&outer);
        assert_eq!(tag_current(1), outer.id());
        enter(&middle);
        enter(&inner);
        assert_eq!(tag_current(1), inner.id());
        // The middle guard goes first: the inner scope stays current.
        leave(&middle);
        assert_eq!(tag_current(1), inner.id());
        leave(&inner);
        assert_eq!(
            tag_current(1),
            outer.id(),
            "back to the outer scope, not the middle one"
        );
        leave(&outer);
        assert_eq!(current(1), 0);
        assert_eq!(
            (outer.entries(), middle.entries(), inner.entries()),
            (2, 0, 2)
        );
        // Other lifetimes were never touched.
        assert_eq!((current(0), current(2)), (0, 0));
    }
}
