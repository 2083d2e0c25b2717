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
//! Only concurrent maps' shards keep tags (`Tagged`); every other map compiles them away.

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering, fence};

// Built with `--cfg mapguard_shuttle`, the scope's ended flag and the thread-local current
// scopes are shuttle's, so its model test explores their interleavings (an insert racing its
// scope's end) as it does the shard locks' (see `concurrent::lock`).
#[cfg(mapguard_shuttle)]
use shuttle::sync::atomic::AtomicBool;
#[cfg(not(mapguard_shuttle))]
use std::sync::atomic::AtomicBool;

use hashbrown::HashMap;
use hashbrown::hash_map::Entry;

use std::time::Duration;

use crate::storage::ages::Ages;
use crate::storage::expiry::sealed::ExpiryState;
use crate::storage::expiry::{Expiring, Expiry};
use crate::storage::queues::NIL;

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

/// A scope: its id, whether it has ended, and how many entries carry it.
#[derive(Debug)]
pub(crate) struct ScopeCore {
    id: u64,
    slot: usize,
    ended: AtomicBool,
    /// Entries tagged with this scope, over every map.
    entries: AtomicUsize,
}

impl ScopeCore {
    /// A new scope for the lifetime in `slot` (see [`SCOPED_LIFETIMES`]).
    pub(crate) fn new(slot: usize) -> Self {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            slot,
            ended: AtomicBool::new(false),
            entries: AtomicUsize::new(0),
        }
    }

    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    pub(crate) fn slot(&self) -> usize {
        self.slot
    }

    pub(crate) fn has_ended(&self) -> bool {
        self.ended.load(Ordering::Acquire)
    }

    /// Entries that carry this scope now, over every map.
    pub(crate) fn entries(&self) -> usize {
        self.entries.load(Ordering::Relaxed)
    }

    /// Ends the scope: marks it ended and counts the end, so that every map holding its
    /// entries removes them at its next operation; returns how many entries carried it.
    /// Ending twice does nothing the second time (and returns 0). O(1).
    pub(crate) fn end(&self) -> usize {
        if self.ended.swap(true, Ordering::AcqRel) {
            return 0;
        }
        // After the flag: a map that sees the new count sees the scope ended (also when the
        // id below is not written yet: the map then looks at all its scopes' flags).
        let n = ENDS.fetch_add(1, Ordering::AcqRel);
        RECENT_ENDS[(n % RECENT as u64) as usize].write(n, self.id);
        self.entries()
    }
}

#[cfg(not(mapguard_shuttle))]
thread_local! {
    /// The scope current on this thread for each scoped lifetime (innermost last).
    static CURRENT: RefCell<[Vec<Arc<ScopeCore>>; SCOPED_LIFETIMES]> =
        const { RefCell::new([Vec::new(), Vec::new(), Vec::new()]) };
}
#[cfg(mapguard_shuttle)]
shuttle::thread_local! {
    static CURRENT: RefCell<[Vec<Arc<ScopeCore>>; SCOPED_LIFETIMES]> =
        const { RefCell::new([Vec::new(), Vec::new(), Vec::new()]) };
}

/// Makes `scope` current on this thread for its lifetime, until [`leave`] (nestable).
pub(crate) fn enter(scope: &Arc<ScopeCore>) {
    CURRENT.with(|current| current.borrow_mut()[scope.slot].push(Arc::clone(scope)));
}

/// Undoes the matching [`enter`].
pub(crate) fn leave(scope: &Arc<ScopeCore>) {
    CURRENT.with(|current| {
        let mut current = current.borrow_mut();
        let stack = &mut current[scope.slot];
        if let Some(at) = stack
            .iter()
            .rposition(|entered| Arc::ptr_eq(entered, scope))
        {
            stack.remove(at);
        }
    });
}

