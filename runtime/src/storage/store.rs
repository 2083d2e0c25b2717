//! The storage every managed map shares.
//!
//! Entries live in a dense `Vec` (the slab) threaded by `u32` links into a recency list, and a
//! swiss table of `u32` slab positions finds them by key. Per entry that costs the two links (8
//! bytes) plus the table's 4-byte index and 1 control byte, divided by its load factor. A map
//! whose entries can expire keeps each deadline in its node too, where a lookup reads it
//! without touching another cache line.
//!
//! The slab stays dense: a removal moves the last node into the hole. Dense storage is what
//! lets memory follow the live entries — the slab can shrink without compaction, and a fill to
//! `max` reserves at most `max` nodes.
//!
//! The store never runs hooks. Every operation that takes an entry out returns it, so each
//! wrapper chooses when hooks run (the concurrent maps run them after releasing a lock).

use core::borrow::Borrow;
use core::hash::{BuildHasher, Hash};

use hashbrown::HashTable;

use crate::storage::expiry::sealed::{Stamp, Timer as _};
use crate::storage::expiry::{Expiry, NoExpiry, SharedPolicy, StampOf, deadline_after, time_left};
use crate::storage::order::{
    Ends, EvictionOrder, MARKED_LIMIT, NIL, RecencyOrder, prev_link, unlinked_prev,
};
use crate::storage::pool::Pool;
use crate::storage::scopes::ScopeTags;
use crate::storage::wheel::{Deadlines, NEVER};

/// The largest `max` a map accepts: links are `u32` and `u32::MAX` is the "no node" link.
pub(crate) const MAX_LIMIT: usize = (u32::MAX - 1) as usize;

/// Below this many slots a map keeps its allocation: shrinking tiny tables is pure churn.
const MIN_KEPT_SLOTS: usize = 16;

/// One entry in the slab. `D` is its deadline: `u64` in a map whose entries can expire,
/// nothing (`()`) in one whose cannot.
#[derive(Clone, Debug)]
#[allow(
    unreachable_pub,
    reason = "named by the sealed `Stamp` trait; unnameable outside, as that trait is"
)]
pub struct Node<K, V, D = ()> {
    pub(crate) key: K,
    pub(crate) value: V,
    /// Towards the front (more recent). Read it through `prev_link`: an order that keeps
    /// marks (`EvictionOrder::MARKS`) keeps them in its top bits.
    pub(super) prev: u32,
    /// Towards the back (less recent).
    pub(super) next: u32,
    /// When the entry expires (see `Stamp`).
    pub(super) stamp: D,
}

/// The node a store with per-entry state `E` keeps.
pub(crate) type NodeOf<K, V, E> = Node<K, V, StampOf<E>>;

impl<K, V, D: Stamp> Deadlines for [Node<K, V, D>] {
    #[inline]
    fn deadline(&self, index: usize) -> u64 {
        self[index].stamp.deadline()
    }
}

/// A slab seen whatever its nodes' stamp: what the borrowing iterators walk, so their types
/// do not depend on whether the map's entries expire.
#[derive(Debug)]
#[allow(
    unreachable_pub,
    reason = "named by the sealed `Stamp` trait; unnameable outside, as that trait is"
)]
pub enum Slab<'a, K, V> {
    /// Entries that cannot expire.
    Plain(&'a [Node<K, V>]),
    /// Entries with deadlines.
    Stamped(&'a [Node<K, V, u64>]),
}

impl<K, V> Clone for Slab<'_, K, V> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<K, V> Copy for Slab<'_, K, V> {}

impl<'a, K, V> Slab<'a, K, V> {
    /// The key, value and links of the node at `index`.
    #[inline]
    fn at(self, index: u32) -> (&'a K, &'a V, u32, u32) {
        match self {
            Self::Plain(nodes) => {
                let node = &nodes[index as usize];
                (&node.key, &node.value, node.prev, node.next)
            }
            Self::Stamped(nodes) => {
                let node = &nodes[index as usize];
                (&node.key, &node.value, node.prev, node.next)
            }
        }
    }

    /// Keys and values in slab order.
    pub(crate) fn pairs(self) -> impl Iterator<Item = (&'a K, &'a V)> {
        let (plain, stamped) = match self {
            Self::Plain(nodes) => (nodes, Default::default()),
            Self::Stamped(nodes) => (Default::default(), nodes),
        };
        let plain = plain.iter().map(|n| (&n.key, &n.value));
        plain.chain(stamped.iter().map(|n| (&n.key, &n.value)))
    }
}

/// [`Slab`] with mutable values, as an iterator over the nodes in slab order.
#[derive(Debug)]
#[allow(
    unreachable_pub,
    reason = "named by the sealed `Stamp` trait; unnameable outside, as that trait is"
)]
pub enum SlabMut<'a, K, V> {
    /// Entries that cannot expire.
    Plain(core::slice::IterMut<'a, Node<K, V>>),
    /// Entries with deadlines.
    Stamped(core::slice::IterMut<'a, Node<K, V, u64>>),
}

impl<'a, K, V> SlabMut<'a, K, V> {
    #[inline]
    pub(crate) fn next(&mut self) -> Option<(&'a K, &'a mut V)> {
        match self {
            Self::Plain(nodes) => nodes.next().map(|n| (&n.key, &mut n.value)),
            Self::Stamped(nodes) => nodes.next().map(|n| (&n.key, &mut n.value)),
        }
    }

    #[inline]
    pub(crate) fn next_back(&mut self) -> Option<(&'a K, &'a mut V)> {
        match self {
            Self::Plain(nodes) => nodes.next_back().map(|n| (&n.key, &mut n.value)),
            Self::Stamped(nodes) => nodes.next_back().map(|n| (&n.key, &mut n.value)),
        }
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        match self {
            Self::Plain(nodes) => nodes.len(),
            Self::Stamped(nodes) => nodes.len(),
        }
    }

    /// What is left, as a shared slab.
    pub(crate) fn as_slab(&self) -> Slab<'_, K, V> {
        match self {
            Self::Plain(nodes) => Slab::Plain(nodes.as_slice()),
            Self::Stamped(nodes) => Slab::Stamped(nodes.as_slice()),
        }
    }
}

