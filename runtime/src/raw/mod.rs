//! The core under every map kind: [`RawMap`], a store with its figures and budget, and every
//! operation on them. `ManagedMap` and `WeakKeyMap` own one; a concurrent map's shard is one.
//! Operations hand values back or record what left in the map's departures; they never run a
//! hook, and never know which public type called them. The owner takes the departures after
//! each operation and runs their hooks once (`hooks::run_departed`).

use core::borrow::Borrow;
use core::fmt;
use core::hash::{BuildHasher, Hash};
use core::marker::PhantomData;
use std::borrow::Cow;
use std::panic::Location;

use hashbrown::DefaultHashBuilder;

use crate::RemovalCause;
use crate::builder::assert_valid_max;
use crate::departures::{Departed, Departures, KeepAll, Keeping, Resize, Settle, Shard};
use crate::error::CapacityError;
use crate::policy::{Evicting, Lru, OrderOf, Policy, Reject};
use crate::registry::{self, MapMetrics};
use crate::scope::{Lifetime, ManagedCache};
use crate::stats::MapStats;
use crate::storage::expiry::{Expiry, NoExpiry, SharedPolicy};
use crate::storage::scopes::ScopeTags;
use crate::storage::store::{Gone, NodeOf, Store};
use crate::storage::weigher::Weigher;
use core::time::Duration;
pub(crate) mod iter;

use iter::{Iter, IterMut, Keys, Values, ValuesMut};

/// Why an entry leaves when its map is dropped: with its scope, if that has ended; expired,
/// if its deadline passed; else dropped.
pub(crate) fn cause_at_drop(gone: Gone) -> RemovalCause {
    left_already(gone).unwrap_or(RemovalCause::Dropped)
}

/// The cause an entry taken out had already left with but for the removal: its scope's end
/// or its deadline.
fn left_already(gone: Gone) -> Option<RemovalCause> {
    if gone.scope_ended {
        Some(RemovalCause::ScopeEnded)
    } else if gone.expired {
        Some(RemovalCause::Expired)
    } else {
        None
    }
}

/// At most this many expired entries depart at each write; a write that needs room takes
/// more, and `maintain` takes all.
const EXPIRED_PER_WRITE: usize = 8;

/// An entry taken out at a drop, with the cause it leaves with.
pub(crate) type Leaving<K, V, E> = (NodeOf<K, V, E>, RemovalCause);

/// The map every single-threaded kind owns, and each concurrent map's shard: the store, the
/// figures, what left during the current operation, and every operation on them. `R` says
/// whether what leaves is kept for the owner's hooks ([`Keeping`]).
pub(crate) struct RawMap<K, V, P: Policy, S = DefaultHashBuilder, R = KeepAll, E = NoExpiry>
where
    P: Policy,
    R: Keeping,
    E: Expiry,
{
    store: Store<K, V, S, E, OrderOf<P>>,
    /// What left since the owner last took it (always empty unless `R::KEEPS`).
    departed: Departures<K, V>,
    lifetime: Lifetime,
    name: Cow<'static, str>,
    /// This map's figures in the registry; registered on creation, gone when dropped.
    metrics: MapMetrics,
    /// The weight budget, if any ([`crate::weight`]).
    budget: Option<Budget<K, V>>,
    policy: PhantomData<fn() -> (P, R)>,
}

/// A map's weight budget: what its entries may weigh together, and what weighs them.
struct Budget<K, V> {
    max_weight: u64,
    /// `None` when a wrapper weighs entries itself (the weak-keyed maps, whose weigher sees
    /// the weak key) and passes the weights in.
    weigher: Option<Weigher<K, V>>,
}

impl<K, V> Clone for Budget<K, V> {
    fn clone(&self) -> Self {
        Self {
            max_weight: self.max_weight,
            weigher: self.weigher.clone(),
        }
    }
}

impl<K, V, P: Policy, S, R: Keeping, E: Expiry> RawMap<K, V, P, S, R, E> {
    pub(crate) fn from_parts(
        store: Store<K, V, S, E, OrderOf<P>>,
        lifetime: Lifetime,
        name: Cow<'static, str>,
        site: &'static Location<'static>,
    ) -> Self
    where
        P: Policy,
    {
        let mut store = store;
        // A clone's store comes with its tags; only `Tagged` maps keep any.
        let untagged = E::SELF_SETTLING && store.scopes().is_none();
        if let Some(slot) = lifetime.scope_slot().filter(|_| untagged) {
            store.enable_scopes(slot);
        }
        let unscoped = store.scopes().map(ScopeTags::published_unscoped);
        let identity = registry::Identity {
            name: name.to_string(),
            lifetime,
            policy: P::NAME,
            max: store.max(),
            site,
        };
        let metrics = registry::register(identity, (store.ages(), unscoped));
        Self::with_metrics(store, lifetime, name, metrics)
    }

    /// A map publishing its figures through `metrics` (a concurrent map's shard).
    pub(crate) fn with_metrics(
        store: Store<K, V, S, E, OrderOf<P>>,
        lifetime: Lifetime,
        name: Cow<'static, str>,
        metrics: MapMetrics,
    ) -> Self {
        // Storage reserved up front (`Builder::capacity`) shows in the registry from the start.
        if store.capacity() > 0 {
            metrics.resized(store.heap_bytes(), store.max());
        }
        Self {
            store,
            departed: Departures::default(),
            lifetime,
            name,
            metrics,
            budget: None,
            policy: PhantomData,
        }
    }

    /// Gives the (empty) map a weight budget. Its entries' weights are kept only if its
    /// per-entry state is [`Weighed`](crate::weight::Weighed): the builders and `FieldConfig`
    /// see to that.
    pub(crate) fn with_budget(mut self, max_weight: u64, weigher: Option<Weigher<K, V>>) -> Self {
        debug_assert!(E::WEIGHED, "a budget without weights");
        self.metrics.weight_budget(max_weight);
        self.budget = Some(Budget {
            max_weight,
            weigher,
        });
        self
    }

    /// What the entries weigh together: 0 for a map without a weight budget. Entries are
    /// weighed when written (see [`crate::weight`]).
    pub(crate) fn weight(&self) -> u64 {
        self.store.total_weight()
    }

    /// The weight budget, if the map has one.
    pub(crate) fn max_weight(&self) -> Option<u64> {
        self.budget.as_ref().map(|budget| budget.max_weight)
    }

    /// Sets the weight budget and nothing else (a shard's layer sheds, over every shard).
    ///
    /// # Panics
    ///
    /// If `max_weight` is 0.
    pub(crate) fn set_weight_limit(&mut self, max_weight: u64) {
        crate::builder::assert_valid_max_weight(max_weight);
        if let Some(budget) = self.budget.as_mut() {
            budget.max_weight = max_weight;
            self.metrics.weight_budget(max_weight);
        }
    }

    /// What `key` and `value` weigh under this map's weigher (0 without a budget).
    #[inline]
    pub(crate) fn weigh(&self, key: &K, value: &V) -> u64 {
        match self
            .budget
            .as_ref()
            .and_then(|budget| budget.weigher.as_ref())
        {
            Some(weigher) => weigher.weigh(key, value),
            None => 0,
        }
    }

    /// Whether the map has a weight budget: never unless its entries are
    /// [`Weighed`](crate::expiry::Weighed), so this compiles to `false` for every other map.
    #[inline]
    fn has_budget(&self) -> bool {
        E::WEIGHED && self.budget.is_some()
    }

    /// The weight budget (`u64::MAX` without one).
    #[inline]
    fn weight_limit(&self) -> u64 {
        self.budget
            .as_ref()
            .map_or(u64::MAX, |budget| budget.max_weight)
    }

    /// Takes every entry out at once, counted as leaving with `cause`; the caller passes each
    /// one to the hooks. O(1): what a concurrent map does under its lock.
    pub(crate) fn take_all_leaving(&mut self, cause: RemovalCause) -> Vec<NodeOf<K, V, E>> {
        self.metrics.removed_many(cause, self.store.len() as u64);
        self.metrics.resized(0, self.store.max());
        self.store.take_all()
    }

    /// [`take_all_settled`](Self::take_all_settled), counted as handed back: a concurrent
    /// map's `drain`.
    pub(crate) fn take_all_handed_back(&mut self) -> Vec<(K, V)> {
        let rest = self.take_all_settled();
        self.metrics.taken(rest.len() as u64);
        self.metrics.resized(0, self.store.max());
        rest
    }

    /// Takes every entry out (a drain, an owning iteration): an ended scope's entries depart
    /// with [`RemovalCause::ScopeEnded`] and expired ones with [`RemovalCause::Expired`], as
    /// they would have at the map's next operation; the rest come back, in slab order. Hashes
    /// nothing.
    pub(crate) fn take_all_settled(&mut self) -> Vec<(K, V)> {
        let mut rest = Vec::with_capacity(self.store.len());
        for (node, gone) in self.store.take_all_marked() {
            match left_already(gone) {
                Some(cause) => self.depart(node.key, node.value, cause),
                None => rest.push((node.key, node.value)),
            }
        }
        rest
    }

