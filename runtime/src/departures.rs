//! Entries that have left a map but whose hooks have not run yet.
//!
//! Hooks are user code and may panic, so the core (`raw::RawMap`) never runs them: every
//! operation finishes changing the map — the caller's value stored, the bound restored — and
//! records what left on the way in its [`Departures`]. The owner (`ManagedMap`, `WeakKeyMap`,
//! a concurrent map after unlocking the shard) then takes them and runs every hook once,
//! through `hooks::run_departed`, the one place hooks run.

use crate::RemovalCause;

/// Whether a core map keeps what leaves for its owner's hooks ([`KEEPS`](Self::KEEPS)), or
/// drops it as it leaves: an owner with no hooks has nothing to run, so keeping would only
/// cost (the entry would be moved twice).
pub(crate) trait Keeping {
    /// `true`: what leaves waits in the map's departures for the owner's hooks.
    const KEEPS: bool;
}

/// A concurrent map's shard keeps everything: its hooks run after the lock is released.
#[derive(Debug)]
pub(crate) struct KeepAll;

impl Keeping for KeepAll {
    const KEEPS: bool = true;
}

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

    /// The waiting entries in the order they left, taken out as the iterator goes (the
    /// storage stays for the next operation).
    #[inline]
    pub(crate) fn drain(&mut self) -> DeparturesDrain<'_, K, V> {
        DeparturesDrain {
            first: self.first.take(),
            rest: self.rest.drain(..),
        }
    }
}

/// What a concurrent map needs of each of its shards (a core map that keeps what leaves, or
/// a [`WeakKeyMap`](crate::WeakKeyMap) whose listener is [`Departures`]): its figures, the
/// queue of what left under the lock, and every entry at once for `clear`, a scope end and
/// `Drop`. The concurrent maps' one shard layer, `concurrent::sharded`, runs on this alone.
pub(crate) trait Shard {
    /// The key as the hooks see it.
    type Key;
    /// The value.
    type Value;
    /// Every entry, taken out under the lock; their hooks run after it is released.
    type Taken: IntoIterator<Item = (Self::Key, Self::Value)>;
    /// Every entry left when the map is dropped, each with the cause it leaves with.
    type Left: IntoIterator<Item = Departed<Self::Key, Self::Value>>;

    /// The entries that left since the last call, for their hooks to run outside the lock.
    fn take_departed(&mut self) -> Departures<Self::Key, Self::Value>;
    /// Whether any entry left since the last `take_departed` (most lookups let none leave).
    fn has_departed(&self) -> bool;
    /// Takes every entry out at once, counted as leaving with `cause`. O(1) under the lock.
    fn take_all(&mut self, cause: crate::RemovalCause) -> Self::Taken;
    /// Takes every entry out for the map's drop, uncounted.
    fn take_left(&mut self) -> Self::Left;
    /// Number of entries.
    fn len(&self) -> usize;
    /// Entries storable without reallocating.
    fn capacity(&self) -> usize;
    /// Estimated heap bytes of the storage.
    fn heap_bytes(&self) -> usize;
    /// What the entries weigh together.
    fn weight(&self) -> u64;
    /// Entries written with no current scope of the map's lifetime (0 for `process` maps).
    fn unscoped(&self) -> usize;
}

/// A shard that can remove the entries of scopes that have ended (see `storage::scopes`):
/// every operation of a concurrent map does so first, under the shard's lock. Apart from
/// [`Shard`] because it hashes keys.
pub(crate) trait Settle {
    /// Queues the entries of ended scopes with `ScopeEnded`; how many.
    fn settle_scopes(&mut self) -> usize;
    /// Evicts in the policy's order, at most `at_most` entries, while the whole map weighs
    /// more than its budget (a shard of an evicting map whose budget is shared:
    /// `storage::pool`), queuing them; how many it evicted.
    fn shed_over_budget(&mut self, at_most: usize) -> usize;
}

/// A shard whose bound can change (it hashes keys, so this is apart from [`Shard`], which a
/// map type must meet wherever it is named).
pub(crate) trait Resize {
    /// Sets the shard's bound, as the map kind's `set_max` does.
    fn resize(&mut self, max: usize);
    /// Sets the weight budget the shard checks the whole map against; sheds nothing.
    fn set_weight_limit(&mut self, max_weight: u64);
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

/// [`Departures::drain`]'s iterator.
pub(crate) struct DeparturesDrain<'a, K, V> {
    first: Option<Departed<K, V>>,
    rest: std::vec::Drain<'a, Departed<K, V>>,
}

impl<K, V> Iterator for DeparturesDrain<'_, K, V> {
    type Item = Departed<K, V>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        match self.first.take() {
            Some(first) => Some(first),
            None => self.rest.next(),
        }
    }
}