#[derive(Clone)]
#[allow(
    unreachable_pub,
    reason = "named by `EvictionOrder`'s methods; unnameable outside, as that trait is"
)]
pub struct Store<K, V, S, E: Expiry = NoExpiry, O = RecencyOrder> {
    pub(super) nodes: Vec<NodeOf<K, V, E>>,
    table: HashTable<u32>,
    /// The list's ends: most recent first; the back leaves first under LRU.
    pub(super) ends: Ends,
    pub(super) hasher: S,
    pub(super) max: usize,
    /// The timer that orders the nodes' deadlines, and the rest of the per-entry state that
    /// is not in the nodes; a zero-sized no-op for `NoExpiry`.
    stamps: E,
    /// The policy's eviction order over the list: zero-sized for LRU and bounded maps.
    pub(super) order: O,
    /// Per-entry weights, for a map with a weight budget.
    weights: Weights,
    /// Indices erased from the table since it was last sized: at most this many tombstones
    /// (see `make_table_room`).
    erased: usize,
    /// Each entry's request, session or batch scope; `None` for `process` maps.
    scopes: Option<Box<ScopeTags>>,
    /// What decides each entry's deadline, when not the map-wide `ttl`/`idle`.
    expire_after: Option<SharedPolicy<K, V>>,
    /// Whether reads can move deadlines (the policy says, or `idle`): else reads skip it.
    reads_move: bool,
    /// The limits this store shares with the other shards of its map (`E::POOLED` only).
    pool: Option<std::sync::Arc<Pool>>,
    /// What this store has claimed from the pool and not stored yet: a place (0 or 1) and
    /// weight.
    claimed: (usize, u64),
}

impl<K, V, S, E: Expiry, O> core::fmt::Debug for Store<K, V, S, E, O> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Store")
            .field("len", &self.nodes.len())
            .field("max", &self.max)
            .finish_non_exhaustive()
    }
}

/// What a weighed map's entries weigh: slab-aligned, and their sum. Kept only when the
/// per-entry state is `Weighed` (`E::WEIGHED`, a constant), so for every other map each branch
/// on them compiles away; the work is out of line, where it cannot disturb the hot paths.
#[derive(Clone, Debug, Default)]
struct Weights {
    each: Vec<u64>,
    total: u64,
}

impl Weights {
    #[cold]
    #[inline(never)]
    fn push_unweighed(&mut self) {
        self.each.push(0);
    }

    /// Forgets the weight at `index` (the last one moves there); returns it.
    #[cold]
    #[inline(never)]
    fn swap_remove(&mut self, index: u32) -> u64 {
        let weight = self.each.swap_remove(index as usize);
        self.total -= weight;
        weight
    }
}

/// Whether an entry taken out had already gone in all but fact: its scope ended, or its
/// deadline passed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Gone {
    pub(crate) scope_ended: bool,
    pub(crate) expired: bool,
}

/// A clock reading as the policy sees it.
#[inline]
fn since_origin(now: u64) -> core::time::Duration {
    core::time::Duration::from_nanos(now)
}

/// Hashes a key with the map's hasher; the one place keys are hashed.
#[inline]
fn hash_key<S: BuildHasher, Q: Hash + ?Sized>(hasher: &S, key: &Q) -> u64 {
    hasher.hash_one(key)
}

impl<K, V, S, E: Expiry, O: EvictionOrder> Store<K, V, S, E, O> {
    /// The most entries this store holds: fewer when its order keeps marks in the links.
    const LIMIT: usize = if O::MARKS { MARKED_LIMIT } else { MAX_LIMIT };

    pub(crate) fn new(max: usize, hasher: S, expiry: E) -> Self {
        Self {
            nodes: Vec::new(),
            table: HashTable::new(),
            ends: Ends::default(),
            hasher,
            max: max.min(Self::LIMIT),
            stamps: expiry,
            order: O::default(),
            weights: Weights::default(),
            erased: 0,
            scopes: None,
            expire_after: None,
            reads_move: false,
            pool: None,
            claimed: (0, 0),
        }
    }

    /// Shares what its order shares across shards with the other shards of its map (see
    /// `EvictionOrder::shard_template`).
    pub(crate) fn join_order(&mut self, template: &O)
    where
        O: EvictionOrder,
    {
        self.order.join(template);
    }

    /// Shares the (empty) store's bound (if `pool` counts) and weight budget with the other
    /// shards of its map, which hold the same `pool`.
    pub(crate) fn join_pool(&mut self, pool: std::sync::Arc<Pool>) {
        debug_assert!(E::POOLED && self.nodes.is_empty());
        self.pool = Some(pool);
    }

    /// The pool, in a store that shares its limits (never for a single map: a constant).
    #[inline]
    fn pool(&self) -> Option<&Pool> {
        if E::POOLED {
            self.pool.as_deref()
        } else {
            None
        }
    }

    /// The pool, if it holds the bound (a bounded map's shard).
    #[inline]
    fn counting_pool(&self) -> Option<&Pool> {
        self.pool().filter(|pool| pool.counts())
    }

    /// Claims a place for one more entry: whether there is one (for a store whose bound is
    /// its own: whether it is not full). A claimed place is this store's until its next
    /// `push_front` (or [`release_claims`](Self::release_claims)).
    pub(crate) fn claim_place(&mut self) -> bool {
        let Some(pool) = self.counting_pool() else {
            return !self.is_full();
        };
        if self.claimed.0 == 0 {
            if !pool.claim(1, self.max, 0, 0) {
                return false;
            }
            self.claimed.0 = 1;
        }
        true
    }

    /// Claims `extra` weight within `max_weight`, the whole map's in a pooled store: whether
    /// it fits. Claimed weight is this store's until its next `set_weight`.
    pub(crate) fn claim_weight(&mut self, extra: u64, max_weight: u64) -> bool {
        let Some(pool) = self.pool() else {
            return self.weights.total.saturating_add(extra) <= max_weight;
        };
        if !pool.claim(0, 0, extra, max_weight) {
            return false;
        }
        self.claimed.1 += extra;
        true
    }

    /// Gives back what was claimed and not stored.
    pub(crate) fn release_claims(&mut self) {
        let (places, weight) = core::mem::take(&mut self.claimed);
        if let Some(pool) = self.pool() {
            pool.release(places, weight);
        }
    }

