//! `compute` and `remove_if`: one lookup decides what becomes of a key, with the causes the
//! decision implies, on single-owner and concurrent maps and from many threads at once.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use mapguard::testing::{Tracked, Tracker};
use mapguard::{Compute, ConcurrentLruMap, LruMap, RemovalCause};
use mapguard_tests::Rng;
use proptest::prelude::*;

#[test]
fn each_decision_leaves_with_its_cause_once() {
    let tracker = Tracker::new();
    let mut map = LruMap::<u8, Tracked<u8>>::builder(10).cleanup().build();
    let put = |value| {
        let tracker = &tracker;
        move |_: Option<&Tracked<u8>>| Compute::Put(tracker.track(value))
    };
    assert_eq!(
        map.compute(1, put(1)).map(|v| **v),
        Some(1),
        "an absent key is put"
    );
    assert_eq!(map.compute(1, put(2)).map(|v| **v), Some(2));
    assert_eq!(tracker.cleaned(RemovalCause::Replaced), 1);
    assert_eq!(map.compute(1, |_| Compute::Keep).map(|v| **v), Some(2));
    assert!(
        map.compute(9, |_| Compute::Keep).is_none(),
        "keeping an absent key stores nothing"
    );
    assert!(map.compute(1, |_| Compute::Discard).is_none());
    assert_eq!(tracker.cleaned(RemovalCause::Explicit), 1);
    assert!(map.is_empty());
    map.insert(3, tracker.track(3));
    let taken = map.remove_if(&3, |v| **v == 3).expect("handed back");
    assert_eq!(*taken, 3);
    assert_eq!(
        tracker.cleaned_total(),
        2,
        "a value handed back runs no hook"
    );
    drop((map, taken));
    tracker.assert_exactly_once();
}

#[test]
fn a_put_that_makes_room_evicts_as_insert_does() {
    let left = std::sync::Mutex::new(Vec::new());
    let map = ConcurrentLruMap::<u8, u8>::builder(2)
        .shards(1)
        .on_removal(|key, _, cause| left.lock().unwrap().push((key, cause)))
        .build();
    map.insert(1, 1);
    map.insert(2, 2);
    assert_eq!(map.compute(3, |_| Compute::Put(3)), Some(3));
    assert_eq!(
        *left.lock().unwrap(),
        [(1, RemovalCause::Evicted)],
        "the least recent left"
    );
}

#[derive(Clone, Debug)]
enum Op {
    Put(u8, u32),
    Keep(u8),
    Discard(u8),
    /// Put the value plus one if present, else discard: a decision on what is there.
    Bump(u8),
    RemoveIfEven(u8),
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    let key = 0..12u8;
    let op = prop_oneof![
        (key.clone(), any::<u32>()).prop_map(|(k, v)| Op::Put(k, v)),
        key.clone().prop_map(Op::Keep),
        key.clone().prop_map(Op::Discard),
        key.clone().prop_map(Op::Bump),
        key.prop_map(Op::RemoveIfEven),
    ];
    proptest::collection::vec(op, 1..100)
}

