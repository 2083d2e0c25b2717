//! How often keys were asked for lately, approximately: a count-min sketch (Cormode and
//! Muthukrishnan, 2005) as TinyLFU uses it (Einziger et al., "TinyLFU: A Highly Efficient
//! Cache Admission Policy", 2017): four saturating 4-bit counters per key, all halved once the
//! map's size ten times over has been counted, so old popularity fades.
//!
//! A key's four counters share one 64-bit word (of 16 counters, in four groups of four: one
//! group per row), as Caffeine's do: a request reads and writes one word. Half as many words
//! as the map has slots: two counters a row per slot, 4 bytes a slot.

/// The counters: 64-bit words of sixteen 4-bit counters, half as many words as the map has
/// slots (rounded to a power of two), each counter at most `MAX_COUNT`.
#[derive(Clone, Debug, Default)]
pub(super) struct Sketch {
    words: Vec<u64>,
    /// The word count minus one (a power of two minus one).
    mask: usize,
    /// Counts added since the last halving, and how many make a halving.
    added: usize,
    period: usize,
    /// Requests counted since it was sized, up to `warm_at`.
    counted: usize,
    warm_at: usize,
}

const MAX_COUNT: u64 = 15;
/// Every counter's low three bits: what halving keeps of each after the shift.
const HALVES: u64 = 0x7777_7777_7777_7777;

impl Sketch {
    /// Whether it has counters (it is sized at its first use).
    pub(super) fn is_sized(&self) -> bool {
        !self.words.is_empty()
    }

    /// Sizes it for a map of `slots` (what it counted is forgotten).
    pub(super) fn size_for(&mut self, slots: usize) {
        let words = (slots / 2).next_power_of_two().max(4);
        self.words = vec![0; words];
        self.mask = words - 1;
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

    /// The word `hash` counts in, and its four counters' shifts in it (one per group).
    #[inline]
    fn cells(&self, hash: u64) -> (usize, [u32; 4]) {
        // The map's hash is mixed again, so the word and counters do not follow the bits the
        // map's table uses.
        let mixed = (hash ^ (hash >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        let word = (mixed >> 32) as usize & self.mask;
        let shifts = core::array::from_fn(|group| {
            let counter = group as u32 * 4 + ((mixed >> (2 * group)) & 3) as u32;
            counter * 4
        });
        (word, shifts)
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
        let (word, shifts) = self.cells(hash);
        let word = &mut self.words[word];
        let before = *word;
        for shift in shifts {
            if (*word >> shift) & MAX_COUNT != MAX_COUNT {
                *word += 1 << shift;
            }
        }
        if *word != before {
            self.added += 1;
            if self.added >= self.period {
                self.halve();
            }
        }
    }

    #[cold]
    fn halve(&mut self) {
        for word in &mut self.words {
            *word = (*word >> 1) & HALVES;
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
        let (word, shifts) = self.cells(hash);
        let word = self.words[word];
        let least = shifts
            .into_iter()
            .map(|shift| (word >> shift) & MAX_COUNT)
            .min()
            .unwrap_or(0);
        // At most 15: fits.
        least as u8
    }

    pub(super) fn heap_bytes(&self) -> usize {
        self.words.capacity() * size_of::<u64>()
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
        assert_eq!(u64::from(sketch.estimate(hot)), MAX_COUNT);
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
        let halved =
            |word: u64| (0..16).all(|c| (word >> (4 * c)) & MAX_COUNT <= MAX_COUNT / 2 + 1);
        assert!(sketch.words.iter().all(|&word| halved(word)));
        assert!(
            u64::from(sketch.estimate(hot)) <= MAX_COUNT / 2 + 1,
            "{}",
            sketch.estimate(hot)
        );
    }
}
