//! Side-by-side workloads for mapguard's maps and their peers.
//!
//! Every implementation runs the same pre-generated key sequences with the same hasher
//! ([`Hasher`]: foldhash, as hashbrown's `DefaultHashBuilder`, with a fixed seed) in one
//! process, so ratios between them mean something even on a noisy machine. `compare` (src/bin/compare.rs) prints the tables;
//! `benches/operations.rs` holds the criterion versions of the hot operations.

use std::hint::black_box;
use std::num::NonZeroUsize;
use std::time::{Duration, Instant};

use mapguard::hooks::{RemovalListener, WithCleanup};
use mapguard::{AdaptiveMap, BoundedMap, Cleanup, LruMap, RemovalCause};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand_distr::{Distribution, Zipf};

pub mod reference;
pub mod shared;
pub mod traces;

/// The hasher of every map measured: foldhash (hashbrown's `DefaultHashBuilder`) with a fixed
/// seed, so two builds of the benchmarks probe their tables alike. With the default random
/// seed, which foldhash derives in part from code addresses, two builds of the same
/// source differed by up to 7% in instructions on churn workloads (`instructions-vs.sh`).
pub type Hasher = foldhash::fast::FixedState;

/// Keys and values are `u64`: what is measured is the map, not hashing or copying payloads.
pub type Key = u64;
/// See [`Key`].
pub type Value = u64;

/// What every benchmarked map offers, each through its most idiomatic API.
#[allow(
    clippy::len_without_is_empty,
    reason = "a benchmark harness, not a collection API"
)]
pub trait Subject {
    /// Display name in tables.
    const NAME: &'static str;
    /// Whether `len` stays at or below `max` (hashbrown has no bound; moka enforces it lazily).
    const BOUNDED: bool = true;
    /// An empty map bounded to `max` entries.
    fn with_max(max: usize) -> Self;
    /// Inserts or updates.
    fn insert(&mut self, key: Key, value: Value);
    /// Looks up, promoting where the policy does.
    fn get(&mut self, key: Key) -> Option<Value>;
    /// Looks up and inserts `value` on a miss; returns whether it was a hit.
    fn get_or_insert(&mut self, key: Key, value: Value) -> bool;
    /// Removes; returns the value.
    fn remove(&mut self, key: Key) -> Option<Value>;
    /// Number of entries (after any pending maintenance).
    fn len(&mut self) -> usize;
}

/// The evicting `ManagedMap`s, each through its own name: the same methods, another policy.
macro_rules! evicting_subject {
    ($map:ident, $name:literal) => {
        impl Subject for $map<Key, Value, Hasher> {
            const NAME: &'static str = $name;
            fn with_max(max: usize) -> Self {
                $map::with_hasher(max, Hasher::default())
            }
            fn insert(&mut self, key: Key, value: Value) {
                $map::insert(self, key, value);
            }
            fn get(&mut self, key: Key) -> Option<Value> {
                $map::get(self, &key).copied()
            }
            fn get_or_insert(&mut self, key: Key, value: Value) -> bool {
                match self.entry(key) {
                    mapguard::map::Entry::Occupied(_) => true,
                    mapguard::map::Entry::Vacant(slot) => {
                        slot.insert(value);
                        false
                    }
                }
            }
            fn remove(&mut self, key: Key) -> Option<Value> {
                $map::remove(self, &key)
            }
            fn len(&mut self) -> usize {
                $map::len(self)
            }
        }
    };
}

evicting_subject!(LruMap, "mapguard LruMap");
evicting_subject!(AdaptiveMap, "mapguard AdaptiveMap");

/// A value with a cleanup hook, for measuring what management costs.
#[derive(Debug, Default)]
pub struct Managed(pub Value);

impl Cleanup for Managed {
    fn cleanup(&mut self, cause: RemovalCause) {
        black_box(cause);
    }
}

/// A listener that counts removals by cause, as a metrics hook would.
#[derive(Debug, Default)]
pub struct CountingListener(pub [u64; 8]);