    /// The map's name: the builder's [`name`](Builder::name), `Type.field` for a
    /// `#[mapguard::managed]` field, or else the call site that created it.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The lifetime whose scope end clears this map ([`Lifetime::Process`] unless the builder
    /// set another).
    pub(crate) fn lifetime(&self) -> Lifetime {
        self.lifetime
    }

    /// The map's figures in the registry: the owner counts its hooks' panics there.
    pub(crate) fn metrics(&self) -> &MapMetrics {
        &self.metrics
    }

    /// Whether a lookup can make an entry depart (an expired one, or an ended scope's): never
    /// in a map without expiry or scopes of its own, whose reads then have no hooks to run.
    pub(crate) const LOOKUPS_DEPART: bool = Store::<K, V, S, E>::has_expiry() || E::SELF_SETTLING;

    /// Records a value that left during an operation, with why: counted now, kept for the
    /// owner's hooks if `R` keeps (else dropped here). Every value that leaves without being
    /// handed back passes here.
    #[inline]
    pub(crate) fn depart(&mut self, key: K, value: V, cause: RemovalCause) {
        self.metrics.removed(cause);
        if R::KEEPS {
            self.departed.push(key, value, cause);
        }
    }

    /// A value that never got in (refused, or too heavy for the whole budget): counted in and
    /// out, so the registry's length stays exact, and departing with `cause`.
    pub(crate) fn release_unstored(&mut self, key: K, value: V, cause: RemovalCause) {
        self.metrics.inserted_in_place();
        self.depart(key, value, cause);
    }

    /// What left since the last call, for the owner's hooks.
    #[inline]
    pub(crate) fn take_departed(&mut self) -> Departures<K, V> {
        self.departed.take()
    }

    /// What left since the last call, taken out as the iterator goes, and the figures to
    /// count the hooks' panics in: for the owner's hooks, without moving the departures.
    #[inline]
    pub(crate) fn drain_departed(
        &mut self,
    ) -> (impl Iterator<Item = Departed<K, V>> + '_, &MapMetrics) {
        (self.departed.drain(), &self.metrics)
    }

    /// Whether anything left since the last [`take_departed`](Self::take_departed) (never,
    /// unless `R` keeps).
    #[inline]
    pub(crate) fn has_departed(&self) -> bool {
        R::KEEPS && !self.departed.is_empty()
    }

    /// Number of entries.
    pub(crate) fn len(&self) -> usize {
        self.store.len()
    }

    /// Whether the map holds no entries.
    pub(crate) fn is_empty(&self) -> bool {
        self.store.len() == 0
    }

    /// The most entries the map will hold.
    pub(crate) fn max(&self) -> usize {
        self.store.max()
    }

    /// Entries the map can hold before it reallocates. Grows with the entries, never past
    /// `max`.
    pub(crate) fn capacity(&self) -> usize {
        self.store.capacity()
    }

    /// Estimated heap bytes held by the map's own storage (not by what keys and values own).
    pub(crate) fn heap_bytes(&self) -> usize {
        self.store.heap_bytes()
    }

    /// The map's hasher.
    pub(crate) fn hasher(&self) -> &S {
        self.store.hasher()
    }

    /// Iterates over entries from most to least recent (recently used for [`LruMap`],
    /// recently written for [`BoundedMap`]). Does not change the order.
    pub(crate) fn iter(&self) -> Iter<'_, K, V> {
        Iter::new(self.store.recency())
    }

    /// Iterates over entries with mutable values, in arbitrary order. Does not change the
    /// recency order.
    pub(crate) fn iter_mut(&mut self) -> IterMut<'_, K, V> {
        IterMut::new(self.store.slab_mut())
    }

    /// Iterates over keys from most to least recent.
    pub(crate) fn keys(&self) -> Keys<'_, K, V> {
        Keys { inner: self.iter() }
    }

    /// Iterates over values from most to least recent.
    pub(crate) fn values(&self) -> Values<'_, K, V> {
        Values { inner: self.iter() }
    }

    /// Iterates over mutable values in arbitrary order.
    pub(crate) fn values_mut(&mut self) -> ValuesMut<'_, K, V> {
        ValuesMut {
            inner: self.iter_mut(),
        }
    }
}

