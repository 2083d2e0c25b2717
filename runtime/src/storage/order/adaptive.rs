//! The adaptive policy's order: one list, followed one of three ways — the probation queues
//! of [`ProbationOrder`], the same queues with TinyLFU's admission by frequency, or plain
//! recency (LRU) — whichever a miniature simulation says hits most now.
//!
//! Miniature simulation (Waldspurger et al., "Cache Modeling and Optimization using Miniature
//! Simulations", USENIX ATC '17): the keys whose hash has a few chosen bits all zero (1 in
//! 2^k: spatial sampling, so a sampled key is sampled on every request) are replayed through
//! three shadow caches of `max / 2^k` hashes (no keys, no values), one for each way. Hit
//! ratios scale with the sample, so each shadow's hits estimate what the whole map would hit
//! that way; and as every way is measured by the same miniature, a miniature's errors fall on
//! all of them alike. Every round of sampled requests, the map follows the way that leads on
//! the decayed tally by a margin.
//!
//! Why the worst case is bounded: plain LRU is one of the candidates, and every candidate is
//! measured whichever the map follows, so a workload where LRU wins (alternating sweeps,
//! stack-distance traces) moves the map to LRU within rounds, and one where the probation
//! queues or frequency win (scans, loops, skewed popularity) moves it back. What separates
//! the map from the best of the three is the sampling error, that lag, and the cost of a
//! switch. The margin doubles at each switch (and decays back) and a way just followed runs
//! eight rounds before it is judged, so phases that alternate faster than a switch pays for
//! itself stop moving the map. The margin is a share of a round and a round a shadow's size:
//! no constant here names a trace.
//!
//! Cost: a request that is not sampled pays one masked test; a sampled one (1 in 16 at the
//! most, 1 in 256 from 32,768 entries) is replayed through the three shadows, out of line.
//! The referee starts at the map's first eviction (a map that never fills has none) and is
//! freed when the map empties. A sharded map's shards share one, sized for the whole map
//! (see `Sharing`).
//!
//! Switching costs O(1): every way keeps one list, main keys first and probation keys last,
//! with the marks in the nodes. Under recency a hit moves its key to the front (out of
//! probation, if it was there), new keys enter at the front, and the back leaves first, so
//! leftover probation keys go before anything used since; the probation queues, taking over,
//! find a consistent split and the frequencies recency kept counting.

use core::hash::BuildHasherDefault;
use core::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use super::{EvictionOrder, NIL, ProbationOrder, Probing, RecencyOrder};
use crate::storage::Prehashed;
use crate::storage::expiry::{Expiry, NoExpiry};
use crate::storage::store::Store;

/// The adaptive policy's order: the probation queues, which way it follows them, and the
/// referee that decides.
#[derive(Clone, Debug)]
pub struct AdaptiveOrder {
    queues: ProbationOrder,
    follow: Follow,
    /// A request is sampled when its hash has these bits all zero: `UNSAMPLED` until the map
    /// first evicts (before that, every way keeps every key, and a map that never fills pays
    /// nothing for the referee).
    sample_mask: u64,
    /// A hit whose hash has a bit under this mask only raises the entry's frequency: the
    /// sample mask while the map follows the plain probation queues, else zero (every
    /// request has more to do).
    plain_mask: u64,
    /// A single map's referee (a shard's is in `shared`).
    referee: Option<Box<Referee>>,
    /// A sharded map's one referee and verdict, shared by its shards (see `Sharing`).
    shared: Option<Arc<Sharing>>,
    /// Sampled requests not yet replayed, up to `BATCH`.
    pending: Vec<u64>,
}

/// Sampled requests replayed at once.
const BATCH: usize = 32;

/// A sharded map's referee, shared by its shards so that it simulates the whole map: shards
/// see statistically alike requests (keys are spread by hash), so one sample of all of them
/// sized for the whole bound measures what each shard's way would hit, with shadows as big as
/// a single map's — where shadows per shard would be a shard count smaller and miss what a
/// small shadow cannot show. A shard sends its sampled requests in with `try_lock` (a busy
/// referee costs the sample, never a wait) and follows the published verdict.
#[derive(Debug)]
struct Sharing {
    referee: Mutex<Option<Referee>>,
    /// The way to follow, as `Follow as u8`.
    follow: AtomicU8,
    shards: usize,
}