impl RemovalListener<Key, Managed> for CountingListener {
    fn on_removal(&mut self, _key: Key, value: Managed, cause: RemovalCause) {
        black_box(value.0);
        self.0[cause.index()] += 1;
    }
}

/// `LruMap` with value cleanup and a counting listener: the cost of management.
pub type HookedLru = LruMap<Key, Managed, Hasher, WithCleanup<CountingListener>>;

impl Subject for HookedLru {
    const NAME: &'static str = "mapguard LruMap + hooks";
    fn with_max(max: usize) -> Self {
        LruMap::builder(max)
            .hasher(Hasher::default())
            .listener(CountingListener::default())
            .cleanup()
            .build()
    }
    fn insert(&mut self, key: Key, value: Value) {
        LruMap::insert(self, key, Managed(value));
    }
    fn get(&mut self, key: Key) -> Option<Value> {
        LruMap::get(self, &key).map(|v| v.0)
    }
    fn get_or_insert(&mut self, key: Key, value: Value) -> bool {
        match self.entry(key) {
            mapguard::map::Entry::Occupied(_) => true,
            mapguard::map::Entry::Vacant(slot) => {
                slot.insert(Managed(value));
                false
            }
        }
    }
    fn remove(&mut self, key: Key) -> Option<Value> {
        LruMap::remove(self, &key).map(|v| v.0)
    }
    fn len(&mut self) -> usize {
        LruMap::len(self)
    }
}

/// Every entry lives an hour from its creation, decided per entry: the cost of per-entry expiry
/// (a policy call, a clock read and a timer-wheel place per write).
#[derive(Debug, Default)]
pub struct AnHour;

impl mapguard::expiry::ExpireAfter<Key, Value> for AnHour {
    fn after_create(
        &self,
        _: &Key,
        _: &Value,
        _: std::time::Duration,
    ) -> Option<std::time::Duration> {
        Some(std::time::Duration::from_secs(3600))
    }
    fn reads_move_deadlines(&self) -> bool {
        false
    }
}

/// `LruMap` whose entries expire one by one (`expire_after`, `insert_with_ttl`), on
/// `std::time::Instant` (`CLOCK` 0), the time-stamp counter (1) or the coarse recent time of `CoarseClock` (2).
#[derive(Debug)]
pub struct TimedLru<const CLOCK: u8>(
    LruMap<Key, Value, Hasher, mapguard::hooks::NoListener, mapguard::expiry::Expiring>,
);

/// [`TimedLru`] on the system clock.
pub type TimedLruStd = TimedLru<0>;
/// [`TimedLru`] on the time-stamp counter.
pub type TimedLruQuanta = TimedLru<1>;
/// [`TimedLru`] on `CoarseClock`'s recent time.
pub type TimedLruCoarse = TimedLru<2>;

impl<const CLOCK: u8> Subject for TimedLru<CLOCK> {
    const NAME: &'static str = match CLOCK {
        0 => "mapguard LruMap + per-entry ttl",
        1 => "mapguard LruMap + per-entry ttl, QuantaClock",
        _ => "mapguard LruMap + per-entry ttl, CoarseClock",
    };
    fn with_max(max: usize) -> Self {
        let builder = LruMap::builder(max)
            .hasher(Hasher::default())
            .expire_after(AnHour);
        Self(match CLOCK {
            0 => builder.build(),
            1 => builder
                .clock(mapguard::expiry::QuantaClock::default())
                .build(),
            _ => builder
                .clock(mapguard::expiry::CoarseClock::default())
                .build(),
        })
    }
    fn insert(&mut self, key: Key, value: Value) {
        self.0
            .insert_with_ttl(key, value, std::time::Duration::from_secs(3600));
    }
    fn get(&mut self, key: Key) -> Option<Value> {
        self.0.get(&key).copied()
    }
    fn get_or_insert(&mut self, key: Key, value: Value) -> bool {
        match self.0.entry(key) {
            mapguard::map::Entry::Occupied(_) => true,
            mapguard::map::Entry::Vacant(slot) => {
                slot.insert(value);
                false
            }
        }
    }
    fn remove(&mut self, key: Key) -> Option<Value> {
        self.0.remove(&key)
    }
    fn len(&mut self) -> usize {
        self.0.len()
    }
}

