//! The one shard layer under every concurrent map.
//!
//! [`Sharded`] is a fixed set of shards, each a single-threaded map (any [`Shard`]) behind its
//! own lock, with the map's hooks, name, lifetime, bound and registry entry. Every operation
//! locks one shard, does its work there, and takes what left out of the shard before
//! unlocking; only then do the hooks run, so a hook may use the map (even the same key), and a
//! slow hook blocks no other thread's access to the shard. [`ConcurrentMap`] and
//! [`ConcurrentWeakKeyMap`] are this layer over a [`ManagedMap`] and a [`WeakKeyMap`] shard.
//!
//! [`ConcurrentMap`]: super::ConcurrentMap
//! [`ConcurrentWeakKeyMap`]: super::ConcurrentWeakKeyMap
//! [`ManagedMap`]: crate::ManagedMap
//! [`WeakKeyMap`]: crate::WeakKeyMap

use core::fmt;
use core::hash::{BuildHasher, Hash};
use std::borrow::Cow;
use std::panic::Location;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use super::lock::ShardLock;
use crate::RemovalCause;
use crate::builder::{Settings, assert_valid_max, assert_valid_max_weight};
use crate::departures::{Departed, Departures, Resize, Settle, Shard};
use crate::hooks::{ConcurrentListener, each_departed, run_departed};
use crate::maintenance::{self, Maintain};
use crate::panics::HookPanics;
use crate::registry::{self, MapMetrics};
use crate::scope::{Lifetime, ManagedCache};
use crate::stats::MapStats;
use crate::storage::expiry::Expiry;
use crate::storage::order::EvictionOrder;
use crate::storage::pool::Pool;
use crate::storage::scopes::ScopeTags;
use crate::storage::store::Store;

/// What a new concurrent map is made of, apart from its shards: everything its builder set.
pub(crate) struct Parts<S, L> {
    /// The bound.
    pub(crate) max: usize,
    /// Entries to reserve room for up front, over all shards.
    pub(crate) capacity: usize,
    /// The shard count the builder asked for, if any.
    pub(crate) shards: Option<usize>,
    pub(crate) hasher: S,
    pub(crate) listener: L,
    pub(crate) lifetime: Lifetime,
    pub(crate) name: Cow<'static, str>,
    pub(crate) site: &'static Location<'static>,
}

impl<S, L> Parts<S, L> {
    /// What a builder's `settings` and `listener` say, and the expiry state the shards split.
    pub(crate) fn from_settings<E: Expiry>(mut settings: Settings<S, E>, listener: L) -> (Self, E) {
        let name = settings.take_name();
        let parts = Self {
            max: settings.max,
            capacity: settings.capacity,
            shards: settings.shards,
            hasher: settings.hasher,
            listener,
            lifetime: settings.lifetime,
            name,
            site: settings.site,
        };
        (parts, settings.expiry)
    }
}

/// Shards behind their locks, and what the whole map shares.
pub(crate) struct Sharded<T, S, L>
where
    T: Shard,
    L: ConcurrentListener<T::Key, T::Value>,
{
    shards: Box<[ShardLock<T>]>,
    /// Picks a key's shard: the same hash the shard's table uses, so one `BuildHasher`.
    hasher: S,
    /// `64 - 7 - log2(shards)`: the shard comes from the bits just below the seven the hash
    /// table keeps as tags, so keys of one shard still differ in their tags.
    shift: u32,
    listener: L,
    lifetime: Lifetime,
    name: Cow<'static, str>,
    /// The bound; atomic so `set_max` can take `&self`.
    max: AtomicUsize,
    /// The weight budget, if any: the whole map's, which every shard checks through `pool`
    /// (atomic so `set_max_weight` can take `&self`).
    max_weight: Option<AtomicU64>,
    /// The limits the shards share (see `storage::pool`): a bounded map's count, and any
    /// map's weight budget. `None` for an evicting map without a budget, whose shards split
    /// the bound exactly.
    pool: Option<Arc<Pool>>,
    /// Where the next shedding from other shards starts, so they take turns.
    shed_from: AtomicUsize,
    /// Whether the map evicts (else it refuses when full): how its bound is shared.
    evicts: bool,
    /// Held by `set_max` while it sets the bound and applies it to every shard, so concurrent
    /// calls take turns and the last one holds everywhere.
    resizing: ShardLock<()>,
    /// The registry entry summing the shards' figures; gone when the map is dropped.
    metrics: MapMetrics,
}