impl<K: Hash, V, P: Policy, S: BuildHasher, R: Keeping, E: Expiry> RawMap<K, V, P, S, R, E> {
    /// Slab position of `key`, live or expired. Always inlined: it is the whole of every
    /// lookup, and a call costs more than its body outside the probe (callgrind: ~13
    /// instructions per lookup).
    #[allow(clippy::inline_always, reason = "measured, see above")]
    #[inline(always)]
    fn locate<Q>(&self, key: &Q) -> Option<u32>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if self.store.len() == 0 {
            return None;
        }
        self.store.find(self.store.hash(key), key)
    }

    /// [`locate`](Self::locate) with the key's hash already taken (a concurrent map hashes
    /// once, to choose the shard; its shards' hashers are clones of its own).
    #[allow(clippy::inline_always, reason = "as `locate`")]
    #[inline(always)]
    fn locate_hashed<Q>(&self, hash: u64, key: &Q) -> Option<u32>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        if self.store.len() == 0 {
            return None;
        }
        self.store.find(hash, key)
    }

    /// Finds a live entry; an expired one, or an ended scope's, is invisible (`&self` cannot
    /// purge it).
    #[inline]
    fn find<Q>(&self, key: &Q) -> Option<u32>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.locate(key)
            .filter(|&index| !self.store.expired_now(index) && !self.store.scope_ended(index))
    }

    /// [`find`](Self::find) with the key's hash already taken.
    #[inline]
    fn find_hashed<Q>(&self, hash: u64, key: &Q) -> Option<u32>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        self.locate_hashed(hash, key)
            .filter(|&index| !self.store.expired_now(index) && !self.store.scope_ended(index))
    }

    /// Finds a live entry, whose key hashed to `hash`, cleaning an expired one on the way
    /// ([`RemovalCause::Expired`]).
    #[inline]
    fn find_live_hashed<Q>(&mut self, hash: u64, key: &Q) -> Option<u32>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let index = self.locate_hashed(hash, key)?;
        self.live_or_depart(index)
    }

    /// [`find_live`](Self::find_live) for a read: an absent key counts as a miss (a found
    /// one is counted by `read_at`).
    #[inline]
    pub(crate) fn find_for_read<Q>(&mut self, key: &Q) -> Option<u32>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.find_hashed_for_read(self.store.hash(key), key)
    }

    /// [`find_for_read`](Self::find_for_read) with the key's hash already taken.
    #[inline]
    pub(crate) fn find_hashed_for_read<Q>(&mut self, hash: u64, key: &Q) -> Option<u32>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let found = self.locate_hashed(hash, key);
        let read = found.and_then(|index| self.read_live(index, hash));
        if read.is_none() {
            self.count_miss();
        }
        read
    }

    /// The entry at `index`, if live, read: counted as a hit, promoted if the policy promotes
    /// on reads, its deadline moved if reads move it. One clock reading for all of it.
    /// Otherwise it departs (expired, or its scope ended) and nothing is counted.
    #[inline]
    pub(crate) fn read_live(&mut self, index: u32, hash: u64) -> Option<u32> {
        let now = self.store.clock();
        let index = self.live_or_depart_at(index, now)?;
        self.metrics.lookup(true);
        if P::READS_PROMOTE {
            self.store.promote(index, hash);
        }
        self.store.mark_read_at(index, now);
        Some(index)
    }

    /// `Some(index)` if the entry is live; otherwise it departs, expired or with its ended
    /// scope.
    #[inline]
    pub(crate) fn live_or_depart(&mut self, index: u32) -> Option<u32> {
        self.live_or_depart_at(index, self.store.clock())
    }

    /// [`live_or_depart`](Self::live_or_depart) by the clock reading `now`.
    #[inline]
    pub(crate) fn live_or_depart_at(&mut self, index: u32, now: u64) -> Option<u32> {
        if self.store.scope_ended(index) {
            self.depart_at(index, RemovalCause::ScopeEnded);
            None
        } else if Store::<K, V, S, E>::has_expiry() && self.store.is_expired(index, now) {
            self.depart_at(index, RemovalCause::Expired);
            None
        } else {
            Some(index)
        }
    }

    /// Takes the entry at `index` out; it departs with `cause`. Out of line so that the
    /// operations that seldom come here keep a small hot path.
    #[cold]
    #[inline(never)]
    pub(crate) fn depart_at(&mut self, index: u32, cause: RemovalCause) {
        let (key, value) = self.store.remove_at(index);
        self.depart(key, value, cause);
    }

    /// Bounded expiry work done by every write: up to [`EXPIRED_PER_WRITE`] entries the
    /// timer wheel finds past their deadline depart. O(1) amortised; nothing without expiry.
    /// A write that needs room takes more (see `expired_victim`), so a backlog never costs
    /// a live entry its place.
    ///
    /// What expires departs: its hooks wait until the write is done.
    #[inline]
    pub(crate) fn expire_some(&mut self) {
        self.expire_some_at(self.store.clock());
    }

    /// [`expire_some`](Self::expire_some) by the clock reading `now`.
    #[inline]
    pub(crate) fn expire_some_at(&mut self, now: u64) {
        if Store::<K, V, S, E>::has_expiry() && !self.store.nothing_due(now) {
            self.expire_up_to(EXPIRED_PER_WRITE, now);
        }
        // A map that settles its own scopes: their ended entries go first, so that they make
        // room before anything is evicted (see `storage::scopes::Tagged`).
        if E::SELF_SETTLING {
            self.depart_ended();
        }
    }

    /// Up to `limit` expired entries depart ([`RemovalCause::Expired`]); how many did.
    #[inline(never)]
    fn expire_up_to(&mut self, limit: usize, now: u64) -> usize {
        let mut expired = 0;
        while expired < limit {
            let Some(index) = self.store.next_expired_at(now) else {
                break;
            };
            self.depart_at(index, RemovalCause::Expired);
            expired += 1;
        }
        expired
    }

    /// An expired entry to make room with, before the policy is asked for a live victim.
    #[inline]
    fn expired_victim(&mut self) -> Option<u32> {
        if Store::<K, V, S, E>::has_expiry() {
            self.store.next_expired()
        } else {
            None
        }
    }

    /// Makes room for one more entry in a full map from its expired entries (by the clock
    /// reading `now`), if it has any: whether it did.
    pub(crate) fn room_from_expired_at(&mut self, now: u64) -> bool {
        Store::<K, V, S, E>::has_expiry() && self.expire_up_to(1, now) == 1
    }

    /// Claims a place for one more entry within the bound (a shard: the whole map's; see
    /// `storage::pool`), freeing one from the expired entries if need be: whether it did.
    fn claim_place_at(&mut self, now: u64) -> bool {
        self.store.claim_place() || (self.room_from_expired_at(now) && self.store.claim_place())
    }

    /// Claims room for one more entry weighing `weight` in a map that never evicts: a place
    /// and its weight within the limits (a shard: the whole map's), or nothing at all.
    pub(crate) fn claim_room(&mut self, weight: u64, now: u64) -> bool {
        let claimed = self.claim_place_at(now)
            && (!self.has_budget() || self.store.claim_weight(weight, self.weight_limit()));
        if !claimed {
            self.store.release_claims();
        }
        claimed
    }

    /// Clears the map with [`RemovalCause::ScopeEnded`] if it has `lifetime`; how many left.
    /// O(n).
    pub(crate) fn end_scope(&mut self, lifetime: Lifetime) -> usize {
        if lifetime == self.lifetime {
            self.metrics.scope_ended();
            let count = self.remove_all(RemovalCause::ScopeEnded);
            if count > 0 {
                self.metrics.scope_entries_left(count, true);
            }
            count
        } else {
            0
        }
    }

    /// Removes ended scopes' entries ([`RemovalCause::ScopeEnded`]) and expired ones
    /// ([`RemovalCause::Expired`]; none without `ttl`/`idle`), and refreshes the registry's
    /// figures; how many left. O(n).
    pub(crate) fn maintain(&mut self) -> usize {
        let purged = self.settle_scopes() + self.purge_expired();
        self.metrics
            .resized(self.store.heap_bytes(), self.store.max());
        purged
    }

    /// Every entry the timer wheel finds expired departs with [`RemovalCause::Expired`];
    /// how many. O(expired) amortised.
    pub(crate) fn purge_expired(&mut self) -> usize {
        if Store::<K, V, S, E>::has_expiry() {
            self.expire_up_to(usize::MAX, self.store.clock())
        } else {
            0
        }
    }

    /// Evicts in the policy's order until one more entry weighing `incoming` fits beside the
    /// rest (count and weight), or, with `keep`, until the map is within its budget without
    /// evicting `keep`'s entry unless nothing else is left.
    fn shed(&mut self, incoming: u64, mut keep: Option<u32>) {
        let limit = self.weight_limit();
        loop {
            let over_count = keep.is_none() && self.store.is_full();
            let over_weight = self.store.budget_weight().saturating_add(incoming) > limit;
            if !(over_count || over_weight) {
                break;
            }
            let Some(victim) = self.expired_victim().or_else(|| self.store.next_victim()) else {
                break;
            };
            if keep == Some(victim) {
                if self.store.len() == 1 {
                    break;
                }
                // The policy chose the entry being written: count it as used and ask again.
                // Others lose a turn each time round, so one of them comes up (LRU: at once).
                self.store.requeue(victim);
                continue;
            }
            let cause = self.victim_cause(victim);
            // The last slab node moves into the victim's slot.
            let last = self.store.last_slot();
            self.depart_at(victim, cause);
            if keep.is_some() && keep == last {
                keep = Some(victim);
            }
        }
    }

    /// Evicts in the policy's order (expired entries first), at most `at_most` entries, while
    /// the map — for a shard whose budget is shared, the whole map — weighs more than its
    /// budget, or until this map is empty; how many it evicted.
    pub(crate) fn shed_over_budget(&mut self, at_most: usize) -> usize {
        let limit = self.weight_limit();
        let mut shed = 0;
        while shed < at_most && self.store.budget_weight() > limit {
            let Some(victim) = self.expired_victim().or_else(|| self.store.next_victim()) else {
                break;
            };
            let cause = self.victim_cause(victim);
            self.depart_at(victim, cause);
            shed += 1;
        }
        self.metrics.weighed(self.store.total_weight());
        shed
    }

    /// Changes the value for `key` in place and returns what `change` returned (`None` if
    /// the key is absent). Counted as [`get_mut`](Self::get_mut) is: a hit, a use of the
    /// entry, and a read for the idle timer (`ttl` still runs from the last insert).
    pub(crate) fn update<Q, T>(&mut self, key: &Q, change: impl FnOnce(&mut V) -> T) -> Option<T>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.update_hashed(self.store.hash(key), key, change)
    }

    /// [`update`](Self::update) with the key's hash already taken: a concurrent map's shard
    /// is given the hash that chose it.
    #[inline]
    pub(crate) fn update_hashed<Q, T>(
        &mut self,
        hash: u64,
        key: &Q,
        change: impl FnOnce(&mut V) -> T,
    ) -> Option<T>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let index = self.find_hashed_for_read(hash, key)?;
        let result = change(self.value_at_mut(index));
        if self.has_budget() {
            self.reweigh(index);
        }
        Some(result)
    }

    /// Re-weighs the entry at `index` after a change, and sheds what no longer fits.
    #[cold]
    #[inline(never)]
    fn reweigh(&mut self, index: u32) {
        let node = self.store.node(index);
        let weight = self.weigh(&node.key, &node.value);
        self.reweigh_into(index, weight);
    }

    /// Whether one entry weighing `weight` is more than the whole budget allows.
    #[inline]
    fn too_heavy(&self, weight: u64) -> bool {
        weight > self.weight_limit()
    }

    /// Re-weighs the entry at `index` after a write (for a map without a budget: nothing).
    /// Over the budget, an evicting map evicts others; the entry itself leaves with
    /// `Evicted` when it alone is too heavy, or when the map never evicts others. `index` may
    /// be stale afterwards.
    pub(crate) fn reweigh_into(&mut self, index: u32, weight: u64) {
        if !self.has_budget() {
            return;
        }
        self.store.set_weight(index, weight);
        let over = self.store.budget_weight() > self.weight_limit();
        if self.too_heavy(weight) || (!P::EVICTS && over) {
            self.depart_at(index, RemovalCause::Evicted);
        } else if P::EVICTS {
            self.shed(0, Some(index));
        }
        self.metrics.weighed(self.store.total_weight());
    }

    /// Stores a key known to be absent in a map that never evicts, once the caller has
    /// claimed room ([`claim_room`](Self::claim_room)).
    pub(crate) fn push_weighed(
        &mut self,
        hash: u64,
        key: K,
        value: V,
        weight: u64,
        now: u64,
    ) -> u32 {
        let index = self.push_absent(hash, key, value, now);
        if self.has_budget() {
            self.store.set_weight(index, weight);
            self.metrics.weighed(self.store.total_weight());
        }
        index
    }

    /// Whether `key` is present. Does not change the recency order, but counts as a lookup
    /// (a hit or a miss in the registry's figures), so a cache read as `contains_key` then
    /// `insert` shows its misses. [`peek`](Self::peek) is the read that counts nothing.
    pub(crate) fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.contains_key_hashed(self.store.hash(key), key)
    }

    /// [`contains_key`](Self::contains_key) with the key's hash already taken: a concurrent
    /// map's shard is given the hash that chose it.
    pub(crate) fn contains_key_hashed<Q>(&self, hash: u64, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let found = self.find_hashed(hash, key).is_some();
        self.count_lookup_shared(found);
        found
    }

    /// The value for `key`, without changing the recency order.
    pub(crate) fn peek<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.find(key).map(|i| &self.store.node(i).value)
    }

    /// [`peek`](Self::peek) with the key's hash already taken.
    pub(crate) fn peek_hashed<Q>(&self, hash: u64, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        self.find_hashed(hash, key)
            .map(|i| &self.store.node(i).value)
    }

    /// The value for `key`, mutably, without changing the recency order.
    pub(crate) fn peek_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.find(key).map(|i| &mut self.store.node_mut(i).value)
    }

    /// The stored key and value for `key`, without changing the recency order.
    pub(crate) fn peek_key_value<Q>(&self, key: &Q) -> Option<(&K, &V)>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.find(key).map(|i| {
            let node = self.store.node(i);
            (&node.key, &node.value)
        })
    }

    /// Removes `key` and hands the stored key and value back to you; no hook runs.
    #[inline]
    pub(crate) fn remove_entry<Q>(&mut self, key: &Q) -> Option<(K, V)>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.remove_entry_hashed(self.store.hash(key), key)
    }

    /// `key`'s hash, by the map's hasher (user `Hash` runs).
    #[inline]
    pub(crate) fn hash_of<Q: Hash + ?Sized>(&self, key: &Q) -> u64 {
        self.store.hash(key)
    }

    /// Removes `key`'s entry and hands it back if `remove` says so of its value; one step.
    /// Counted as a lookup, not a use.
    pub(crate) fn remove_if_hashed<Q>(
        &mut self,
        hash: u64,
        key: &Q,
        remove: impl FnOnce(&V) -> bool,
    ) -> Option<(K, V)>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let index = self.find_live_hashed(hash, key);
        self.metrics.lookup(index.is_some());
        let taken = match index {
            Some(index) if remove(self.value_at(index)) => Some(self.take_at(index)),
            _ => None,
        };
        self.settle();
        taken
    }

    /// [`remove_entry`](Self::remove_entry) with the key's hash already taken.
    #[inline]
    pub(crate) fn remove_entry_hashed<Q>(&mut self, hash: u64, key: &Q) -> Option<(K, V)>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let removed = self.detach_key(hash, key);
        if removed.is_some() {
            self.metrics.taken(1);
        }
        self.settle();
        removed
    }

    /// Takes the entry of `key`, whose hash is `hash`, out of the storage; the caller decides
    /// where it goes.
    #[inline]
    fn detach_key<Q>(&mut self, hash: u64, key: &Q) -> Option<(K, V)>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        if Store::<K, V, S, E>::has_expiry() || E::SELF_SETTLING {
            // An expired entry, or an ended scope's, leaves through the hooks instead.
            let index = self.find_live_hashed(hash, key)?;
            Some(self.store.remove_at(index))
        } else if self.store.len() == 0 {
            None
        } else {
            self.store.remove_key(hash, key)
        }
    }

    /// Removes `key` through the cleanup path with [`RemovalCause::Explicit`]. Returns whether
    /// it was present. Use this rather than `remove` when you are done with the value: the
    /// hooks close what it holds.
    pub(crate) fn discard<Q>(&mut self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.discard_hashed(self.store.hash(key), key)
    }

    /// [`discard`](Self::discard) with the key's hash already taken.
    pub(crate) fn discard_hashed<Q>(&mut self, hash: u64, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let found = match self.detach_key(hash, key) {
            Some((key, value)) => {
                self.depart(key, value, RemovalCause::Explicit);
                true
            }
            None => false,
        };
        self.settle();
        found
    }

    /// Keeps only the entries for which `keep` returns `true`; the others go through the
    /// cleanup path with [`RemovalCause::Explicit`]. O(n).
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        self.settle();
        let mut index = 0;
        while index < self.store.len() {
            let node = self.store.node_mut(index as u32);
            if keep(&node.key, &mut node.value) {
                index += 1;
            } else {
                // The last node moves into `index`: look at it next.
                self.depart_at(index as u32, RemovalCause::Explicit);
            }
        }
    }

    /// Removes every entry through the cleanup path with [`RemovalCause::Cleared`], in
    /// arbitrary order, and frees the map's memory (unlike `std`'s `clear`). O(n).
    pub(crate) fn clear(&mut self) {
        self.settle();
        self.remove_all(RemovalCause::Cleared);
    }

    /// Removes every entry with `cause`: all out at once (the map is empty before the first
    /// hook runs), each departing.
    pub(crate) fn remove_all(&mut self, cause: RemovalCause) -> usize {
        let nodes = self.take_all_leaving(cause);
        let count = nodes.len();
        if R::KEEPS {
            for node in nodes {
                self.departed.push(node.key, node.value, cause);
            }
        }
        count
    }

    /// Releases all spare memory now rather than waiting for the automatic shrink. O(n).
    pub(crate) fn shrink_to_fit(&mut self) {
        self.store.shrink_to_fit();
    }

    /// The lookup of an entry API: after the insert's housekeeping, `Ok(index)` of a live
    /// entry for `key` (counted as a hit and used, as `get` does), or `Err` with the key and
    /// its hash for an insert. For an [`LruMap`], an occupied entry becomes the most recently
    /// used.
    pub(crate) fn find_entry(&mut self, key: K) -> Result<u32, (u64, K)>
    where
        K: Eq,
    {
        let now = self.store.clock();
        self.expire_some_at(now);
        let hash = self.store.hash(&key);
        let found = self.store.find(hash, &key);
        if let Some(index) = found.and_then(|index| self.live_or_depart_at(index, now)) {
            self.metrics.lookup(true);
            if P::READS_PROMOTE {
                self.store.promote(index, hash);
            }
            self.store.mark_read_at(index, now);
            Ok(index)
        } else {
            self.metrics.lookup(false);
            Err((hash, key))
        }
    }

    /// Stores `value` under `key` (known absent, room checked by the caller's policy).
    /// Inlined: left to LLVM, whether it is depends on unrelated code in the crate (an
    /// unrelated change once outlined it: +5% instructions on `BoundedMap` fill, callgrind).
    #[inline]
    pub(crate) fn push_absent(&mut self, hash: u64, key: K, value: V, now: u64) -> u32 {
        let (index, grew) = self.store.push_front(hash, key, value, now);
        self.metrics
            .inserted(self.store.len(), grew, || self.store.heap_bytes());
        index
    }

    /// Overwrites the value of a present `key`, whose hash is `hash`, making it the most
    /// recent entry; hands back its slot, and the caller's key with the old value. An absent
    /// key comes back as an [`Absent`] to store. Expired entries met on the way depart. The
    /// caller hashed first: if `Hash` panicked, nothing had left.
    #[inline]
    fn upsert_hashed(&mut self, hash: u64, key: K, value: V) -> Result<(u32, K, V), Absent<K, V>>
    where
        K: Eq,
    {
        let now = self.store.clock();
        self.expire_some_at(now);
        let found = self.store.find(hash, &key);
        match found.and_then(|index| self.live_or_depart_at(index, now)) {
            Some(index) => Ok((index, key, self.overwrite_at_time(index, hash, value, now))),
            None => Err(Absent {
                hash,
                key,
                value,
                now,
            }),
        }
    }
}