impl Subject for BoundedMap<Key, Value, Hasher> {
    const NAME: &'static str = "mapguard BoundedMap";
    fn with_max(max: usize) -> Self {
        BoundedMap::with_hasher(max, Hasher::default())
    }
    fn insert(&mut self, key: Key, value: Value) {
        // Full means rejected: the benchmark drops the handed-back entry.
        let _ = self.try_insert(key, value);
    }
    fn get(&mut self, key: Key) -> Option<Value> {
        BoundedMap::get(self, &key).copied()
    }
    fn get_or_insert(&mut self, key: Key, value: Value) -> bool {
        match self.entry(key) {
            mapguard::map::Entry::Occupied(_) => true,
            mapguard::map::Entry::Vacant(slot) => {
                let _ = slot.try_insert(value);
                false
            }
        }
    }
    fn remove(&mut self, key: Key) -> Option<Value> {
        BoundedMap::remove(self, &key)
    }
    fn len(&mut self) -> usize {
        BoundedMap::len(self)
    }
}

fn non_zero(max: usize) -> NonZeroUsize {
    NonZeroUsize::new(max).unwrap_or(NonZeroUsize::MIN)
}

impl Subject for lru::LruCache<Key, Value, Hasher> {
    const NAME: &'static str = "lru";
    fn with_max(max: usize) -> Self {
        lru::LruCache::with_hasher(non_zero(max), Hasher::default())
    }
    fn insert(&mut self, key: Key, value: Value) {
        self.put(key, value);
    }
    fn get(&mut self, key: Key) -> Option<Value> {
        lru::LruCache::get(self, &key).copied()
    }
    fn get_or_insert(&mut self, key: Key, value: Value) -> bool {
        let mut hit = true;
        lru::LruCache::get_or_insert(self, key, || {
            hit = false;
            value
        });
        hit
    }
    fn remove(&mut self, key: Key) -> Option<Value> {
        self.pop(&key)
    }
    fn len(&mut self) -> usize {
        lru::LruCache::len(self)
    }
}

impl Subject for hashlink::LruCache<Key, Value, Hasher> {
    const NAME: &'static str = "hashlink LruCache";
    fn with_max(max: usize) -> Self {
        hashlink::LruCache::with_hasher(max, Hasher::default())
    }
    fn insert(&mut self, key: Key, value: Value) {
        hashlink::LruCache::insert(self, key, value);
    }
    fn get(&mut self, key: Key) -> Option<Value> {
        hashlink::LruCache::get(self, &key).copied()
    }
    fn get_or_insert(&mut self, key: Key, value: Value) -> bool {
        if hashlink::LruCache::get(self, &key).is_some() {
            return true;
        }
        hashlink::LruCache::insert(self, key, value);
        false
    }
    fn remove(&mut self, key: Key) -> Option<Value> {
        hashlink::LruCache::remove(self, &key)
    }
    fn len(&mut self) -> usize {
        hashlink::LruCache::len(self)
    }
}

/// schnellru's map bounded by entry count.
pub type Schnellru = schnellru::LruMap<Key, Value, schnellru::ByLength, Hasher>;

impl Subject for Schnellru {
    const NAME: &'static str = "schnellru";
    fn with_max(max: usize) -> Self {
        let max = u32::try_from(max).unwrap_or(u32::MAX);
        schnellru::LruMap::with_hasher(schnellru::ByLength::new(max), Hasher::default())
    }
    fn insert(&mut self, key: Key, value: Value) {
        schnellru::LruMap::insert(self, key, value);
    }
    fn get(&mut self, key: Key) -> Option<Value> {
        schnellru::LruMap::get(self, &key).copied()
    }
    fn get_or_insert(&mut self, key: Key, value: Value) -> bool {
        let mut hit = true;
        schnellru::LruMap::get_or_insert(self, key, || {
            hit = false;
            value
        });
        hit
    }
    fn remove(&mut self, key: Key) -> Option<Value> {
        schnellru::LruMap::remove(self, &key)
    }
    fn len(&mut self) -> usize {
        schnellru::LruMap::len(self)
    }
}

