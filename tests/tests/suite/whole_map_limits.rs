//! A concurrent map's bound and weight budget hold for the whole map, whatever its shard
//! count: an entry within the budget is stored (evicting from other shards if its own cannot
//! free enough), the total never passes the limits once writers are done, a bounded map takes
//! exactly `max` keys, and an entry heavier than the whole budget is handed back.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use mapguard::testing::{Tracked, Tracker};
use mapguard::{ConcurrentBoundedMap, ConcurrentMap, RemovalCause};
use mapguard_tests::Rng;
use proptest::prelude::*;

const MIB: u64 = 1 << 20;

/// A value that says what it weighs, so a test of a 64 MiB budget allocates nothing.
#[derive(Clone, Debug, PartialEq)]
struct Blob(u64);

#[allow(
    clippy::trivially_copy_pass_by_ref,
    reason = "a weigher takes its key by reference"
)]
fn weight(_: &u64, blob: &Blob) -> u64 {
    blob.0
}

/// The shard counts every test runs on (a count is rounded up to a power of two).
const SHARDS: [usize; 4] = [1, 3, 8, 64];

fn nine_mib_under_sixty_four<P: mapguard::policy::Evicting>(shards: usize) {
    let evicted = Mutex::new(Vec::new());
    let map = ConcurrentMap::<u64, Blob, P>::builder(10_000)
        .shards(shards)
        .weigher(weight)
        .max_weight(64 * MIB)
        .on_removal(|key, blob: Blob, cause| evicted.lock().unwrap().push((key, blob.0, cause)))
        .build();
    // Full to the budget with 1 MiB values spread over every shard.
    for key in 0..64 {
        map.insert(key, Blob(MIB));
    }
    assert_eq!(map.weight(), 64 * MIB);
    assert!(evicted.lock().unwrap().is_empty());
    map.insert(1_000, Blob(9 * MIB));
    assert_eq!(map.get(&1_000), Some(Blob(9 * MIB)), "{shards} shards");
    assert!(map.weight() <= 64 * MIB);
    let left = evicted.lock().unwrap().clone();
    assert_eq!(left.len(), 9, "exactly what makes room leaves");
    assert!(
        left.iter()
            .all(|&(_, w, cause)| w == MIB && cause == RemovalCause::Evicted)
    );
    // Heavier than the whole budget: handed back, nothing evicted for it.
    let refused = map.try_insert(2_000, Blob(65 * MIB)).unwrap_err();
    assert_eq!(refused.max_weight(), Some(64 * MIB));
    assert_eq!(refused.into_inner(), (2_000, Blob(65 * MIB)));
    assert_eq!(evicted.lock().unwrap().len(), 9);
    // `insert` hands it to the listener instead, as evicted.
    map.insert(2_001, Blob(65 * MIB));
    assert_eq!(
        evicted.lock().unwrap().last(),
        Some(&(2_001, 65 * MIB, RemovalCause::Evicted))
    );
    assert!(!map.contains_key(&2_001));
    assert_eq!(map.get(&1_000), Some(Blob(9 * MIB)));
}

#[test]
fn a_value_within_the_whole_budget_is_stored_on_any_shard_count() {
    for shards in SHARDS {
        nine_mib_under_sixty_four::<mapguard::policy::Lru>(shards);
        nine_mib_under_sixty_four::<mapguard::policy::Adaptive>(shards);
    }
}

#[test]
fn a_bounded_map_takes_exactly_max_keys_whatever_its_shards() {
    for shards in SHARDS {
        let map = ConcurrentBoundedMap::<u64, u64>::builder(4096)
            .shards(shards)
            .build();
        let accepted = (0..5_000).filter(|&k| map.try_insert(k, k).is_ok()).count();
        assert_eq!(accepted, 4096, "{shards} shards");
        assert_eq!(map.len(), 4096);
        assert!(map.try_insert(9_999, 0).is_err());
        // Updating a present key still succeeds; a removal makes room for one key.
        assert!(map.try_insert(0, 7).is_ok());
        assert_eq!(map.remove(&1), Some(1));
        assert!(map.try_insert(9_999, 0).is_ok());
        assert!(map.try_insert(10_000, 0).is_err());
        assert_eq!(map.len(), 4096);
    }
}