/// A key found absent by a write, with what storing it needs: its hash, the value, and the
/// lookup's clock reading (the new entry's deadline is dated from it).
struct Absent<K, V> {
    hash: u64,
    key: K,
    value: V,
    now: u64,
}

impl<K: Hash, V, P: Policy, S: BuildHasher, R: Keeping, E: Expiry> RawMap<K, V, P, S, R, E> {
    /// Removes the entries of scopes that have ended, with [`RemovalCause::ScopeEnded`]; how
    /// many. One branch for a `process` map, which has no scopes.
    #[allow(
        clippy::inline_always,
        reason = "before every operation of a concurrent map; out of line it cost 10 instructions a get"
    )]
    #[inline(always)]
    pub(crate) fn settle_scopes(&mut self) -> usize {
        match self.store.ended_scopes() {
            None => 0,
            Some(ended) => self.end_scopes(&ended),
        }
    }

    /// In a map that settles its own scopes (see `storage::scopes::Tagged`), the entries of
    /// scopes that have ended depart ([`RemovalCause::ScopeEnded`]). Called at the start of a
    /// whole-map operation (`retain`, `clear`, `set_max`, ...) and at the end of a removal
    /// (`discard`, `remove`); inserts settle with their other housekeeping (`expire_some`),
    /// and lookups skip an ended scope's entry and clean the one they meet. Nothing at all
    /// for every other map: a constant.
    #[inline]
    pub(crate) fn settle(&mut self) {
        if E::SELF_SETTLING {
            self.depart_ended();
        }
    }

    /// The entries of ended scopes depart, with [`RemovalCause::ScopeEnded`]. Out of line:
    /// it finds work only after a scope ended, and the operations stay small.
    #[cold]
    #[inline(never)]
    fn depart_ended(&mut self) {
        if let Some(ended) = self.store.ended_scopes() {
            self.end_scopes(&ended);
        }
    }

    /// The entries of the scopes `ended` depart, each scope's in O(its entries here); how
    /// many.
    #[cold]
    #[inline(never)]
    fn end_scopes(&mut self, ended: &[u64]) -> usize {
        let mut count = 0;
        for &id in ended {
            let slots = self
                .store
                .scopes()
                .map_or_else(Vec::new, |tags| tags.slots_of(id));
            count += slots.len();
            // Highest slot first: a removal moves only the last node, never one still to go.
            for index in slots {
                self.depart_at(index, RemovalCause::ScopeEnded);
            }
        }
        if count > 0 {
            self.metrics.scope_entries_left(count, false);
        }
        count
    }

    /// Sets the bound: an evicting map first evicts its excess, least valuable first
    /// ([`RemovalCause::Evicted`]); a bounded map keeps every entry and rejects new keys
    /// until it is under the bound again. The map is within its new bound before the first
    /// hook runs, so a panicking hook cannot leave it over the bound; the bound changes only
    /// once the excess is out, so if a key's `Hash` panics on the way the old bound holds.
    ///
    /// # Panics
    ///
    /// If `max` is 0.
    pub(crate) fn resize(&mut self, max: usize) {
        assert_valid_max(max);
        while P::EVICTS && self.store.len() > max {
            if let Some(expired) = self.expired_victim() {
                self.depart_at(expired, RemovalCause::Expired);
                continue;
            }
            let Some(victim) = self.store.next_victim() else {
                break;
            };
            self.depart_at(victim, RemovalCause::Evicted);
        }
        self.store.set_max(max);
        self.metrics
            .resized(self.store.heap_bytes(), self.store.max());
    }

    /// Takes the entry at `index` out to hand it back to the caller. Counted only once it is
    /// out: the removal runs user `Hash`, which may panic.
    #[inline]
    pub(crate) fn take_at(&mut self, index: u32) -> (K, V) {
        let taken = self.store.remove_at(index);
        self.metrics.taken(1);
        taken
    }
}