impl Sharing {
    fn follow(&self) -> Follow {
        match self.follow.load(Ordering::Relaxed) {
            1 => Follow::Recency,
            2 => Follow::Frequency,
            _ => Follow::Probation,
        }
    }
}

/// No request is sampled (but the one whose hash is zero, which finds no referee).
const UNSAMPLED: u64 = !0;

impl Default for AdaptiveOrder {
    fn default() -> Self {
        Self {
            queues: ProbationOrder::default(),
            follow: Follow::default(),
            sample_mask: UNSAMPLED,
            plain_mask: UNSAMPLED,
            referee: None,
            shared: None,
            pending: Vec::new(),
        }
    }
}

/// The ways to follow the list, each measured on the sampled keys.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Follow {
    /// The probation queues, their length adapting on their ghosts' hits.
    #[default]
    Probation = 0,
    /// Plain recency (LRU) over the same list.
    Recency = 1,
    /// The probation queues with TinyLFU's admission by frequency.
    Frequency = 2,
}

impl Follow {
    const ALL: [Self; 3] = [Self::Probation, Self::Recency, Self::Frequency];
}

/// Where the sampling bits start: clear of the bits hashbrown (the lowest and the top seven),
/// the shards (just below the top seven), the ghosts (the lowest and the top sixteen) and the
/// sketch read, so the sample is uniform within each of them.
const SAMPLE_SHIFT: u32 = 24;
/// A shadow holds at least 2^7 keys where sampling allows, ...
const SHADOW_LOG2: u32 = 7;
/// ... sampling at least 1 key in 2^4 (which bounds what the referee costs a request, about
/// 6% of a hit at 1,000 entries) and at most 1 in 2^8.
const MIN_SAMPLE_BITS: u32 = 4;
const MAX_SAMPLE_BITS: u32 = 8;

impl AdaptiveOrder {
    /// Follows the next way, as a round's verdict could.
    #[cfg(test)]
    pub(crate) fn switch_for_test(&mut self, max: usize) {
        let next = Follow::ALL[(self.follow as usize + 1) % Follow::ALL.len()];
        self.follow_now(next, max);
    }

    /// A fresh referee for a map bounded by `max`, its shadows empty; a shard joins its map's
    /// (sized for the whole map, made by the first shard to evict).
    #[cold]
    fn start_referee(&mut self, max: usize) {
        self.pending = Vec::with_capacity(BATCH);
        let Some(shared) = self.shared.clone() else {
            let referee = Referee::new(max, self.follow);
            self.sample_mask = referee.sample_mask;
            self.referee = Some(Box::new(referee));
            self.follow_now(self.follow, max);
            return;
        };
        let whole = max.saturating_mul(shared.shards);
        // Busy: joined at a later eviction.
        let Ok(mut referee) = shared.referee.try_lock() else {
            return;
        };
        let referee = match &mut *referee {
            Some(referee) if referee.sized_for == whole => referee,
            slot => slot.insert(Referee::new(whole, shared.follow())),
        };
        self.sample_mask = referee.sample_mask;
        self.follow_now(shared.follow(), max);
    }

    /// Whether requests are sampled yet.
    #[inline]
    fn refereed(&self) -> bool {
        self.sample_mask != UNSAMPLED
    }

    /// No referee (until the map evicts again); its memory is freed (a shard's map keeps
    /// its).
    fn stop_referee(&mut self) {
        self.referee = None;
        self.pending = Vec::new();
        self.sample_mask = UNSAMPLED;
        self.plain_mask = if self.follow == Follow::Probation {
            UNSAMPLED
        } else {
            0
        };
    }

    fn follow_now(&mut self, follow: Follow, max: usize) {
        self.follow = follow;
        self.queues
            .set_by_frequency(follow == Follow::Frequency, max);
        self.plain_mask = if follow == Follow::Probation {
            self.sample_mask
        } else {
            0
        };
    }

    /// A request for `hash` (a hit or a new key): counted for frequency while the map follows
    /// it, and sent to the referee if sampled.
    #[inline]
    fn observe<K, V, S, E: Expiry>(store: &mut Store<K, V, S, E, Self>, hash: u64) {
        store.order.queues.count_request(hash);
        if hash & store.order.sample_mask == 0 {
            Self::referee_sees(store, hash);
        }
    }

