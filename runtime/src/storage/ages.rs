//! Key-lifetime histograms: written by the map that owns one, read by the registry.

use std::sync::atomic::{AtomicU64, Ordering};

/// How long keys lived before leaving, in power-of-two buckets of nanoseconds: bucket `i`
/// counts lifetimes in `[2^i, 2^(i+1))` ns. Written by the owning map only (one writer, so a
/// relaxed load and store, no locked add).
///
/// Nominally `pub`, in a private module: the sealed expiry trait names it in a signature.
#[derive(Debug)]
#[allow(unreachable_pub, reason = "public only within a private module")]
pub struct Ages {
    buckets: [AtomicU64; 64],
}

impl Default for Ages {
    fn default() -> Self {
        Self {
            buckets: [const { AtomicU64::new(0) }; 64],
        }
    }
}

impl Ages {
    pub(crate) fn record(&self, nanos: u64) {
        let bucket = (u64::BITS - nanos.leading_zeros()).saturating_sub(1) as usize;
        let counter = &self.buckets[bucket];
        counter.store(counter.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    }

    /// The count in each bucket.
    pub(crate) fn counts(&self) -> impl Iterator<Item = u64> + '_ {
        self.buckets
            .iter()
            .map(|bucket| bucket.load(Ordering::Relaxed))
    }
}