    /// Lets `policy` decide the deadlines of the entries written from now on.
    pub(crate) fn set_expire_after(&mut self, policy: SharedPolicy<K, V>) {
        self.stamps.timer_mut().start();
        self.reads_move = policy.reads_move_deadlines();
        self.expire_after = Some(policy);
    }

    /// An empty store with room for `capacity` entries (at most `max`) allocated up front.
    pub(crate) fn with_capacity(max: usize, hasher: S, expiry: E, capacity: usize) -> Self {
        let mut store = Self::new(max, hasher, expiry);
        let capacity = capacity.min(store.max);
        store.nodes = Vec::with_capacity(capacity);
        store.table = HashTable::with_capacity(capacity);
        store
    }

    /// Tags entries with the scope that writes them from now on: the current scope of the
    /// lifetime in `slot` (the store must be empty).
    pub(crate) fn enable_scopes(&mut self, slot: usize) {
        debug_assert!(self.nodes.is_empty() && E::SCOPE_TAGS);
        self.scopes = Some(Box::new(ScopeTags::new(slot)));
    }

    /// Entries not waiting to leave with an ended scope: what a map's `len` reports.
    #[inline]
    pub(crate) fn live_len(&self) -> usize {
        self.nodes.len() - self.scopes.as_deref().map_or(0, ScopeTags::pending_entries)
    }

    /// Takes every entry out (as `take_all`), each with whether it belongs to a scope that
    /// has ended or is past its deadline.
    pub(crate) fn take_all_marked(
        &mut self,
    ) -> impl Iterator<Item = (NodeOf<K, V, E>, Gone)> + use<K, V, S, E, O> {
        let ended = self
            .scopes
            .as_deref_mut()
            .map_or_else(Vec::new, ScopeTags::ended_slots);
        let now = self.clock();
        self.take_all()
            .into_iter()
            .enumerate()
            .map(move |(slot, node)| {
                let gone = Gone {
                    scope_ended: ended.get(slot).copied().unwrap_or(false),
                    // A constant `false` without expiry: drops pay nothing for it.
                    expired: E::ENABLED && node.stamp.deadline() <= now,
                };
                (node, gone)
            })
    }

    /// Whether the entry at `index` belongs to a scope that has ended (it leaves at the map's
    /// next write). A constant `false` except in a map that settles itself (see `Tagged`): a
    /// shard's layer removes ended entries before any lookup.
    #[inline]
    pub(crate) fn scope_ended(&self, index: u32) -> bool {
        E::SELF_SETTLING && self.scope_ended_now(index)
    }

    #[cold]
    #[inline(never)]
    fn scope_ended_now(&self, index: u32) -> bool {
        self.scopes
            .as_deref()
            .is_some_and(|scopes| scopes.has_ended_entry(index))
    }

    /// The entries' scope tags, for a map with a scoped lifetime.
    #[inline]
    pub(crate) fn scopes(&self) -> Option<&ScopeTags> {
        self.scopes.as_deref()
    }

    /// The ids of ended scopes whose entries are to leave now (none for `process` maps).
    #[inline]
    pub(crate) fn ended_scopes(&mut self) -> Option<Vec<u64>> {
        let scopes = self.scopes.as_deref_mut()?;
        scopes.has_pending().then(|| scopes.take_pending())
    }

    /// The sum of the entries' weights (0 without a weight budget).
    #[inline]
    pub(crate) fn total_weight(&self) -> u64 {
        self.weights.total
    }

    /// What the weight budget is checked against: the whole map's weight in a pooled store,
    /// else [`total_weight`](Self::total_weight).
    #[inline]
    pub(crate) fn budget_weight(&self) -> u64 {
        self.pool().map_or(self.weights.total, Pool::weight)
    }

    /// The weight recorded for the entry at `index`.
    #[inline]
    pub(crate) fn weight_at(&self, index: u32) -> u64 {
        self.weights.each.get(index as usize).copied().unwrap_or(0)
    }

    /// Records `weight` for the entry at `index`; returns the weight it had.
    pub(crate) fn set_weight(&mut self, index: u32, weight: u64) -> u64 {
        let Some(slot) = self.weights.each.get_mut(index as usize) else {
            return 0;
        };
        let old = core::mem::replace(slot, weight);
        self.weights.total = self.weights.total - old + weight;
        if E::POOLED {
            self.pool_reweighed(old, weight);
        }
        old
    }

    /// The pool's weight follows a weight set from `old` to `new` (what was claimed for it
    /// is in the pool already).
    fn pool_reweighed(&mut self, old: u64, new: u64) {
        let owed = old + core::mem::take(&mut self.claimed.1);
        if let Some(pool) = self.pool() {
            if new >= owed {
                pool.add(0, new - owed);
            } else {
                pool.release(0, owed - new);
            }
        }
    }

    /// A constant per map type: `false` compiles every expiry branch away.
    #[inline]
    pub(crate) const fn has_expiry() -> bool {
        E::ENABLED
    }

    /// Whether the entry at `index` has expired by the clock reading `now`.
    #[inline]
    pub(crate) fn is_expired(&self, index: u32, now: u64) -> bool {
        E::ENABLED && self.deadline_at(index) <= now
    }

    /// The deadline of the entry at `index` ([`NEVER`] if it has none).
    #[inline]
    fn deadline_at(&self, index: u32) -> u64 {
        self.nodes[index as usize].stamp.deadline()
    }

    /// Whether the entry at `index` has expired by the clock's current time.
    #[inline]
    pub(crate) fn expired_now(&self, index: u32) -> bool {
        E::ENABLED && self.is_expired(index, self.stamps.timer().now())
    }

    /// The expiry clock's time (0 for a map without expiry, which reads no clock): read once
    /// per operation and passed to the `_at` methods.
    #[inline]
    pub(crate) fn clock(&self) -> u64 {
        if E::ENABLED {
            self.stamps.timer().now()
        } else {
            0
        }
    }

    /// Whether reads can move deadlines: the policy says so, or the map has an `idle`.
    #[inline]
    fn reads_move_deadlines(&self) -> bool {
        E::ENABLED && (self.reads_move || self.stamps.timer().reads_move_deadlines())
    }

    /// Records a read at `now`: the policy (or `idle`) may move the entry's deadline.
    #[inline]
    pub(crate) fn mark_read_at(&mut self, index: u32, now: u64) {
        if self.reads_move_deadlines() {
            self.reschedule_read(index, now);
        }
    }

