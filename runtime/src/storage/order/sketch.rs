//! How often keys were asked for lately, approximately: a count-min sketch (Cormode and
//! Muthukrishnan, 2005) as TinyLFU uses it (Einziger et al., "TinyLFU: A Highly Efficient
//! Cache Admission Policy", 2017): four rows of saturating counters, one counter a row per
//! slot of the map, all halved once the map's size ten times over has been counted, so old
//! popularity fades.

/// The counters: four rows of `width` bytes, each at most `MAX_COUNT`.
#[derive(Clone, Debug, Default)]
pub(super) struct Sketch {
    counts: Vec<u8>,
    /// A row's width minus one (a power of two minus one).
    mask: usize,
    /// Counts added since the last halving, and how many make a halving.
    added: usize,
    period: usize,
    /// Requests counted since it was sized, up to `warm_at`.
    counted: usize,
    warm_at: usize,
}

const ROWS: usize = 4;
const MAX_COUNT: u8 = 15;

impl Sketch {
    /// Whether it has counters (it is sized at its first use).
    pub(super) fn is_sized(&self) -> bool {
        !self.counts.is_empty()
    }

    /// Sizes it for a map of `slots` (what it counted is forgotten).
    pub(super) fn size_for(&mut self, slots: usize) {
        let width = slots.next_power_of_two().max(16);
        self.counts = vec![0; width * ROWS];
        self.mask = width - 1;
        self.added = 0;
        self.period = slots.max(16) * 10;
        self.counted = 0;
        self.warm_at = slots * 4;
    }

    /// Whether it has counted four times as many requests as the map has slots since it was
    /// sized: until then, its counts say little.
    #[inline]
    pub(super) fn is_warm(&self) -> bool {
        self.is_sized() && self.counted >= self.warm_at
    }

    /// Frees the counters.
    pub(super) fn clear(&mut self) {
        *self = Self::default();
    }

    /// Where `hash` counts in each row.
    #[inline]
    fn cells(&self, hash: u64) -> [usize; ROWS] {
        // The map's hash is mixed again, so rows do not share the bits the map's table uses.
        let mixed = (hash ^ (hash >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        let width = self.mask + 1;
        core::array::from_fn(|row| {
            let bits = mixed.rotate_left(16 * row as u32) as usize;
            row * width + (bits & self.mask)
        })
    }

    /// Counts one request for `hash`.
    #[inline]
    pub(super) fn record(&mut self, hash: u64) {
        if !self.is_sized() {
            return;
        }
        if self.counted < self.warm_at {
            self.counted += 1;
        }
        let mut added = false;
        for cell in self.cells(hash) {
            let count = &mut self.counts[cell];
            if *count < MAX_COUNT {
                *count += 1;
                added = true;
            }
        }
        if added {
            self.added += 1;
            if self.added >= self.period {
                self.halve();
            }
        }
    }

    #[cold]
    fn halve(&mut self) {
        for count in &mut self.counts {
            *count /= 2;
        }
        self.added /= 2;
    }

    /// About how often `hash` was asked for lately: never less than the truth (within the
    /// fading), sometimes more.
    #[inline]
    pub(super) fn estimate(&self, hash: u64) -> u8 {
        if !self.is_sized() {
            return 0;
        }
        self.cells(hash)
            .into_iter()
            .map(|cell| self.counts[cell])
            .min()
            .unwrap_or(0)
    }

    pub(super) fn heap_bytes(&self) -> usize {
        self.counts.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_warm_after_four_times_the_size_in_requests() {
        let mut sketch = Sketch::default();
        sketch.size_for(64);
        for key in 0..255_u64 {
            sketch.record(key);
        }
        assert!(!sketch.is_warm());
        sketch.record(255);
        assert!(sketch.is_warm());
        sketch.clear();
        assert!(!sketch.is_warm() && !sketch.is_sized());
    }

    #[test]
    fn a_key_asked_for_more_often_estimates_higher_and_old_counts_fade() {
        let mut sketch = Sketch::default();
        assert_eq!(sketch.estimate(1), 0, "unsized: counts nothing");
        sketch.size_for(64);
        let (hot, cold) = (0x1234_5678_9abc_def0_u64, 0x0fed_cba9_8765_4321_u64);
        for _ in 0..6 {
            sketch.record(hot);
        }
        sketch.record(cold);
        assert!(sketch.estimate(hot) >= 6);
        assert!(sketch.estimate(hot) > sketch.estimate(cold));
        assert!(sketch.estimate(cold) >= 1, "never below the truth");
        // Counters saturate instead of wrapping.
        for _ in 0..100 {
            sketch.record(hot);
        }
        assert_eq!(sketch.estimate(hot), MAX_COUNT);
        // Once ten times the size has been counted, every count halves.
        let mut key = 0_u64;
        while sketch.added > 0 {
            let before = sketch.added;
            key += 1;
            sketch.record(key.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            if sketch.added < before {
                break;
            }
        }
        assert!(
            sketch
                .counts
                .iter()
                .all(|&count| count <= MAX_COUNT / 2 + 1)
        );
        assert!(
            sketch.estimate(hot) <= MAX_COUNT / 2 + 1,
            "{}",
            sketch.estimate(hot)
        );
    }
}