#[test]
fn a_bounded_map_refuses_what_passes_its_whole_budget_and_takes_what_fits() {
    for shards in SHARDS {
        let map = ConcurrentBoundedMap::<u64, Blob>::builder(1_000)
            .shards(shards)
            .weigher(weight)
            .max_weight(100)
            .build();
        for key in 0..10 {
            map.try_insert(key, Blob(10)).unwrap();
        }
        let refused = map.try_insert(10, Blob(1)).unwrap_err();
        assert_eq!(refused.max_weight(), Some(100), "{shards} shards");
        // A present key's own weight is freed first.
        map.try_insert(3, Blob(5)).unwrap();
        map.try_insert(10, Blob(5)).unwrap();
        assert_eq!(map.weight(), 100);
        assert!(map.try_insert(3, Blob(11)).is_err());
        assert_eq!(map.get(&3), Some(Blob(5)));
    }
}

#[test]
fn an_evicting_map_holds_at_most_max_entries_in_all() {
    for shards in SHARDS {
        let map = ConcurrentMap::<u64, u64, mapguard::policy::Lru>::builder(100)
            .shards(shards)
            .build();
        for key in 0..10_000 {
            map.insert(key, key);
            assert!(map.len() <= 100, "{shards} shards");
        }
        map.set_max(37);
        assert!(map.len() <= 37.max(map.shard_count()));
    }
}

#[derive(Clone, Debug)]
enum Op {
    Insert(u64, u64),
    Remove(u64),
    Get(u64),
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    let op = prop_oneof![
        4 => (0..64u64, 0..40u64).prop_map(|(k, w)| Op::Insert(k, w)),
        1 => (0..64u64).prop_map(Op::Remove),
        1 => (0..64u64).prop_map(Op::Get),
    ];
    proptest::collection::vec(op, 1..120)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(if cfg!(miri) { 4 } else { 48 }))]

    /// Against the whole-map limits, on 1, 3, 8 and 64 shards: an evicting map's weight never
    /// passes its budget and what fits is stored; a bounded map refuses exactly what would pass
    /// its count or its budget, and its contents are a plain map's.
    #[test]
    fn whole_map_limits_hold_against_a_model(ops in ops(), shard_index in 0..4usize) {
        const BUDGET: u64 = 100;
        const MAX: usize = 12;
        let shards = SHARDS[shard_index];
        let lru = ConcurrentMap::<u64, Blob, mapguard::policy::Lru>::builder(1_000)
            .shards(shards)
            .weigher(weight)
            .max_weight(BUDGET)
            .build();
        let bounded = ConcurrentBoundedMap::<u64, Blob>::builder(MAX)
            .shards(shards)
            .weigher(weight)
            .max_weight(BUDGET)
            .build();
        let mut model = std::collections::BTreeMap::new();
        for op in ops {
            match op {
                Op::Insert(key, w) => {
                    lru.insert(key, Blob(w));
                    prop_assert_eq!(lru.get(&key), Some(Blob(w)), "a fitting entry is stored");
                    let freed = model.get(&key).copied().unwrap_or(0);
                    let total: u64 = model.values().sum();
                    let fits = total - freed + w <= BUDGET
                        && (model.contains_key(&key) || model.len() < MAX);
                    prop_assert_eq!(bounded.try_insert(key, Blob(w)).is_ok(), fits);
                    if fits {
                        model.insert(key, w);
                    }
                }
                Op::Remove(key) => {
                    lru.discard(&key);
                    prop_assert_eq!(bounded.remove(&key).map(|b| b.0), model.remove(&key));
                }
                Op::Get(key) => {
                    prop_assert_eq!(bounded.get(&key).map(|b| b.0), model.get(&key).copied());
                }
            }
            prop_assert!(lru.weight() <= BUDGET);
            prop_assert_eq!(bounded.weight(), model.values().sum::<u64>());
            prop_assert_eq!(bounded.len(), model.len());
        }
    }
}