/// quick_cache's single-threaded cache (S3-FIFO-like, not LRU), bounded by entry count.
pub type QuickCache = quick_cache::unsync::Cache<
    Key,
    Value,
    quick_cache::UnitWeighter,
    Hasher,
    quick_cache::unsync::DefaultLifecycle<Key, Value>,
>;

impl Subject for QuickCache {
    const NAME: &'static str = "quick_cache unsync";
    fn with_max(max: usize) -> Self {
        quick_cache::unsync::Cache::with(
            max,
            max as u64,
            quick_cache::UnitWeighter,
            Hasher::default(),
            quick_cache::unsync::DefaultLifecycle::default(),
        )
    }
    fn insert(&mut self, key: Key, value: Value) {
        quick_cache::unsync::Cache::insert(self, key, value);
    }
    fn get(&mut self, key: Key) -> Option<Value> {
        quick_cache::unsync::Cache::get(self, &key).copied()
    }
    fn get_or_insert(&mut self, key: Key, value: Value) -> bool {
        match self.get_ref_or_guard(&key) {
            Ok(_) => true,
            Err(guard) => {
                guard.insert(value);
                false
            }
        }
    }
    fn remove(&mut self, key: Key) -> Option<Value> {
        quick_cache::unsync::Cache::remove(self, &key).map(|(_, v)| v)
    }
    fn len(&mut self) -> usize {
        quick_cache::unsync::Cache::len(self)
    }
}

/// moka's concurrent cache (TinyLFU admission), used from one thread for context.
pub type Moka = moka::sync::Cache<Key, Value, Hasher>;

impl Subject for Moka {
    const NAME: &'static str = "moka sync (1 thread)";
    fn with_max(max: usize) -> Self {
        moka::sync::Cache::builder()
            .max_capacity(max as u64)
            .build_with_hasher(Hasher::default())
    }
    fn insert(&mut self, key: Key, value: Value) {
        moka::sync::Cache::insert(self, key, value);
    }
    fn get(&mut self, key: Key) -> Option<Value> {
        moka::sync::Cache::get(self, &key)
    }
    fn get_or_insert(&mut self, key: Key, value: Value) -> bool {
        if moka::sync::Cache::get(self, &key).is_some() {
            return true;
        }
        moka::sync::Cache::insert(self, key, value);
        false
    }
    fn remove(&mut self, key: Key) -> Option<Value> {
        moka::sync::Cache::remove(self, &key)
    }
    fn len(&mut self) -> usize {
        self.run_pending_tasks();
        usize::try_from(self.entry_count()).unwrap_or(usize::MAX)
    }
}

/// `ConcurrentAdaptiveMap` with its default shards, used from one thread: how far sharding
/// (each shard adapting alone) moves the hit ratio from `AdaptiveMap`'s.
pub type ConcurrentAdaptiveU64 =
    mapguard::ConcurrentMap<Key, Value, mapguard::policy::Adaptive, Hasher>;

impl Subject for ConcurrentAdaptiveU64 {
    const NAME: &'static str = "mapguard ConcurrentAdaptiveMap";
    fn with_max(max: usize) -> Self {
        mapguard::ConcurrentMap::builder(max)
            .hasher(Hasher::default())
            .build()
    }
    fn insert(&mut self, key: Key, value: Value) {
        mapguard::ConcurrentMap::insert(self, key, value);
    }
    fn get(&mut self, key: Key) -> Option<Value> {
        mapguard::ConcurrentMap::get(self, &key)
    }
    fn get_or_insert(&mut self, key: Key, value: Value) -> bool {
        let mut missed = false;
        self.get_or_insert_with(key, || {
            missed = true;
            value
        });
        !missed
    }
    fn remove(&mut self, key: Key) -> Option<Value> {
        mapguard::ConcurrentMap::remove(self, &key)
    }
    fn len(&mut self) -> usize {
        mapguard::ConcurrentMap::len(self)
    }
}

/// hashbrown's `HashMap` with no policy at all: the floor.
pub type Raw = hashbrown::HashMap<Key, Value, Hasher>;