    /// [`mark_read_at`](Self::mark_read_at) now; no clock is read unless reads move deadlines.
    #[inline]
    pub(crate) fn mark_read(&mut self, index: u32) {
        if self.reads_move_deadlines() {
            self.reschedule_read(index, self.clock());
        }
    }

    #[inline(never)]
    fn reschedule_read(&mut self, index: u32, now: u64) {
        let deadline = match &self.expire_after {
            Some(policy) => Some(self.asked(index, now, |node, at, left| {
                policy.after_read(&node.key, &node.value, at, left)
            })),
            None => self.stamps.timer().read_deadline(index as usize, now),
        };
        self.move_deadline(index, deadline);
    }

    /// The deadline the policy's answer `ask` gives the entry at `index` at `now`, from what
    /// its deadline leaves.
    fn asked(
        &self,
        index: u32,
        now: u64,
        ask: impl FnOnce(
            &NodeOf<K, V, E>,
            core::time::Duration,
            Option<core::time::Duration>,
        ) -> Option<core::time::Duration>,
    ) -> u64 {
        let left = time_left(self.deadline_at(index), now);
        deadline_after(
            now,
            ask(&self.nodes[index as usize], since_origin(now), left),
        )
    }

    /// Moves the entry at `index` to `deadline`, if it has one to move to.
    fn move_deadline(&mut self, index: u32, deadline: Option<u64>) {
        if let Some(deadline) = deadline {
            self.set_deadline_at(index, deadline);
        }
    }

    /// Gives the entry at `index` `deadline`, and the timer its new place.
    #[inline]
    fn set_deadline_at(&mut self, index: u32, deadline: u64) {
        let len = self.nodes.len();
        let stamp = &mut self.nodes[index as usize].stamp;
        let old = core::mem::replace(stamp, Stamp::at(deadline)).deadline();
        self.stamps
            .timer_mut()
            .set_deadline(index as usize, len, old, deadline);
    }

    /// Records a write at `now` (a new value for the entry at `index`): the deadline the
    /// caller chose, else the policy's, else the map-wide `ttl`/`idle`'s.
    #[inline]
    pub(crate) fn mark_written_at(&mut self, index: u32, now: u64) {
        if E::ENABLED {
            self.reschedule_write(index, now);
        }
        // A constant: only shards keep tags (see `Tagged`).
        if E::SCOPE_TAGS {
            if let Some(scopes) = self.scopes.as_deref_mut() {
                scopes.rewrite(index);
            }
        }
    }

    fn reschedule_write(&mut self, index: u32, now: u64) {
        let chosen = self.stamps.timer_mut().take_chosen();
        self.stamps.timer_mut().wrote(index as usize, now);
        let deadline = match (chosen, &self.expire_after) {
            (Some(ttl), _) => Some(now.saturating_add(ttl)),
            (None, Some(policy)) => Some(self.asked(index, now, |node, at, left| {
                policy.after_update(&node.key, &node.value, at, left)
            })),
            (None, None) => self.stamps.timer().written_deadline(now),
        };
        self.move_deadline(index, deadline);
    }

    /// The deadline of a new entry written at `now`: the caller's chosen time from now, the
    /// policy's, or the map-wide `ttl`/`idle`'s.
    #[inline]
    fn new_deadline(&mut self, key: &K, value: &V, now: u64) -> u64 {
        match self.stamps.timer_mut().take_chosen() {
            Some(ttl) => now.saturating_add(ttl),
            None => self.created_deadline(key, value, now),
        }
    }

    /// The deadline of a new entry written at `now`: the caller's, the policy's, or the
    /// map-wide `ttl`/`idle`'s.
    #[inline]
    fn created_deadline(&self, key: &K, value: &V, now: u64) -> u64 {
        match &self.expire_after {
            Some(policy) => deadline_after(now, policy.after_create(key, value, since_origin(now))),
            None => self.stamps.timer().written_deadline(now).unwrap_or(NEVER),
        }
    }

    /// Gives the next entry written (created or updated) the deadline `ttl` from the write,
    /// over the policy's; `None` forgets a choice not used.
    pub(crate) fn choose_ttl(&mut self, ttl: Option<core::time::Duration>) {
        if E::ENABLED {
            let len = self.nodes.len();
            self.stamps
                .timer_mut()
                .choose(ttl.map(crate::storage::expiry::nanos), len);
        }
    }

    /// The time the entry at `index` has left; `None` if it does not expire.
    pub(crate) fn ttl_at(&self, index: u32) -> Option<core::time::Duration> {
        time_left(self.deadline_at(index), self.stamps.timer().clock_now())
    }

    /// Gives the entry at `index` the deadline `ttl` from now; `None`: it never expires.
    pub(crate) fn set_ttl_at(&mut self, index: u32, ttl: Option<core::time::Duration>) {
        if E::ENABLED {
            let deadline = deadline_after(self.stamps.timer().clock_now(), ttl);
            self.set_deadline_at(index, deadline);
        }
    }

    /// One entry whose deadline passed at least a tick ago (see `storage::wheel`), if any;
    /// it is still stored, and is found again until it leaves or gets a later deadline.
    #[inline]
    pub(crate) fn next_expired(&mut self) -> Option<u32> {
        self.next_expired_at(self.clock())
    }

    /// Whether no entry can be found expired by the clock reading `now` (inline: most
    /// operations learn only this).
    #[inline]
    pub(crate) fn nothing_due(&self, now: u64) -> bool {
        !E::ENABLED || self.stamps.timer().nothing_due(now)
    }

    /// [`next_expired`](Self::next_expired) by the clock reading `now`.
    #[inline]
    pub(crate) fn next_expired_at(&mut self, now: u64) -> Option<u32> {
        if E::ENABLED {
            self.stamps.timer_mut().next_expired(now, &self.nodes[..])
        } else {
            None
        }
    }

    /// The key-lifetime histogram, if the map records one.
    pub(crate) fn ages(&self) -> Option<std::sync::Arc<crate::storage::ages::Ages>> {
        self.stamps.timer().ages()
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }

    #[inline]
    pub(crate) fn max(&self) -> usize {
        self.max
    }

    /// Sets the bound; the caller evicts what no longer fits.
    pub(crate) fn set_max(&mut self, max: usize) {
        self.max = max.min(Self::LIMIT);
    }