    #[cold]
    #[inline(never)]
    fn referee_sees<K, V, S, E: Expiry>(store: &mut Store<K, V, S, E, Self>, hash: u64) {
        let max = store.max;
        let order = &mut store.order;
        if !order.refereed() {
            return;
        }
        // Sampled requests wait in a batch: replayed together, the shadows' memory is
        // fetched once a batch rather than once a request (most of what a sample cost).
        order.pending.push(hash);
        if order.pending.len() < BATCH {
            return;
        }
        if let Some(shared) = order.shared.clone() {
            // Busy: this batch is dropped (a sample lost, never a wait).
            if let Ok(mut referee) = shared.referee.try_lock() {
                match referee.as_mut() {
                    Some(referee) if referee.sized_for == max.saturating_mul(shared.shards) => {
                        if let Some(follow) = referee.see_all(&order.pending) {
                            shared.follow.store(follow as u8, Ordering::Relaxed);
                        }
                    }
                    // Resized: the next eviction sizes a new one.
                    _ => {
                        drop(referee);
                        order.stop_referee();
                        return;
                    }
                }
            }
            order.pending.clear();
            let follow = shared.follow();
            if follow != order.follow {
                order.follow_now(follow, max);
            }
            return;
        }
        if order.referee.as_ref().is_some_and(|r| r.sized_for != max) {
            // Resized: a new referee, sized for the new bound, starts with the next batch.
            order.start_referee(max);
            return;
        }
        let verdict = order
            .referee
            .as_deref_mut()
            .and_then(|referee| referee.see_all(&order.pending));
        order.pending.clear();
        if let Some(follow) = verdict {
            order.follow_now(follow, max);
        }
    }

    #[inline(never)]
    fn used_otherwise<K, V, S, E: Expiry>(
        store: &mut Store<K, V, S, E, Self>,
        index: u32,
        hash: u64,
    ) {
        Self::requeue(store, index);
        Self::observe(store, hash);
    }

    /// A use under recency: the key moves to the front, out of probation if it was there; its
    /// frequency still counts, for the probation queues should they take over.
    #[inline]
    fn touch_recent<K, V, S, E: Expiry>(store: &mut Store<K, V, S, E, Self>, index: u32) {
        store.raise_frequency(index);
        if store.is_small(index) {
            ProbationOrder::leave(store, index);
            store.set_mark(index, store.frequency(index));
            store.link_front(index);
        } else {
            store.touch(index);
        }
    }
}

impl Probing for AdaptiveOrder {
    #[inline]
    fn queues(&self) -> &ProbationOrder {
        &self.queues
    }

    #[inline]
    fn queues_mut(&mut self) -> &mut ProbationOrder {
        &mut self.queues
    }
}

impl EvictionOrder for AdaptiveOrder {
    const MARKS: bool = true;

    fn pushed<K, V, S, E: Expiry>(
        store: &mut Store<K, V, S, E, Self>,
        index: u32,
        front: u32,
        hash: u64,
    ) {
        if store.order.follow == Follow::Recency {
            store.finish_front(index, front);
        } else {
            ProbationOrder::place(store, index, hash);
        }
        Self::observe(store, hash);
    }

    /// The plain hit raises the frequency, as `ProbationOrder`'s does; the rest (a sampled
    /// request, recency, counting) is out of line.
    #[inline]
    fn used<K, V, S, E: Expiry>(store: &mut Store<K, V, S, E, Self>, index: u32, hash: u64) {
        if hash & store.order.plain_mask != 0 {
            store.raise_frequency(index);
        } else {
            Self::used_otherwise(store, index, hash);
        }
    }

    #[inline]
    fn requeue<K, V, S, E: Expiry>(store: &mut Store<K, V, S, E, Self>, index: u32) {
        if store.order.follow == Follow::Recency {
            Self::touch_recent(store, index);
        } else {
            store.raise_frequency(index);
        }
    }

    #[inline]
    fn unlink<K, V, S, E: Expiry>(store: &mut Store<K, V, S, E, Self>, index: u32) {
        ProbationOrder::leave(store, index);
    }

    fn reborn<K, V, S, E: Expiry>(
        store: &mut Store<K, V, S, E, Self>,
        victim: u32,
        victim_hash: u64,
        hash: u64,
    ) {
        if store.order.follow == Follow::Recency {
            ProbationOrder::leave(store, victim);
            store.set_mark(victim, 0);
            store.link_front(victim);
        } else {
            ProbationOrder::reborn_in(store, victim, victim_hash, hash);
        }
        Self::observe(store, hash);
    }