impl Subject for Raw {
    const NAME: &'static str = "hashbrown HashMap (no bound)";
    const BOUNDED: bool = false;
    fn with_max(_max: usize) -> Self {
        Raw::default()
    }
    fn insert(&mut self, key: Key, value: Value) {
        hashbrown::HashMap::insert(self, key, value);
    }
    fn get(&mut self, key: Key) -> Option<Value> {
        hashbrown::HashMap::get(self, &key).copied()
    }
    fn get_or_insert(&mut self, key: Key, value: Value) -> bool {
        match self.entry(key) {
            hashbrown::hash_map::Entry::Occupied(_) => true,
            hashbrown::hash_map::Entry::Vacant(slot) => {
                slot.insert(value);
                false
            }
        }
    }
    fn remove(&mut self, key: Key) -> Option<Value> {
        hashbrown::HashMap::remove(self, &key)
    }
    fn len(&mut self) -> usize {
        hashbrown::HashMap::len(self)
    }
}

/// The key sequences for one size, generated once and shared by every implementation.
#[derive(Debug)]
pub struct Keys {
    /// The bound.
    pub max: usize,
    /// `0..max` in a random order: the lookup order for hits.
    pub shuffled: Vec<Key>,
    /// Zipf(0.99) draws from a key space of `10 * max`.
    pub zipf_099: Vec<Key>,
    /// Zipf(1.2) draws from a key space of `10 * max`.
    pub zipf_12: Vec<Key>,
    /// Operations per timed workload (fill and remove-all use `max`).
    pub ops: usize,
}

impl Keys {
    /// Generates the sequences with a fixed seed, so every run sees the same keys.
    ///
    /// # Panics
    ///
    /// If `max` is 0.
    #[must_use]
    pub fn new(max: usize, ops: usize) -> Self {
        let mut rng = StdRng::seed_from_u64(0x6d61_7067_7561_7264);
        let mut shuffled: Vec<Key> = (0..max as Key).collect();
        shuffled.shuffle(&mut rng);
        let space = (max * 10) as f64;
        let mut zipf = |exponent: f64| -> Vec<Key> {
            let dist = Zipf::new(space, exponent).expect("valid Zipf parameters");
            // Zipf draws are whole numbers in 1..=space.
            #[allow(clippy::cast_sign_loss, clippy::cast_possible_truncation)]
            (0..ops).map(|_| dist.sample(&mut rng) as Key).collect()
        };
        let zipf_099 = zipf(0.99);
        let zipf_12 = zipf(1.2);
        Self {
            max,
            shuffled,
            zipf_099,
            zipf_12,
            ops,
        }
    }
}

/// One timed run's outcome.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    /// Nanoseconds per operation (the best of the repetitions).
    pub ns_per_op: f64,
    /// Hits over lookups, for get-or-insert workloads.
    pub hit_ratio: Option<f64>,
}

/// The workloads every implementation runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// Insert `0..max` into an empty map.
    Fill,
    /// After a fill, look up present keys in random order.
    GetHit,
    /// Get-or-insert over Zipf(0.99) keys from a space of `10 * max`, from empty.
    Zipf099,
    /// Get-or-insert over Zipf(1.2) keys from a space of `10 * max`, from empty.
    Zipf12,
    /// After a fill, remove the oldest key and insert a new one, repeatedly (a sliding
    /// window).
    Churn,
    /// After a fill, remove every key.
    RemoveAll,
}

impl Workload {
    /// Every workload, in table order.
    pub const ALL: [Self; 6] = [
        Self::Fill,
        Self::GetHit,
        Self::Zipf099,
        Self::Zipf12,
        Self::Churn,
        Self::RemoveAll,
    ];