/// One entry's deadline: chosen for a write, read and changed afterwards.
impl<K, V, P: Policy, S, R: Keeping, E: Expiry> RawMap<K, V, P, S, R, E> {
    /// Lets `policy`, if any, decide the deadlines of the (empty) map's entries.
    pub(crate) fn with_expire_after(mut self, policy: Option<SharedPolicy<K, V>>) -> Self {
        self.set_expire_after(policy);
        self
    }

    /// [`with_expire_after`](Self::with_expire_after) in place.
    pub(crate) fn set_expire_after(&mut self, policy: Option<SharedPolicy<K, V>>) {
        if let Some(policy) = policy {
            self.store.set_expire_after(policy);
        }
    }

    /// The time the live entry at `index` has left; `None` if it does not expire.
    pub(crate) fn ttl_at(&self, index: u32) -> Option<Duration> {
        self.store.ttl_at(index)
    }

    /// Gives the entry at `index` the deadline `ttl` from now (`None`: never).
    pub(crate) fn set_ttl_at(&mut self, index: u32, ttl: Option<Duration>) {
        self.store.set_ttl_at(index, ttl);
    }
}

/// A map whose next write can be given a deadline of its caller's choosing.
pub(crate) trait ChoosesDeadline {
    /// Gives the next entry written (created or updated) the deadline `ttl` from now, over
    /// the policy's; `None` forgets a choice.
    fn choose_ttl(&mut self, ttl: Option<Duration>);
}

impl<K, V, P: Policy, S, R: Keeping, E: Expiry> ChoosesDeadline for RawMap<K, V, P, S, R, E> {
    fn choose_ttl(&mut self, ttl: Option<Duration>) {
        self.store.choose_ttl(ttl);
    }
}

/// Runs `write` on `map` with the deadline `ttl` from now chosen for the entry it writes. A
/// write that stores nothing (refused, or stopped by a panicking `Hash` or `Eq`) leaves no
/// choice behind.
pub(crate) fn with_ttl<M: ChoosesDeadline, T>(
    map: &mut M,
    ttl: Duration,
    write: impl FnOnce(&mut M) -> T,
) -> T {
    struct Forget<'a, M: ChoosesDeadline>(&'a mut M);
    impl<M: ChoosesDeadline> Drop for Forget<'_, M> {
        fn drop(&mut self) {
            self.0.choose_ttl(None);
        }
    }
    let chosen = Forget(map);
    chosen.0.choose_ttl(Some(ttl));
    write(chosen.0)
}

impl<K: Hash, V, P: Policy, S: BuildHasher, R: Keeping, E: Expiry> RawMap<K, V, P, S, R, E> {
    /// The time `key`'s entry has left; `None` if it is absent or does not expire.
    pub(crate) fn ttl_of<Q>(&self, key: &Q) -> Option<Duration>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.ttl_of_hashed(self.store.hash(key), key)
    }

    /// [`ttl_of`](Self::ttl_of) with the key's hash already taken.
    pub(crate) fn ttl_of_hashed<Q>(&self, hash: u64, key: &Q) -> Option<Duration>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        self.find_hashed(hash, key)
            .and_then(|index| self.store.ttl_at(index))
    }

    /// Gives `key`'s entry the deadline `ttl` from now (`None`: it never expires); whether
    /// the key was there.
    pub(crate) fn set_ttl<Q>(&mut self, key: &Q, ttl: Option<Duration>) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.set_ttl_hashed(self.store.hash(key), key, ttl)
    }

    /// [`set_ttl`](Self::set_ttl) with the key's hash already taken.
    pub(crate) fn set_ttl_hashed<Q>(&mut self, hash: u64, key: &Q, ttl: Option<Duration>) -> bool
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let found = self.find_live_hashed(hash, key);
        if let Some(index) = found {
            self.store.set_ttl_at(index, ttl);
        }
        found.is_some()
    }
}

/// Slot-level access for the maps built on a `RawMap` (the weak-keyed map, the concurrent
/// shards): they address entries by slab position and go through these methods, never
/// through the store, the listener or the counters.
impl<K, V, P: Policy, S, R: Keeping, E: Expiry> RawMap<K, V, P, S, R, E> {
    #[inline]
    pub(crate) fn key_at(&self, index: u32) -> &K {
        &self.store.node(index).key
    }

    #[inline]
    pub(crate) fn value_at(&self, index: u32) -> &V {
        &self.store.node(index).value
    }

    /// The key and value at `index`, uncounted.
    #[inline]
    pub(crate) fn key_value_at(&self, index: u32) -> (&K, &V) {
        let node = self.store.node(index);
        (&node.key, &node.value)
    }

    /// The value at `index`, mutably, uncounted and without promotion (for `retain`).
    #[inline]
    pub(crate) fn value_at_mut(&mut self, index: u32) -> &mut V {
        &mut self.store.node_mut(index).value
    }

    /// Why a victim leaves: past its deadline it expired; with an ended scope its scope ended;
    /// else the bound evicted it.
    #[inline]
    pub(crate) fn victim_cause(&self, victim: u32) -> RemovalCause {
        self.victim_cause_at(victim, self.store.clock())
    }

    /// [`victim_cause`](Self::victim_cause) by the clock reading `now`.
    #[inline]
    pub(crate) fn victim_cause_at(&self, victim: u32, now: u64) -> RemovalCause {
        if self.store.is_expired(victim, now) {
            RemovalCause::Expired
        } else if self.store.scope_ended(victim) {
            RemovalCause::ScopeEnded
        } else {
            RemovalCause::Evicted
        }
    }

    /// Whether the entry at `index` belongs to a scope that has ended (never, in a map
    /// without scope tags).
    #[inline]
    pub(crate) fn scope_ended_at(&self, index: u32) -> bool {
        self.store.scope_ended(index)
    }

    /// Whether the entry at `index` is past its deadline (never, without expiry).
    #[inline]
    pub(crate) fn expired_at(&self, index: u32) -> bool {
        self.store.expired_now(index)
    }

    /// The next eviction victim.
    #[inline]
    pub(crate) fn least_recent(&self) -> Option<u32> {
        self.store.back()
    }

    /// Stores `value` at `index` as a write (the entry becomes the most recent, both expiry
    /// timers restart); returns the value it replaced, for the caller to release.
    #[inline]
    pub(crate) fn overwrite_at(&mut self, index: u32, hash: u64, value: V) -> V {
        self.overwrite_at_time(index, hash, value, self.store.clock())
    }

    /// [`overwrite_at`](Self::overwrite_at) by the clock reading `now`.
    #[inline]
    pub(crate) fn overwrite_at_time(&mut self, index: u32, hash: u64, value: V, now: u64) -> V {
        self.store.promote(index, hash);
        self.rewrite_at(index, value, now)
    }

    /// Stores `value` at `index` as a write at `now`, without a use of the entry (an entry
    /// API's occupied entry was used when it was found); hands back the old value.
    #[inline]
    pub(crate) fn rewrite_at(&mut self, index: u32, value: V, now: u64) -> V {
        // The new value first: an expiry policy decides its deadline from it.
        let old = core::mem::replace(&mut self.store.node_mut(index).value, value);
        self.store.mark_written_at(index, now);
        old
    }

    /// The expiry clock's reading (0 without expiry).
    #[inline]
    pub(crate) fn clock(&self) -> u64 {
        self.store.clock()
    }

