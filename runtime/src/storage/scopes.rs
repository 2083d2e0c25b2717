//! Per-entry scope tags: which request, session or batch scope wrote each entry, so that
//! ending one scope removes exactly its entries, at a cost in proportion to them.
//!
//! A scope is a [`ScopeCore`]; the public handle (`scope::Scope`) owns one. While a scope is
//! current on a thread (entered, or polling a future that runs in it), every write on that
//! thread into a map of its lifetime tags the entry with it. A map with a request, session or
//! batch lifetime keeps [`ScopeTags`] beside its slab: each entry's scope, threaded into one
//! list per scope (so a scope's entries are found without a scan), and a [`Mailbox`] that the
//! map's scopes know. Ending a scope marks it ended and posts its id to the mailbox of every
//! map that holds its entries; each map removes them at its next operation under its own lock
//! (`ManagedMap::settle_scopes`), with [`RemovalCause::ScopeEnded`](crate::RemovalCause).
//! The scope never reaches into a map: maps are owned by their users, often behind locks, and
//! of any key and value types.
//!
//! Maps of the `process` lifetime have no `ScopeTags` and pay one branch per write.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, Weak};

// Built with `--cfg mapguard_shuttle`, the scope's locks, flags and thread-local current
// scopes are shuttle's, so its model test explores their interleavings (an insert racing its
// scope's end) as it does the shard locks' (see `concurrent::lock`).
#[cfg(mapguard_shuttle)]
use shuttle::sync::{Mutex, atomic::AtomicBool};
#[cfg(not(mapguard_shuttle))]
use std::sync::{Mutex, atomic::AtomicBool};

use hashbrown::HashMap;

use std::time::Duration;

use crate::storage::ages::Ages;
use crate::storage::expiry::sealed::ExpiryState;
use crate::storage::expiry::{Expiring, Expiry};
use crate::storage::queues::NIL;

/// The lifetimes that have scopes, as slots of the thread's current-scope table: request,
/// session, batch.
pub(crate) const SCOPED_LIFETIMES: usize = 3;

/// A scope: its id, whether it has ended, how many entries carry it, and the mailboxes of the
/// maps that hold them.
#[derive(Debug)]
pub(crate) struct ScopeCore {
    id: u64,
    slot: usize,
    ended: AtomicBool,
    /// Entries tagged with this scope, over every map.
    entries: AtomicUsize,
    /// The maps (their mailboxes) that have held an entry of this scope.
    members: Mutex<Vec<Weak<Mailbox>>>,
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
            members: Mutex::new(Vec::new()),
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

    /// Ends the scope: posts its id to every map holding its entries; returns how many entries
    /// carried it (each map removes its own at its next operation). Ending twice does nothing
    /// the second time (and returns 0).
    pub(crate) fn end(&self) -> usize {
        let members = {
            let mut members = self.members.lock().unwrap_or_else(PoisonError::into_inner);
            if self.ended.swap(true, Ordering::AcqRel) {
                return 0;
            }
            core::mem::take(&mut *members)
        };
        let mut members: Vec<Arc<Mailbox>> = members.iter().filter_map(Weak::upgrade).collect();
        // A map registers again when its entries of the scope all left and one came back.
        members.sort_unstable_by_key(Arc::as_ptr);
        members.dedup_by(|a, b| Arc::ptr_eq(a, b));
        for mailbox in members {
            mailbox.post(self.id);
        }
        self.entries()
    }

    /// Makes `mailbox` one of the maps this scope ends; `false` if it has already ended (the
    /// map then ends the scope's entries itself).
    fn register(&self, mailbox: &Arc<Mailbox>) -> bool {
        let mut members = self.members.lock().unwrap_or_else(PoisonError::into_inner);
        if self.has_ended() {
            return false;
        }
        // Maps dropped since, and repeats (a map whose entries of this scope all left and
        // came back), are pruned as the list grows.
        if members.len() >= 8 && members.len().is_power_of_two() {
            members.retain(|member| member.strong_count() > 0);
            members.dedup_by(|a, b| a.ptr_eq(b));
        }
        members.push(Arc::downgrade(mailbox));
        true
    }
}