/// Runs `work` with the scope current on this thread in `slot`, if any, borrowed (no reference count
/// changes on the write path).
fn with_current<R>(slot: usize, work: impl FnOnce(Option<&Arc<ScopeCore>>) -> R) -> R {
    CURRENT.with(|current| work(current.borrow()[slot].last()))
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

/// A scope's entries in one map: the first of its list, how many, and the scope.
#[derive(Clone, Debug)]
struct Head {
    first: u32,
    count: usize,
    core: Arc<ScopeCore>,
}

/// The scope tags of one map's entries, slab-aligned (see the module docs).
#[derive(Debug)]
pub(crate) struct ScopeTags {
    /// Which lifetime's current scope tags writes.
    slot: usize,
    /// Slab-aligned once the first entry is written under a scope; empty before, when every
    /// entry is unscoped (a map only ever written outside scopes pays no memory for tags).
    tags: Vec<Tag>,
    heads: HashMap<u64, Head>,
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
            heads: HashMap::new(),
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
            .values()
            .filter(|head| head.core.has_ended())
            .map(|head| head.count)
            .sum()
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
        ended.retain(|id| self.heads.contains_key(id));
        let lag = ends.wrapping_sub(seen);
        if !rescan && lag <= RECENT as u64 && lag <= self.heads.len() as u64 {
            for n in seen..ends {
                let Some(id) = RECENT_ENDS[(n % RECENT as u64) as usize].read(n) else {
                    // Not written yet, or already replaced: the flags say it all.
                    return self.ended_heads();
                };
                if self.heads.contains_key(&id) && !ended.contains(&id) {
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
            .filter(|(_, head)| head.core.has_ended())
            .map(|(&id, _)| id)
            .collect()
    }

    /// Slots of the entries of scope `id`, highest first: removing them in this order never
    /// moves one still to be removed (a removal moves the last slot into the hole).
    pub(crate) fn slots_of(&self, id: u64) -> Vec<u32> {
        let Some(head) = self.heads.get(&id) else {
            return Vec::new();
        };
        let mut slots = Vec::with_capacity(head.count);
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
        self.tags.push(Tag {
            scope: 0,
            prev: NIL,
            next: NIL,
        });
        self.link_current(index);
    }

    /// The entry at `index` was written again: it now belongs to the current scope.
    // Out of line: it would grow every shard operation, scoped or not.
    #[inline(never)]
    pub(crate) fn rewrite(&mut self, index: u32) {
        if self.tags.is_empty() && !self.materialize(self.unscoped) {
            return;
        }
        self.unlink(index);
        self.link_current(index);
    }

    /// Before the first scoped write: if a scope of the map's lifetime is current, gives the
    /// `len` entries so far (all unscoped) their tags and returns `true`.
    #[cold]
    fn materialize(&mut self, len: usize) -> bool {
        if with_current(self.slot, |core| core.is_none()) {
            return false;
        }
        self.tags = vec![
            Tag {
                scope: 0,
                prev: NIL,
                next: NIL,
            };
            len
        ];
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
                if let Some(head) = self.heads.get_mut(&scope) {
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
        for head in self.heads.values() {
            head.core.entries.fetch_sub(head.count, Ordering::Relaxed);
        }
        self.heads.clear();
        self.tags = Vec::new();
        self.set_unscoped(0);
    }

    pub(crate) fn shrink_to(&mut self, capacity: usize) {
        self.tags.shrink_to(capacity);
        // Like the slab: only when sparse, and never below a few dozen heads (a request map
        // that empties between bursts would otherwise regrow its heads every burst).
        let heads = self.heads.len();
        if self.heads.capacity() > MIN_KEPT_HEADS && heads <= self.heads.capacity() / 4 {
            self.heads.shrink_to((heads * 2).max(MIN_KEPT_HEADS));
        }
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.tags.capacity() * size_of::<Tag>()
            + self.heads.capacity() * (size_of::<(u64, Head)>() + 1)
    }

    /// Tags the entry at `index` with this thread's current scope of the map's lifetime.
    fn link_current(&mut self, index: u32) {
        with_current(self.slot, |core| match core {
            Some(core) => self.link(index, core),
            None => self.set_unscoped(self.unscoped + 1),
        });
    }

    /// Tags the entry at `index` with `core`, first in its list.
    fn link(&mut self, index: u32, core: &Arc<ScopeCore>) {
        let id = core.id;
        let next = match self.heads.entry(id) {
            Entry::Occupied(mut head) => {
                let head = head.get_mut();
                let next = head.first;
                head.first = index;
                head.count += 1;
                next
            }
            Entry::Vacant(slot) => {
                // A scope that has already ended (another thread ended it, and this map may
                // have counted that end already) takes the entry with it at the map's next
                // operation, as if it had ended just after this write.
                if core.has_ended() {
                    self.ended_at_write.push(id);
                }
                slot.insert(Head {
                    first: index,
                    count: 1,
                    core: Arc::clone(core),
                });
                NIL
            }
        };
        core.entries.fetch_add(1, Ordering::Relaxed);
        if next != NIL {
            self.tags[next as usize].prev = index;
        }
        self.tags[index as usize] = Tag {
            scope: id,
            prev: NIL,
            next,
        };
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
            if let Some(head) = self.heads.get_mut(&scope) {
                head.first = next;
                head.count -= 1;
                head.core.entries.fetch_sub(1, Ordering::Relaxed);
                if head.count == 0 {
                    self.heads.remove(&scope);
                }
            }
        } else {
            self.tags[prev as usize].next = next;
            if let Some(head) = self.heads.get_mut(&scope) {
                head.count -= 1;
                head.core.entries.fetch_sub(1, Ordering::Relaxed);
            }
        }
        self.tags[index as usize] = Tag {
            scope: 0,
            prev: NIL,
            next: NIL,
        };
    }
}

impl Clone for ScopeTags {
    /// A clone holds the same entries of the same scopes, and looks for ended ones at its
    /// first operation.
    fn clone(&self) -> Self {
        for head in self.heads.values() {
            head.core.entries.fetch_add(head.count, Ordering::Relaxed);
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

/// The per-entry state of a concurrent map's shard: the map's expiry `E`, and scope tags
/// (`SCOPE_TAGS`). Only shards are `Tagged`, so the scope hooks in the store compile away in
/// every single-threaded map (their scoped lifetimes end whole, by `end_scope`).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Tagged<E>(pub(crate) E);

impl<E: Expiry> Expiry for Tagged<E> {}

impl<E: Expiry> ExpiryState for Tagged<E> {
    const ENABLED: bool = E::ENABLED;
    const SCOPE_TAGS: bool = true;
    fn into_expiring(self) -> Expiring {
        self.0.into_expiring()
    }
    fn configured(ttl: Option<Duration>, idle: Option<Duration>) -> Self {
        Self(E::configured(ttl, idle))
    }
    #[inline]
    fn now(&self) -> u64 {
        self.0.now()
    }
    #[inline]
    fn push(&mut self, now: u64) {
        self.0.push(now);
    }
    #[inline]
    fn read(&mut self, index: usize, now: u64) {
        self.0.read(index, now);
    }
    #[inline]
    fn wrote(&mut self, index: usize, now: u64) {
        self.0.wrote(index, now);
    }
    #[inline]
    fn swap_remove(&mut self, index: usize) {
        self.0.swap_remove(index);
    }
    #[inline]
    fn clear(&mut self) {
        self.0.clear();
    }
    #[inline]
    fn shrink_to(&mut self, capacity: usize) {
        self.0.shrink_to(capacity);
    }
    #[inline]
    fn heap_bytes(&self) -> usize {
        self.0.heap_bytes()
    }
    #[inline]
    fn is_expired(&self, index: usize, now: u64) -> bool {
        self.0.is_expired(index, now)
    }
    #[inline]
    fn next_sweep(&mut self, len: usize) -> Option<usize> {
        self.0.next_sweep(len)
    }
    #[inline]
    fn reborn(&mut self, index: usize, now: u64) {
        self.0.reborn(index, now);
    }
    fn ages(&self) -> Option<Arc<Ages>> {
        self.0.ages()
    }
    fn split(&self) -> Self {
        Self(self.0.split())
    }
}