/// What the op does to the model, and what `compute` should return.
fn decide(op: &Op, current: Option<&u32>) -> Compute<u32> {
    match *op {
        Op::Put(_, value) => Compute::Put(value),
        Op::Keep(_) => Compute::Keep,
        Op::Discard(_) => Compute::Discard,
        Op::Bump(_) => current.map_or(Compute::Discard, |v| Compute::Put(v.wrapping_add(1))),
        Op::RemoveIfEven(_) => unreachable!("not a compute"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(if cfg!(miri) { 4 } else { 64 }))]

    /// Against a `BTreeMap`, for a single-owner and a concurrent map: what `compute` returns,
    /// what `remove_if` hands back, the contents, and how many values left as replaced or
    /// discarded.
    #[test]
    fn compute_and_remove_if_match_a_model(ops in ops()) {
        let replaced = AtomicU64::new(0);
        let discarded = AtomicU64::new(0);
        let count = |cause| match cause {
            RemovalCause::Replaced => drop(replaced.fetch_add(1, Ordering::Relaxed)),
            RemovalCause::Explicit => drop(discarded.fetch_add(1, Ordering::Relaxed)),
            _ => {}
        };
        let mut single = LruMap::builder(100).on_removal(|_: u8, _: u32, cause| count(cause)).build();
        let shared = ConcurrentLruMap::builder(100)
            .shards(4)
            .on_removal(|_: u8, _: u32, cause| count(cause))
            .build();
        let mut model = BTreeMap::new();
        let (mut want_replaced, mut want_discarded) = (0, 0);
        for op in ops {
            if let Op::RemoveIfEven(key) = op {
                let want = model.get(&key).copied().filter(|v| v % 2 == 0);
                if want.is_some() {
                    model.remove(&key);
                }
                prop_assert_eq!(single.remove_if(&key, |v| v % 2 == 0), want);
                prop_assert_eq!(shared.remove_if(&key, |v| v % 2 == 0), want);
                continue;
            }
            let key = match op {
                Op::Put(k, _) | Op::Keep(k) | Op::Discard(k) | Op::Bump(k) => k,
                Op::RemoveIfEven(_) => unreachable!(),
            };
            let present = model.contains_key(&key);
            let want = match decide(&op, model.get(&key)) {
                Compute::Keep => model.get(&key).copied(),
                Compute::Put(value) => {
                    want_replaced += u64::from(present);
                    model.insert(key, value);
                    Some(value)
                }
                Compute::Discard => {
                    want_discarded += u64::from(present);
                    model.remove(&key);
                    None
                }
            };
            prop_assert_eq!(single.compute(key, |now| decide(&op, now)).copied(), want);
            prop_assert_eq!(shared.compute(key, |now| decide(&op, now)), want);
        }
        let mut contents: Vec<_> = single.iter().map(|(k, v)| (*k, *v)).collect();
        contents.sort_unstable();
        prop_assert_eq!(&contents, &model.iter().map(|(k, v)| (*k, *v)).collect::<Vec<_>>());
        prop_assert_eq!(shared.len(), model.len());
        drop((single, shared));
        prop_assert_eq!(replaced.load(Ordering::Relaxed), 2 * want_replaced);
        prop_assert_eq!(discarded.load(Ordering::Relaxed), 2 * want_discarded);
    }
}