    /// Counts a lookup that found nothing.
    #[inline]
    pub(crate) fn count_miss(&self) {
        self.metrics.lookup(false);
    }

    /// Counts a lookup made through `&self` (which other threads may make at once).
    #[inline]
    pub(crate) fn count_lookup_shared(&self, hit: bool) {
        self.metrics.lookup_shared(hit);
    }

    /// Entries written with no current scope of the map's lifetime (a concurrent map's shard;
    /// 0 for `process` maps).
    pub(crate) fn unscoped(&self) -> usize {
        self.store.scopes().map_or(0, ScopeTags::unscoped)
    }

    /// Entries not waiting to leave with an ended scope (a concurrent map's shard).
    #[inline]
    pub(crate) fn live_len(&self) -> usize {
        self.store.live_len()
    }

    /// Takes every entry out at once, uncounted, each with its cause (`ScopeEnded` for an
    /// ended scope's, else `Dropped`): what an owner's `Drop` hands to its hooks (a wrapper
    /// may give some another cause).
    pub(crate) fn take_for_drop(&mut self) -> Vec<Leaving<K, V, E>> {
        self.store
            .take_all_marked()
            .map(|(node, gone)| (node, cause_at_drop(gone)))
            .collect()
    }

    /// At the owner's drop: whatever departed and was not taken yet, then every entry left,
    /// uncounted, each with the cause it leaves with (`ScopeEnded` for an ended scope's, else
    /// `Dropped`); and the figures, to count the hooks' panics in. Straight from the slab: no
    /// second vector of causes (fill-then-drop workloads paid 30% for one, callgrind).
    pub(crate) fn drain_for_drop(
        &mut self,
    ) -> (impl Iterator<Item = Departed<K, V>> + '_, &MapMetrics) {
        let left = self.departed.take().into_iter().chain(
            self.store
                .take_all_marked()
                .map(|(node, gone)| (node.key, node.value, cause_at_drop(gone))),
        );
        (left, &self.metrics)
    }
}

impl<K, V, P: Policy, S, R: Keeping, E: Expiry> RawMap<K, V, P, S, R, E> {
    /// The value at `index`, for a lookup that found it: counted as a hit, promoted if the
    /// policy promotes on reads, idle timer restarted. Always inlined: it is the rest of
    /// every hit, and LLVM outlined it once a lookup had several callers (+20% instructions
    /// a concurrent hit, callgrind).
    #[allow(clippy::inline_always, reason = "measured, see above")]
    #[inline(always)]
    pub(crate) fn read_at(&mut self, index: u32, hash: u64) -> &mut V {
        self.metrics.lookup(true);
        if P::READS_PROMOTE {
            self.store.promote(index, hash);
        }
        self.store.mark_read(index);
        &mut self.store.node_mut(index).value
    }
}

impl<K: Hash, V, P: Policy, S: BuildHasher, R: Keeping, E: Expiry> RawMap<K, V, P, S, R, E> {
    /// Position of the entry, among those whose key hashed to `hash`, whose key `matches`.
    #[inline]
    pub(crate) fn position_by(&self, hash: u64, matches: impl Fn(&K) -> bool) -> Option<u32> {
        if self.store.len() == 0 {
            return None;
        }
        self.store.find_by(hash, matches)
    }
}

impl<K: Hash, V, P: Policy, S: BuildHasher, E: Expiry> Settle for RawMap<K, V, P, S, KeepAll, E> {
    #[allow(
        clippy::inline_always,
        reason = "before every operation of a concurrent map; out of line it cost 10 instructions a get"
    )]
    #[inline(always)]
    fn settle_scopes(&mut self) -> usize {
        RawMap::settle_scopes(self)
    }

    fn shed_over_budget(&mut self, at_most: usize) -> usize {
        RawMap::shed_over_budget(self, at_most)
    }
}

impl<K: Hash, V, P: Policy, S: BuildHasher, E: Expiry> Resize for RawMap<K, V, P, S, KeepAll, E> {
    fn resize(&mut self, max: usize) {
        RawMap::resize(self, max);
    }

    fn set_weight_limit(&mut self, max_weight: u64) {
        RawMap::set_weight_limit(self, max_weight);
    }
}

/// A concurrent map's shard: what leaves under the lock waits in its departures.
impl<K, V, P: Policy, S, E: Expiry> Shard for RawMap<K, V, P, S, KeepAll, E> {
    type Key = K;
    type Value = V;
    type Taken =
        core::iter::Map<std::vec::IntoIter<NodeOf<K, V, E>>, fn(NodeOf<K, V, E>) -> (K, V)>;
    type Left = Vec<Departed<K, V>>;

    #[inline]
    fn take_departed(&mut self) -> Departures<K, V> {
        RawMap::take_departed(self)
    }

    #[inline]
    fn has_departed(&self) -> bool {
        RawMap::has_departed(self)
    }

    fn take_all(&mut self, cause: RemovalCause) -> Self::Taken {
        self.take_all_leaving(cause)
            .into_iter()
            .map(|node| (node.key, node.value))
    }

    /// Entries of scopes that ended leave as [`RemovalCause::ScopeEnded`], the rest as
    /// [`RemovalCause::Dropped`].
    fn take_left(&mut self) -> Self::Left {
        self.store
            .take_all_marked()
            .map(|(node, gone)| (node.key, node.value, cause_at_drop(gone)))
            .collect()
    }

    fn unscoped(&self) -> usize {
        RawMap::unscoped(self)
    }

    fn len(&self) -> usize {
        self.live_len()
    }

    fn capacity(&self) -> usize {
        RawMap::capacity(self)
    }

    fn heap_bytes(&self) -> usize {
        RawMap::heap_bytes(self)
    }

    fn weight(&self) -> u64 {
        RawMap::weight(self)
    }
}

// `P: Evicting` per method: on a bounded map, a call fails with `Evicting`'s message.
impl<K: Hash + Eq, V, P: Policy, S: BuildHasher, R: Keeping, E: Expiry> RawMap<K, V, P, S, R, E> {
    /// Stores `value` under `key` as the most recently used entry; the value it replaced
    /// departs with [`RemovalCause::Replaced`].
    pub(crate) fn insert(&mut self, key: K, value: V)
    where
        P: Evicting,
    {
        // `Hash` first: if it panics, nothing has changed.
        let hash = self.store.hash(&key);
        self.insert_hashed(hash, key, value);
    }

    /// [`insert`](Self::insert) with the key's hash already taken: a concurrent map's shard is
    /// given the hash that chose it.
    pub(crate) fn insert_hashed(&mut self, hash: u64, key: K, value: V)
    where
        P: Evicting,
    {
        if let Some((key, old)) = self.replace_entry_hashed(hash, key, value) {
            self.depart(key, old, RemovalCause::Replaced);
        }
    }

    /// Stores `value` under `key` as the most recently used entry and hands back the caller's
    /// key with the value it replaced, if any (it does not depart). May evict like
    /// [`insert`](Self::insert).
    pub(crate) fn replace_entry(&mut self, key: K, value: V) -> Option<(K, V)>
    where
        P: Evicting,
    {
        // `Hash` first: if it panics, nothing has changed.
        let hash = self.store.hash(&key);
        self.replace_entry_hashed(hash, key, value)
    }

    /// [`replace_entry`](Self::replace_entry) with the key's hash already taken: the one
    /// write path of an evicting map (a present key rewritten, an absent one stored through
    /// [`insert_absent`](Self::insert_absent)).
    #[inline]
    pub(crate) fn replace_entry_hashed(&mut self, hash: u64, key: K, value: V) -> Option<(K, V)>
    where
        P: Evicting,
    {
        let weight = self.has_budget().then(|| self.weigh(&key, &value));
        self.replace_entry_weighing(hash, key, value, weight)
    }

    /// What `decide` makes of the value `key` holds (`None`: absent), in one step: kept,
    /// replaced (the old value departs with [`RemovalCause::Replaced`]; a new key may evict
    /// as `insert` does) or discarded ([`RemovalCause::Explicit`]). A present key's read
    /// counts as a use. Returns the slot of what the key holds afterwards. `decide` runs
    /// under the caller's lock.
    pub(crate) fn compute_hashed(
        &mut self,
        hash: u64,
        key: K,
        decide: impl FnOnce(Option<&V>) -> crate::Compute<V>,
    ) -> Option<u32>
    where
        P: Evicting,
    {
        let found = self.find_hashed_for_read(hash, &key);
        match decide(found.map(|index| self.value_at(index))) {
            crate::Compute::Keep => found,
            crate::Compute::Discard => {
                if let Some(index) = found {
                    self.depart_at(index, RemovalCause::Explicit);
                }
                None
            }
            crate::Compute::Put(value) if found.is_some() => {
                let (key, old) = self.replace_entry_hashed(hash, key, value)?;
                let now_at = self.store.find(hash, &key);
                self.depart(key, old, RemovalCause::Replaced);
                now_at
            }
            crate::Compute::Put(value) => {
                let now = self.store.clock();
                Some(self.insert_absent_kept(hash, key, value, None, now))
            }
        }
    }