    #[inline]
    fn swap_removed<K, V, S, E: Expiry>(
        store: &mut Store<K, V, S, E, Self>,
        removed: u32,
        from: Option<u32>,
    ) {
        ProbationOrder::swap_removed_in(store, removed, from);
    }

    fn next_victim<K, V, S, E: Expiry>(
        store: &mut Store<K, V, S, E, Self>,
        hash_of: fn(&S, &K) -> u64,
    ) -> Option<u32> {
        if !store.order.refereed() {
            store.order.start_referee(store.max);
        }
        if store.order.follow == Follow::Recency {
            let back = store.ends.back;
            (back != NIL).then_some(back)
        } else {
            ProbationOrder::next_victim_in(store, hash_of)
        }
    }

    /// Frees what it holds; keeps the way it follows and the learned share.
    fn reset(&mut self) {
        self.queues.forget();
        self.stop_referee();
    }

    /// Frees the ghosts' and the referee's memory when the slab shrinks a lot (the referee
    /// starts afresh at the next eviction).
    fn shrink_to(&mut self, slots: usize) {
        self.queues.shrink_ghosts(slots);
        if self
            .referee
            .as_ref()
            .is_some_and(|r| slots < r.sized_for / 4)
        {
            self.stop_referee();
        }
    }

    /// A shard's map's referee is counted by no shard (it is a few KiB for the map).
    fn heap_bytes(&self) -> usize {
        self.queues.ghost_bytes()
            + self.pending.capacity() * size_of::<u64>()
            + self
                .referee
                .as_deref()
                .map_or(0, |r| size_of::<Referee>() + r.heap_bytes())
    }

    fn shard_template(&mut self, shards: usize) {
        if shards > 1 {
            self.shared = Some(Arc::new(Sharing {
                referee: Mutex::new(None),
                follow: AtomicU8::new(Follow::Probation as u8),
                shards,
            }));
        }
    }

    fn join(&mut self, template: &Self) {
        self.shared.clone_from(&template.shared);
    }
}

/// A shadow cache: the sampled keys' hashes under order `O`, no values.
type Shadow<O> = Store<u64, (), BuildHasherDefault<Prehashed>, NoExpiry, O>;

/// Replays one request for `key` through `shadow` as a map's get-or-insert would; whether it
/// hit.
fn request<O: EvictionOrder>(shadow: &mut Shadow<O>, key: u64) -> bool {
    let hash = shadow.hash(&key);
    if let Some(index) = shadow.find(hash, &key) {
        shadow.promote(index, hash);
        return true;
    }
    match shadow.is_full().then(|| shadow.next_victim()).flatten() {
        Some(victim) => {
            shadow.replace_at(victim, hash, key, (), 0);
        }
        None => {
            shadow.push_front(hash, key, (), 0);
        }
    }
    false
}

/// One shadow for each way, the followed one's too: every way is measured by the same
/// miniature, so its errors (a sample's working set fitting a shadow it would not fit
/// scaled up) fall on every way alike and cancel in the comparison.
#[derive(Clone, Debug)]
struct Shadows {
    probation: Shadow<ProbationOrder>,
    recency: Shadow<RecencyOrder>,
    frequency: Shadow<ProbationOrder>,
}

impl Shadows {
    /// Fresh, empty shadows of `max` hashes.
    fn new(max: usize) -> Self {
        let hasher = BuildHasherDefault::<Prehashed>::default;
        let mut frequency: Shadow<ProbationOrder> = Store::new(max, hasher(), NoExpiry);
        frequency.order.set_by_frequency(true, max);
        Self {
            probation: Store::new(max, hasher(), NoExpiry),
            recency: Store::new(max, hasher(), NoExpiry),
            frequency,
        }
    }

    /// One request through every shadow: which of them hit, in `Follow::ALL`'s order.
    fn request(&mut self, hash: u64) -> [bool; 3] {
        [
            request(&mut self.probation, hash),
            request(&mut self.recency, hash),
            request(&mut self.frequency, hash),
        ]
    }

    fn heap_bytes(&self) -> usize {
        self.probation.heap_bytes() + self.recency.heap_bytes() + self.frequency.heap_bytes()
    }
}