    /// Whether the store is at its bound (in a bounded map's shard, the whole map at its).
    #[inline]
    pub(crate) fn is_full(&self) -> bool {
        match self.counting_pool() {
            Some(pool) => pool.count() >= self.max,
            None => self.nodes.len() >= self.max,
        }
    }

    /// Entries storable before either the slab or the table reallocates.
    pub(crate) fn capacity(&self) -> usize {
        self.nodes.capacity().min(self.table.capacity())
    }

    /// Heap bytes held by the slab and the table. An estimate: it models hashbrown's layout
    /// (a power-of-two count of `u32` slots, one control byte each plus one trailing group).
    pub(crate) fn heap_bytes(&self) -> usize {
        const GROUP_WIDTH: usize = 16;
        let table = match self.table.capacity() {
            0 => 0,
            // Small tables keep one slot free; larger ones run at 7/8 load.
            cap if cap < 7 => (cap + 1).next_power_of_two(),
            cap => (cap * 8 / 7).next_power_of_two(),
        };
        let table_bytes = if table == 0 {
            0
        } else {
            table * (size_of::<u32>() + 1) + GROUP_WIDTH
        };
        let stamps = self.stamps.timer().heap_bytes();
        let queues = self.order.heap_bytes() + self.weights.each.capacity() * size_of::<u64>();
        let queues = queues + self.scopes.as_deref().map_or(0, ScopeTags::heap_bytes);
        self.nodes.capacity() * size_of::<NodeOf<K, V, E>>() + table_bytes + stamps + queues
    }

    pub(crate) fn hasher(&self) -> &S {
        &self.hasher
    }

    #[inline]
    pub(crate) fn node(&self, index: u32) -> &NodeOf<K, V, E> {
        &self.nodes[index as usize]
    }

    #[inline]
    pub(crate) fn node_mut(&mut self, index: u32) -> &mut NodeOf<K, V, E> {
        &mut self.nodes[index as usize]
    }

    /// The least recent entry, if any.
    #[inline]
    pub(crate) fn back(&self) -> Option<u32> {
        (self.ends.back != NIL).then_some(self.ends.back)
    }

    /// The last slab position, if any: removing it moves no other node.
    #[inline]
    pub(crate) fn last_slot(&self) -> Option<u32> {
        self.nodes.len().checked_sub(1).map(|i| i as u32)
    }

    /// Nodes in slab order (arbitrary, but stable while the map is not modified).
    pub(crate) fn slab_mut(&mut self) -> SlabMut<'_, K, V> {
        <StampOf<E>>::slab_mut(&mut self.nodes)
    }

    /// A cursor over the recency list, front (most recent) to back.
    pub(crate) fn recency(&self) -> Recency<'_, K, V> {
        Recency {
            nodes: <StampOf<E>>::slab(&self.nodes),
            front: self.ends.front,
            back: self.ends.back,
            remaining: self.nodes.len(),
            marks: O::MARKS,
        }
    }

    /// Takes every node out at once, leaving an empty store that holds no memory.
    pub(crate) fn take_all(&mut self) -> Vec<NodeOf<K, V, E>> {
        self.table = HashTable::new();
        // A new table has no tombstones (the count only bounds them; see `make_table_room`).
        self.erased = 0;
        self.ends = Ends::default();
        self.stamps.timer_mut().clear();
        if let Some(pool) = self.pool() {
            let places = if pool.counts() { self.nodes.len() } else { 0 };
            pool.release(places, self.weights.total);
        }
        if E::WEIGHED {
            self.weights.each = Vec::new();
            self.weights.total = 0;
        }
        if let Some(scopes) = self.scopes.as_deref_mut() {
            scopes.clear();
        }
        self.order.reset();
        core::mem::take(&mut self.nodes)
    }

    /// Records a use of the entry (a hit or an overwrite), whose key hashed to `hash`: LRU
    /// moves it to the front; the adaptive policy writes one byte. O(1).
    #[inline]
    pub(crate) fn promote(&mut self, index: u32, hash: u64) {
        O::used(self, index, hash);
    }

    /// Counts the entry as used without a request for it (see `EvictionOrder::requeue`).
    #[inline]
    pub(crate) fn requeue(&mut self, index: u32) {
        O::requeue(self, index);
    }
}

impl<K: Hash, V, S: BuildHasher, E: Expiry, O: EvictionOrder> Store<K, V, S, E, O> {
    #[inline]
    pub(crate) fn hash<Q: Hash + ?Sized>(&self, key: &Q) -> u64 {
        hash_key(&self.hasher, key)
    }

    /// The entry to evict next (see `EvictionOrder::next_victim`); `None` when empty.
    /// Amortized O(1).
    pub(crate) fn next_victim(&mut self) -> Option<u32> {
        O::next_victim(self, hash_key::<S, K>)
    }

