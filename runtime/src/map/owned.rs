//! [`Owned`]: a core map and the listener that hears what leaves it, the working part of
//! every [`ManagedMap`](crate::ManagedMap) (and of its entries and owning iterators).
//!
//! The core records what leaves during an operation; [`Owned::done`] and
//! [`Owned::hand_back`] run those hooks once the operation has finished changing the map,
//! through `hooks::run_departed`. A listener that observes nothing makes both a constant: the
//! core then keeps nothing (`KeptFor`), and there is nothing to run.

use core::borrow::Borrow;
use core::hash::{BuildHasher, Hash};

use crate::RemovalCause;
use crate::departures::Departed;
use crate::hooks::{KeptFor, RemovalListener, run_departed};
use crate::map::entry::{Entry, OccupiedEntry, VacantEntry};
use crate::map::owning::{Drain, IntoIter};
use crate::policy::Policy;
use crate::raw::RawMap;
use crate::registry::MapMetrics;
use crate::storage::expiry::Expiry;

/// The core map an owner with listener `L` keeps.
pub(crate) type Core<K, V, P, S, L, E> = RawMap<K, V, P, S, KeptFor<L, K, V>, E>;

/// A core map and its listener. Dropping it runs the hooks of every entry left, with
/// [`RemovalCause::Dropped`] (an ended scope's with [`RemovalCause::ScopeEnded`]).
pub(crate) struct Owned<K, V, P: Policy, S, L: RemovalListener<K, V>, E: Expiry> {
    pub(crate) raw: Core<K, V, P, S, L, E>,
    pub(crate) listener: L,
}

impl<K, V, P: Policy, S, L: RemovalListener<K, V>, E: Expiry> Owned<K, V, P, S, L, E> {
    /// Ends an operation: the hooks of what left during it run. Nothing at all when the
    /// listener observes nothing.
    #[inline]
    pub(crate) fn done(&mut self) {
        self.hand_back((), |(), _| None);
    }

    /// Ends an operation that hands `back` to its caller: the hooks of what left run, and if
    /// one panicked, what `departs` makes of `back` (counted in the map's figures it is
    /// given, if it is to count) goes through them too, since the caller will never receive
    /// it, before the first panic resumes.
    #[inline]
    pub(crate) fn hand_back<T, I>(
        &mut self,
        back: T,
        departs: impl FnOnce(T, &MapMetrics) -> I,
    ) -> T
    where
        I: IntoIterator<Item = Departed<K, V>>,
    {
        if !self.raw.has_departed() {
            return back;
        }
        self.run_hooks(back, departs)
    }

    /// [`hand_back`](Self::hand_back) once something left.
    fn run_hooks<T, I>(&mut self, back: T, departs: impl FnOnce(T, &MapMetrics) -> I) -> T
    where
        I: IntoIterator<Item = Departed<K, V>>,
    {
        run_owner_hooks(&mut self.raw, &mut self.listener, |key| key, back, departs)
    }
}

/// The hooks of what left `raw` during an operation, heard by `listener` (each key as `key`
/// makes it), then `back` (see [`Owned::hand_back`]): every owner ends its operations here,
/// `Owned` and `WeakKeyMap` alike. Out of line: most operations let nothing leave.
#[cold]
#[inline(never)]
pub(crate) fn run_owner_hooks<K0, K, V, P, S, L, E, T, I>(
    raw: &mut RawMap<K0, V, P, S, KeptFor<L, K, V>, E>,
    listener: &mut L,
    key: impl Fn(K0) -> K,
    back: T,
    departs: impl FnOnce(T, &MapMetrics) -> I,
) -> T
where
    P: Policy,
    L: RemovalListener<K, V>,
    E: Expiry,
    I: IntoIterator<Item = Departed<K, V>>,
{
    let (departed, metrics) = raw.drain_departed();
    run_departed(
        departed.map(|(stored, value, cause)| (key(stored), value, cause)),
        |key, value, cause, panics| listener.on_removal_contained(key, value, cause, panics),
        back,
        |back| departs(back, metrics),
        |count| metrics.hook_panicked(count),
    )
}

impl<K, V, P: Policy, S, L: RemovalListener<K, V>, E: Expiry> Drop for Owned<K, V, P, S, L, E> {
    fn drop(&mut self) {
        if L::OBSERVES_REMOVALS {
            let (left, metrics) = self.raw.drain_for_drop();
            let listener = &mut self.listener;
            run_departed(
                left,
                |key, value, cause, panics| {
                    listener.on_removal_contained(key, value, cause, panics);
                },
                (),
                |()| None,
                |count| metrics.hook_panicked(count),
            );
        }
    }
}