/// Eight writers at once: the weight passes the budget by at most one entry per writer while
/// they write, and not at all once they are done; every value leaves through its hook once.
#[test]
fn eight_writers_keep_the_whole_budget_and_clean_every_value_once() {
    const THREADS: u64 = 8;
    const OPS: u64 = 4_000;
    const BUDGET: u64 = 2_000;
    const HEAVIEST: u64 = 50;
    let tracker = Tracker::new();
    let handed_back = AtomicU64::new(0);
    let map = ConcurrentMap::<u64, Tracked<u64>, mapguard::policy::Adaptive>::builder(10_000)
        .shards(8)
        .weigher(|_: &u64, v: &Tracked<u64>| **v)
        .max_weight(BUDGET)
        .cleanup()
        .build();
    std::thread::scope(|s| {
        for thread in 0..THREADS {
            let (map, tracker, handed_back) = (&map, &tracker, &handed_back);
            s.spawn(move || {
                let mut rng = Rng(0xA076_1D64_78BD_642F ^ (thread + 1));
                for _ in 0..OPS {
                    let key = rng.below(500);
                    if rng.below(5) == 0 {
                        if map.remove(&key).is_some() {
                            handed_back.fetch_add(1, Ordering::Relaxed);
                        }
                    } else {
                        map.insert(key, tracker.track(1 + rng.below(HEAVIEST)));
                    }
                    assert!(map.weight() <= BUDGET + THREADS * HEAVIEST);
                }
            });
        }
    });
    assert!(map.weight() <= BUDGET);
    let left = map.len() as u64;
    drop(map);
    assert_eq!(tracker.cleaned(RemovalCause::Dropped), left);
    assert_eq!(
        tracker.cleaned_total() + handed_back.load(Ordering::Relaxed),
        tracker.created()
    );
    tracker.assert_exactly_once();
}

/// Eight writers on a bounded map: never more than `max` entries, and what was accepted and
/// not removed is what it holds.
#[test]
fn eight_writers_never_put_a_bounded_map_over_its_max() {
    const THREADS: u64 = 8;
    const MAX: usize = 300;
    let accepted = AtomicU64::new(0);
    let removed = AtomicU64::new(0);
    let map = ConcurrentBoundedMap::<u64, u64>::builder(MAX)
        .shards(16)
        .build();
    std::thread::scope(|s| {
        for thread in 0..THREADS {
            let (map, accepted, removed) = (&map, &accepted, &removed);
            s.spawn(move || {
                let mut rng = Rng(0xE703_7ED1_A0B4_28DB ^ (thread + 1));
                for _ in 0..5_000 {
                    // Keys of this thread only: an accepted key is always a new one.
                    let key = thread * 1_000 + rng.below(1_000);
                    if rng.below(3) == 0 {
                        if map.remove(&key).is_some() {
                            removed.fetch_add(1, Ordering::Relaxed);
                        }
                    } else if !map.contains_key(&key) && map.try_insert(key, key).is_ok() {
                        accepted.fetch_add(1, Ordering::Relaxed);
                    }
                    assert!(map.len() <= MAX);
                }
            });
        }
    });
    let held = accepted.load(Ordering::Relaxed) - removed.load(Ordering::Relaxed);
    assert_eq!(map.len() as u64, held);
    assert_eq!(map.len(), MAX, "the writers filled it");
}