    /// Finds the slab position of `key`. O(1) average.
    #[inline]
    pub(crate) fn find<Q>(&self, hash: u64, key: &Q) -> Option<u32>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let nodes = &self.nodes;
        self.table
            .find(hash, |&i| nodes[i as usize].key.borrow() == key)
            .copied()
    }

    /// Finds the slab position of the entry with `hash` whose key satisfies `matches` — for
    /// keys that cannot be compared through `Borrow` (weak keys compare by pointee).
    #[inline]
    pub(crate) fn find_by(&self, hash: u64, matches: impl Fn(&K) -> bool) -> Option<u32> {
        let nodes = &self.nodes;
        self.table
            .find(hash, |&i| matches(&nodes[i as usize].key))
            .copied()
    }

    /// Makes room for one more node without letting the slab outgrow `max`; returns whether
    /// the slab grew.
    fn reserve_one(&mut self) -> bool {
        let (len, cap) = (self.nodes.len(), self.nodes.capacity());
        if len == cap {
            // Never reserve past `max` (nor below one more node).
            let target = (cap * 2).max(4).min(self.max).max(len + 1);
            self.nodes.reserve_exact(target - len);
            true
        } else {
            false
        }
    }

    /// Adds a key known to be absent as the most recent entry, its deadline dated from the
    /// clock reading `now` (ignored without expiry). The caller has checked the bound.
    /// Returns its slot, and whether the slab grew to make room (after inlining, the branch
    /// that grows it: so callers learn it for free).
    pub(crate) fn push_front(&mut self, hash: u64, key: K, value: V, now: u64) -> (u32, bool) {
        let grew = self.reserve_one();
        if E::ENABLED && grew {
            let capacity = self.nodes.capacity();
            self.stamps.timer_mut().reserve_to(capacity);
        }
        let index = self.nodes.len() as u32;
        // The table first: growing it rehashes every key with user `Hash`, which may panic,
        // and then nothing may have changed (see `ManagedMap`'s "When `Hash` or `Eq` panics").
        // The rehash hashes only the nodes already there, so `index` need not exist yet.
        self.reserve_table_slot();
        self.index_as(hash, index);
        let stamp = if E::ENABLED {
            let deadline = self.new_deadline(&key, &value, now);
            Stamp::at(self.stamps.timer_mut().push(now, deadline))
        } else {
            Stamp::at(NEVER)
        };
        let next = self.ends.front;
        self.nodes.push(Node {
            key,
            value,
            prev: unlinked_prev(O::MARKS),
            next,
            stamp,
        });
        O::pushed(self, index, next, hash);
        self.pushed_extras(index);
        (index, grew)
    }

    /// The new entry's weight and scope, last, where they cannot disturb the rest (see
    /// `Weights`); weighed by the caller once stored (`set_weight`).
    #[inline]
    fn pushed_extras(&mut self, index: u32) {
        if E::WEIGHED {
            self.weights.push_unweighed();
        }
        if E::POOLED {
            self.pooled_push();
        }
        // A constant: only shards keep tags (see `Tagged`).
        if E::SCOPE_TAGS {
            if let Some(scopes) = self.scopes.as_deref_mut() {
                scopes.push(index);
            }
        }
    }

    /// A new entry takes its place in the pool's count: the one claimed for it, if any.
    #[inline]
    fn pooled_push(&mut self) {
        if let Some(pool) = self.counting_pool() {
            if self.claimed.0 == 0 {
                pool.add(1, 0);
            }
            self.claimed.0 = 0;
        }
    }

    /// Evicts the entry at `victim` by reusing its slot for a key known to be absent, which
    /// arrives as a new key does (see `place`), its deadline dated from the clock reading
    /// `now`. Returns the evicted entry. Cheaper than remove + push: no node moves and the
    /// slab keeps its size.
    pub(crate) fn replace_at(
        &mut self,
        victim: u32,
        hash: u64,
        key: K,
        value: V,
        now: u64,
    ) -> (K, V) {
        // User `Hash` runs only before anything changes.
        let victim_hash = self.hash(&self.nodes[victim as usize].key);
        self.reserve_table_slot();
        self.forget_index(victim_hash, victim);
        let node = &mut self.nodes[victim as usize];
        let old_key = core::mem::replace(&mut node.key, key);
        let old_value = core::mem::replace(&mut node.value, value);
        O::reborn(self, victim, victim_hash, hash);
        if E::ENABLED {
            // The new entry is created, not updated: the policy's `after_create` decides.
            let chosen = self.stamps.timer_mut().take_chosen();
            let node = &self.nodes[victim as usize];
            let deadline = match chosen {
                Some(ttl) => now.saturating_add(ttl),
                None => self.created_deadline(&node.key, &node.value, now),
            };
            let old = self.deadline_at(victim);
            let kept = self
                .stamps
                .timer_mut()
                .reborn(victim as usize, now, old, deadline);
            self.nodes[victim as usize].stamp = Stamp::at(kept);
        }
        if E::SCOPE_TAGS {
            if let Some(scopes) = self.scopes.as_deref_mut() {
                scopes.rewrite(victim);
            }
        }
        self.index_as(hash, victim);
        (old_key, old_value)
    }

    /// Puts slab position `index` in the table under `hash`; the caller made room first
    /// (`reserve_table_slot`), so nothing rehashes.
    #[inline]
    fn index_as(&mut self, hash: u64, index: u32) {
        let Self {
            nodes,
            table,
            hasher,
            ..
        } = self;
        table.insert_unique(hash, index, |&i| hash_key(hasher, &nodes[i as usize].key));
    }

    /// Removes the entry at `index`, returning it. O(1) average; may shrink the storage.
    ///
    /// Every call of user `Hash` (the entry's, the moved node's, a shrinking rehash) comes
    /// before the first change, so a panicking `Hash` leaves the store as it was.
    pub(crate) fn remove_at(&mut self, index: u32) -> (K, V) {
        let own_hash = self.hash(&self.nodes[index as usize].key);
        let moved_hash = self.moved_hash(index);
        self.shrink_table_for_removal();
        self.forget_index(own_hash, index);
        self.detach(index, moved_hash)
    }

    /// Removes `key` with one probe (the table slot is taken as it is found). O(1) average.
    pub(crate) fn remove_key<Q>(&mut self, hash: u64, key: &Q) -> Option<(K, V)>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        if self.table_shrinks_on_removal() {
            return self.remove_key_and_shrink(hash, key);
        }
        let Self {
            nodes,
            table,
            hasher,
            ..
        } = self;
        let entry = table
            .find_entry(hash, |&i| nodes[i as usize].key.borrow() == key)
            .ok()?;
        let index = *entry.get();
        // Hashed while the table still holds the entry: a panic here changes nothing.
        let last = nodes.len() - 1;
        let moved_hash = (index as usize != last).then(|| hash_key(hasher, &nodes[last].key));
        entry.remove();
        self.erased += 1;
        Some(self.detach(index, moved_hash))
    }

    /// `remove_key` when the table is due to shrink. Rare (amortized over the removals before
    /// it) and out of line: the shrink must come before the first change, so the slot is found
    /// first and the general path taken.
    #[cold]
    #[inline(never)]
    fn remove_key_and_shrink<Q>(&mut self, hash: u64, key: &Q) -> Option<(K, V)>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let index = self.find(hash, key)?;
        Some(self.remove_at(index))
    }

    /// The hash of the node that moves into `index` when it is removed (the last one), if
    /// any moves.
    fn moved_hash(&self, index: u32) -> Option<u64> {
        let last = self.nodes.len() - 1;
        (index as usize != last).then(|| self.hash(&self.nodes[last].key))
    }

    /// Takes the node at `index` out of the list and the slab, once the table has forgotten
    /// it. The last node moves into the hole; `moved_hash` is its hash. Runs no user code.
    /// Always inlined: out of line it costs ~40 instructions per removal (callgrind, churn).
    #[allow(clippy::inline_always, reason = "measured, see above")]
    #[inline(always)]
    fn detach(&mut self, index: u32, moved_hash: Option<u64>) -> (K, V) {
        O::unlink(self, index);
        let last = (self.nodes.len() - 1) as u32;
        let removed = self.nodes.swap_remove(index as usize);
        O::swap_removed(self, index, moved_hash.map(|_| last));
        self.stamps.timer_mut().swap_remove(index as usize);
        if let Some(hash) = moved_hash {
            self.renumber(last, index, hash);
        }
        self.shrink_slab_if_sparse();
        if E::WEIGHED {
            let weight = self.weights.swap_remove(index);
            if let Some(pool) = self.pool() {
                pool.release(0, weight);
            }
        }
        if let Some(pool) = self.counting_pool() {
            pool.release(1, 0);
        }
        // A constant: only shards keep tags (see `Tagged`).
        if E::SCOPE_TAGS {
            if let Some(scopes) = self.scopes.as_deref_mut() {
                scopes.swap_remove(index);
            }
        }
        (removed.key, removed.value)
    }

    /// Drops the table's reference to slab position `index`, whose key hashes to `hash`.
    fn forget_index(&mut self, hash: u64, index: u32) {
        self.erased += 1;
        if let Ok(entry) = self.table.find_entry(hash, |&i| i == index) {
            entry.remove();
        } else {
            // Only reachable when a key's hash changed while stored (interior mutability or a
            // non-deterministic `Hash`): stay correct at O(n) rather than panic.
            self.table.retain(|&mut i| i != index);
        }
    }

    /// The node formerly at `from` now sits at `to` (its links already follow): repoint the
    /// table.
    #[allow(
        clippy::inline_always,
        reason = "inlined into `detach`, as before it took a hash"
    )]
    #[inline(always)]
    fn renumber(&mut self, from: u32, to: u32, hash: u64) {
        if let Some(slot) = self.table.find_mut(hash, |&i| i == from) {
            *slot = to;
        } else if let Some(slot) = self.table.iter_mut().find(|i| **i == from) {
            // See `forget_index`: a key whose hash changed while stored.
            *slot = to;
        }
    }

    /// Gives memory back once live entries fall to a quarter of what is allocated, shrinking
    /// to twice the live count. Growth doubles and shrinking halves (at least), so a workload
    /// that inserts and removes around one size cannot make it reallocate back and forth;
    /// each shrink is paid for by the removals before it (amortized O(1)).
    ///
    /// The slab shrinks after a removal; the table, whose rehash runs user `Hash`, just before
    /// one (`shrink_table_for_removal`), so that a panic finds nothing changed.
    #[inline]
    fn shrink_slab_if_sparse(&mut self) {
        let len = self.nodes.len();
        if self.nodes.capacity() > MIN_KEPT_SLOTS && len <= self.nodes.capacity() / 4 {
            self.shrink_slab_to(len * 2);
        }
    }

    /// Out of line: rare, and inlined it would grow every removal.
    #[cold]
    #[inline(never)]
    fn shrink_slab_to(&mut self, capacity: usize) {
        self.nodes.shrink_to(capacity);
        self.stamps.timer_mut().shrink_to(capacity);
        if E::WEIGHED {
            self.weights.each.shrink_to(capacity);
        }
        if let Some(scopes) = self.scopes.as_deref_mut() {
            scopes.shrink_to(capacity);
        }
        self.order.shrink_to(capacity);
    }

    /// Whether the table is due to shrink once one more entry is removed.
    #[inline]
    fn table_shrinks_on_removal(&self) -> bool {
        let len_after = self.nodes.len() - 1;
        self.table.capacity() > MIN_KEPT_SLOTS && len_after <= self.table.capacity() / 4
    }

    /// Shrinks the table ahead of a removal that leaves it sparse (see `shrink_slab_if_sparse`).
    /// hashbrown's resize leaves the old table intact if a hash panics.
    fn shrink_table_for_removal(&mut self) {
        if self.table_shrinks_on_removal() {
            let len_after = self.nodes.len() - 1;
            let Self {
                nodes,
                table,
                hasher,
                ..
            } = self;
            table.shrink_to(len_after * 2, |&i| hash_key(hasher, &nodes[i as usize].key));
        }
    }

    /// Makes room in the table for one more index, so that the insert that follows a change
    /// to the slab never rehashes (rehashing runs user `Hash`, which may panic).
    #[inline]
    fn reserve_table_slot(&mut self) {
        if self.table.capacity() == self.table.len() {
            self.make_table_room();
        }
    }

    /// Room for one more index in a table that has none left. Erasing an index (a
    /// replacement erases its victim's, a removal its own) often leaves a tombstone, which
    /// uses up the room; hashbrown's `reserve` then doubles a table more than half full,
    /// though the map holds no more than before: an evicting map's table doubled after about
    /// 45,000 replacements at 100,000 entries (37.1 instead of 30.6 bytes per entry in
    /// `heap_bytes`). After erasures the table is rebuilt instead, sized for one more index
    /// than it holds, which drops the tombstones and keeps its size unless it is really full.
    /// O(n); `table` changes only once every key has been hashed.
    #[cold]
    #[inline(never)]
    fn make_table_room(&mut self) {
        let Self {
            nodes,
            table,
            hasher,
            erased,
            ..
        } = self;
        let hash_at = |&i: &u32| hash_key(hasher, &nodes[i as usize].key);
        if *erased == 0 {
            table.reserve(1, hash_at);
        } else {
            let mut rebuilt = HashTable::with_capacity(table.len() + 1);
            for index in table.iter() {
                rebuilt.insert_unique(hash_at(index), *index, hash_at);
            }
            *table = rebuilt;
        }
        *erased = 0;
    }

    /// Releases all spare memory. O(n).
    pub(crate) fn shrink_to_fit(&mut self) {
        self.nodes.shrink_to_fit();
        self.stamps.timer_mut().shrink_to(0);
        self.weights.each.shrink_to_fit();
        let len = self.nodes.len();
        if let Some(scopes) = self.scopes.as_deref_mut() {
            scopes.shrink_to(len);
        }
        self.order.shrink_to(len);
        let Self {
            nodes,
            table,
            hasher,
            ..
        } = self;
        table.shrink_to_fit(|&i| hash_key(hasher, &nodes[i as usize].key));
    }
}