/// The miniature simulation: every way on the sampled keys, and the tally.
#[derive(Clone, Debug)]
struct Referee {
    /// The map's bound the shadows were sized for.
    sized_for: usize,
    sample_mask: u64,
    shadows: Shadows,
    /// Sampled requests per round, and how many of this round's are still to come.
    round: u32,
    left: u32,
    /// Each way's hits this round, in `Follow::ALL`'s order.
    hits: [i64; 3],
    /// Each way's hits over past rounds, each round's weight 7/8 of the next one's.
    score: [i64; 3],
    follow: Follow,
    /// The lead a way needs over the followed one to be followed instead: 1/8 of a round's
    /// requests, doubled at each switch and decaying back by 1/32 a round.
    margin: i64,
    /// Rounds left before the next verdict: a way just followed is judged once it had time
    /// to warm up (its counts and queues turn over in about a round each).
    hold: u32,
}

/// Rounds a way just followed runs before it is judged.
const HOLD_ROUNDS: u32 = 8;

impl Referee {
    fn new(max: usize, follow: Follow) -> Self {
        let bits = max
            .max(1)
            .ilog2()
            .saturating_sub(SHADOW_LOG2)
            .clamp(MIN_SAMPLE_BITS, MAX_SAMPLE_BITS);
        let shadow_max = (max >> bits).max(1);
        let round = u32::try_from(shadow_max.max(128)).unwrap_or(u32::MAX);
        Self {
            sized_for: max,
            sample_mask: ((1u64 << bits) - 1) << SAMPLE_SHIFT,
            shadows: Shadows::new(shadow_max),
            round,
            left: round,
            hits: [0; 3],
            score: [0; 3],
            follow,
            margin: i64::from(round / 8),
            hold: 0,
        }
    }

    /// Sampled requests in order; the last verdict among them (see `see`).
    fn see_all(&mut self, hashes: &[u64]) -> Option<Follow> {
        hashes
            .iter()
            .fold(None, |verdict, &hash| self.see(hash).or(verdict))
    }

    /// One sampled request. Returns the way to follow instead, when a round ends with
    /// another way ahead by the margin.
    fn see(&mut self, hash: u64) -> Option<Follow> {
        let hits = self.shadows.request(hash);
        for (sum, hit) in self.hits.iter_mut().zip(hits) {
            *sum += i64::from(hit);
        }
        self.left -= 1;
        if self.left > 0 {
            return None;
        }
        self.left = self.round;
        for (score, hits) in self.score.iter_mut().zip(&mut self.hits) {
            *score = *score - *score / 8 + core::mem::take(hits);
        }
        // The base margin, on scores that weigh about eight rounds: a lead of about 1.6% of
        // requests, held.
        let base = i64::from(self.round / 8);
        self.margin = (self.margin - self.margin / 32).max(base);
        if self.hold > 0 {
            self.hold -= 1;
            return None;
        }
        let current = self.score[self.follow as usize];
        let (best, lead) = Follow::ALL
            .into_iter()
            .map(|way| (way, self.score[way as usize] - current))
            .max_by_key(|&(_, lead)| lead)?;
        if lead <= self.margin {
            return None;
        }
        self.follow = best;
        self.margin = (self.margin * 2).min(base * 64);
        self.hold = HOLD_ROUNDS;
        Some(best)
    }

