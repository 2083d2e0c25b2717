//! The core under every map kind: [`RawMap`], a store with its hooks, figures and budget,
//! and every operation on them. `ManagedMap` and `WeakKeyMap` own one; a concurrent map's
//! shard is one. Operations hand values back or run hooks; they never know which public type
//! called them.

use core::borrow::Borrow;
use core::fmt;
use core::hash::{BuildHasher, Hash};
use core::marker::PhantomData;
use std::borrow::Cow;
use std::panic::Location;

use hashbrown::DefaultHashBuilder;

use crate::RemovalCause;
use crate::builder::assert_valid_max;
use crate::departures::{Departed, Departures, Resize, Settle, Shard};
use crate::error::CapacityError;
use crate::hooks::{NoListener, RemovalListener};
use crate::panics::HookPanics;
use crate::policy::{Evicting, Lru, OrderOf, Policy, Reject};
use crate::registry::{self, MapMetrics};
use crate::scope::{Lifetime, ManagedCache};
use crate::stats::MapStats;
use crate::storage::expiry::{Expiry, NoExpiry};
use crate::storage::scopes::ScopeTags;
use crate::storage::store::{Node, Store};
use crate::storage::weigher::Weigher;
pub(crate) mod entry;
pub(crate) mod iter;

use entry::{Entry, OccupiedEntry, VacantEntry};
use iter::{Drain, IntoIter, Iter, IterMut, Keys, Values, ValuesMut};

/// Why an entry leaves when its map is dropped: with its scope, if that has ended.
fn cause_at_drop(scope_ended: bool) -> RemovalCause {
    if scope_ended {
        RemovalCause::ScopeEnded
    } else {
        RemovalCause::Dropped
    }
}

/// An entry taken out at a drop, with the cause it leaves with.
pub(crate) type Leaving<K, V> = (Node<K, V>, RemovalCause);