impl<T: Shard, S, L: ConcurrentListener<T::Key, T::Value>> Sharded<T, S, L> {
    /// Makes the shards — how many, each's bound, reserved room and registry counters (one
    /// writer per counter) — and the map's one registry entry summing them. `store` makes a
    /// shard's storage (its bound, its room), `shard` the shard around it.
    pub(crate) fn build<K2, V2, S2, E2: Expiry, O2: EvictionOrder>(
        parts: Parts<S, L>,
        max_weight: Option<u64>,
        (policy, evicts): (&'static str, bool),
        mut store: impl FnMut(usize, usize) -> Store<K2, V2, S2, E2, O2>,
        mut shard: impl FnMut(Store<K2, V2, S2, E2, O2>, MapMetrics) -> T,
    ) -> Self {
        let Parts {
            max,
            capacity,
            shards,
            hasher,
            listener,
            lifetime,
            name,
            site,
        } = parts;
        assert_valid_max(max);
        let count = shard_count(shards, max);
        let capacity_per_shard = capacity.div_ceil(count);
        let pool = (!evicts || max_weight.is_some()).then(|| Arc::new(Pool::new(!evicts)));
        let mut order = O2::default();
        order.shard_template(count);
        let mut counters = Vec::with_capacity(count);
        let shards = (0..count)
            .map(|index| {
                let per_shard = shard_bound(max, count, index, evicts);
                let mut store = store(per_shard, capacity_per_shard.min(per_shard));
                if let Some(slot) = lifetime.scope_slot() {
                    store.enable_scopes(slot);
                }
                if let Some(pool) = &pool {
                    store.join_pool(Arc::clone(pool));
                }
                store.join_order(&order);
                let unscoped = store.scopes().map(ScopeTags::published_unscoped);
                let identity = registry::Identity {
                    // A shard's events (`tracing`) name its map; its figures are published
                    // under the map's name, so without events it needs none.
                    name: if cfg!(feature = "tracing") {
                        name.to_string()
                    } else {
                        String::new()
                    },
                    lifetime,
                    policy,
                    max: per_shard,
                    site,
                };
                let metrics = registry::shard_metrics(identity, (store.ages(), unscoped));
                #[allow(
                    clippy::clone_on_copy,
                    reason = "an `Arc` with `tracking` on; a `Copy` unit without it"
                )]
                counters.push(metrics.clone());
                ShardLock::new(shard(store, metrics))
            })
            .collect();
        let identity = registry::Identity {
            name: name.to_string(),
            lifetime,
            policy,
            max,
            site,
        };
        let metrics = registry::register_sharded(identity, &counters);
        Self {
            shards,
            hasher,
            shift: 64 - 7 - count.trailing_zeros(),
            listener,
            lifetime,
            name,
            max: AtomicUsize::new(max),
            max_weight: max_weight.map(AtomicU64::new),
            pool,
            shed_from: AtomicUsize::new(0),
            evicts,
            resizing: ShardLock::new(()),
            metrics,
        }
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn lifetime(&self) -> Lifetime {
        self.lifetime
    }

    pub(crate) fn max(&self) -> usize {
        self.max.load(Ordering::Relaxed)
    }

    pub(crate) fn max_weight(&self) -> Option<u64> {
        self.max_weight
            .as_ref()
            .map(|max_weight| max_weight.load(Ordering::Relaxed))
    }

    pub(crate) fn shard_count(&self) -> usize {
        self.shards.len()
    }

    pub(crate) fn listener(&self) -> &L {
        &self.listener
    }

    pub(crate) fn hasher(&self) -> &S {
        &self.hasher
    }

    /// The shard of a key whose hash is `hash`.
    #[inline]
    pub(crate) fn shard_at(&self, hash: u64) -> &ShardLock<T> {
        let index = (hash >> self.shift) as usize & (self.shards.len() - 1);
        &self.shards[index]
    }

    /// Runs `work` on the locked shard of `key`, given the key's hash (taken once: the
    /// shards' hashers are clones of this one), then the hooks as
    /// [`on_shard`](Self::on_shard) does.
    #[inline]
    pub(crate) fn on_key<Q: Hash + ?Sized, R>(
        &self,
        key: &Q,
        work: impl FnOnce(&mut T, u64) -> R,
    ) -> R
    where
        S: BuildHasher,
        T: Settle,
    {
        let hash = self.hasher.hash_one(key);
        self.on_shard(self.shard_at(hash), |shard| work(shard, hash))
    }

    /// [`on_key`](Self::on_key) for an operation that hands a value of the map's back (see
    /// [`on_shard_handing_back`](Self::on_shard_handing_back)).
    #[inline]
    pub(crate) fn on_key_handing_back<Q: Hash + ?Sized, R>(
        &self,
        key: &Q,
        work: impl FnOnce(&mut T, u64) -> R,
        departed: impl FnOnce(R) -> Option<Departed<T::Key, T::Value>>,
    ) -> R
    where
        S: BuildHasher,
        T: Settle,
    {
        let hash = self.hasher.hash_one(key);
        self.on_shard_handing_back(self.shard_at(hash), |shard| work(shard, hash), departed)
    }

    /// A figure summed over the shards, each locked in turn (so, under concurrent writes, a
    /// sum of figures each true at a slightly different moment). O(shards).
    fn sum<F: core::iter::Sum>(&self, figure: impl Fn(&T) -> F) -> F {
        self.shards
            .iter()
            .map(|shard| shard.with(|s| figure(s)))
            .sum()
    }

