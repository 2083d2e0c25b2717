//! Maps shared between threads: the Zipf get-or-insert mix run by 1, 2 and more threads at
//! once on one map, for mapguard's `ConcurrentLruMap` and its peers. Every map is given room
//! for `max` entries up front where its API allows (quick_cache requires an estimate anyway):
//! growing a table under a lock, while other threads wait, is then nobody's cost.

use std::sync::{Barrier, Mutex};
use std::time::{Duration, Instant};

use mapguard::{ConcurrentLruMap, LruMap};

use crate::{Hasher, Key, Value};

/// A map many threads use at once, each through its most idiomatic shared API.
pub trait SharedSubject: Sync {
    /// Display name in tables.
    const NAME: &'static str;
    /// An empty map bounded to `max` entries (unbounded for the floor).
    fn with_max(max: usize) -> Self;
    /// Looks `key` up and inserts `value` on a miss; returns whether it was a hit.
    fn get_or_insert(&self, key: Key, value: Value) -> bool;
}

/// mapguard's concurrent LRU map, default shard count, no hooks.
pub type ConcurrentLru = ConcurrentLruMap<Key, Value, Hasher>;

impl SharedSubject for ConcurrentLru {
    const NAME: &'static str = "mapguard ConcurrentLruMap";
    fn with_max(max: usize) -> Self {
        ConcurrentLruMap::builder(max)
            .hasher(Hasher::default())
            .capacity(max)
            .build()
    }
    fn get_or_insert(&self, key: Key, value: Value) -> bool {
        // One lock: look up, and insert on a miss, under the shard's lock.
        let mut hit = true;
        self.get_or_insert_with(key, || {
            hit = false;
            value
        });
        hit
    }
}

/// [`ConcurrentLru`] under a weight budget of the whole map (each entry weighs 1, the budget is
/// `max`): what the shards' shared weight costs, one atomic add per write.
#[derive(Debug)]
pub struct ConcurrentLruWeighed(
    ConcurrentLruMap<
        Key,
        Value,
        Hasher,
        mapguard::hooks::NoListener,
        mapguard::weight::Weighed<mapguard::expiry::NoExpiry>,
    >,
);

impl SharedSubject for ConcurrentLruWeighed {
    const NAME: &'static str = "mapguard ConcurrentLruMap, whole-map weight budget";
    fn with_max(max: usize) -> Self {
        Self(
            ConcurrentLruMap::builder(max)
                .hasher(Hasher::default())
                .capacity(max)
                .weigher(|_: &Key, _: &Value| 1)
                .max_weight(max as u64)
                .build(),
        )
    }
    fn get_or_insert(&self, key: Key, value: Value) -> bool {
        let mut hit = true;
        self.0.get_or_insert_with(key, || {
            hit = false;
            value
        });
        hit
    }
}

/// One `LruMap` behind one `Mutex`: what a user would write without a concurrent map.
#[derive(Debug)]
pub struct MutexLru(Mutex<LruMap<Key, Value, Hasher>>);

impl SharedSubject for MutexLru {
    const NAME: &'static str = "Mutex<LruMap>";
    fn with_max(max: usize) -> Self {
        Self(Mutex::new(
            LruMap::builder(max)
                .hasher(Hasher::default())
                .capacity(max)
                .build(),
        ))
    }
    fn get_or_insert(&self, key: Key, value: Value) -> bool {
        let mut map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match map.entry(key) {
            mapguard::map::Entry::Occupied(_) => true,
            mapguard::map::Entry::Vacant(slot) => {
                slot.insert(value);
                false
            }
        }
    }
}

/// quick_cache's sharded, thread-safe cache (CLOCK-Pro), with foldhash.
pub type QuickCacheSync = quick_cache::sync::Cache<Key, Value, quick_cache::UnitWeighter, Hasher>;

impl SharedSubject for QuickCacheSync {
    const NAME: &'static str = "quick_cache sync";
    fn with_max(max: usize) -> Self {
        quick_cache::sync::Cache::with(
            max,
            max as u64,
            quick_cache::UnitWeighter,
            Hasher::default(),
            quick_cache::sync::DefaultLifecycle::default(),
        )
    }
    fn get_or_insert(&self, key: Key, value: Value) -> bool {
        match self.get_value_or_guard(&key, None) {
            quick_cache::sync::GuardResult::Value(_) => true,
            quick_cache::sync::GuardResult::Guard(guard) => {
                let _ = guard.insert(value);
                false
            }
            quick_cache::sync::GuardResult::Timeout => false,
        }
    }
}