    /// Table heading.
    #[must_use]
    pub fn title(self) -> &'static str {
        match self {
            Self::Fill => "fill to max (insert)",
            Self::GetHit => "get, all hits",
            Self::Zipf099 => "get-or-insert, Zipf 0.99 over 10x max keys",
            Self::Zipf12 => "get-or-insert, Zipf 1.2 over 10x max keys",
            Self::Churn => "churn: remove oldest + insert new",
            Self::RemoveAll => "remove everything after a fill",
        }
    }

    /// Stable identifier for JSON.
    #[must_use]
    pub fn id(self) -> &'static str {
        match self {
            Self::Fill => "fill",
            Self::GetHit => "get_hit",
            Self::Zipf099 => "zipf_0.99",
            Self::Zipf12 => "zipf_1.2",
            Self::Churn => "churn",
            Self::RemoveAll => "remove_all",
        }
    }
}

fn filled<S: Subject>(keys: &Keys) -> S {
    let mut map = S::with_max(keys.max);
    for k in 0..keys.max as Key {
        map.insert(k, k);
    }
    map
}

/// Runs one workload once on a fresh map; returns elapsed time, operation count and hits.
fn run_once<S: Subject>(workload: Workload, keys: &Keys) -> (Duration, usize, Option<usize>) {
    match workload {
        Workload::Fill => {
            let mut map = S::with_max(keys.max);
            let start = Instant::now();
            for k in 0..keys.max as Key {
                map.insert(black_box(k), k);
            }
            let elapsed = start.elapsed();
            black_box(map.len());
            (elapsed, keys.max, None)
        }
        Workload::GetHit => {
            let mut map = filled::<S>(keys);
            let mut sum = 0;
            let start = Instant::now();
            for &k in keys.shuffled.iter().cycle().take(keys.ops) {
                sum += map.get(black_box(k)).unwrap_or(0);
            }
            let elapsed = start.elapsed();
            black_box(sum);
            (elapsed, keys.ops, None)
        }
        Workload::Zipf099 | Workload::Zipf12 => {
            let sequence = if workload == Workload::Zipf099 {
                &keys.zipf_099
            } else {
                &keys.zipf_12
            };
            let mut map = S::with_max(keys.max);
            let mut hits = 0;
            let start = Instant::now();
            for &k in sequence {
                hits += usize::from(map.get_or_insert(black_box(k), k));
            }
            let elapsed = start.elapsed();
            (elapsed, sequence.len(), Some(hits))
        }
        Workload::Churn => {
            let mut map = filled::<S>(keys);
            let start = Instant::now();
            // Remove first: every implementation then inserts below its bound, so all do the
            // same work (no eviction, no rejection) whatever their policy.
            for i in 0..(keys.ops / 2) as Key {
                black_box(map.remove(black_box(i)));
                map.insert(black_box(keys.max as Key + i), i);
            }
            let elapsed = start.elapsed();
            (elapsed, keys.ops / 2 * 2, None)
        }
        Workload::RemoveAll => {
            let mut map = filled::<S>(keys);
            let start = Instant::now();
            for &k in &keys.shuffled {
                black_box(map.remove(black_box(k)));
            }
            let elapsed = start.elapsed();
            (elapsed, keys.max, None)
        }
    }
}

/// Runs `workload` `reps` times and keeps the fastest (least disturbed) run.
///
/// Never inlined, so `valgrind --tool=callgrind --toggle-collect='*mapguard_bench::time*'`
/// counts exactly the timed work.
#[must_use]
#[inline(never)]
pub fn time<S: Subject>(workload: Workload, keys: &Keys, reps: usize) -> Timing {
    let mut best = Duration::MAX;
    let mut ops = 1;
    let mut hits = None;
    for _ in 0..reps.max(1) {
        let (elapsed, count, hit_count) = run_once::<S>(workload, keys);
        best = best.min(elapsed);
        ops = count.max(1);
        hits = hit_count;
    }
    Timing {
        ns_per_op: best.as_nanos() as f64 / ops as f64,
        hit_ratio: hits.map(|h| h as f64 / ops as f64),
    }
}

/// Heap figures of one implementation at one size.
#[derive(Clone, Copy, Debug)]
pub struct Memory {
    /// Heap bytes per entry beyond `size_of::<(Key, Value)>()` after a fill to `max`.
    pub overhead_per_entry: f64,
    /// Heap still held after removing every key, as a percentage of the full map's heap.
    pub retained_percent: f64,
}

