//! The owning iterators of a [`ManagedMap`](crate::ManagedMap): [`Drain`] and [`IntoIter`]
//! hand entries out, and what they have not handed out when dropped goes through the hooks.

use core::fmt;
use core::iter::FusedIterator;

use crate::RemovalCause;
use crate::hooks::{RemovalListener, run_departed};
use crate::map::owned::Owned;
use crate::policy::Policy;
use crate::registry::MapMetrics;
use crate::storage::expiry::{Expiry, NoExpiry};

/// Entries taken out of a map, in arbitrary order; from [`ManagedMap::drain`](crate::ManagedMap::drain). Entries not
/// yielded when it is dropped go through the cleanup path with [`RemovalCause::Cleared`].
///
/// The map is empty from the moment `drain` returns. Like `Vec::drain`, a `Drain` passed to
/// [`mem::forget`](std::mem::forget) leaks the entries it has not yielded: they are neither
/// cleaned nor dropped (the registry counts them as handed back).
///
/// ```
/// let mut map = mapguard::LruMap::new(3);
/// map.extend([(1, 'a'), (2, 'b')]);
/// let drained = map.drain().count();
/// assert_eq!(drained, 2);
/// ```
pub struct Drain<'a, K, V, L: RemovalListener<K, V>> {
    rest: std::vec::IntoIter<(K, V)>,
    listener: &'a mut L,
    metrics: &'a MapMetrics,
}

impl<'a, K, V, L: RemovalListener<K, V>> Drain<'a, K, V, L> {
    pub(crate) fn new(nodes: Vec<(K, V)>, listener: &'a mut L, metrics: &'a MapMetrics) -> Self {
        // Counted as handed back now, so the figures are right even if the drain is never
        // dropped; what is left at drop is counted again as cleared instead.
        metrics.taken(nodes.len() as u64);
        Self {
            rest: nodes.into_iter(),
            listener,
            metrics,
        }
    }
}

/// Entries of a consumed map, in arbitrary order; from `ManagedMap::into_iter`. Entries not
/// yielded when it is dropped go through the map's cleanup path with
/// [`RemovalCause::Dropped`].
///
/// It owns the map, so passing it to [`mem::forget`](std::mem::forget) leaks the map, as
/// forgetting the map itself would: the entries not yet yielded are neither cleaned nor
/// dropped, and the map stays in the registry.
///
/// ```
/// let mut map = mapguard::LruMap::new(3);
/// map.extend([(1, 'a')]);
/// let all: Vec<_> = map.into_iter().collect();
/// assert_eq!(all, [(1, 'a')]);
/// ```
pub struct IntoIter<K, V, P: Policy, S, L: RemovalListener<K, V>, E: Expiry = NoExpiry> {
    rest: std::vec::IntoIter<(K, V)>,
    /// The emptied map, kept for its listener.
    map: Owned<K, V, P, S, L, E>,
}

impl<K, V, P: Policy, S, L: RemovalListener<K, V>, E: Expiry> IntoIter<K, V, P, S, L, E> {
    pub(crate) fn new(nodes: Vec<(K, V)>, map: Owned<K, V, P, S, L, E>) -> Self {
        Self {
            rest: nodes.into_iter(),
            map,
        }
    }
}

/// The values of a consumed map; from [`ManagedMap::into_values`](crate::ManagedMap::into_values).
///
/// ```
/// let mut map = mapguard::LruMap::<u8, char>::new(4);
/// map.insert(1, 'a');
/// let values: mapguard::map::IntoValues<u8, char, mapguard::policy::Lru, _, _, _> =
///     map.into_values();
/// assert_eq!(values.collect::<String>(), "a");
/// ```
pub type IntoValues<K, V, P, S, L, E> =
    core::iter::Map<IntoIter<K, V, P, S, L, E>, fn((K, V)) -> V>;

/// Runs the cleanup path over whatever an owning iterator did not yield: every value's hooks,
/// whatever an earlier hook did; then the first panic resumes (contained while unwinding).
#[cfg_attr(
    not(feature = "tracking"),
    allow(
        clippy::trivially_copy_pass_by_ref,
        reason = "`MapMetrics` is a unit without `tracking`"
    )
)]
fn release_rest<K, V, L: RemovalListener<K, V>>(
    rest: &mut std::vec::IntoIter<(K, V)>,
    listener: &mut L,
    metrics: &MapMetrics,
    cause: RemovalCause,
) {
    if L::OBSERVES_REMOVALS {
        run_departed(
            rest.map(|(key, value)| (key, value, cause)),
            |key, value, cause, panics| listener.on_removal_contained(key, value, cause, panics),
            (),
            |()| None,
            |count| metrics.hook_panicked(count),
        );
    }
}

impl<K, V, L: RemovalListener<K, V>> Drop for Drain<'_, K, V, L> {
    fn drop(&mut self) {
        // Not yielded, so not handed back after all: cleared.
        self.metrics
            .untaken(RemovalCause::Cleared, self.rest.len() as u64);
        release_rest(
            &mut self.rest,
            self.listener,
            self.metrics,
            RemovalCause::Cleared,
        );
    }
}

impl<K, V, P: Policy, S, L: RemovalListener<K, V>, E: Expiry> Drop for IntoIter<K, V, P, S, L, E> {
    fn drop(&mut self) {
        let map = &mut self.map;
        release_rest(
            &mut self.rest,
            &mut map.listener,
            map.raw.metrics(),
            RemovalCause::Dropped,
        );
    }
}

macro_rules! owning_iterator {
    ($name:ident < $($param:tt),* > where $($bounds:tt)*) => {
        impl<$($param),*> Iterator for $name<$($param),*>
        where
            $($bounds)*
        {
            type Item = (K, V);

            #[inline]
            fn next(&mut self) -> Option<(K, V)> {
                self.rest.next()
            }

            #[inline]
            fn size_hint(&self) -> (usize, Option<usize>) {
                self.rest.size_hint()
            }
        }

        impl<$($param),*> DoubleEndedIterator for $name<$($param),*>
        where
            $($bounds)*
        {
            #[inline]
            fn next_back(&mut self) -> Option<(K, V)> {
                self.rest.next_back()
            }
        }

        impl<$($param),*> ExactSizeIterator for $name<$($param),*> where $($bounds)* {}
        impl<$($param),*> FusedIterator for $name<$($param),*> where $($bounds)* {}

        impl<$($param),*> fmt::Debug for $name<$($param),*>
        where
            K: fmt::Debug,
            V: fmt::Debug,
            $($bounds)*
        {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let rest = self.rest.as_slice().iter().map(|(key, value)| (key, value));
                f.debug_tuple(stringify!($name)).field(&DebugList(rest)).finish()
            }
        }
    };
}

struct DebugList<I>(I);

impl<I: Clone + Iterator> fmt::Debug for DebugList<I>
where
    I::Item: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.clone()).finish()
    }
}

owning_iterator!(Drain<'a, K, V, L> where L: RemovalListener<K, V>);

owning_iterator!(IntoIter<K, V, P, S, L, E> where P: Policy, L: RemovalListener<K, V>, E: Expiry);