#[test]
fn set_max_weight_sheds_an_evicting_map_over_every_shard_and_stops_a_bounded_one() {
    for shards in SHARDS {
        let evicted = Mutex::new(0u64);
        let lru = ConcurrentMap::<u64, Blob, mapguard::policy::Lru>::builder(1_000)
            .shards(shards)
            .weigher(weight)
            .max_weight(1_000)
            .on_removal(|_, blob: Blob, cause| {
                if cause == RemovalCause::Evicted {
                    *evicted.lock().unwrap() += blob.0;
                }
            })
            .build();
        for key in 0..100 {
            lru.insert(key, Blob(10));
        }
        lru.set_max_weight(305);
        assert_eq!(lru.max_weight(), Some(305));
        assert_eq!(lru.weight(), 300, "{shards} shards");
        assert_eq!(*evicted.lock().unwrap(), 700);
        // The new budget holds for later writes too.
        lru.insert(1_000, Blob(100));
        assert!(lru.weight() <= 305);

        let bounded = ConcurrentBoundedMap::<u64, Blob>::builder(1_000)
            .shards(shards)
            .weigher(weight)
            .max_weight(1_000)
            .build();
        for key in 0..100 {
            bounded.try_insert(key, Blob(10)).unwrap();
        }
        bounded.set_max_weight(500);
        assert_eq!(bounded.len(), 100, "a bounded map lets nothing go");
        assert!(bounded.try_insert(100, Blob(1)).is_err());
        (0..51).for_each(|key| drop(bounded.remove(&key)));
        assert!(bounded.try_insert(100, Blob(10)).is_ok());
    }
}

#[test]
fn a_single_owner_map_sets_its_budget_at_run_time() {
    let mut map = mapguard::LruMap::<u64, Blob>::builder(100)
        .weigher(weight)
        .max_weight(100)
        .build();
    (0..10).for_each(|key| map.insert(key, Blob(10)));
    map.set_max_weight(35);
    assert_eq!((map.len(), map.weight()), (3, 30));
    assert_eq!(map.keys().copied().collect::<Vec<_>>(), [9, 8, 7]);
}

#[test]
#[should_panic(expected = "`max_weight` must be at least 1")]
fn a_zero_budget_is_refused_at_run_time() {
    let map = ConcurrentMap::<u64, Blob, mapguard::policy::Lru>::builder(10)
        .weigher(weight)
        .max_weight(10)
        .build();
    map.set_max_weight(0);
}

#[test]
fn a_concurrent_weak_keyed_maps_budget_is_the_whole_maps() {
    use std::sync::Arc;
    let keys: Vec<Arc<u64>> = (0..64).map(Arc::new).collect();
    let map = mapguard::ConcurrentWeakKeyMap::<std::sync::Weak<u64>, Blob>::lru_builder(1_000)
        .shards(8)
        .weigher(|_: &std::sync::Weak<u64>, blob: &Blob| blob.0)
        .max_weight(64 * MIB)
        .build();
    for key in &keys {
        map.insert(Arc::clone(key), Blob(MIB));
    }
    assert_eq!(map.weight(), 64 * MIB);
    let big = Arc::new(1_000);
    map.insert(Arc::clone(&big), Blob(9 * MIB));
    assert_eq!(
        map.get(&1_000),
        Some(Blob(9 * MIB)),
        "stored across shards' shares"
    );
    assert!(map.weight() <= 64 * MIB);
}

#[test]
fn weak_keyed_maps_set_their_budget_at_run_time() {
    use std::sync::Arc;
    let evicted = Mutex::new(0u64);
    let keys: Vec<Arc<u64>> = (0..20).map(Arc::new).collect();
    let map = mapguard::ConcurrentWeakKeyMap::<std::sync::Weak<u64>, Blob>::lru_builder(100)
        .shards(4)
        .weigher(|_: &std::sync::Weak<u64>, blob: &Blob| blob.0)
        .max_weight(200)
        .on_removal(|_, blob: Blob, cause| {
            if cause == RemovalCause::Evicted {
                *evicted.lock().unwrap() += blob.0;
            }
        })
        .build();
    for key in &keys {
        map.insert(Arc::clone(key), Blob(10));
    }
    map.set_max_weight(55);
    assert_eq!((map.weight(), map.max_weight()), (50, Some(55)));
    assert_eq!(*evicted.lock().unwrap(), 150);
}
