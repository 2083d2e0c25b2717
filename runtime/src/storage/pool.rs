//! What the shards of one concurrent map share so that its limits hold for the whole map,
//! not for each shard: how many entries they hold together (a bounded map's `max`) and what
//! those weigh together (a weight budget). Each shard's store writes its own changes here,
//! one atomic add per change, and checks the whole map's figure against the whole map's limit.
//!
//! A write that needs room claims it first ([`Pool::claim`]), so two shards' writers can never
//! both take the last place: a bounded map holds exactly `max` entries at most, and a weight
//! budget of a map that refuses is never passed. A map that evicts stores first and then sheds
//! until the whole map fits again, from the writer's shard and then from the others; between
//! the two it may weigh more than its budget by the entries being written at that moment.

use core::sync::atomic::Ordering;
// Shuttle's atomics under its model test, so it interleaves the claims too.
#[cfg(not(mapguard_shuttle))]
use core::sync::atomic::{AtomicU64, AtomicUsize};
#[cfg(mapguard_shuttle)]
use shuttle::sync::atomic::{AtomicU64, AtomicUsize};

/// The shared figures of one map's shards: two atomics on one cache line of their own
/// (128 bytes, as the shard locks: the adjacent-line prefetcher pairs lines on x86), so a
/// write that changes both, or several weights, moves one line between cores.
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct Pool {
    /// Entries over all shards; kept only when `counts` (a bounded map).
    count: AtomicUsize,
    /// What the entries of all shards weigh together (0 without a weight budget).
    weight: AtomicU64,
    /// Whether the bound is the whole map's (a bounded map): else each shard has its part.
    counts: bool,
}

impl Pool {
    /// A pool whose count is the whole map's bound when `counts` (a bounded map).
    pub(crate) fn new(counts: bool) -> Self {
        Self {
            counts,
            ..Self::default()
        }
    }

    /// Whether the map's bound is on the whole map.
    #[inline]
    pub(crate) fn counts(&self) -> bool {
        self.counts
    }

    /// Entries over all shards (0 unless the pool counts them).
    #[inline]
    pub(crate) fn count(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }

    /// What all shards' entries weigh together.
    #[inline]
    pub(crate) fn weight(&self) -> u64 {
        self.weight.load(Ordering::Relaxed)
    }

    /// Takes `places` more entries and `weight` more weight if the whole map then stays within
    /// `max` entries and `max_weight`; whether it did. What a write claims is its own until it
    /// stores (or gives it back with [`release`](Self::release)).
    pub(crate) fn claim(&self, places: usize, max: usize, weight: u64, max_weight: u64) -> bool {
        if places > 0 && self.counts {
            let taken = self
                .count
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |count| {
                    (count.saturating_add(places) <= max).then_some(count + places)
                });
            if taken.is_err() {
                return false;
            }
        }
        if weight > 0 {
            let taken = self
                .weight
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |total| {
                    total
                        .checked_add(weight)
                        .filter(|&after| after <= max_weight)
                });
            if taken.is_err() {
                self.release(places, 0);
                return false;
            }
        }
        true
    }

    /// Gives back `places` entries and `weight` of weight: what left, or a claim not used.
    #[inline]
    pub(crate) fn release(&self, places: usize, weight: u64) {
        if places > 0 && self.counts {
            self.count.fetch_sub(places, Ordering::Relaxed);
        }
        if weight > 0 {
            self.weight.fetch_sub(weight, Ordering::Relaxed);
        }
    }

    /// Records `places` new entries and `weight` more weight, unclaimed (an evicting map, which
    /// sheds afterwards).
    #[inline]
    pub(crate) fn add(&self, places: usize, weight: u64) {
        if places > 0 && self.counts {
            self.count.fetch_add(places, Ordering::Relaxed);
        }
        if weight > 0 {
            self.weight.fetch_add(weight, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_takes_the_last_places_and_weight_and_no_more() {
        let pool = Pool::new(true);
        assert!(pool.claim(1, 2, 60, 100));
        assert!(pool.claim(1, 2, 40, 100));
        // Neither a third entry nor more weight fits; a refused claim takes nothing.
        assert!(!pool.claim(1, 2, 0, 100));
        pool.release(1, 40);
        assert!(!pool.claim(1, 2, 41, 100));
        assert_eq!((pool.count(), pool.weight()), (1, 60));
        assert!(pool.claim(1, 2, 40, 100));
        assert_eq!((pool.count(), pool.weight()), (2, 100));
    }

    #[test]
    fn a_pool_that_does_not_count_keeps_only_the_weight() {
        let pool = Pool::new(false);
        pool.add(3, 10);
        assert_eq!((pool.count(), pool.weight()), (0, 10));
        assert!(pool.claim(5, 1, 0, 10));
    }
}