/// Where ended scopes' ids wait for a map's next operation.
#[derive(Debug, Default)]
pub(crate) struct Mailbox {
    pending: AtomicBool,
    ended: Mutex<Vec<u64>>,
}

impl Mailbox {
    fn post(&self, id: u64) {
        self.ended
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(id);
        self.pending.store(true, Ordering::Release);
    }

    fn take(&self) -> Vec<u64> {
        if !self.pending.load(Ordering::Acquire) {
            return Vec::new();
        }
        let mut ended = self.ended.lock().unwrap_or_else(PoisonError::into_inner);
        self.pending.store(false, Ordering::Relaxed);
        core::mem::take(&mut *ended)
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

/// The scope current on this thread in `slot`, if any.
pub(crate) fn current(slot: usize) -> Option<Arc<ScopeCore>> {
    CURRENT.with(|current| current.borrow()[slot].last().cloned())
}

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
    mailbox: Arc<Mailbox>,
    /// Scopes that ended while an entry of theirs was being written here: their entries
    /// leave at the map's next operation.
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
            mailbox: Arc::default(),
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
        let ended = self
            .mailbox
            .ended
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        ended
            .iter()
            .chain(&self.ended_at_write)
            .filter_map(|id| self.heads.get(id))
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
        !self.ended_at_write.is_empty() || self.mailbox.pending.load(Ordering::Relaxed)
    }

    /// The ids of ended scopes whose entries are to leave now.
    pub(crate) fn take_pending(&mut self) -> Vec<u64> {
        let mut ended = core::mem::take(&mut self.ended_at_write);
        ended.extend(self.mailbox.take());
        ended.sort_unstable();
        ended.dedup();
        ended
    }

    /// Slots of the entries of scope `id`, highest first: removing them in this order never
    /// moves one still to be removed (a removal moves the last slot into the hole).
    pub(crate) fn slots_of(&self, id: u64) -> Vec<u32> {
        let mut slots = Vec::new();
        let mut at = self.heads.get(&id).map_or(NIL, |head| head.first);
        while at != NIL {
            slots.push(at);
            at = self.tags[at as usize].next;
        }
        slots.sort_unstable_by(|a, b| b.cmp(a));
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
        if current(self.slot).is_none() {
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
        self.heads.shrink_to(0);
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.tags.capacity() * size_of::<Tag>()
            + self.heads.capacity() * (size_of::<(u64, Head)>() + 1)
    }

    /// Tags the entry at `index` with this thread's current scope of the map's lifetime.
    fn link_current(&mut self, index: u32) {
        let Some(core) = current(self.slot) else {
            self.set_unscoped(self.unscoped + 1);
            return;
        };
        let id = core.id;
        let next = if let Some(head) = self.heads.get_mut(&id) {
            let next = head.first;
            head.first = index;
            head.count += 1;
            next
        } else {
            // This map's first entry of the scope: the scope must know the map. A scope that
            // has already ended (another thread ended it) takes the entry with it at the
            // map's next operation, as if it had ended just after this write.
            if !core.register(&self.mailbox) {
                self.ended_at_write.push(id);
            }
            self.heads.insert(
                id,
                Head {
                    first: index,
                    count: 1,
                    core: Arc::clone(&core),
                },
            );
            NIL
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
    /// A clone holds the same entries of the same scopes: the scopes learn of it, so that
    /// ending one reaches the clone too.
    fn clone(&self) -> Self {
        let mailbox = Arc::new(Mailbox::default());
        let mut ended_at_write = self.ended_at_write.clone();
        ended_at_write.extend(
            self.mailbox
                .ended
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .iter(),
        );
        for (id, head) in &self.heads {
            head.core.entries.fetch_add(head.count, Ordering::Relaxed);
            if !head.core.register(&mailbox) {
                ended_at_write.push(*id);
            }
        }
        Self {
            slot: self.slot,
            tags: self.tags.clone(),
            heads: self.heads.clone(),
            unscoped: self.unscoped,
            published: Arc::new(AtomicUsize::new(self.unscoped)),
            mailbox,
            ended_at_write,
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