/// Eight threads increment shared counters through `compute` and take some with `remove_if`:
/// no increment is lost, and every value replaced leaves through the hooks once.
#[test]
fn eight_threads_compute_without_losing_an_update() {
    const THREADS: u64 = 8;
    const ROUNDS: u64 = 2_000;
    let replaced = AtomicU64::new(0);
    let taken = AtomicU64::new(0);
    let map = mapguard::ConcurrentAdaptiveMap::<u64, u64>::builder(1_000)
        .shards(4)
        .on_removal(|_, _, cause| {
            if cause == RemovalCause::Replaced {
                replaced.fetch_add(1, Ordering::Relaxed);
            } else {
                assert_eq!(cause, RemovalCause::Dropped, "only replaced while they run");
            }
        })
        .build();
    std::thread::scope(|s| {
        for thread in 0..THREADS {
            let (map, taken) = (&map, &taken);
            s.spawn(move || {
                let mut rng = Rng(0x2545_F491_4F6C_DD1D ^ (thread + 1));
                for _ in 0..ROUNDS {
                    let key = rng.below(16);
                    map.compute(key, |now| Compute::Put(now.map_or(1, |count| count + 1)));
                    // A counter of its own each thread takes back at 10, under the same lock
                    // as the check: taken exactly once per ten increments.
                    let own = 100 + thread;
                    map.compute(own, |now| Compute::Put(now.map_or(1, |count| count + 1)));
                    if map.remove_if(&own, |count| *count == 10).is_some() {
                        taken.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    let total: u64 = (0..16).filter_map(|key| map.get(&key)).sum();
    assert_eq!(total, THREADS * ROUNDS);
    assert_eq!(taken.load(Ordering::Relaxed), THREADS * (ROUNDS / 10));
    let puts_over_present = THREADS * ROUNDS - 16 + THREADS * (ROUNDS - ROUNDS / 10);
    assert_eq!(replaced.load(Ordering::Relaxed), puts_over_present);
}

#[test]
fn weak_keyed_maps_compute_and_remove_if_with_the_same_causes() {
    use std::rc::Rc;
    let left = std::cell::RefCell::new(Vec::new());
    let mut map = mapguard::WeakKeyMap::<std::rc::Weak<u8>, u32>::lru_builder(8)
        .on_removal(|_, value: u32, cause| left.borrow_mut().push((value, cause)))
        .build();
    let key = Rc::new(1);
    assert_eq!(
        map.compute(Rc::clone(&key), |_| Compute::Put(1)).copied(),
        Some(1)
    );
    assert_eq!(
        map.compute(Rc::clone(&key), |now| Compute::Put(now.unwrap() + 1))
            .copied(),
        Some(2)
    );
    assert_eq!(
        map.compute(Rc::clone(&key), |_| Compute::Keep).copied(),
        Some(2)
    );
    assert_eq!(map.remove_if(&1, |v| *v == 3), None);
    assert!(map.compute(Rc::clone(&key), |_| Compute::Discard).is_none());
    drop(map);
    assert_eq!(
        *left.borrow(),
        [(1, RemovalCause::Replaced), (2, RemovalCause::Explicit)]
    );
}

#[test]
fn eight_threads_compute_on_a_concurrent_weak_keyed_map() {
    use std::sync::Arc;
    let keys: Vec<Arc<u64>> = (0..4).map(Arc::new).collect();
    let map = mapguard::ConcurrentWeakKeyMap::<std::sync::Weak<u64>, u64>::lru_builder(16)
        .shards(2)
        .build();
    std::thread::scope(|s| {
        for thread in 0..8usize {
            let (map, keys) = (&map, &keys);
            s.spawn(move || {
                for round in 0..500 {
                    let key = Arc::clone(&keys[(thread + round) % 4]);
                    map.compute(key, |now| Compute::Put(now.map_or(1, |n| n + 1)));
                }
            });
        }
    });
    let total: u64 = (0..4).filter_map(|k| map.get(&k)).sum();
    assert_eq!(total, 8 * 500);
    assert_eq!(map.remove_if(&0, |_| true).map(|_| ()), Some(()));
}

#[test]
fn a_bounded_maps_compute_refuses_a_new_key_when_full_and_changes_nothing() {
    let left = std::sync::Mutex::new(Vec::new());
    let map = mapguard::ConcurrentBoundedMap::<u8, u32>::builder(2)
        .shards(2)
        .on_removal(|key, _, cause| left.lock().unwrap().push((key, cause)))
        .build();
    assert_eq!(map.compute(1, |_| Compute::Put(10)), Ok(Some(10)));
    assert_eq!(map.compute(2, |_| Compute::Put(20)), Ok(Some(20)));
    let refused = map.compute(3, |_| Compute::Put(30)).unwrap_err();
    assert_eq!(refused.into_inner(), (3, 30));
    assert_eq!(map.len(), 2);
    // Present keys still change, and a discard makes room.
    assert_eq!(
        map.compute(1, |v| Compute::Put(v.unwrap() + 1)),
        Ok(Some(11))
    );
    assert_eq!(map.compute(2, |_| Compute::Discard), Ok(None));
    assert_eq!(map.compute(3, |_| Compute::Put(30)), Ok(Some(30)));
    assert_eq!(
        *left.lock().unwrap(),
        [(1, RemovalCause::Replaced), (2, RemovalCause::Explicit)]
    );

    let mut single = mapguard::BoundedMap::<u8, u32>::new(1);
    assert_eq!(
        single.compute(1, |_| Compute::Put(1)).unwrap().copied(),
        Some(1)
    );
    assert!(single.compute(2, |_| Compute::Put(2)).is_err());
    assert_eq!(
        single.compute(1, |_| Compute::Keep).unwrap().copied(),
        Some(1)
    );
}