    /// The entries: a bounded map's from its shared count (exact at every moment, so never
    /// over `max`); else summed over the shards, each locked in turn.
    pub(crate) fn len(&self) -> usize {
        match &self.pool {
            Some(pool) if pool.counts() => pool.count(),
            _ => self.sum(T::len),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.shards.iter().all(|shard| shard.with(|s| s.len() == 0))
    }

    pub(crate) fn capacity(&self) -> usize {
        self.sum(T::capacity)
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.sum(T::heap_bytes)
    }

    /// What the entries weigh: from the shards' shared figure when they share a budget (one
    /// moment's, where a sum over shards locked in turn could count an entry that moved twice).
    pub(crate) fn weight(&self) -> u64 {
        match (&self.pool, &self.max_weight) {
            (Some(pool), Some(_)) => pool.weight(),
            _ => self.sum(T::weight),
        }
    }

    pub(crate) fn unscoped(&self) -> usize {
        self.sum(T::unscoped)
    }

    /// Runs `work` on the locked `shard`; then, unlocked, the hooks of what left meanwhile.
    #[inline]
    pub(crate) fn on_shard<R>(&self, shard: &ShardLock<T>, work: impl FnOnce(&mut T) -> R) -> R
    where
        T: Settle,
    {
        self.on_shard_handing_back(shard, work, |_| None)
    }

    /// [`on_shard`](Self::on_shard) for an operation that hands a value of the map's back to
    /// its caller: if a hook panics, the caller will never receive it, so it goes through the
    /// hooks too (with the cause `departed` gives it) before the first panic resumes.
    #[inline]
    pub(crate) fn on_shard_handing_back<R>(
        &self,
        shard: &ShardLock<T>,
        work: impl FnOnce(&mut T) -> R,
        departed: impl FnOnce(R) -> Option<Departed<T::Key, T::Value>>,
    ) -> R
    where
        T: Settle,
    {
        let (result, leaving) = shard.with(|shard| {
            shard.settle_scopes();
            let result = work(shard);
            let leaving = shard.has_departed().then(|| shard.take_departed());
            (result, leaving)
        });
        if self.sheds() && self.over_budget() {
            let shed = self.shed_elsewhere(shard);
            let leaving = leaving
                .into_iter()
                .flatten()
                .chain(shed.into_iter().flatten());
            return self.run_hooks_handing_back(leaving, result, departed);
        }
        // Most lookups let nothing leave: no hooks, nothing to catch.
        match leaving {
            None => result,
            Some(leaving) => self.run_hooks_handing_back(leaving, result, departed),
        }
    }

    /// Whether an operation that leaves the whole map over its budget sheds from other shards
    /// (an evicting map with a weight budget).
    #[inline]
    fn sheds(&self) -> bool {
        self.evicts && self.max_weight.is_some()
    }

    /// Whether the whole map weighs more than its budget.
    #[inline]
    fn over_budget(&self) -> bool {
        match (&self.pool, self.max_weight()) {
            (Some(pool), Some(max_weight)) => pool.weight() > max_weight,
            _ => false,
        }
    }

    /// An operation on `written` left the whole map over its budget, and that shard had
    /// nothing more to give: the other shards shed in the policy's order, taking turns to go
    /// first, until the map fits (each locked in turn, none while another is).
    #[cold]
    #[inline(never)]
    fn shed_elsewhere(&self, written: &ShardLock<T>) -> Vec<Departures<T::Key, T::Value>>
    where
        T: Settle,
    {
        let count = self.shards.len();
        let start = self.shed_from.fetch_add(1, Ordering::Relaxed);
        let mut shed = Vec::new();
        for step in 0..count {
            if !self.over_budget() {
                break;
            }
            let shard = &self.shards[(start + step) % count];
            if core::ptr::eq(shard, written) {
                continue;
            }
            shed.push(shard.with(|shard| {
                shard.settle_scopes();
                shard.shed_over_budget(usize::MAX);
                shard.take_departed()
            }));
        }
        shed
    }

    /// The hooks of what left during an operation, then its result (see
    /// [`on_shard_handing_back`](Self::on_shard_handing_back)).
    #[cold]
    #[inline(never)]
    fn run_hooks_handing_back<R>(
        &self,
        leaving: impl IntoIterator<Item = Departed<T::Key, T::Value>>,
        result: R,
        departed: impl FnOnce(R) -> Option<Departed<T::Key, T::Value>>,
    ) -> R {
        let listener = &self.listener;
        run_departed(
            leaving,
            |key, value, cause, panics| listener.on_removal_contained(key, value, cause, panics),
            result,
            departed,
            |count| self.metrics.hook_panicked(count),
        )
    }

    /// Runs `work` on every shard in turn, each shard's hooks after its lock is released, and
    /// every shard's work and hooks even if a hook panics; the sum of what `work` returned.
    pub(crate) fn each_shard(&self, work: impl FnMut(&mut T) -> usize) -> usize
    where
        T: Settle,
    {
        self.each_shard_settling(work).0
    }

    /// [`each_shard`](Self::each_shard), returning also how many entries of ended scopes
    /// left on the way.
    fn each_shard_settling(&self, mut work: impl FnMut(&mut T) -> usize) -> (usize, usize)
    where
        T: Settle,
    {
        let mut panics = HookPanics::default();
        let (mut total, mut settled) = (0, 0);
        for shard in &self.shards {
            let (result, leaving) = shard.with(|shard| {
                settled += shard.settle_scopes();
                (work(shard), shard.take_departed())
            });
            total += result;
            self.run_hooks(leaving, &mut panics);
        }
        panics.finish(|count| self.metrics.hook_panicked(count));
        (total, settled)
    }

    /// Takes every entry out of every shard with `take` (each locked in turn) to hand them
    /// back. What left on the way (an ended scope's, expired ones) goes through the hooks
    /// after, with no lock held; if one of those panics, the caller never gets the entries,
    /// so they go through the hooks too (as [`RemovalCause::Cleared`]) before the panic
    /// resumes.
    pub(crate) fn drain_with(
        &self,
        mut take: impl FnMut(&mut T) -> Vec<(T::Key, T::Value)>,
    ) -> Vec<(T::Key, T::Value)>
    where
        T: Settle,
    {
        let mut taken = Vec::new();
        let mut departed = Vec::new();
        for shard in &self.shards {
            shard.with(|shard| {
                shard.settle_scopes();
                taken.extend(take(shard));
                departed.push(shard.take_departed());
            });
        }
        let listener = &self.listener;
        run_departed(
            departed.into_iter().flatten(),
            |key, value, cause, panics| listener.on_removal_contained(key, value, cause, panics),
            taken,
            |taken| {
                taken
                    .into_iter()
                    .map(|(key, value)| (key, value, RemovalCause::Cleared))
            },
            |count| self.metrics.hook_panicked(count),
        )
    }

    /// Runs the hooks of entries that left, in the order they left; no lock is held.
    #[inline]
    fn run_hooks(
        &self,
        departed: impl IntoIterator<Item = Departed<T::Key, T::Value>>,
        panics: &mut HookPanics,
    ) {
        run_hooks(&self.listener, departed, panics);
    }

    /// Takes every entry out of every shard with `cause` (each shard's lock held for O(1)) and
    /// runs their hooks; how many left. O(n).
    fn remove_all(&self, cause: RemovalCause) -> usize {
        let mut panics = HookPanics::default();
        let mut count = 0;
        for shard in &self.shards {
            let taken = shard.with(|s| s.take_all(cause));
            self.run_hooks(
                taken.into_iter().map(|(key, value)| {
                    count += 1;
                    (key, value, cause)
                }),
                &mut panics,
            );
        }
        panics.finish(|count| self.metrics.hook_panicked(count));
        count
    }

    /// Whatever the shards still hold, and what left without its hooks, through the hooks
    /// (each shard locked in turn): the map's drop, on the thread that drops it, also when a
    /// scheduled `maintain()` still holds the shards.
    fn drain_left(&self) {
        let mut panics = HookPanics::default();
        for shard in &self.shards {
            let (departed, left) = shard.with(|shard| (shard.take_departed(), shard.take_left()));
            self.run_hooks(departed, &mut panics);
            self.run_hooks(left, &mut panics);
        }
        panics.finish(|count| self.metrics.hook_panicked(count));
    }

    /// Every entry through the cleanup path with [`RemovalCause::Cleared`].
    pub(crate) fn clear(&self) {
        self.remove_all(RemovalCause::Cleared);
    }

    /// Every entry through the cleanup path with [`RemovalCause::ScopeEnded`] if the map has
    /// `lifetime` (the scope end counted once for the map, not once per shard).
    pub(crate) fn end_scope(&self, lifetime: Lifetime) -> usize {
        if lifetime != self.lifetime {
            return 0;
        }
        self.metrics.scope_ended();
        let count = self.remove_all(RemovalCause::ScopeEnded);
        if count > 0 {
            self.metrics.scope_entries_left(count, true);
        }
        count
    }

    /// Each shard's own `maintain`, one shard locked at a time, and the entries of ended
    /// scopes; how many left.
    pub(crate) fn maintain(&self) -> usize
    where
        T: ManagedCache + Settle,
    {
        let (expired, ended) = self.each_shard_settling(ManagedCache::maintain);
        expired + ended
    }

    /// Sets the bound to `max` (each shard gets its part of it, or a bounded map's shards all
    /// of it, as they share it) under the resizing lock, then the hooks of what left run with
    /// no lock held (not even the resizing one, so a hook may call `set_max` too).
    ///
    /// # Panics
    ///
    /// If `max` is 0.
    pub(crate) fn set_max(&self, max: usize)
    where
        T: Resize + Settle,
    {
        assert_valid_max(max);
        let count = self.shards.len();
        let departed: Vec<_> = self.resizing.with(|()| {
            let departed = self
                .shards
                .iter()
                .enumerate()
                .map(|(index, shard)| {
                    shard.with(|shard| {
                        shard.settle_scopes();
                        shard.resize(shard_bound(max, count, index, self.evicts));
                        shard.take_departed()
                    })
                })
                .collect();
            // Published once every shard holds it (a panicking `Hash` may stop the loop).
            self.max.store(max, Ordering::Relaxed);
            self.metrics.resized(0, max);
            departed
        });
        // Every shard is within the new bound before the first hook runs, so a panicking
        // hook cannot leave shards over it.
        let mut panics = HookPanics::default();
        self.run_hooks(departed.into_iter().flatten(), &mut panics);
        panics.finish(|count| self.metrics.hook_panicked(count));
    }

    /// Sets the weight budget to `max_weight` in every shard, under the resizing lock; an
    /// evicting map then sheds until it fits, one entry a shard in turn, so every shard gives
    /// up its share in its own policy's order. The hooks run after, with no lock held.
    ///
    /// # Panics
    ///
    /// If `max_weight` is 0.
    pub(crate) fn set_max_weight(&self, max_weight: u64)
    where
        T: Resize + Settle,
    {
        assert_valid_max_weight(max_weight);
        let Some(limit) = &self.max_weight else {
            return;
        };
        let departed: Vec<_> = self.resizing.with(|()| {
            for shard in &self.shards {
                shard.with(|shard| shard.set_weight_limit(max_weight));
            }
            limit.store(max_weight, Ordering::Relaxed);
            let mut departed = Vec::new();
            while self.evicts && self.over_budget() {
                let mut shed = 0;
                for shard in &self.shards {
                    if !self.over_budget() {
                        break;
                    }
                    departed.push(shard.with(|shard| {
                        shard.settle_scopes();
                        shed += shard.shed_over_budget(1);
                        shard.take_departed()
                    }));
                }
                if shed == 0 {
                    break;
                }
            }
            departed
        });
        let mut panics = HookPanics::default();
        self.run_hooks(departed.into_iter().flatten(), &mut panics);
        panics.finish(|count| self.metrics.hook_panicked(count));
    }

    /// The map's figures, for [`ManagedCache::stats`].
    pub(crate) fn stats(&self, policy: &'static str) -> Vec<MapStats> {
        let mut stats = MapStats::new(
            self.name(),
            self.lifetime,
            policy,
            [self.len(), self.max(), self.capacity(), self.heap_bytes()],
            self.metrics.hook_panics(),
        );
        stats.unscoped = self.unscoped();
        vec![stats]
    }

    /// The map's `Debug`: name, length, bound, shards and lifetime, not the entries (that
    /// would lock every shard at once).
    pub(crate) fn debug(&self, f: &mut fmt::Formatter<'_>, type_name: &str) -> fmt::Result {
        f.debug_struct(type_name)
            .field("name", &self.name)
            .field("len", &self.len())
            .field("max", &self.max())
            .field("shards", &self.shards.len())
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

/// A map's shards, as the map holds them: shared (through a `Weak`) with the
/// [`maintenance`](crate::maintenance) list once the map is enrolled there, so a scheduled
/// `maintain()` can reach an idle map.
pub(crate) struct Handle<T, S, L>(Arc<Sharded<T, S, L>>)
where
    T: Shard,
    L: ConcurrentListener<T::Key, T::Value>;

impl<T: Shard, S, L: ConcurrentListener<T::Key, T::Value>> Handle<T, S, L> {
    pub(crate) fn new(sharded: Sharded<T, S, L>) -> Self {
        Self(Arc::new(sharded))
    }

    /// Puts the shards on the maintenance list (once; later calls do nothing).
    pub(crate) fn enrol(&self)
    where
        Sharded<T, S, L>: Maintain + 'static,
    {
        if Arc::weak_count(&self.0) == 0 {
            let shards = Arc::downgrade(&self.0);
            maintenance::enrol(shards);
        }
    }

    /// Whether the shards are on the maintenance list.
    pub(crate) fn is_enrolled(&self) -> bool {
        Arc::weak_count(&self.0) > 0
    }
}

impl<T: Shard, S, L: ConcurrentListener<T::Key, T::Value>> core::ops::Deref for Handle<T, S, L> {
    type Target = Sharded<T, S, L>;

    #[inline]
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<T: Shard, S, L: ConcurrentListener<T::Key, T::Value>> Drop for Handle<T, S, L> {
    /// An enrolled map's shards may outlive the map for a moment, while a scheduled
    /// `maintain()` holds them; what they hold still leaves here, on the thread that drops the
    /// map, as it does for every map. (Not enrolled: `Sharded`'s own drop does it, lock-free.)
    fn drop(&mut self) {
        if self.is_enrolled() {
            self.0.drain_left();
        }
    }
}

impl<T: Shard + ManagedCache + Settle, S, L: ConcurrentListener<T::Key, T::Value>> Maintain
    for Sharded<T, S, L>
where
    Self: Send + Sync,
{
    fn maintain(&self) -> usize {
        Sharded::maintain(self)
    }
}

impl<T: Shard, S, L: ConcurrentListener<T::Key, T::Value>> Drop for Sharded<T, S, L> {
    /// Whatever is left goes through the cleanup path (with [`RemovalCause::Dropped`], or
    /// the shard's own cause, such as `Collected` for a dead weak key), every value reaching
    /// its hooks even if one panics.
    fn drop(&mut self) {
        // Entries that left during an operation whose caller's closure panicked (so the
        // hand-off never ran) still get their hooks, with the cause they left with.
        self.drain_left();
    }
}

/// Runs the hooks of entries that left, in the order they left.
#[inline]
fn run_hooks<K, V>(
    listener: &impl ConcurrentListener<K, V>,
    departed: impl IntoIterator<Item = Departed<K, V>>,
    panics: &mut HookPanics,
) {
    each_departed(
        departed,
        |key, value, cause, panics| listener.on_removal_contained(key, value, cause, panics),
        panics,
    );
}

/// The bound of shard `index` of `count` in a map bounded by `max`: an evicting map's shards
/// split it exactly (the first `max % count` take one more), so they never hold more than
/// `max` together — except after `set_max` below the shard count, when each still holds one;
/// a bounded map's shards each check the whole map's count against all of it
/// (`storage::pool`).
fn shard_bound(max: usize, count: usize, index: usize, evicts: bool) -> usize {
    if evicts {
        (max / count + usize::from(index < max % count)).max(1)
    } else {
        max
    }
}

/// The default shard count for a bound: a power of two near four per CPU, with at least 64
/// entries per shard.
fn default_shards(max: usize) -> usize {
    let cpus = std::thread::available_parallelism().map_or(4, usize::from);
    let wanted = (cpus * 4).next_power_of_two();
    wanted.min(floor_power_of_two(max / 64))
}

/// The shard count for a bound: `wanted` (or the default) rounded up to a power of two, but
/// never more shards than `max`, so that each shard of an evicting map holds at least one.
pub(crate) fn shard_count(wanted: Option<usize>, max: usize) -> usize {
    wanted
        .unwrap_or_else(|| default_shards(max))
        .clamp(1, MAX_SHARDS)
        .next_power_of_two()
        .min(floor_power_of_two(max))
}

/// The most shards a map has.
const MAX_SHARDS: usize = 1 << 16;

/// The largest power of two not above `n` (1 for 0).
fn floor_power_of_two(n: usize) -> usize {
    1 << (usize::BITS - 1 - n.max(1).leading_zeros())
}

/// The surface every concurrent map shares, written once over its [`Sharded`] field
/// `sharded`: figures, `clear`, `end_scope`, `maintain`, [`ManagedCache`], and the key
/// lookups `contains_key`, `peek`, `get`, `update` and `discard` (`key` is the bound by which
/// a borrowed form `Q` finds a key: `K`, or for weak keys the pointee `K::Key`). `setup` is
/// the hidden start of each example: it makes `map`, named `Docs.map`, for
/// `Lifetime::Request`, bound 64 in 2 shards, weight budget 1,000 by `String` length, holding
/// `1 => "one"` and `2 => "two"`.
macro_rules! sharded_surface {
    (
        impl [$($generics:tt)*] $map:ty where [$($bounds:tt)*];
        maintain where [$($maintain_bounds:tt)*];
        lookups where [$($lookup_bounds:tt)*];
        enrol [$enrol_trait:ident] where key [$($enrol_key:tt)*];
        key [$($key:tt)*];
        setup = $setup:literal;
        timed_setup = $timed_setup:literal;
    ) => {
        impl<$($generics)*> $map
        where
            $($bounds)*
        {
            /// The map's name: the builder's `name`, `Type.field` for a `#[mapguard::managed]`
            /// field, or else the call site that created it.
            ///
            /// ```
            #[doc = $setup]
            /// assert_eq!(map.name(), "Docs.map");
            /// ```
            #[must_use]
            pub fn name(&self) -> &str {
                self.sharded.name()
            }

            /// The lifetime whose scope end clears this map.
            ///
            /// ```
            #[doc = $setup]
            /// assert_eq!(map.lifetime(), mapguard::Lifetime::Request);
            /// ```
            #[must_use]
            pub fn lifetime(&self) -> $crate::Lifetime {
                self.sharded.lifetime()
            }

            /// The bound of the whole map.
            ///
            /// ```
            #[doc = $setup]
            /// assert_eq!(map.max(), 64);
            /// ```
            #[must_use]
            pub fn max(&self) -> usize {
                self.sharded.max()
            }

            /// How many shards (and locks) the map has.
            ///
            /// ```
            #[doc = $setup]
            /// assert_eq!(map.shard_count(), 2);
            /// ```
            #[must_use]
            pub fn shard_count(&self) -> usize {
                self.sharded.shard_count()
            }

            /// The map's removal listener.
            ///
            /// ```
            #[doc = $setup]
            /// let _listener = map.listener();
            /// ```
            #[must_use]
            pub fn listener(&self) -> &L {
                self.sharded.listener()
            }

            /// Whether the map is on the [`maintenance`](crate::maintenance) list (see
            /// `enrol_for_maintenance`).
            ///
            /// ```
            #[doc = $setup]
            /// assert!(!map.is_enrolled_for_maintenance()); // built by hand: not yet
            /// ```
            #[must_use]
            pub fn is_enrolled_for_maintenance(&self) -> bool {
                self.sharded.is_enrolled()
            }

            /// Number of entries (for weak keys, including any whose key died and that have
            /// not been collected yet), counted shard by shard: under concurrent writes, a sum
            /// of figures each true at a slightly different moment. O(shards).
            ///
            /// ```
            #[doc = $setup]
            /// assert_eq!(map.len(), 2);
            /// ```
            #[must_use]
            pub fn len(&self) -> usize {
                self.sharded.len()
            }

            /// Entries written while no [`Scope`](crate::scope::Scope) of the map's lifetime
            /// was current (0 for a `process` map): they stay until removed, evicted or the
            /// whole lifetime ends ([`end_scope`](Self::end_scope)). A request-lifetime map
            /// whose unscoped entries grow is written from outside any request: run the
            /// writer in [`Scope::run`](crate::scope::Scope::run) or under
            /// [`Scope::enter`](crate::scope::Scope::enter). O(shards).
            ///
            /// ```
            #[doc = $setup]
            /// assert_eq!(map.unscoped(), 2); // the setup writes outside any scope
            /// ```
            #[must_use]
            pub fn unscoped(&self) -> usize {
                self.sharded.unscoped()
            }

            /// Whether the map holds no entries. O(shards).
            ///
            /// ```
            #[doc = $setup]
            /// assert!(!map.is_empty());
            /// ```
            #[must_use]
            pub fn is_empty(&self) -> bool {
                self.sharded.is_empty()
            }

            /// Entries the shards can hold before they reallocate. O(shards).
            ///
            /// ```
            #[doc = $setup]
            /// assert!(map.capacity() >= 2);
            /// ```
            #[must_use]
            pub fn capacity(&self) -> usize {
                self.sharded.capacity()
            }

            /// What the entries weigh together (0 without a weight budget; see
            /// [`crate::weight`]). O(shards).
            ///
            /// ```
            #[doc = $setup]
            /// assert_eq!(map.weight(), 6); // "one" and "two"
            /// ```
            #[must_use]
            pub fn weight(&self) -> u64 {
                self.sharded.weight()
            }

            /// The weight budget of the whole map, if it has one.
            ///
            /// ```
            #[doc = $setup]
            /// assert_eq!(map.max_weight(), Some(1_000));
            /// ```
            #[must_use]
            pub fn max_weight(&self) -> Option<u64> {
                self.sharded.max_weight()
            }

            /// Estimated heap bytes held by the shards' storage. O(shards).
            ///
            /// ```
            #[doc = $setup]
            /// assert!(map.heap_bytes() > 0);
            /// ```
            #[must_use]
            pub fn heap_bytes(&self) -> usize {
                self.sharded.heap_bytes()
            }

            /// Removes every entry through the cleanup path with
            /// [`RemovalCause::Cleared`](crate::RemovalCause::Cleared) and frees the shards'
            /// memory: each shard is emptied under its lock in O(1), the hooks run after.
            /// Entries inserted meanwhile by other threads into shards already cleared stay.
            /// O(n).
            ///
            /// ```
            #[doc = $setup]
            /// map.clear();
            /// assert!(map.is_empty());
            /// assert_eq!(map.heap_bytes(), 0);
            /// ```
            pub fn clear(&self) {
                self.sharded.clear();
            }

            /// Clears the map with
            /// [`RemovalCause::ScopeEnded`](crate::RemovalCause::ScopeEnded) if it has
            /// `lifetime`, and returns how many entries left; through `&self`, so a map
            /// shared by `Arc` can end its scope. O(n).
            ///
            /// ```
            #[doc = $setup]
            /// use mapguard::Lifetime;
            /// assert_eq!(map.end_scope(Lifetime::Session), 0); // another lifetime
            /// assert_eq!(map.end_scope(Lifetime::Request), 2);
            /// assert!(map.is_empty());
            /// ```
            pub fn end_scope(&self, lifetime: $crate::Lifetime) -> usize {
                self.sharded.end_scope(lifetime)
            }
        }

        impl<$($generics)*> $map
        where
            $($bounds)*
            $($maintain_bounds)*
        {
            /// Cleans every expired entry with
            /// [`RemovalCause::Expired`](crate::RemovalCause::Expired), every entry of an
            /// ended [`Scope`](crate::scope::Scope) with
            /// [`RemovalCause::ScopeEnded`](crate::RemovalCause::ScopeEnded) (and, for weak
            /// keys, every entry whose key died, with
            /// [`RemovalCause::Collected`](crate::RemovalCause::Collected)); returns how many
            /// left. Writes also clean a few entries each, so this is only needed to reclaim
            /// the memory of a map that is rarely written. O(n), one shard locked at a time.
            ///
            /// ```
            #[doc = $setup]
            /// assert_eq!(map.maintain(), 0); // nothing expired or collected
            /// ```
            pub fn maintain(&self) -> usize {
                self.sharded.maintain()
            }
        }

        impl<$($generics)*> $crate::ManagedCache for $map
        where
            $($bounds)*
            $($maintain_bounds)*
        {
            /// The inherent `end_scope`.
            fn end_scope(&mut self, lifetime: $crate::Lifetime) -> usize {
                self.sharded.end_scope(lifetime)
            }

            /// The inherent `maintain`.
            fn maintain(&mut self) -> usize {
                self.sharded.maintain()
            }

            /// This map's figures, as the only element.
            fn stats(&self) -> Vec<$crate::scope::MapStats> {
                self.sharded.stats(P::NAME)
            }
        }

        impl<$($generics)*> $map
        where
            $($bounds)*
            K: $($enrol_key)* Send + 'static,
            V: Send + 'static,
            P: 'static,
            S: ::core::hash::BuildHasher + Send + Sync + 'static,
            L: 'static,
            E: Send + 'static,
        {
            /// Puts the map on the [`maintenance`](crate::maintenance) list, so
            /// [`maintenance::maintain_all`](crate::maintenance::maintain_all) (and the task
            /// `maintenance::spawn` starts, with the `tokio` feature) cleans its expired
            /// entries, its ended scopes' entries (and for weak keys, its dead keys' entries)
            /// while nobody touches it. Once is enough; the list lets go of the map when it
            /// is dropped. A `#[managed_map(concurrent, ...)]` field with something to clean
            /// while idle is enrolled already. O(1) amortized.
            ///
            /// ```
            #[doc = $setup]
            /// map.enrol_for_maintenance();
            /// assert!(map.is_enrolled_for_maintenance());
            /// ```
            pub fn enrol_for_maintenance(&self) {
                self.sharded.enrol();
            }
        }

        impl<$($generics)*> $crate::maintenance::$enrol_trait<K, V, L> for $map
        where
            $($bounds)*
            P: 'static,
            S: ::core::hash::BuildHasher + Send + Sync + 'static,
            E: Send + 'static,
        {
            fn enrol(&self)
            where
                K: $($enrol_key)* Send + 'static,
                V: Send + 'static,
                L: 'static,
            {
                self.enrol_for_maintenance();
            }
        }

        impl<$($generics)*> $map
        where
            $($lookup_bounds)*
        {
            /// Whether `key` is present (for weak keys: alive). Does not change the recency
            /// order. O(1) average plus one lock.
            ///
            /// ```
            #[doc = $setup]
            /// assert!(map.contains_key(&1));
            /// assert!(!map.contains_key(&3));
            /// ```
            #[must_use]
            pub fn contains_key<Q>(&self, key: &Q) -> bool
            where
                $($key)*: ::core::borrow::Borrow<Q>,
                Q: ::core::hash::Hash + Eq + ?Sized,
            {
                self.sharded
                    .on_key(key, |shard, hash| shard.contains_key_hashed(hash, key))
            }

            /// A clone of the value for `key`, without making it the most recent or counting
            /// a lookup. O(1) average plus one lock.
            ///
            /// ```
            #[doc = $setup]
            /// assert_eq!(map.peek(&1).as_deref(), Some("one"));
            /// ```
            #[must_use]
            pub fn peek<Q>(&self, key: &Q) -> Option<V>
            where
                $($key)*: ::core::borrow::Borrow<Q>,
                Q: ::core::hash::Hash + Eq + ?Sized,
                V: Clone,
            {
                self.sharded
                    .on_key(key, |shard, hash| shard.peek_hashed(hash, key).cloned())
            }

            /// A clone of the value for `key`, counted as a hit or a miss. For an LRU or
            /// adaptive map this makes the entry the most recently used; an expired entry is
            /// cleaned ([`RemovalCause::Expired`](crate::RemovalCause::Expired)) and not
            /// returned. O(1) average plus one lock.
            ///
            /// ```
            #[doc = $setup]
            /// assert_eq!(map.get(&2).as_deref(), Some("two"));
            /// assert_eq!(map.get(&3), None);
            /// ```
            #[must_use]
            pub fn get<Q>(&self, key: &Q) -> Option<V>
            where
                $($key)*: ::core::borrow::Borrow<Q>,
                Q: ::core::hash::Hash + Eq + ?Sized,
                V: Clone,
            {
                self.update(key, |value| value.clone())
            }

            /// Runs `change` on the value for `key` under its shard's lock and returns what
            /// it returns, or `None` if the key is absent. Counts as a read like
            /// [`get`](Self::get); under a weight budget the entry is weighed again. `change`
            /// must not use this map (its shard is locked). O(1) average plus one lock.
            ///
            /// ```
            #[doc = $setup]
            /// assert_eq!(map.update(&1, |value| { value.push('!'); value.len() }), Some(4));
            /// assert_eq!(map.get(&1).as_deref(), Some("one!"));
            /// ```
            pub fn update<Q, R>(&self, key: &Q, change: impl FnOnce(&mut V) -> R) -> Option<R>
            where
                $($key)*: ::core::borrow::Borrow<Q>,
                Q: ::core::hash::Hash + Eq + ?Sized,
            {
                self.sharded
                    .on_key(key, |shard, hash| shard.update_hashed(hash, key, change))
            }

            /// The time `key`'s entry has left before it expires; `None` if it is absent or
            /// does not expire. See [`LruMap::ttl_of`](crate::LruMap::ttl_of). O(1) average
            /// plus one lock.
            ///
            /// ```
            /// use std::time::Duration;
            #[doc = $timed_setup]
            /// assert_eq!(map.ttl_of(&1), Some(Duration::from_secs(60)));
            /// ```
            #[must_use]
            pub fn ttl_of<Q>(&self, key: &Q) -> Option<::core::time::Duration>
            where
                $($key)*: ::core::borrow::Borrow<Q>,
                Q: ::core::hash::Hash + Eq + ?Sized,
                E: $crate::expiry::Expires,
            {
                self.sharded
                    .on_key(key, |shard, hash| shard.ttl_of_hashed(hash, key))
            }

            /// Gives `key`'s entry the deadline `ttl` from now (`None`: it never expires);
            /// whether it was there. See [`LruMap::set_ttl`](crate::LruMap::set_ttl). O(1)
            /// average plus one lock.
            ///
            /// ```
            /// use std::time::Duration;
            #[doc = $timed_setup]
            /// assert!(map.set_ttl(&1, None));
            /// assert_eq!(map.ttl_of(&1), None);
            /// ```
            pub fn set_ttl<Q>(&self, key: &Q, ttl: Option<::core::time::Duration>) -> bool
            where
                $($key)*: ::core::borrow::Borrow<Q>,
                Q: ::core::hash::Hash + Eq + ?Sized,
                E: $crate::expiry::Expires,
            {
                self.sharded
                    .on_key(key, |shard, hash| shard.set_ttl_hashed(hash, key, ttl))
            }

            /// Removes `key` through the cleanup path with
            /// [`RemovalCause::Explicit`](crate::RemovalCause::Explicit); returns whether it
            /// was present. The hooks run after the shard is unlocked. O(1) average plus one
            /// lock.
            ///
            /// ```
            #[doc = $setup]
            /// assert!(map.discard(&1));
            /// assert!(!map.discard(&1));
            /// assert_eq!(map.len(), 1);
            /// ```
            pub fn discard<Q>(&self, key: &Q) -> bool
            where
                $($key)*: ::core::borrow::Borrow<Q>,
                Q: ::core::hash::Hash + Eq + ?Sized,
            {
                self.sharded
                    .on_key(key, |shard, hash| shard.discard_hashed(hash, key))
            }
        }
    };
}
pub(crate) use sharded_surface;