/// The map every single-threaded kind owns, and each concurrent map's shard: the store,
/// the hooks and the figures, and every operation on them. Public types own one.
pub(crate) struct RawMap<K, V, P: Policy, S = DefaultHashBuilder, L = NoListener, E = NoExpiry>
where
    P: Policy,
    L: RemovalListener<K, V>,
    E: Expiry,
{
    store: Store<K, V, S, E, OrderOf<P>>,
    listener: L,
    lifetime: Lifetime,
    name: Cow<'static, str>,
    /// This map's figures in the registry; registered on creation, gone when dropped.
    metrics: MapMetrics,
    /// The weight budget, if any ([`crate::weight`]).
    budget: Option<Budget<K, V>>,
    policy: PhantomData<fn() -> P>,
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

impl<K, V, P: Policy, S, L: RemovalListener<K, V>, E: Expiry> RawMap<K, V, P, S, L, E> {
    pub(crate) fn from_parts(
        store: Store<K, V, S, E, OrderOf<P>>,
        listener: L,
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
        Self::with_metrics(store, listener, lifetime, name, metrics)
    }

    /// A map publishing its figures through `metrics` (a concurrent map's shard).
    pub(crate) fn with_metrics(
        store: Store<K, V, S, E, OrderOf<P>>,
        listener: L,
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
            listener,
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

    /// What `key` and `value` weigh under this map's weigher (0 without a budget).
    #[inline]
    fn weigh(&self, key: &K, value: &V) -> u64 {
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
    pub(crate) fn take_all_leaving(&mut self, cause: RemovalCause) -> Vec<Node<K, V>> {
        self.metrics.removed_many(cause, self.store.len() as u64);
        self.metrics.resized(0, self.store.max());
        self.store.take_all()
    }

    /// Takes every entry out (a drain, an owning iteration, a drop): an ended scope's entries
    /// go through the cleanup path now with [`RemovalCause::ScopeEnded`], as they would have
    /// at the map's next operation; the rest come back, in slab order. Hashes nothing.
    pub(crate) fn take_all_settled(&mut self, panics: &mut HookPanics) -> Vec<Node<K, V>> {
        let mut rest = Vec::with_capacity(self.store.len());
        for (node, ended) in self.store.take_all_marked() {
            if ended {
                self.release_into(node.key, node.value, RemovalCause::ScopeEnded, panics);
            } else {
                rest.push(node);
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

    /// The cleanup path for one value leaving on its own (`discard`, an expired entry found
    /// by a lookup): counted, its hooks run, a hook's panic resumed.
    #[inline]
    pub(crate) fn release(&mut self, key: K, value: V, cause: RemovalCause) {
        let mut panics = HookPanics::default();
        self.release_into(key, value, cause, &mut panics);
        self.finish(panics);
    }

    /// A value that never got in (refused, or older than everything a deserialized map
    /// keeps): counted in and out, so the registry's length stays exact, and through the
    /// hooks with `cause`.
    pub(crate) fn release_unstored(&mut self, key: K, value: V, cause: RemovalCause) {
        self.metrics.inserted_in_place();
        self.release(key, value, cause);
    }

    /// The one exit of the cleanup path: every value that leaves without being handed back
    /// passes here (or through [`depart`](Self::depart) and [`notify_into`](Self::notify_into)).
    /// Its hooks' panics wait in `panics`, so that the operation's other values still reach
    /// their hooks; the operation ends with [`finish`](Self::finish).
    #[inline]
    pub(crate) fn release_into(
        &mut self,
        key: K,
        value: V,
        cause: RemovalCause,
        panics: &mut HookPanics,
    ) {
        self.metrics.removed(cause);
        self.listener
            .on_removal_contained(key, value, cause, panics);
    }

    /// Ends an operation's hook work: counts the hooks' panics and resumes the first.
    #[inline]
    pub(crate) fn finish(&self, panics: HookPanics) {
        if L::OBSERVES_REMOVALS {
            panics.finish(|count| self.metrics.hook_panicked(count));
        } else {
            // A listener that observes nothing never catches a panic (its hook call is not
            // wrapped), so `panics` is empty: skip the check and the drop, which the compiler
            // cannot prove empty across the out-of-line eviction.
            core::mem::forget(panics);
        }
    }

    /// Ends an operation that hands `back` to its caller. If a hook panicked, the caller will
    /// never receive it, so it goes through the hooks too (with the cause `departed` gives
    /// it) before the first panic resumes: no value is dropped without its hooks.
    ///
    /// Such a value is not counted as a removal: the figures already count it as handed back
    /// (or, for a rejected value, never counted it in).
    #[inline]
    pub(crate) fn finish_handing_back<T>(
        &mut self,
        mut panics: HookPanics,
        back: T,
        departed: impl FnOnce(T) -> Option<Departed<K, V>>,
    ) -> T {
        if panics.will_resume() {
            if let Some((key, value, cause)) = departed(back) {
                self.listener
                    .on_removal_contained(key, value, cause, &mut panics);
            }
            panics.resume_now(|count| self.metrics.hook_panicked(count));
        }
        self.finish(panics);
        back
    }

    /// Counts an entry that left during an operation and holds it in `leaving`, whose hooks
    /// run (through [`notify`](Self::notify)) once the operation has finished changing the
    /// map.
    #[inline]
    pub(crate) fn depart(
        &self,
        leaving: &mut Departures<K, V>,
        key: K,
        value: V,
        cause: RemovalCause,
    ) {
        self.metrics.removed(cause);
        leaving.push(key, value, cause);
    }

    /// The cleanup path for a value leaving during an operation: its hooks run now if
    /// nothing else waits in `leaving` (so a panic loses nothing), else it waits there too.
    /// Without expiry `leaving` is known empty here, and this is a plain release.
    #[inline]
    pub(crate) fn release_or_depart(
        &mut self,
        key: K,
        value: V,
        cause: RemovalCause,
        leaving: &mut Departures<K, V>,
    ) {
        if leaving.is_empty() {
            self.release(key, value, cause);
        } else {
            self.depart(leaving, key, value, cause);
        }
    }

    /// Runs the hooks of entries that left (already counted by [`depart`](Self::depart)),
    /// every one of them whatever an earlier hook did; ends the operation.
    #[inline]
    pub(crate) fn notify(&mut self, leaving: Departures<K, V>) {
        let mut panics = HookPanics::default();
        self.notify_into(leaving, &mut panics);
        self.finish(panics);
    }

    /// [`notify`](Self::notify) within an operation that goes on: panics wait in `panics`.
    #[inline]
    pub(crate) fn notify_into(&mut self, leaving: Departures<K, V>, panics: &mut HookPanics) {
        for (key, value, cause) in leaving {
            self.listener
                .on_removal_contained(key, value, cause, panics);
        }
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

    /// The map's removal listener.
    pub(crate) fn listener(&self) -> &L {
        &self.listener
    }

    /// The map's removal listener, mutably (to read and reset counters it keeps, say).
    pub(crate) fn listener_mut(&mut self) -> &mut L {
        &mut self.listener
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

    /// Takes every entry out, handing them to you in arbitrary order; the map keeps no
    /// memory. Entries the returned iterator has not yielded when it is dropped go through
    /// the cleanup path with [`RemovalCause::Cleared`]. O(1) to start, O(n) to finish.
    pub(crate) fn drain(&mut self) -> Drain<'_, K, V, L> {
        let mut panics = HookPanics::default();
        let rest = self.take_all_settled(&mut panics);
        if panics.will_resume() {
            // Not handed out after all: cleared, then the first panic resumes.
            drop(Drain::new(rest, &mut self.listener, &self.metrics));
            self.finish(panics);
            return Drain::new(Vec::new(), &mut self.listener, &self.metrics);
        }
        Drain::new(rest, &mut self.listener, &self.metrics)
    }
}

impl<K: Hash, V, P: Policy, S: BuildHasher, L: RemovalListener<K, V>, E: Expiry>
    RawMap<K, V, P, S, L, E>
{
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
        self.live_or_expire(index)
    }

    /// [`find_live`](Self::find_live) for a read: an absent key counts as a miss (a found
    /// one is counted by `read_at`).
    #[inline]
    fn find_for_read<Q>(&mut self, key: &Q) -> Option<u32>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.find_hashed_for_read(self.store.hash(key), key)
    }

    /// [`find_for_read`](Self::find_for_read) with the key's hash already taken.
    #[inline]
    fn find_hashed_for_read<Q>(&mut self, hash: u64, key: &Q) -> Option<u32>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let found = self
            .locate_hashed(hash, key)
            .and_then(|index| self.live_or_expire(index));
        if found.is_none() {
            self.count_miss();
        }
        found
    }

    /// `Some(index)` if the entry is live; otherwise cleans it as expired.
    #[inline]
    pub(crate) fn live_or_expire(&mut self, index: u32) -> Option<u32> {
        if self.store.scope_ended(index) {
            self.release_at(index, RemovalCause::ScopeEnded);
            None
        } else if Store::<K, V, S, E>::has_expiry() && self.store.expired_now(index) {
            self.expire_at(index);
            None
        } else {
            Some(index)
        }
    }

    /// `Some(index)` if the entry is live; otherwise takes it out as expired into `leaving`.
    #[inline]
    pub(crate) fn live_or_depart(
        &mut self,
        index: u32,
        leaving: &mut Departures<K, V>,
    ) -> Option<u32> {
        if self.store.scope_ended(index) {
            self.depart_at(index, RemovalCause::ScopeEnded, leaving);
            None
        } else if Store::<K, V, S, E>::has_expiry() && self.store.expired_now(index) {
            self.depart_at(index, RemovalCause::Expired, leaving);
            None
        } else {
            Some(index)
        }
    }

    /// Out of line so maps without expiry keep a small hot path.
    #[cold]
    #[inline(never)]
    fn expire_at(&mut self, index: u32) {
        self.release_at(index, RemovalCause::Expired);
    }

    /// Takes the entry at `index` out with `cause`, its hooks waiting in `leaving`.
    #[cold]
    #[inline(never)]
    pub(crate) fn depart_at(
        &mut self,
        index: u32,
        cause: RemovalCause,
        leaving: &mut Departures<K, V>,
    ) {
        let (key, value) = self.store.remove_at(index);
        self.depart(leaving, key, value, cause);
    }

    /// Bounded expiry work done by every insert: the back of the list (least recently used,
    /// or oldest write), then two slots of a round-robin sweep over the slab. The sweep
    /// reaches every entry within `len / 2` inserts, so an expired entry that is never
    /// touched again is still released. O(1); nothing without `ttl`/`idle`.
    ///
    /// What expires goes to `leaving`: its hooks wait until the insert is done.
    #[inline]
    pub(crate) fn expire_some(&mut self, leaving: &mut Departures<K, V>) {
        if Store::<K, V, S, E>::has_expiry() {
            self.expire_some_now(leaving);
        }
        // A map that settles its own scopes: their ended entries go first, so that they make
        // room before anything is evicted (see `storage::scopes::Tagged`).
        if E::SELF_SETTLING {
            self.depart_ended(leaving);
        }
    }

    #[inline(never)]
    fn expire_some_now(&mut self, leaving: &mut Departures<K, V>) {
        let Some(now) = self.store.now() else {
            return;
        };
        for _ in 0..2 {
            match self.store.back() {
                Some(back) if self.store.is_expired(back, now) => {
                    self.depart_at(back, RemovalCause::Expired, leaving);
                }
                _ => break,
            }
        }
        for _ in 0..2 {
            let Some(index) = self.store.next_sweep() else {
                break;
            };
            if self.store.is_expired(index, now) {
                self.depart_at(index, RemovalCause::Expired, leaving);
            }
        }
    }

    /// [`ManagedCache::end_scope`] within an operation that goes on.
    pub(crate) fn end_scope_into(&mut self, lifetime: Lifetime, panics: &mut HookPanics) -> usize {
        if lifetime == self.lifetime {
            self.metrics.scope_ended();
            let count = self.remove_all_into(RemovalCause::ScopeEnded, panics);
            if count > 0 {
                self.metrics.scope_entries_left(count, true);
            }
            count
        } else {
            0
        }
    }

    /// [`ManagedCache::maintain`] within an operation that goes on.
    pub(crate) fn maintain_into(&mut self, panics: &mut HookPanics) -> usize {
        let purged = self.settle_scopes_into(panics) + self.purge_expired(panics);
        self.metrics
            .resized(self.store.heap_bytes(), self.store.max());
        purged
    }

    /// Cleans every expired entry with [`RemovalCause::Expired`]; returns how many. O(n).
    pub(crate) fn purge_expired(&mut self, panics: &mut HookPanics) -> usize {
        let Some(now) = self.store.now() else {
            return 0;
        };
        let mut purged = 0;
        let mut index = 0;
        while index < self.store.len() {
            if self.store.is_expired(index as u32, now) {
                // The last node moves into `index`: look at it next.
                self.release_at_into(index as u32, RemovalCause::Expired, panics);
                purged += 1;
            } else {
                index += 1;
            }
        }
        purged
    }

    /// Evicts in the policy's order until one more entry weighing `incoming` fits beside the
    /// rest (count and weight), or, with `keep`, until the map is within its budget without
    /// evicting `keep`'s entry unless nothing else is left. What leaves goes to `leaving`.
    fn shed(&mut self, incoming: u64, mut keep: Option<u32>, leaving: &mut Departures<K, V>) {
        let limit = self.weight_limit();
        loop {
            let over_count = keep.is_none() && self.store.is_full();
            let over_weight = self.store.total_weight().saturating_add(incoming) > limit;
            if !(over_count || over_weight) {
                break;
            }
            let Some(victim) = self.store.next_victim() else {
                break;
            };
            if keep == Some(victim) {
                if self.store.len() == 1 {
                    break;
                }
                // The policy chose the entry being written: count it as used and ask again.
                // Others lose a turn each time round, so one of them comes up (LRU: at once).
                self.store.promote(victim);
                continue;
            }
            let cause = self.victim_cause(victim);
            // The last slab node moves into the victim's slot.
            let last = self.store.last_slot();
            self.depart_at(victim, cause, leaving);
            if keep.is_some() && keep == last {
                keep = Some(victim);
            }
        }
    }

    /// Changes the value for `key` in place and returns what `change` returned (`None` if
    /// the key is absent). Counted as [`get_mut`](Self::get_mut) is: a hit, a use of the
    /// entry, and a read for the idle timer (`ttl` still runs from the last insert).
    pub(crate) fn update<Q, R>(&mut self, key: &Q, change: impl FnOnce(&mut V) -> R) -> Option<R>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.update_hashed(self.store.hash(key), key, change)
    }

    /// [`update`](Self::update) with the key's hash already taken: a concurrent map's shard
    /// is given the hash that chose it.
    #[inline]
    pub(crate) fn update_hashed<Q, R>(
        &mut self,
        hash: u64,
        key: &Q,
        change: impl FnOnce(&mut V) -> R,
    ) -> Option<R>
    where
        K: Borrow<Q>,
        Q: Eq + ?Sized,
    {
        let index = self.find_hashed_for_read(hash, key)?;
        let result = change(self.read_at(index));
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
        let mut own = Departures::default();
        self.reweigh_into(index, weight, &mut own);
        self.notify(own);
    }

    /// Re-weighs the entry at `index` after a write (for a map without a budget: nothing).
    /// Over the budget, an evicting map evicts others; the entry itself leaves with
    /// `Evicted` when it alone is too heavy, or when the map never evicts others. What leaves
    /// goes to `leaving`; `index` may be stale afterwards.
    pub(crate) fn reweigh_into(&mut self, index: u32, weight: u64, leaving: &mut Departures<K, V>) {
        if !self.has_budget() {
            return;
        }
        self.store.set_weight(index, weight);
        let limit = self.weight_limit();
        if weight > limit || (!P::EVICTS && self.store.total_weight() > limit) {
            self.depart_at(index, RemovalCause::Evicted, leaving);
        } else if P::EVICTS {
            self.shed(0, Some(index), leaving);
        }
        self.metrics.weighed(self.store.total_weight());
    }

    /// Whether an entry weighing `weight`, replacing the one at `replacing` if any, keeps
    /// the map within its weight budget (always, without one).
    pub(crate) fn weight_fits(&self, weight: u64, replacing: Option<u32>) -> bool {
        let freed = replacing.map_or(0, |index| self.store.weight_at(index));
        let after = (self.store.total_weight() - freed).saturating_add(weight);
        after <= self.weight_limit()
    }

    /// Stores a key known to be absent in a map that never evicts, once the caller has
    /// checked the bounds (`is_full`, [`weight_fits`](Self::weight_fits)).
    pub(crate) fn push_weighed(&mut self, hash: u64, key: K, value: V, weight: u64) -> u32 {
        let index = self.push_absent(hash, key, value);
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

    /// The value for `key`, mutably. For an [`LruMap`] this makes the entry the most recently
    /// used.
    pub(crate) fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let index = self.find_for_read(key)?;
        Some(self.read_at(index))
    }

    /// Removes `key` and hands its value back to you; no hook runs. Returns `None` if absent.
    #[inline]
    pub(crate) fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.remove_entry(key).map(|(_, value)| value)
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
                self.release(key, value, RemovalCause::Explicit);
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
        let mut panics = HookPanics::default();
        let mut index = 0;
        while index < self.store.len() {
            let node = self.store.node_mut(index as u32);
            if keep(&node.key, &mut node.value) {
                index += 1;
            } else {
                // The last node moves into `index`: look at it next.
                self.release_at_into(index as u32, RemovalCause::Explicit, &mut panics);
            }
        }
        self.finish(panics);
    }

    /// Removes every entry through the cleanup path with [`RemovalCause::Cleared`], in
    /// arbitrary order, and frees the map's memory (unlike `std`'s `clear`). O(n).
    pub(crate) fn clear(&mut self) {
        self.settle();
        self.remove_all(RemovalCause::Cleared);
    }

    /// Removes every entry through the cleanup path with `cause`: all out at once (the map is
    /// empty before the first hook runs), then every value's hooks.
    pub(crate) fn remove_all(&mut self, cause: RemovalCause) -> usize {
        let mut panics = HookPanics::default();
        let count = self.remove_all_into(cause, &mut panics);
        self.finish(panics);
        count
    }

    /// [`remove_all`](Self::remove_all) within an operation that goes on.
    pub(crate) fn remove_all_into(
        &mut self,
        cause: RemovalCause,
        panics: &mut HookPanics,
    ) -> usize {
        let nodes = self.take_all_leaving(cause);
        let count = nodes.len();
        if L::OBSERVES_REMOVALS {
            for node in nodes {
                self.listener
                    .on_removal_contained(node.key, node.value, cause, panics);
            }
        }
        count
    }

    /// Clears the map through the cleanup path with [`RemovalCause::ScopeEnded`] if it has
    /// `lifetime`; returns how many entries left. The same as
    /// [`ManagedCache::end_scope`], without importing the trait. O(n).
    pub(crate) fn end_scope(&mut self, lifetime: Lifetime) -> usize {
        <Self as ManagedCache>::end_scope(self, lifetime)
    }

    /// Purges expired entries ([`RemovalCause::Expired`]; none without `ttl`/`idle`) and
    /// refreshes the registry's figures; returns how many left. The same as
    /// [`ManagedCache::maintain`], without importing the trait. O(n).
    pub(crate) fn maintain(&mut self) -> usize {
        <Self as ManagedCache>::maintain(self)
    }

    /// Releases all spare memory now rather than waiting for the automatic shrink. O(n).
    pub(crate) fn shrink_to_fit(&mut self) {
        self.store.shrink_to_fit();
    }

    /// The entry for `key`, for in-place insert-or-update with one lookup. For an [`LruMap`],
    /// an occupied entry becomes the most recently used.
    pub(crate) fn entry(&mut self, key: K) -> Entry<'_, K, V, P, S, L, E>
    where
        K: Eq,
    {
        // The entry borrows the map until the caller is done with it, so expired entries'
        // hooks run now; no value of the caller's is in flight yet (only `key`).
        let mut leaving = Departures::default();
        self.expire_some(&mut leaving);
        self.notify(leaving);
        let hash = self.store.hash(&key);
        let found = self.store.find(hash, &key);
        if let Some(index) = found.and_then(|index| self.live_or_expire(index)) {
            self.metrics.lookup(true);
            if P::READS_PROMOTE {
                self.store.promote(index);
            }
            self.store.mark_read(index);
            Entry::Occupied(OccupiedEntry::new(self, index))
        } else {
            self.metrics.lookup(false);
            Entry::Vacant(VacantEntry::new(self, hash, key))
        }
    }

    /// Stores `value` under `key` (known absent, room checked by the caller's policy).
    /// Inlined: left to LLVM, whether it is depends on unrelated code in the crate (an
    /// unrelated change once outlined it: +5% instructions on `BoundedMap` fill, callgrind).
    #[inline]
    pub(crate) fn push_absent(&mut self, hash: u64, key: K, value: V) -> u32 {
        let (index, grew) = self.store.push_front(hash, key, value);
        self.metrics
            .inserted(self.store.len(), grew, || self.store.heap_bytes());
        index
    }

    /// Overwrites the value of a present `key`, whose hash is `hash`, making it the most
    /// recent entry; hands back the caller's key with the old value. An absent key comes back
    /// with its hash. Expired entries met on the way go to `leaving`, so that their hooks run
    /// after the caller's value is stored. Inlined, so that without expiry `leaving` is seen
    /// to stay empty and its hand-off compiles away. The caller hashed first: if `Hash`
    /// panicked, nothing had left.
    #[inline]
    fn upsert_hashed(
        &mut self,
        hash: u64,
        key: K,
        value: V,
        leaving: &mut Departures<K, V>,
    ) -> Result<Option<(K, V)>, (u64, K, V)>
    where
        K: Eq,
    {
        self.expire_some(leaving);
        let found = self.store.find(hash, &key);
        match found.and_then(|index| self.live_or_depart(index, leaving)) {
            Some(index) => Ok(Some((key, self.overwrite_at(index, value)))),
            None => Err((hash, key, value)),
        }
    }
}

impl<K: Hash, V, P: Policy, S: BuildHasher, L: RemovalListener<K, V>, E: Expiry>
    RawMap<K, V, P, S, L, E>
{
    /// Removes the entries of scopes that have ended, with [`RemovalCause::ScopeEnded`]; how
    /// many. One branch for a `process` map, which has no scopes.
    #[inline]
    pub(crate) fn settle_scopes_into(&mut self, panics: &mut HookPanics) -> usize {
        match self.store.ended_scopes() {
            None => 0,
            Some(ended) => self.end_scopes_into(&ended, panics),
        }
    }

    /// In a map that settles its own scopes (see `storage::scopes::Tagged`), the entries of
    /// scopes that have ended leave ([`RemovalCause::ScopeEnded`]) and their hooks run; if
    /// one panics, the others still run, then the first panic resumes. Called at the start of
    /// a whole-map operation (`retain`, `clear`, `set_max`, ...) and at the end of a removal
    /// (`discard`, `remove`); inserts settle with their other housekeeping (`expire_some`),
    /// and lookups skip an ended scope's entry and clean the one they meet. Nothing at all
    /// for every other map: a constant.
    #[inline]
    pub(crate) fn settle(&mut self) {
        if E::SELF_SETTLING {
            self.settle_now();
        }
    }

    /// Out of line: it finds work only after a scope ended, and the operations stay small.
    #[cold]
    #[inline(never)]
    fn settle_now(&mut self) {
        if let Some(ended) = self.store.ended_scopes() {
            let mut panics = HookPanics::default();
            self.end_scopes_into(&ended, &mut panics);
            self.finish(panics);
        }
    }

    /// The entries of ended scopes depart into `leaving`, with [`RemovalCause::ScopeEnded`].
    fn depart_ended(&mut self, leaving: &mut Departures<K, V>) {
        if let Some(ended) = self.store.ended_scopes() {
            self.each_ended_entry(&ended, |map, index| {
                map.depart_at(index, RemovalCause::ScopeEnded, leaving);
            });
        }
    }

    /// The entries of the scopes `ended` leave, each scope's in O(its entries here).
    #[cold]
    #[inline(never)]
    fn end_scopes_into(&mut self, ended: &[u64], panics: &mut HookPanics) -> usize {
        self.each_ended_entry(ended, |map, index| {
            map.release_at_into(index, RemovalCause::ScopeEnded, panics);
        })
    }

    /// Passes each entry of the scopes `ended` to `leave`, which takes it out; how many.
    fn each_ended_entry(&mut self, ended: &[u64], mut leave: impl FnMut(&mut Self, u32)) -> usize {
        let mut count = 0;
        for &id in ended {
            let slots = self
                .store
                .scopes()
                .map_or_else(Vec::new, |tags| tags.slots_of(id));
            count += slots.len();
            // Highest slot first: a removal moves only the last node, never one still to go.
            for index in slots {
                leave(self, index);
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
        let mut leaving = Departures::default();
        while P::EVICTS && self.store.len() > max {
            let Some(victim) = self.store.next_victim() else {
                break;
            };
            self.depart_at(victim, RemovalCause::Evicted, &mut leaving);
        }
        self.store.set_max(max);
        self.metrics
            .resized(self.store.heap_bytes(), self.store.max());
        self.notify(leaving);
    }

    /// Takes the entry at `index` out to hand it back to the caller. Counted only once it is
    /// out: the removal runs user `Hash`, which may panic.
    #[inline]
    pub(crate) fn take_at(&mut self, index: u32) -> (K, V) {
        let taken = self.store.remove_at(index);
        self.metrics.taken(1);
        taken
    }

    /// Takes the entry at `index` out and sends it through the cleanup path with `cause`,
    /// now (inside an operation that may not run hooks yet, use `depart_at`).
    #[inline]
    pub(crate) fn release_at(&mut self, index: u32, cause: RemovalCause) {
        let (key, value) = self.store.remove_at(index);
        self.release(key, value, cause);
    }

    /// [`release_at`](Self::release_at) within an operation that releases several values.
    #[inline]
    pub(crate) fn release_at_into(
        &mut self,
        index: u32,
        cause: RemovalCause,
        panics: &mut HookPanics,
    ) {
        let (key, value) = self.store.remove_at(index);
        self.release_into(key, value, cause, panics);
    }
}

/// Slot-level access for the maps built on a `RawMap` (the weak-keyed map, the concurrent
/// shards): they address entries by slab position and go through these methods, never
/// through the store, the listener or the counters.
impl<K, V, P: Policy, S, L: RemovalListener<K, V>, E: Expiry> RawMap<K, V, P, S, L, E> {
    #[inline]
    pub(crate) fn key_at(&self, index: u32) -> &K {
        &self.store.node(index).key
    }

    #[inline]
    pub(crate) fn value_at(&self, index: u32) -> &V {
        &self.store.node(index).value
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
        if self.store.expired_now(victim) {
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
    pub(crate) fn overwrite_at(&mut self, index: u32, value: V) -> V {
        self.store.promote(index);
        self.store.mark_written(index);
        core::mem::replace(&mut self.store.node_mut(index).value, value)
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
    /// ended scope's, else `Dropped`), with the listener that is to see them: what a `Drop`
    /// does (a wrapper may give some another cause).
    pub(crate) fn take_for_drop(&mut self) -> (Vec<Leaving<K, V>>, &mut L) {
        let nodes = self
            .store
            .take_all_marked()
            .map(|(node, ended)| (node, cause_at_drop(ended)))
            .collect();
        (nodes, &mut self.listener)
    }
}

impl<K, V, P: Policy, S, L: RemovalListener<K, V>, E: Expiry> RawMap<K, V, P, S, L, E> {
    /// The value at `index`, for a lookup that found it: counted as a hit, promoted if the
    /// policy promotes on reads, idle timer restarted. Always inlined: it is the rest of
    /// every hit, and LLVM outlined it once a lookup had several callers (+20% instructions
    /// a concurrent hit, callgrind).
    #[allow(clippy::inline_always, reason = "measured, see above")]
    #[inline(always)]
    pub(crate) fn read_at(&mut self, index: u32) -> &mut V {
        self.metrics.lookup(true);
        if P::READS_PROMOTE {
            self.store.promote(index);
        }
        self.store.mark_read(index);
        &mut self.store.node_mut(index).value
    }
}

impl<K: Hash, V, P: Policy, S: BuildHasher, L: RemovalListener<K, V>, E: Expiry>
    RawMap<K, V, P, S, L, E>
{
    /// Position of the entry, among those whose key hashed to `hash`, whose key `matches`.
    #[inline]
    pub(crate) fn position_by(&self, hash: u64, matches: impl Fn(&K) -> bool) -> Option<u32> {
        if self.store.len() == 0 {
            return None;
        }
        self.store.find_by(hash, matches)
    }
}

impl<K: Hash, V, P: Policy, S: BuildHasher, E: Expiry> Settle
    for RawMap<K, V, P, S, Departures<K, V>, E>
{
    #[allow(
        clippy::inline_always,
        reason = "before every operation of a concurrent map; out of line it cost 10 instructions a get"
    )]
    #[inline(always)]
    fn settle_scopes(&mut self) -> usize {
        match self.store.ended_scopes() {
            None => 0,
            // Queuing into `Departures` runs no user code: nothing to catch.
            Some(ended) => self.end_scopes_into(&ended, &mut HookPanics::default()),
        }
    }
}

impl<K: Hash, V, P: Policy, S: BuildHasher, E: Expiry> Resize
    for RawMap<K, V, P, S, Departures<K, V>, E>
{
    fn resize(&mut self, max: usize) {
        RawMap::resize(self, max);
    }
}

/// A concurrent map's shard: its listener queues what leaves under the lock.
impl<K, V, P: Policy, S, E: Expiry> Shard for RawMap<K, V, P, S, Departures<K, V>, E> {
    type Key = K;
    type Value = V;
    type Taken = core::iter::Map<std::vec::IntoIter<Node<K, V>>, fn(Node<K, V>) -> (K, V)>;
    type Left = Vec<Departed<K, V>>;

    #[inline]
    fn take_departed(&mut self) -> Departures<K, V> {
        self.listener.take()
    }

    #[inline]
    fn has_departed(&self) -> bool {
        !self.listener.is_empty()
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
            .map(|(node, ended)| (node.key, node.value, cause_at_drop(ended)))
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
impl<K: Hash + Eq, V, P: Policy, S: BuildHasher, L: RemovalListener<K, V>, E: Expiry>
    RawMap<K, V, P, S, L, E>
{
    /// Stores `value` under `key` as the most recently used entry.
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
        if self.has_budget() {
            self.upsert_weighed(hash, key, value, false);
            return;
        }
        let mut leaving = Departures::default();
        match self.upsert_hashed(hash, key, value, &mut leaving) {
            Ok(Some((key, old))) => {
                self.release_or_depart(key, old, RemovalCause::Replaced, &mut leaving);
            }
            Ok(None) => {}
            Err((hash, key, value)) => {
                self.insert_absent_or_depart(hash, key, value, &mut leaving);
            }
        }
        self.notify(leaving);
    }

    /// Stores `value` under `key` as the most recently used entry and hands back the value it
    /// replaced, if any (no hook runs for it). May evict like [`insert`](Self::insert).
    pub(crate) fn replace(&mut self, key: K, value: V) -> Option<V>
    where
        P: Evicting,
    {
        self.replace_entry(key, value).map(|(_, old)| old)
    }

    /// [`replace`](Self::replace), handing back the caller's key with the old value.
    pub(crate) fn replace_entry(&mut self, key: K, value: V) -> Option<(K, V)>
    where
        P: Evicting,
    {
        // `Hash` first: if it panics, nothing has changed.
        let hash = self.store.hash(&key);
        self.replace_entry_hashed(hash, key, value)
    }

    /// [`replace_entry`](Self::replace_entry) with the key's hash already taken.
    pub(crate) fn replace_entry_hashed(&mut self, hash: u64, key: K, value: V) -> Option<(K, V)>
    where
        P: Evicting,
    {
        if self.has_budget() {
            return self.upsert_weighed(hash, key, value, true);
        }
        let mut leaving = Departures::default();
        let replaced = match self.upsert_hashed(hash, key, value, &mut leaving) {
            Ok(old) => old,
            Err((hash, key, value)) => {
                self.insert_absent_or_depart(hash, key, value, &mut leaving);
                None
            }
        };
        let mut panics = HookPanics::default();
        self.notify_into(leaving, &mut panics);
        self.finish_handing_back(panics, replaced, replaced_departs)
    }
}

impl<K: Hash + Eq, V, P: Evicting, S: BuildHasher, L: RemovalListener<K, V>, E: Expiry>
    RawMap<K, V, P, S, L, E>
{
    /// Inserts a key known to be absent, evicting the policy's victim if full; the
    /// victim's hooks run now. For an operation with nothing else waiting for hooks (else
    /// [`insert_absent_departing`](Self::insert_absent_departing)).
    /// Always inlined: left to LLVM it is outlined, +2% instructions per insert (callgrind,
    /// `bash benches/instructions-vs.sh`, fill).
    #[allow(clippy::inline_always, reason = "measured, see above")]
    #[inline(always)]
    pub(crate) fn insert_absent(&mut self, hash: u64, key: K, value: V) -> u32 {
        if self.has_budget() {
            return self.insert_absent_weighing(hash, key, value);
        }
        match self.victim_if_full() {
            Some(victim) => self.evict_into(victim, hash, key, value),
            None => self.push_absent(hash, key, value),
        }
    }

    /// The entry a new key would evict: none unless the map is full (checked first, so only a
    /// full map turns its queues over to find one).
    #[inline]
    fn victim_if_full(&mut self) -> Option<u32> {
        if self.store.is_full() {
            self.store.next_victim()
        } else {
            None
        }
    }

    /// [`insert_absent`](Self::insert_absent) while other departures wait in `leaving` (an
    /// insert's housekeeping expired or collected some): what this insert evicts waits with
    /// them, so that a panicking hook cannot cost them theirs. Without expiry and weak keys
    /// never called (`leaving` is known empty), so it costs the common path nothing.
    #[cold]
    #[inline(never)]
    pub(crate) fn insert_absent_departing(
        &mut self,
        leaving: &mut Departures<K, V>,
        hash: u64,
        key: K,
        value: V,
    ) -> u32 {
        if self.has_budget() {
            let weight = self.weigh(&key, &value);
            return self.insert_absent_weighed_into(leaving, hash, key, value, weight);
        }
        match self.victim_if_full() {
            Some(victim) => {
                let cause = self.victim_cause(victim);
                let (old_key, old_value) = self.store.replace_at(victim, hash, key, value);
                self.metrics.inserted_in_place();
                self.depart(leaving, old_key, old_value, cause);
                victim
            }
            None => self.push_absent(hash, key, value),
        }
    }

    /// Inserts an absent key, running the victim's hooks now if `leaving` is empty, else
    /// holding them there.
    #[inline]
    pub(crate) fn insert_absent_or_depart(
        &mut self,
        hash: u64,
        key: K,
        value: V,
        leaving: &mut Departures<K, V>,
    ) -> u32 {
        if leaving.is_empty() {
            self.insert_absent(hash, key, value)
        } else {
            self.insert_absent_departing(leaving, hash, key, value)
        }
    }

    /// `insert`/`replace` under a weight budget: the entry is weighed, what no longer fits is
    /// evicted, and an entry heavier than the budget is never stored (its value leaves with
    /// [`RemovalCause::Evicted`]). Returns the caller's key with the replaced value if
    /// `hand_back`. Out of line: maps without a budget never come here.
    #[cold]
    #[inline(never)]
    fn upsert_weighed(&mut self, hash: u64, key: K, value: V, hand_back: bool) -> Option<(K, V)> {
        let mut leaving = Departures::default();
        self.expire_some(&mut leaving);
        let weight = self.weigh(&key, &value);
        let too_heavy = weight > self.weight_limit();
        let found = self.store.find(hash, &key);
        let mut replaced = None;
        match found.and_then(|index| self.live_or_depart(index, &mut leaving)) {
            Some(index) => {
                let old = self.overwrite_at(index, value);
                self.store.set_weight(index, weight);
                if hand_back {
                    replaced = Some((key, old));
                } else {
                    self.depart(&mut leaving, key, old, RemovalCause::Replaced);
                }
                if too_heavy {
                    self.depart_at(index, RemovalCause::Evicted, &mut leaving);
                } else {
                    self.shed(0, Some(index), &mut leaving);
                }
            }
            None if too_heavy => {
                // Counted in and out, so the registry's length stays exact.
                self.metrics.inserted_in_place();
                self.depart(&mut leaving, key, value, RemovalCause::Evicted);
            }
            None => {
                self.shed(weight, None, &mut leaving);
                let index = self.push_absent(hash, key, value);
                self.store.set_weight(index, weight);
            }
        }
        self.metrics.weighed(self.store.total_weight());
        let mut panics = HookPanics::default();
        self.notify_into(leaving, &mut panics);
        self.finish_handing_back(panics, replaced, replaced_departs)
    }

    /// A key known to be absent, for wrappers' `insert`: as `insert_absent`, except that under
    /// a weight budget an entry heavier than the whole budget is never stored (its value
    /// leaves with `Evicted` at once, and `None` comes back).
    /// Stores a key known to be absent and returns its index: an entry heavier than the
    /// whole weight budget is kept too (the others shed first), as [`entry`](Self::entry)'s
    /// insert keeps it, for a caller that must hand the value back. What it evicts waits in
    /// `leaving`.
    pub(crate) fn insert_absent_kept(
        &mut self,
        hash: u64,
        key: K,
        value: V,
        weight: u64,
        leaving: &mut Departures<K, V>,
    ) -> u32 {
        if self.has_budget() {
            self.insert_absent_weighed_into(leaving, hash, key, value, weight)
        } else {
            self.insert_absent_or_depart(hash, key, value, leaving)
        }
    }

    pub(crate) fn insert_absent_checked(
        &mut self,
        hash: u64,
        key: K,
        value: V,
        weight: u64,
        leaving: &mut Departures<K, V>,
    ) -> Option<u32> {
        if !self.has_budget() {
            return Some(self.insert_absent_or_depart(hash, key, value, leaving));
        }
        if weight > self.weight_limit() {
            self.metrics.inserted_in_place();
            self.release_or_depart(key, value, RemovalCause::Evicted, leaving);
            return None;
        }
        if leaving.is_empty() {
            Some(self.insert_absent_weighed(hash, key, value, weight))
        } else {
            Some(self.insert_absent_weighed_into(leaving, hash, key, value, weight))
        }
    }

    /// [`insert_absent_weighed`](Self::insert_absent_weighed), weighing the entry first; out of
    /// line, so that maps without a budget pay one branch for it.
    #[cold]
    #[inline(never)]
    fn insert_absent_weighing(&mut self, hash: u64, key: K, value: V) -> u32 {
        let weight = self.weigh(&key, &value);
        self.insert_absent_weighed(hash, key, value, weight)
    }

    /// A new key under a weight budget, for an entry API that must keep it: evicts until it
    /// fits, or until it is alone if it is heavier than the whole budget.
    #[cold]
    #[inline(never)]
    fn insert_absent_weighed(&mut self, hash: u64, key: K, value: V, weight: u64) -> u32 {
        let mut own = Departures::default();
        let index = self.insert_absent_weighed_into(&mut own, hash, key, value, weight);
        self.notify(own);
        index
    }

    /// [`insert_absent_weighed`](Self::insert_absent_weighed), what it evicts held in
    /// `leaving`.
    fn insert_absent_weighed_into(
        &mut self,
        leaving: &mut Departures<K, V>,
        hash: u64,
        key: K,
        value: V,
        weight: u64,
    ) -> u32 {
        self.shed(weight, None, leaving);
        let index = self.push_absent(hash, key, value);
        self.store.set_weight(index, weight);
        self.metrics.weighed(self.store.total_weight());
        index
    }

    /// Replaces the least recent entry with a new one. Out of line: it keeps the common
    /// insert path small enough to inline (measured: +13 instructions per insert otherwise).
    #[inline(never)]
    fn evict_into(&mut self, victim: u32, hash: u64, key: K, value: V) -> u32 {
        // A victim past its deadline leaves because it expired, not because of the bound.
        let cause = self.victim_cause(victim);
        let (old_key, old_value) = self.store.replace_at(victim, hash, key, value);
        self.metrics.inserted_in_place();
        self.release(old_key, old_value, cause);
        victim
    }

    /// The value for `key`, making it the most recently used entry.
    pub(crate) fn get<Q>(&mut self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.get_mut(key).map(|value| &*value)
    }

    /// The value for `key`, inserting `make()` first if the key is absent (which may evict
    /// like [`insert`](Self::insert)); the entry becomes the most recently used. One lookup,
    /// as [`entry`](Self::entry)`(key).or_insert_with(make)`. O(1) average.
    pub(crate) fn get_or_insert_with(&mut self, key: K, make: impl FnOnce() -> V) -> &mut V {
        self.entry(key).or_insert_with(make)
    }

    /// Changes the bound. Shrinking below the current length evicts entries in the policy's
    /// order (an [`LruMap`]'s least recently used first) through the cleanup path with
    /// [`RemovalCause::Evicted`]. O(evicted).
    pub(crate) fn set_max(&mut self, max: usize) {
        self.settle();
        self.resize(max);
    }
}

impl<K: Hash + Eq, V, S: BuildHasher, L: RemovalListener<K, V>, E: Expiry>
    RawMap<K, V, Lru, S, L, E>
{
    /// The least recently used entry — the next to be evicted — without changing the order.
    pub(crate) fn peek_lru(&self) -> Option<(&K, &V)> {
        self.store.back().map(|i| {
            let node = self.store.node(i);
            (&node.key, &node.value)
        })
    }

    /// Removes the least recently used entry and hands it back to you; no hook runs.
    pub(crate) fn pop_lru(&mut self) -> Option<(K, V)> {
        self.settle();
        let back = self.store.back()?;
        Some(self.take_at(back))
    }
}

impl<K: Hash + Eq, V, S: BuildHasher, L: RemovalListener<K, V>, E: Expiry>
    RawMap<K, V, Reject, S, L, E>
{
    /// Stores `value` under `key` as the most recently written entry, or hands both back if
    /// the key is new and the map is full.
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
        let mut leaving = Departures::default();
        let stored = match self.try_replace_inner(hash, key, value, &mut leaving) {
            Ok(replaced) => {
                if let Some((key, old)) = replaced {
                    self.release_or_depart(key, old, RemovalCause::Replaced, &mut leaving);
                }
                Ok(())
            }
            Err(rejected) => Err(rejected),
        };
        let mut panics = HookPanics::default();
        self.notify_into(leaving, &mut panics);
        self.finish_handing_back(panics, stored, |stored| stored.err().map(rejected_departs))
    }

    /// Like [`try_insert`](Self::try_insert), but hands back the value it replaced (no hook
    /// runs for it).
    pub(crate) fn try_replace(
        &mut self,
        key: K,
        value: V,
    ) -> Result<Option<V>, CapacityError<K, V>> {
        Ok(self.try_replace_entry(key, value)?.map(|(_, old)| old))
    }

    /// [`try_replace`](Self::try_replace), handing back the caller's key with the old value.
    pub(crate) fn try_replace_entry(
        &mut self,
        key: K,
        value: V,
    ) -> Result<Option<(K, V)>, CapacityError<K, V>> {
        let hash = self.store.hash(&key);
        self.try_replace_entry_hashed(hash, key, value)
    }

    /// [`try_replace_entry`](Self::try_replace_entry) with the key's hash already taken.
    pub(crate) fn try_replace_entry_hashed(
        &mut self,
        hash: u64,
        key: K,
        value: V,
    ) -> Result<Option<(K, V)>, CapacityError<K, V>> {
        let mut leaving = Departures::default();
        let stored = self.try_replace_inner(hash, key, value, &mut leaving);
        let mut panics = HookPanics::default();
        self.notify_into(leaving, &mut panics);
        self.finish_handing_back(panics, stored, stored_departs)
    }

    fn try_replace_inner(
        &mut self,
        hash: u64,
        key: K,
        value: V,
        leaving: &mut Departures<K, V>,
    ) -> Result<Option<(K, V)>, CapacityError<K, V>> {
        if self.has_budget() {
            return self.try_replace_weighed(leaving, hash, key, value);
        }
        match self.upsert_hashed(hash, key, value, leaving) {
            Ok(replaced) => Ok(replaced),
            Err((_, key, value)) if self.store.is_full() => {
                Err(CapacityError::new(key, value, self.store.max()))
            }
            Err((hash, key, value)) => {
                self.push_absent(hash, key, value);
                Ok(None)
            }
        }
    }

    /// `try_insert`/`try_replace` under a weight budget: refused when the entry would take
    /// the map past its count or its weight budget (a present key's old weight is freed
    /// first), so nothing is ever evicted.
    #[cold]
    #[inline(never)]
    fn try_replace_weighed(
        &mut self,
        leaving: &mut Departures<K, V>,
        hash: u64,
        key: K,
        value: V,
    ) -> Result<Option<(K, V)>, CapacityError<K, V>> {
        self.expire_some(leaving);
        let weight = self.weigh(&key, &value);
        let found = self.store.find(hash, &key);
        let present = found.and_then(|index| self.live_or_depart(index, leaving));
        let freed = present.map_or(0, |index| self.store.weight_at(index));
        let weight_after = (self.store.total_weight() - freed).saturating_add(weight);
        let fits =
            weight_after <= self.weight_limit() && (present.is_some() || !self.store.is_full());
        if !fits {
            return Err(CapacityError::new(key, value, self.store.max()));
        }
        let replaced = if let Some(index) = present {
            let old = self.overwrite_at(index, value);
            self.store.set_weight(index, weight);
            Some((key, old))
        } else {
            let index = self.push_absent(hash, key, value);
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

impl<K: Hash, V, P: Policy, S: BuildHasher, L: RemovalListener<K, V>, E: Expiry> ManagedCache
    for RawMap<K, V, P, S, L, E>
{
    /// Clears the map with [`RemovalCause::ScopeEnded`] if it has `lifetime`. O(n).
    fn end_scope(&mut self, lifetime: Lifetime) -> usize {
        let mut panics = HookPanics::default();
        let ended = self.end_scope_into(lifetime, &mut panics);
        self.finish(panics);
        ended
    }

    /// Purges expired entries (none without `ttl`/`idle`). O(n).
    fn maintain(&mut self) -> usize {
        let mut panics = HookPanics::default();
        let purged = self.maintain_into(&mut panics);
        self.finish(panics);
        purged
    }

    /// This map's figures, as the only element.
    fn stats(&self) -> Vec<MapStats> {
        vec![MapStats::new(
            self.name(),
            self.lifetime,
            P::NAME,
            [self.len(), self.max(), self.capacity(), self.heap_bytes()],
            self.metrics.hook_panics(),
        )]
    }
}

impl<K, V, P: Policy, S, L: RemovalListener<K, V>, E: Expiry> Drop for RawMap<K, V, P, S, L, E> {
    /// Whatever is left goes through the cleanup path with [`RemovalCause::Dropped`] (an
    /// ended scope's entries with [`RemovalCause::ScopeEnded`]).
    fn drop(&mut self) {
        if L::OBSERVES_REMOVALS {
            let mut panics = HookPanics::default();
            // Straight from the slab: no second vector of causes (fill-then-drop workloads
            // paid 30% for one, callgrind).
            for (node, ended) in self.store.take_all_marked() {
                let cause = cause_at_drop(ended);
                self.listener
                    .on_removal_contained(node.key, node.value, cause, &mut panics);
            }
            self.finish(panics);
        }
    }
}

impl<K: Clone, V: Clone, P: Policy, S: Clone, L: RemovalListener<K, V> + Clone, E: Expiry> Clone
    for RawMap<K, V, P, S, L, E>
{
    /// Clones entries, order, bound, hasher and listener. Each copy of a value leaves its own
    /// map through that map's cleanup path.
    fn clone(&self) -> Self {
        let mut clone = Self::from_parts(
            self.store.clone(),
            self.listener.clone(),
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

impl<K: fmt::Debug, V: fmt::Debug, P: Policy, S, L: RemovalListener<K, V>, E: Expiry> fmt::Debug
    for RawMap<K, V, P, S, L, E>
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

impl<K, V, P: Policy, S, L: RemovalListener<K, V>, E: Expiry> IntoIterator
    for RawMap<K, V, P, S, L, E>
{
    type Item = (K, V);
    type IntoIter = IntoIter<K, V, P, S, L, E>;

    /// Hands every entry to you in arbitrary order. Entries not yet yielded when the iterator
    /// is dropped go through the cleanup path with [`RemovalCause::Dropped`].
    fn into_iter(mut self) -> Self::IntoIter {
        let mut panics = HookPanics::default();
        let mut nodes = self.take_all_settled(&mut panics);
        if panics.will_resume() {
            // Not handed out after all: dropped with the map, then the first panic resumes.
            for node in core::mem::take(&mut nodes) {
                self.listener.on_removal_contained(
                    node.key,
                    node.value,
                    RemovalCause::Dropped,
                    &mut panics,
                );
            }
            self.finish(panics);
        }
        IntoIter::new(nodes, self)
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