impl<K: Clone, V: Clone, P: Policy, S: Clone, L: RemovalListener<K, V> + Clone, E: Expiry> Clone
    for Owned<K, V, P, S, L, E>
{
    fn clone(&self) -> Self {
        Self {
            raw: self.raw.clone(),
            listener: self.listener.clone(),
        }
    }
}

/// What a value handed back by a removal would have left with, had a hook not panicked.
#[cfg_attr(
    not(feature = "tracking"),
    allow(
        clippy::trivially_copy_pass_by_ref,
        reason = "`MapMetrics` is a unit without `tracking`"
    )
)]
pub(crate) fn removed_departs<K, V>(
    removed: Option<(K, V)>,
    _: &MapMetrics,
) -> Option<Departed<K, V>> {
    removed.map(|(key, value)| (key, value, RemovalCause::Explicit))
}

impl<K: Hash, V, P: Policy, S: BuildHasher, L: RemovalListener<K, V>, E: Expiry>
    Owned<K, V, P, S, L, E>
{
    /// The entry for `key`: the insert's housekeeping, whose hooks run before the entry
    /// borrows the map (no value of the caller's is in flight yet, only `key`).
    pub(crate) fn entry(&mut self, key: K) -> Entry<'_, K, V, P, S, L, E>
    where
        K: Eq,
    {
        let found = self.raw.find_entry(key);
        if Core::<K, V, P, S, L, E>::LOOKUPS_DEPART {
            self.done();
        }
        match found {
            Ok(index) => Entry::Occupied(OccupiedEntry::new(self, index)),
            Err((hash, key)) => Entry::Vacant(VacantEntry::new(self, hash, key)),
        }
    }

    /// The value for `key`, mutably, counted and used as a read; an expired entry met on the
    /// way leaves first.
    #[inline]
    pub(crate) fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let found = self.raw.find_for_read(key);
        if Core::<K, V, P, S, L, E>::LOOKUPS_DEPART {
            self.done();
        }
        Some(self.raw.value_at_mut(found?))
    }
}

impl<K, V, P: Policy, S, L: RemovalListener<K, V>, E: Expiry> Owned<K, V, P, S, L, E> {
    /// Takes every entry out for a [`Drain`]: an ended scope's entries leave through their
    /// hooks first. If one of those hooks panics, the rest are not handed out after all: they
    /// are cleared, then the panic resumes.
    pub(crate) fn drain(&mut self) -> Drain<'_, K, V, L> {
        let rest = self.raw.take_all_settled();
        let rest = self.hand_back(rest, cleared);
        Drain::new(rest, &mut self.listener, self.raw.metrics())
    }

    /// The keys of every entry, for `into_keys`: the values leave through the hooks with
    /// [`RemovalCause::Dropped`] (an ended scope's or an expired one's with its own cause),
    /// as at the map's drop; the caller gets clones of the keys.
    pub(crate) fn into_keys(mut self) -> Vec<K>
    where
        K: Clone,
    {
        let rest = self.raw.take_all_settled();
        let keys = rest.iter().map(|(key, _)| key.clone()).collect();
        for (key, value) in rest {
            self.raw.depart(key, value, RemovalCause::Dropped);
        }
        // Dropping the map runs the hooks of everything that departed.
        keys
    }

    /// Takes every entry out for an [`IntoIter`], as [`drain`](Self::drain) does (the ones
    /// not handed out after all leave as dropped).
    pub(crate) fn into_iter(mut self) -> IntoIter<K, V, P, S, L, E> {
        let rest = self.raw.take_all_settled();
        let rest = self.hand_back(rest, |rest, _| {
            rest.into_iter()
                .map(|(key, value)| (key, value, RemovalCause::Dropped))
        });
        IntoIter::new(rest, self)
    }
}

/// Entries a drain will not hand out after all: counted, and leaving as cleared.
#[cfg_attr(
    not(feature = "tracking"),
    allow(
        clippy::trivially_copy_pass_by_ref,
        reason = "`MapMetrics` is a unit without `tracking`"
    )
)]
fn cleared<K, V>(
    rest: Vec<(K, V)>,
    metrics: &MapMetrics,
) -> impl Iterator<Item = Departed<K, V>> + use<K, V> {
    metrics.removed_many(RemovalCause::Cleared, rest.len() as u64);
    rest.into_iter()
        .map(|(key, value)| (key, value, RemovalCause::Cleared))
}