    fn heap_bytes(&self) -> usize {
        self.shadows.heap_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::hash_map::DefaultHasher;
    use std::hash::BuildHasherDefault as Fixed;

    /// Replays `keys` through a fresh store of `max` under `O`, get-or-insert per request;
    /// returns the hit ratio and the store.
    fn replay<O: EvictionOrder>(
        keys: impl Iterator<Item = u64>,
        max: usize,
    ) -> (f64, Store<u64, (), Fixed<DefaultHasher>, NoExpiry, O>) {
        let mut store = Store::new(max, Fixed::default(), NoExpiry);
        let (mut hits, mut requests) = (0_u32, 0_u32);
        for key in keys {
            let hash = store.hash(&key);
            requests += 1;
            if let Some(index) = store.find(hash, &key) {
                store.promote(index, hash);
                hits += 1;
            } else if store.is_full() {
                let victim = store.next_victim().expect("full");
                store.replace_at(victim, hash, key, (), 0);
            } else {
                store.push_front(hash, key, (), 0);
            }
        }
        (f64::from(hits) / f64::from(requests), store)
    }

    /// A range walked up, then down, over and over.
    fn sweeps(range: u64, requests: usize) -> impl Iterator<Item = u64> {
        (0..range).chain((0..range).rev()).cycle().take(requests)
    }

    #[test]
    fn the_referee_starts_at_the_first_eviction_and_leaves_with_the_entries() {
        let (_, mut store) = replay::<AdaptiveOrder>(0..1_000, 1_000);
        assert!(
            store.order.referee.is_none(),
            "a map that never filled pays nothing"
        );
        assert_eq!(store.order.sample_mask, UNSAMPLED);
        let before = store.order.heap_bytes();
        let hash = store.hash(&1_000);
        let victim = store.next_victim().expect("full");
        store.replace_at(victim, hash, 1_000, (), 0);
        let referee = store.order.referee.as_deref().expect("evicting starts it");
        assert_eq!(referee.shadows.recency.max(), 1_000 >> MIN_SAMPLE_BITS);
        assert!(store.order.heap_bytes() > before);
        drop(store.take_all());
        assert!(
            store.order.referee.is_none(),
            "emptied: its memory is freed"
        );
    }

    #[test]
    #[cfg_attr(miri, ignore = "100,000 requests")]
    fn alternating_sweeps_move_the_map_to_recency_and_hit_as_lru_does() {
        // LRU keeps the end of each sweep, which the next sweep asks for first: about half of
        // the requests hit at half the range. The probation queues alone hit far fewer.
        let (lru, _) = replay::<RecencyOrder>(sweeps(2_000, 100_000), 1_000);
        let (probation, _) = replay::<ProbationOrder>(sweeps(2_000, 100_000), 1_000);
        let (adaptive, store) = replay::<AdaptiveOrder>(sweeps(2_000, 100_000), 1_000);
        assert!(
            lru > 0.45 && probation < lru - 0.1,
            "lru {lru}, probation {probation}"
        );
        assert_eq!(store.order.follow, Follow::Recency);
        assert!(adaptive > lru - 0.03, "adaptive {adaptive}, lru {lru}");
    }

    #[test]
    #[cfg_attr(miri, ignore = "400,000 requests")]
    fn a_loop_a_little_longer_than_the_map_moves_it_to_admission_by_frequency() {
        // One loop of 10,000 keys over a map of 9,000: LRU hits nothing; the probation queues
        // keep most of a set but their ghosts churn it (about 82%); admission by frequency
        // keeps a fixed set and hits about 9,000 / 10,000 of the requests.
        let loop_keys = || (0..10_000).cycle().take(400_000);
        let (lru, _) = replay::<RecencyOrder>(loop_keys(), 9_000);
        let (probation, _) = replay::<ProbationOrder>(loop_keys(), 9_000);
        let (adaptive, store) = replay::<AdaptiveOrder>(loop_keys(), 9_000);
        assert!(lru < 0.01, "lru {lru}");
        assert_eq!(store.order.follow, Follow::Frequency);
        assert!(
            adaptive > probation + 0.02,
            "adaptive {adaptive}, probation {probation}"
        );
    }

    #[test]
    #[cfg_attr(miri, ignore = "200,000 requests")]
    fn a_loop_longer_than_the_map_keeps_a_set_where_lru_hits_nothing() {
        let loop_keys = || (0..2_000).cycle().take(200_000);
        let (lru, _) = replay::<RecencyOrder>(loop_keys(), 1_800);
        let (adaptive, store) = replay::<AdaptiveOrder>(loop_keys(), 1_800);
        assert!(lru < 0.01, "lru {lru}");
        assert_ne!(store.order.follow, Follow::Recency);
        assert!(adaptive > 0.8, "adaptive {adaptive}");
    }

    #[test]
    #[cfg_attr(miri, ignore = "200,000 requests")]
    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "a test's key generator: 53 bits to a uniform in [0, 1), then a key in 1..20,000"
    )]
    fn skewed_popularity_keeps_the_probation_queues() {
        // Zipf-like requests over 20,000 keys, from a fixed
        // generator: the probation queues beat LRU here, and the map stays with them.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let keys = std::iter::from_fn(move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            // 20,000^uniform: key k about 1/k as often as key 1.
            let uniform = (state >> 11) as f64 / (1u64 << 53) as f64;
            Some(20_000_f64.powf(uniform) as u64)
        })
        .take(200_000)
        .collect::<Vec<_>>();
        let (lru, _) = replay::<RecencyOrder>(keys.iter().copied(), 1_000);
        let (adaptive, store) = replay::<AdaptiveOrder>(keys.iter().copied(), 1_000);
        assert_ne!(store.order.follow, Follow::Recency);
        assert!(adaptive > lru, "adaptive {adaptive}, lru {lru}");
    }
}