/// Walks the recency list from both ends.
pub(crate) struct Recency<'a, K, V> {
    nodes: Slab<'a, K, V>,
    front: u32,
    back: u32,
    remaining: usize,
    /// Whether the `prev` links carry marks (`EvictionOrder::MARKS`).
    marks: bool,
}

impl<K, V> Clone for Recency<'_, K, V> {
    fn clone(&self) -> Self {
        Self { ..*self }
    }
}

impl<'a, K, V> Recency<'a, K, V> {
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.remaining
    }

    /// The node at `at` (key, value and links), counted out; `None` once every node was walked.
    #[inline]
    fn take(&mut self, at: u32) -> Option<(&'a K, &'a V, u32, u32)> {
        self.remaining = self.remaining.checked_sub(1)?;
        Some(self.nodes.at(at))
    }

    #[inline]
    pub(crate) fn next_front(&mut self) -> Option<(&'a K, &'a V)> {
        let (key, value, _, next) = self.take(self.front)?;
        self.front = next;
        Some((key, value))
    }

    #[inline]
    pub(crate) fn next_back(&mut self) -> Option<(&'a K, &'a V)> {
        let (key, value, prev, _) = self.take(self.back)?;
        self.back = prev_link(self.marks, prev);
        Some((key, value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::order::AdaptiveOrder;
    use hashbrown::DefaultHashBuilder;

    fn order(store: &Store<u32, u32, DefaultHashBuilder>) -> Vec<u32> {
        let mut cursor = store.recency();
        core::iter::from_fn(|| cursor.next_front().map(|(key, _)| *key)).collect()
    }

    fn push(store: &mut Store<u32, u32, DefaultHashBuilder>, key: u32) -> u32 {
        let hash = store.hash(&key);
        store.push_front(hash, key, key * 10, 0).0
    }

    #[test]
    fn replacements_and_removals_at_max_never_grow_the_table() {
        let mut store = Store::new(100, DefaultHashBuilder::default(), NoExpiry);
        for key in 0..100 {
            push(&mut store, key);
        }
        let filled = store.table.allocation_size();
        // Evictions: each replaces the least recent entry, erasing its index.
        for key in 100..2_000 {
            let hash = store.hash(&key);
            let back = store.back().unwrap();
            store.replace_at(back, hash, key, key * 10, 0);
        }
        // Removal, then insert of a new key, at the bound.
        for key in 2_000..4_000 {
            let back = store.back().unwrap();
            store.remove_at(back);
            push(&mut store, key);
        }
        assert_eq!(store.table.allocation_size(), filled);
        assert_eq!(store.len(), 100);
        for key in 3_900..4_000 {
            let index = store.find(store.hash(&key), &key).unwrap();
            assert_eq!(store.node(index).key, key);
        }
    }

    #[test]
    fn removal_from_the_middle_keeps_links_and_index_consistent() {
        let mut store = Store::new(10, DefaultHashBuilder::default(), NoExpiry);
        for key in 0..5 {
            push(&mut store, key);
        }
        assert_eq!(order(&store), [4, 3, 2, 1, 0]);
        // Slot 1 holds key 1; removing it moves key 4 (last slot) into slot 1.
        assert_eq!(store.remove_at(1), (1, 10));
        assert_eq!(order(&store), [4, 3, 2, 0]);
        for key in [0, 2, 3, 4] {
            let index = store.find(store.hash(&key), &key).unwrap();
            assert_eq!(store.node(index).key, key);
        }
        assert_eq!(store.find(store.hash(&1), &1), None);
    }

    #[test]
    fn replace_at_reuses_the_victims_slot() {
        let mut store = Store::new(3, DefaultHashBuilder::default(), NoExpiry);
        for key in 0..3 {
            push(&mut store, key);
        }
        let index0 = store.find(store.hash(&0), &0).unwrap();
        store.promote(index0, store.hash(&0));
        let hash = store.hash(&7);
        let victim = store.back().unwrap();
        assert_eq!(store.replace_at(victim, hash, 7, 70, 0), (1, 10));
        assert_eq!(order(&store), [7, 0, 2]);
        assert_eq!(store.len(), 3);
        assert!(store.find(store.hash(&1), &1).is_none());
    }

    #[test]
    fn two_queues_stay_consistent_through_every_operation() {
        let mut store: Store<u32, u32, DefaultHashBuilder, NoExpiry, AdaptiveOrder> =
            Store::new(24, DefaultHashBuilder::default(), NoExpiry);
        // A fixed pseudo-random walk over inserts, hits, evictions and removals.
        let mut seed = 0x2545_f491_u32;
        let mut next = move |n: u32| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed % n
        };
        let steps = if cfg!(miri) { 2_000 } else { 20_000 };
        for _ in 0..steps {
            let key = next(60);
            let hash = store.hash(&key);
            match (next(10), store.find(hash, &key)) {
                (0..=4, Some(index)) => store.promote(index, hash),
                (0..=4, None) if store.is_full() => {
                    let victim = store.next_victim().unwrap();
                    store.replace_at(victim, hash, key, key, 0);
                }
                (0..=4, None) => {
                    store.push_front(hash, key, key, 0);
                }
                (5..=6, Some(index)) => {
                    assert_eq!(store.remove_at(index), (key, key));
                }
                // Callers never remove from an empty store.
                (7, _) if store.len() > 0 => {
                    store.remove_key(hash, &key);
                }
                (8, _) => store.set_max(1 + next(30) as usize),
                // Both orders the adaptive policy switches between keep the split.
                (9, _) if next(4) == 0 => store.order.switch_for_test(store.max()),
                _ => {
                    while store.len() > store.max() {
                        let victim = store.next_victim().unwrap();
                        store.remove_at(victim);
                    }
                }
            }
            store.assert_adaptive_consistent();
        }
    }

    #[test]
    fn growth_stops_at_max() {
        let mut store = Store::new(5, DefaultHashBuilder::default(), NoExpiry);
        for key in 0..5 {
            push(&mut store, key);
        }
        assert_eq!(store.nodes.capacity(), 5);
    }
}