    /// [`insert_hashed`](Self::insert_hashed), unless the entry alone weighs more than the
    /// whole weight budget: then nothing changes, and key and value come back.
    pub(crate) fn try_insert_evicting(
        &mut self,
        hash: u64,
        key: K,
        value: V,
    ) -> Result<(), CapacityError<K, V>>
    where
        P: Evicting,
    {
        let weight = self.has_budget().then(|| self.weigh(&key, &value));
        if weight.is_some_and(|weight| self.too_heavy(weight)) {
            let refused = CapacityError::new(key, value, self.store.max());
            return Err(refused.over_budget(self.weight_limit()));
        }
        if let Some((key, old)) = self.replace_entry_weighing(hash, key, value, weight) {
            self.depart(key, old, RemovalCause::Replaced);
        }
        Ok(())
    }

    /// [`replace_entry_hashed`](Self::replace_entry_hashed) of an entry weighing `weight`
    /// (`None` without a budget).
    fn replace_entry_weighing(
        &mut self,
        hash: u64,
        key: K,
        value: V,
        weight: Option<u64>,
    ) -> Option<(K, V)>
    where
        P: Evicting,
    {
        match self.upsert_hashed(hash, key, value) {
            Ok((index, key, old)) => {
                if let Some(weight) = weight {
                    self.reweigh_into(index, weight);
                }
                Some((key, old))
            }
            Err(Absent {
                hash,
                key,
                value,
                now,
            }) => {
                self.insert_absent(hash, key, value, weight, now);
                None
            }
        }
    }
}

impl<K: Hash + Eq, V, P: Evicting, S: BuildHasher, R: Keeping, E: Expiry> RawMap<K, V, P, S, R, E> {
    /// Stores a key known to be absent, making room as the policy says (see
    /// [`insert_absent_kept`](Self::insert_absent_kept)); an entry heavier than the whole
    /// weight budget is never stored, and departs at once with [`RemovalCause::Evicted`].
    /// `weight` is what it weighs, if the caller weighed it (else it is weighed here). The one
    /// path every absent key of an evicting map's insert takes.
    #[inline]
    pub(crate) fn insert_absent(
        &mut self,
        hash: u64,
        key: K,
        value: V,
        weight: Option<u64>,
        now: u64,
    ) {
        let weight = if self.has_budget() {
            Some(weight.unwrap_or_else(|| self.weigh(&key, &value)))
        } else {
            None
        };
        if weight.is_some_and(|weight| self.too_heavy(weight)) {
            self.release_unstored(key, value, RemovalCause::Evicted);
        } else {
            self.insert_absent_kept(hash, key, value, weight, now);
        }
    }

    /// Stores a key known to be absent and returns its slot, making room as the policy says:
    /// the victim of a full map departs (expired, its scope ended, or evicted), and under a
    /// weight budget whatever no longer fits beside an entry weighing `weight` (weighed here
    /// when `None`). An entry heavier than the whole budget is kept too, alone: an entry API
    /// must hand back a reference to it.
    /// Always inlined: left to LLVM it is outlined, +2% instructions per insert (callgrind,
    /// `bash benches/instructions-vs.sh`, fill).
    #[allow(clippy::inline_always, reason = "measured, see above")]
    #[inline(always)]
    pub(crate) fn insert_absent_kept(
        &mut self,
        hash: u64,
        key: K,
        value: V,
        weight: Option<u64>,
        now: u64,
    ) -> u32 {
        if self.has_budget() {
            return self.insert_absent_weighed(hash, key, value, weight, now);
        }
        match self.victim_if_full(now) {
            Some(victim) => self.evict_into(victim, hash, key, value, now),
            None => self.push_absent(hash, key, value, now),
        }
    }

    /// The entry a new key would evict: none unless the map is full (checked first, so only a
    /// full map turns its queues over to find one); an expired entry before any live one.
    /// Always inlined: left to LLVM it was outlined once expiry joined it, +32 instructions an
    /// insert (callgrind, `AdaptiveMap` fill).
    #[allow(clippy::inline_always, reason = "measured, see above")]
    #[inline(always)]
    fn victim_if_full(&mut self, now: u64) -> Option<u32> {
        if !self.store.is_full() {
            return None;
        }
        if Store::<K, V, S, E>::has_expiry() {
            if let Some(expired) = self.store.next_expired_at(now) {
                return Some(expired);
            }
        }
        self.store.next_victim()
    }

    /// [`insert_absent_kept`](Self::insert_absent_kept) under a weight budget: sheds what
    /// no longer fits, then stores. Out of line: maps without a budget pay one branch for it.
    #[cold]
    #[inline(never)]
    fn insert_absent_weighed(
        &mut self,
        hash: u64,
        key: K,
        value: V,
        weight: Option<u64>,
        now: u64,
    ) -> u32 {
        let weight = weight.unwrap_or_else(|| self.weigh(&key, &value));
        self.shed(weight, None);
        let index = self.push_absent(hash, key, value, now);
        self.store.set_weight(index, weight);
        self.metrics.weighed(self.store.total_weight());
        index
    }

    /// Replaces the least recent entry with a new one. Out of line: it keeps the common
    /// insert path small enough to inline (measured: +13 instructions per insert otherwise).
    #[inline(never)]
    fn evict_into(&mut self, victim: u32, hash: u64, key: K, value: V, now: u64) -> u32 {
        // A victim past its deadline leaves because it expired, not because of the bound.
        let cause = self.victim_cause_at(victim, now);
        let (old_key, old_value) = self.store.replace_at(victim, hash, key, value, now);
        self.metrics.inserted_in_place();
        self.depart(old_key, old_value, cause);
        victim
    }

    /// Changes the bound. Shrinking below the current length evicts entries in the policy's
    /// order (an [`LruMap`]'s least recently used first) with [`RemovalCause::Evicted`].
    /// O(evicted).
    pub(crate) fn set_max(&mut self, max: usize) {
        self.settle();
        self.resize(max);
    }
}

impl<K: Hash + Eq, V, P: Policy, S: BuildHasher, R: Keeping, E: Expiry> RawMap<K, V, P, S, R, E> {
    /// Changes the weight budget: an evicting map then evicts in the policy's order
    /// ([`RemovalCause::Evicted`]) until it fits; a bounded one keeps every entry and refuses
    /// new ones until removals bring it under. O(evicted).
    ///
    /// # Panics
    ///
    /// If `max_weight` is 0.
    pub(crate) fn set_max_weight(&mut self, max_weight: u64) {
        self.settle();
        self.set_weight_limit(max_weight);
        if P::EVICTS {
            self.shed_over_budget(usize::MAX);
        }
    }
}

impl<K: Hash + Eq, V, S: BuildHasher, R: Keeping, E: Expiry> RawMap<K, V, Lru, S, R, E> {
    /// The least recently used entry — the next to be evicted — without changing the order.
    pub(crate) fn peek_lru(&self) -> Option<(&K, &V)> {
        self.store.back().map(|i| {
            let node = self.store.node(i);
            (&node.key, &node.value)
        })
    }

    /// Removes the least recently used entry and hands it back to you; it does not depart.
    pub(crate) fn pop_lru(&mut self) -> Option<(K, V)> {
        self.settle();
        let back = self.store.back()?;
        Some(self.take_at(back))
    }
}

impl<K: Hash + Eq, V, S: BuildHasher, R: Keeping, E: Expiry> RawMap<K, V, Reject, S, R, E> {
    /// Stores `value` under `key` as the most recently written entry (the value it replaced
    /// departs with [`RemovalCause::Replaced`]), or hands both back if the key is new and the
    /// map is full.
    pub(crate) fn try_insert(&mut self, key: K, value: V) -> Result<(), CapacityError<K, V>> {
        let hash = self.store.hash(&key);
        self.try_insert_hashed(hash, key, value)
    }

    /// [`try_insert`](Self::try_insert) with the key's hash already taken.
    pub(crate) fn try_insert_hashed(
        &mut self,
        hash: u64,
        key: K,
        value: V,
    ) -> Result<(), CapacityError<K, V>> {
        if let Some((key, old)) = self.try_replace_entry_hashed(hash, key, value)? {
            self.depart(key, old, RemovalCause::Replaced);
        }
        Ok(())
    }

    /// Like [`try_insert`](Self::try_insert), but hands back the caller's key with the value it
    /// replaced (it does not depart).
    pub(crate) fn try_replace_entry(
        &mut self,
        key: K,
        value: V,
    ) -> Result<Option<(K, V)>, CapacityError<K, V>> {
        let hash = self.store.hash(&key);
        self.try_replace_entry_hashed(hash, key, value)
    }

