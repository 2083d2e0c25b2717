//! Entries that have left a map but whose hooks have not run yet.
//!
//! Hooks are user code and may panic, so every operation first finishes changing the map —
//! the caller's value stored, the bound restored — and only then runs the hooks of what left
//! on the way. [`Departures`] holds those entries in between: entries expired or collected
//! by an insert's housekeeping, and everything that leaves a concurrent map's shard while
//! its lock is held.
//! Their hooks run through [`HookPanics`](crate::panics::HookPanics), as every hook does.

use crate::RemovalCause;
use crate::hooks::RemovalListener;
use crate::panics::HookPanics;

/// One entry that left, with why.
pub(crate) type Departed<K, V> = (K, V, RemovalCause);

/// Entries waiting for their hooks, in the order they left. The first one is kept inline, so
/// the common case (one departure per operation) allocates nothing.
pub(crate) struct Departures<K, V> {
    first: Option<Departed<K, V>>,
    rest: Vec<Departed<K, V>>,
}

impl<K, V> Default for Departures<K, V> {
    #[inline]
    fn default() -> Self {
        Self {
            first: None,
            rest: Vec::new(),
        }
    }
}

impl<K, V> Departures<K, V> {
    #[inline]
    pub(crate) fn push(&mut self, key: K, value: V, cause: RemovalCause) {
        if self.first.is_none() {
            self.first = Some((key, value, cause));
        } else {
            self.rest.push((key, value, cause));
        }
    }

    /// Whether no entry waits.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.first.is_none()
    }

    /// Takes the waiting entries, leaving none.
    #[inline]
    pub(crate) fn take(&mut self) -> Self {
        core::mem::take(self)
    }
}

/// A concurrent map's shard: its listener queues what leaves under the shard's lock, and the
/// map takes the queue before unlocking (see `concurrent::on_shard`).
pub(crate) trait QueuesDepartures<K, V> {
    /// The entries that left since the last call, for their hooks to run outside the lock.
    fn take_departed(&mut self) -> Departures<K, V>;
}

/// A concurrent map's shard queues what leaves under its lock; the map runs the hooks after
/// unlocking.
impl<K, V> RemovalListener<K, V> for Departures<K, V> {
    #[inline]
    fn on_removal(&mut self, key: K, value: V, cause: RemovalCause) {
        self.push(key, value, cause);
    }

    /// Queuing runs no user code: nothing to catch.
    #[inline]
    fn on_removal_contained(
        &mut self,
        key: K,
        value: V,
        cause: RemovalCause,
        _panics: &mut HookPanics,
    ) {
        self.push(key, value, cause);
    }
}

impl<K, V> IntoIterator for Departures<K, V> {
    type Item = Departed<K, V>;
    type IntoIter = DeparturesIter<K, V>;

    #[inline]
    fn into_iter(self) -> Self::IntoIter {
        DeparturesIter {
            first: self.first,
            rest: self.rest.into_iter(),
        }
    }
}

/// The entries of [`Departures`], in the order they left.
pub(crate) struct DeparturesIter<K, V> {
    first: Option<Departed<K, V>>,
    rest: std::vec::IntoIter<Departed<K, V>>,
}

impl<K, V> Iterator for DeparturesIter<K, V> {
    type Item = Departed<K, V>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        self.first.take().or_else(|| self.rest.next())
    }
}