/// moka's thread-safe cache (TinyLFU), with foldhash.
pub type MokaSync = moka::sync::Cache<Key, Value, Hasher>;

impl SharedSubject for MokaSync {
    const NAME: &'static str = "moka sync";
    fn with_max(max: usize) -> Self {
        moka::sync::Cache::builder()
            .max_capacity(max as u64)
            .initial_capacity(max)
            .build_with_hasher(Hasher::default())
    }
    fn get_or_insert(&self, key: Key, value: Value) -> bool {
        if self.get(&key).is_some() {
            return true;
        }
        self.insert(key, value);
        false
    }
}

/// dashmap, unbounded: the floor (no eviction, no recency), with foldhash.
pub type DashMapFloor = dashmap::DashMap<Key, Value, Hasher>;

impl SharedSubject for DashMapFloor {
    const NAME: &'static str = "dashmap (unbounded floor)";
    fn with_max(max: usize) -> Self {
        dashmap::DashMap::with_capacity_and_hasher(max, Hasher::default())
    }
    fn get_or_insert(&self, key: Key, value: Value) -> bool {
        if self.get(&key).is_some() {
            return true;
        }
        self.entry(key).or_insert(value);
        false
    }
}

/// Calls `$mac!(Type)` for every shared implementation, in table order.
#[macro_export]
macro_rules! for_each_shared_subject {
    ($mac:ident) => {
        $mac!($crate::shared::ConcurrentLru);
        $mac!($crate::shared::ConcurrentLruWeighed);
        $mac!($crate::shared::MutexLru);
        $mac!($crate::shared::QuickCacheSync);
        $mac!($crate::shared::MokaSync);
        $mac!($crate::shared::DashMapFloor);
    };
}

/// One thread's share of the work. Never inlined, so
/// `valgrind --tool=callgrind --toggle-collect='*shared::run_slice*'` counts exactly it.
#[inline(never)]
fn run_slice<S: SharedSubject>(map: &S, keys: &[Key]) -> usize {
    keys.iter()
        .filter(|&&key| map.get_or_insert(key, key))
        .count()
}

/// One timed shared run.
#[derive(Clone, Copy, Debug)]
pub struct SharedTiming {
    /// Million operations per second, all threads together.
    pub mops: f64,
    /// Hits over lookups.
    pub hit_ratio: f64,
}

/// Runs the get-or-insert mix over `keys` on one fresh map with `threads` threads, each
/// taking an equal contiguous slice of `keys`; times from a common start to the last
/// thread's end.
///
/// # Panics
///
/// If `threads` is 0.
#[must_use]
#[inline(never)]
pub fn time_shared<S: SharedSubject>(keys: &[Key], max: usize, threads: usize) -> SharedTiming {
    let map = S::with_max(max);
    let start = Barrier::new(threads + 1);
    let chunk = keys.len() / threads;
    let (elapsed, hits) = std::thread::scope(|s| {
        let workers: Vec<_> = keys
            .chunks(chunk)
            .take(threads)
            .map(|slice| {
                let (map, start) = (&map, &start);
                s.spawn(move || {
                    start.wait();
                    let began = Instant::now();
                    let hits = run_slice(map, slice);
                    (began, Instant::now(), hits)
                })
            })
            .collect();
        start.wait();
        let mut first = None::<Instant>;
        let mut last = None::<Instant>;
        let mut hits = 0;
        for worker in workers {
            let (began, ended, count) = worker.join().expect("worker panicked");
            first = Some(first.map_or(began, |f| f.min(began)));
            last = Some(last.map_or(ended, |l| l.max(ended)));
            hits += count;
        }
        let elapsed = match (first, last) {
            (Some(first), Some(last)) => last - first,
            _ => Duration::ZERO,
        };
        (elapsed, hits)
    });
    let ops = (chunk * threads) as f64;
    SharedTiming {
        mops: ops / elapsed.as_secs_f64().max(1e-9) / 1e6,
        hit_ratio: hits as f64 / ops,
    }
}