    /// [`compute_hashed`](Self::compute_hashed) for a map that never evicts: a value put
    /// under a new key is refused (handed back) when the map is full or it does not fit the
    /// weight budget, as `try_insert` refuses it.
    pub(crate) fn try_compute_hashed(
        &mut self,
        hash: u64,
        key: K,
        decide: impl FnOnce(Option<&V>) -> crate::Compute<V>,
    ) -> Result<Option<u32>, CapacityError<K, V>> {
        let found = self.find_hashed_for_read(hash, &key);
        match decide(found.map(|index| self.value_at(index))) {
            crate::Compute::Keep => Ok(found),
            crate::Compute::Discard => {
                if let Some(index) = found {
                    self.depart_at(index, RemovalCause::Explicit);
                }
                Ok(None)
            }
            crate::Compute::Put(value) => {
                let kept = self.try_replace_entry_hashed(hash, key, value)?;
                let index = match kept {
                    Some((key, old)) => {
                        let index = self.store.find(hash, &key);
                        self.depart(key, old, RemovalCause::Replaced);
                        index
                    }
                    // A new entry is pushed at the slab's end.
                    None => self.store.last_slot(),
                };
                Ok(index)
            }
        }
    }

    /// [`try_replace_entry`](Self::try_replace_entry) with the key's hash already taken: the
    /// one write path of a bounded map.
    pub(crate) fn try_replace_entry_hashed(
        &mut self,
        hash: u64,
        key: K,
        value: V,
    ) -> Result<Option<(K, V)>, CapacityError<K, V>> {
        if self.has_budget() {
            return self.try_replace_weighed(hash, key, value);
        }
        match self.upsert_hashed(hash, key, value) {
            Ok((_, key, old)) => Ok(Some((key, old))),
            Err(absent) if !self.claim_place_at(absent.now) => Err(CapacityError::new(
                absent.key,
                absent.value,
                self.store.max(),
            )),
            Err(Absent {
                hash,
                key,
                value,
                now,
            }) => {
                self.push_absent(hash, key, value, now);
                Ok(None)
            }
        }
    }

    /// Stores a key known to be absent if the map has room for it (its count, and its weight
    /// budget if any), and returns its slot; else hands key and value back.
    #[inline]
    pub(crate) fn try_push_absent(
        &mut self,
        hash: u64,
        key: K,
        value: V,
        now: u64,
    ) -> Result<u32, CapacityError<K, V>> {
        if !self.claim_place_at(now) {
            return Err(CapacityError::new(key, value, self.store.max()));
        }
        if self.has_budget() {
            return self.try_push_weighed(hash, key, value, now);
        }
        Ok(self.push_absent(hash, key, value, now))
    }

    /// [`try_push_absent`](Self::try_push_absent) under a weight budget. Out of line: maps
    /// without one never come here.
    #[cold]
    #[inline(never)]
    fn try_push_weighed(
        &mut self,
        hash: u64,
        key: K,
        value: V,
        now: u64,
    ) -> Result<u32, CapacityError<K, V>> {
        let weight = self.weigh(&key, &value);
        if !self.store.claim_weight(weight, self.weight_limit()) {
            self.store.release_claims();
            let refused = CapacityError::new(key, value, self.store.max());
            return Err(refused.over_budget(self.weight_limit()));
        }
        Ok(self.push_weighed(hash, key, value, weight, now))
    }

    /// `try_insert`/`try_replace` under a weight budget: refused when the entry would take
    /// the map past its count or its weight budget (a present key's old weight is freed
    /// first), so nothing is ever evicted.
    #[cold]
    #[inline(never)]
    fn try_replace_weighed(
        &mut self,
        hash: u64,
        key: K,
        value: V,
    ) -> Result<Option<(K, V)>, CapacityError<K, V>> {
        let now = self.store.clock();
        self.expire_some_at(now);
        let weight = self.weigh(&key, &value);
        let found = self.store.find(hash, &key);
        let present = found.and_then(|index| self.live_or_depart_at(index, now));
        let freed = present.map_or(0, |index| self.store.weight_at(index));
        if present.is_none() && !self.claim_place_at(now) {
            return Err(CapacityError::new(key, value, self.store.max()));
        }
        let limit = self.weight_limit();
        if !self.store.claim_weight(weight.saturating_sub(freed), limit) {
            self.store.release_claims();
            return Err(CapacityError::new(key, value, self.store.max()).over_budget(limit));
        }
        let replaced = if let Some(index) = present {
            let old = self.overwrite_at_time(index, hash, value, now);
            self.store.set_weight(index, weight);
            Some((key, old))
        } else {
            let index = self.push_absent(hash, key, value, now);
            self.store.set_weight(index, weight);
            None
        };
        self.metrics.weighed(self.store.total_weight());
        Ok(replaced)
    }

    /// The value for `key`. Reads never reorder a bounded map, so this takes `&self`.
    pub(crate) fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let found = self.peek(key);
        // `&self`: other threads may be counting lookups on this map at the same time.
        self.metrics.lookup_shared(found.is_some());
        found
    }

    /// Whether a new key would be rejected.
    pub(crate) fn is_full(&self) -> bool {
        self.store.is_full()
    }

    /// How many more keys fit.
    pub(crate) fn remaining(&self) -> usize {
        self.store.max().saturating_sub(self.store.len())
    }

    /// Changes the bound. A bounded map never lets an entry go on its own, so lowering the
    /// bound below the current length keeps every entry: the map rejects new keys (updates
    /// of present keys still succeed) until removals bring its length under the new bound;
    /// until then `len() > max()`. Raising it admits new keys at once. O(1).
    pub(crate) fn set_max(&mut self, max: usize) {
        self.settle();
        self.resize(max);
    }
}

impl<K: Hash, V, P: Policy, S: BuildHasher, R: Keeping, E: Expiry> ManagedCache
    for RawMap<K, V, P, S, R, E>
{
    /// Clears the map with [`RemovalCause::ScopeEnded`] if it has `lifetime`; what left
    /// departs. O(n).
    fn end_scope(&mut self, lifetime: Lifetime) -> usize {
        RawMap::end_scope(self, lifetime)
    }

    /// Purges expired entries (none without `ttl`/`idle`); what left departs. O(n).
    fn maintain(&mut self) -> usize {
        RawMap::maintain(self)
    }

    /// This map's figures, as the only element.
    fn stats(&self) -> Vec<MapStats> {
        vec![self.stats_of()]
    }
}

impl<K, V, P: Policy, S, R: Keeping, E: Expiry> RawMap<K, V, P, S, R, E> {
    /// This map's figures.
    pub(crate) fn stats_of(&self) -> MapStats {
        MapStats::new(
            self.name(),
            self.lifetime,
            P::NAME,
            [self.len(), self.max(), self.capacity(), self.heap_bytes()],
            self.metrics.hook_panics(),
        )
    }
}

impl<K: Clone, V: Clone, P: Policy, S: Clone, R: Keeping, E: Expiry> Clone
    for RawMap<K, V, P, S, R, E>
{
    /// Clones entries, order, bound and hasher (not what waits for hooks: each copy of a
    /// value leaves its own map through that map's cleanup path).
    fn clone(&self) -> Self {
        let mut clone = Self::from_parts(
            self.store.clone(),
            self.lifetime,
            self.name.clone(),
            Location::caller(),
        );
        if let Some(budget) = &self.budget {
            clone.metrics.weight_budget(budget.max_weight);
            clone.metrics.weighed(clone.store.total_weight());
            clone.budget = Some(budget.clone());
        }
        clone
    }
}

impl<K: fmt::Debug, V: fmt::Debug, P: Policy, S, R: Keeping, E: Expiry> fmt::Debug
    for RawMap<K, V, P, S, R, E>
{
    /// Shows the bound and the entries from most to least recent.
    ///
    /// ```
    /// let mut map = mapguard::LruMap::new(2);
    /// map.insert(1, 'a');
    /// assert_eq!(
    ///     format!("{map:?}"),
    ///     "LruMap { len: 1, max: 2, lifetime: Process, entries: {1: 'a'}, .. }"
    /// );
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Entries<'a, K, V>(Iter<'a, K, V>);
        impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for Entries<'_, K, V> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_map().entries(self.0.clone()).finish()
            }
        }
        f.debug_struct(P::TYPE_NAME)
            .field("len", &self.len())
            .field("max", &self.max())
            .field("lifetime", &self.lifetime)
            .field("entries", &Entries(self.iter()))
            .finish_non_exhaustive()
    }
}

/// What a replaced value handed back would have left with, had its caller's operation not
/// panicked in a hook.
pub(crate) fn replaced_departs<K, V>(replaced: Option<(K, V)>) -> Option<Departed<K, V>> {
    replaced.map(|(key, old)| (key, old, RemovalCause::Replaced))
}

/// A rejected key and value the caller will not receive: refused by the bound, as an entry
/// too heavy for the budget is.
pub(crate) fn rejected_departs<K, V>(rejected: CapacityError<K, V>) -> Departed<K, V> {
    let (key, value) = rejected.into_inner();
    (key, value, RemovalCause::Evicted)
}

/// [`replaced_departs`] or [`rejected_departs`], for a `try_replace`.
pub(crate) fn stored_departs<K, V>(
    stored: Result<Option<(K, V)>, CapacityError<K, V>>,
) -> Option<Departed<K, V>> {
    match stored {
        Ok(replaced) => replaced_departs(replaced),
        Err(rejected) => Some(rejected_departs(rejected)),
    }
}