/// Measures heap use with `allocated`, a reading of the process's live heap bytes.
#[must_use]
pub fn memory<S: Subject>(max: usize, allocated: impl Fn() -> usize) -> Memory {
    let before = allocated();
    let mut map = S::with_max(max);
    for k in 0..max as Key {
        map.insert(k, k);
    }
    let len = map.len().max(1);
    let full = allocated().saturating_sub(before);
    for k in 0..max as Key {
        map.remove(k);
    }
    map.len();
    let retained = allocated().saturating_sub(before);
    drop(map);
    Memory {
        overhead_per_entry: full as f64 / len as f64 - size_of::<(Key, Value)>() as f64,
        retained_percent: 100.0 * retained as f64 / full.max(1) as f64,
    }
}

/// Invokes the macro `$mac!(Type)` once per implementation, in table order.
#[macro_export]
macro_rules! for_each_subject {
    ($mac:ident) => {
        $mac!($crate::LruMapU64);
        $mac!($crate::AdaptiveMapU64);
        $mac!($crate::HookedLru);
        $mac!($crate::TimedLruStd);
        $mac!($crate::TimedLruQuanta);
        $mac!($crate::TimedLruCoarse);
        $mac!($crate::BoundedMapU64);
        $mac!($crate::LruCrate);
        $mac!($crate::Hashlink);
        $mac!($crate::Schnellru);
        $mac!($crate::QuickCache);
        $mac!($crate::Moka);
        $mac!($crate::Raw);
    };
}

/// `LruMap<u64, u64>` with default hasher and no hooks.
pub type LruMapU64 = LruMap<Key, Value, Hasher>;
/// `AdaptiveMap<u64, u64>` with default hasher and no hooks.
pub type AdaptiveMapU64 = AdaptiveMap<Key, Value, Hasher>;
/// `BoundedMap<u64, u64>` with default hasher and no hooks.
pub type BoundedMapU64 = BoundedMap<Key, Value, Hasher>;
/// The `lru` crate's cache with foldhash.
pub type LruCrate = lru::LruCache<Key, Value, Hasher>;
/// hashlink's LRU cache with foldhash.
pub type Hashlink = hashlink::LruCache<Key, Value, Hasher>;

#[cfg(test)]
mod tests {
    use super::*;

    fn zipf_hits<S: Subject>(keys: &Keys) -> usize {
        let mut map = S::with_max(keys.max);
        keys.zipf_099
            .iter()
            .filter(|&&k| map.get_or_insert(k, k))
            .count()
    }

    /// Exact LRU is deterministic: every exact-LRU implementation must score the same hits
    /// on the same sequence. A bug in the recency list shows up as a different count.
    #[test]
    fn exact_lru_implementations_agree_on_hits() {
        let keys = Keys::new(200, 20_000);
        let ours = zipf_hits::<LruMapU64>(&keys);
        assert!(ours > 0 && ours < keys.ops);
        assert_eq!(ours, zipf_hits::<HookedLru>(&keys));
        assert_eq!(ours, zipf_hits::<LruCrate>(&keys));
        assert_eq!(ours, zipf_hits::<Hashlink>(&keys));
        assert_eq!(ours, zipf_hits::<Schnellru>(&keys));
    }

    /// A smoke run of every workload on every implementation at a tiny size.
    #[test]
    fn every_workload_runs_on_every_implementation() {
        let keys = Keys::new(64, 1_000);
        macro_rules! smoke {
            ($S:ty) => {
                for workload in Workload::ALL {
                    let timing = time::<$S>(workload, &keys, 1);
                    assert!(timing.ns_per_op.is_finite(), "{} {workload:?}", <$S>::NAME);
                    if let Some(ratio) = timing.hit_ratio {
                        assert!((0.0..=1.0).contains(&ratio));
                    }
                }
                let mut map = filled::<$S>(&keys);
                if <$S as Subject>::BOUNDED {
                    let len = Subject::len(&mut map);
                    assert!(len <= keys.max, "{} exceeds max", <$S>::NAME);
                }
            };
        }
        for_each_subject!(smoke);
    }
}
