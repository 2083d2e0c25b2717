//! Weight budgets on every map kind, and what the registry shows of them.

use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mapguard::registry::{self, LeakDetector, Suspicion};
use mapguard::testing::{MockClock, Tracker};
use mapguard::weight::{Weigh, by_value};
use mapguard::{
    BoundedMap, ConcurrentBoundedMap, ConcurrentLruMap, ConcurrentWeakKeyMap, LruMap, RemovalCause,
    WeakKeyMap,
};

const MINUTE: Duration = Duration::from_secs(60);

fn bytes(n: usize) -> Vec<u8> {
    vec![0; n]
}

#[test]
fn a_count_bound_and_a_weight_bound_both_apply() {
    let tracker = Tracker::new();
    let mut map = LruMap::builder(3)
        .weigher(|_: &u32, v: &mapguard::testing::Tracked<Vec<u8>>| v.len() as u64)
        .max_weight(1_000)
        .cleanup()
        .build();
    for key in 0..5 {
        map.insert(key, tracker.track(bytes(10)));
    }
    assert_eq!(map.len(), 3, "the count bound");
    assert_eq!(tracker.cleaned(RemovalCause::Evicted), 2);
    map.insert(9, tracker.track(bytes(990)));
    // The count frees one slot (key 2); 20 + 990 is still over 1,000, so key 3 goes too.
    assert_eq!(map.weight(), 1_000);
    assert_eq!(map.keys().copied().collect::<Vec<_>>(), [9, 4]);
    assert_eq!(tracker.cleaned(RemovalCause::Evicted), 4);
    drop(map);
    tracker.assert_exactly_once();
}

#[test]
fn a_bounded_map_hands_back_what_would_pass_its_budget() {
    let mut map = BoundedMap::builder(10)
        .weigher(by_value::<&str, String>)
        .max_weight(64)
        .build();
    map.try_insert("a", String::with_capacity(40)).unwrap();
    let rejected = map.try_insert("b", String::with_capacity(40)).unwrap_err();
    assert_eq!(rejected.key(), &"b");
    assert_eq!(rejected.value().capacity(), 40);
    // Replacing frees the old weight first.
    map.try_insert("a", String::with_capacity(60)).unwrap();
    assert_eq!(map.weight(), 60);
    assert!(map.try_insert("a", String::with_capacity(65)).is_err());
    assert_eq!(map.weight(), 60, "a refused update changes nothing");
}

#[test]
fn the_value_weigh_impl_counts_owned_heap_bytes() {
    struct Page {
        body: Vec<u8>,
        title: String,
    }
    impl Weigh for Page {
        fn weight(&self) -> u64 {
            self.body.weight() + self.title.weight()
        }
    }
    let mut pages = LruMap::builder(100)
        .weigher(by_value::<u32, Page>)
        .max_weight(1 << 10)
        .build();
    pages.insert(
        1,
        Page {
            body: bytes(600),
            title: String::from("one"),
        },
    );
    pages.insert(
        2,
        Page {
            body: bytes(600),
            title: String::from("two"),
        },
    );
    assert_eq!(pages.len(), 1);
    assert_eq!(pages.weight(), 603);
}

#[test]
fn a_concurrent_map_keeps_its_whole_budget_across_its_shards() {
    let evicted = Mutex::new(0);
    let map = ConcurrentLruMap::builder(1_000)
        .shards(4)
        .weigher(|_: &u64, v: &Vec<u8>| v.len() as u64)
        .max_weight(4_000)
        .on_removal(|_, _, cause| {
            if cause == RemovalCause::Evicted {
                *evicted.lock().unwrap() += 1;
            }
        })
        .build();
    std::thread::scope(|s| {
        for t in 0..4u64 {
            let map = &map;
            s.spawn(move || {
                for i in 0..500 {
                    map.insert(t * 1_000 + i, bytes(10));
                    // While others write, by at most one entry per writer (documented).
                    assert!(map.weight() <= 4_000 + 4 * 10);
                }
            });
        }
    });
    assert_eq!(
        map.weight(),
        4_000,
        "full to the whole budget once the writers are done"
    );
    assert_eq!(map.max_weight(), Some(4_000));
    assert_eq!(*evicted.lock().unwrap(), 2_000 - map.len());
    // Heavier than any one shard's share would be (1,000), within the whole budget: stored,
    // evicting from the other shards what its own could not free.
    map.insert(99_999, bytes(3_500));
    assert_eq!(map.get(&99_999).map(|v| v.len()), Some(3_500));
    assert!(map.weight() <= 4_000);
    let evicted_now = *evicted.lock().unwrap();
    assert_eq!(evicted_now, 2_000 + 1 - map.len());
    // Heavier than the whole budget: never stored, and the listener sees it leave.
    map.insert(100_000, bytes(4_001));
    assert!(!map.contains_key(&100_000));
    assert_eq!(*evicted.lock().unwrap(), evicted_now + 1);
    let bounded = ConcurrentBoundedMap::builder(10)
        .shards(1)
        .weigher(|_: &u8, v: &Vec<u8>| v.len() as u64)
        .max_weight(100)
        .build();
    assert!(bounded.try_insert(1, bytes(80)).is_ok());
    assert!(bounded.try_insert(2, bytes(30)).is_err());
    assert_eq!(bounded.update(&1, |v| v.truncate(10)), Some(()));
    assert_eq!(bounded.weight(), 10, "update re-weighs");
    assert!(bounded.try_insert(2, bytes(30)).is_ok());
}

#[test]
fn weak_keyed_maps_weigh_with_the_weak_key_in_view() {
    let seen = Rc::new(std::cell::RefCell::new(Vec::new()));
    let log = Rc::clone(&seen);
    let mut map = WeakKeyMap::<std::rc::Weak<u32>, Vec<u8>>::lru_builder(100)
        .weigher(|_key, value| value.len() as u64)
        .max_weight(100)
        .on_removal(move |_key, value: Vec<u8>, cause| log.borrow_mut().push((value.len(), cause)))
        .build();
    let keys: Vec<Rc<u32>> = (0..4).map(Rc::new).collect();
    for key in &keys {
        map.insert(Rc::clone(key), bytes(40));
    }
    assert_eq!((map.len(), map.weight()), (2, 80));
    map.insert(Rc::clone(&keys[0]), bytes(500)); // too heavy: never stored
    assert_eq!(map.len(), 2);
    assert_eq!(
        *seen.borrow(),
        [
            (40, RemovalCause::Evicted),
            (40, RemovalCause::Evicted),
            (500, RemovalCause::Evicted)
        ]
    );

    let shared = ConcurrentWeakKeyMap::<std::sync::Weak<u32>, Vec<u8>>::builder()
        .shards(1)
        .weigher(|_key, value| value.len() as u64)
        .max_weight(100)
        .build();
    let owners: Vec<Arc<u32>> = (0..5).map(Arc::new).collect();
    for owner in &owners {
        shared.insert(Arc::clone(owner), bytes(30));
    }
    assert!(shared.weight() <= 100);
    assert_eq!(shared.len(), 3);
}

#[test]
fn the_registry_reports_weight_and_flags_a_map_thrashing_on_it() {
    let clock = MockClock::new();
    let detector = LeakDetector::with_clock(clock.clone());
    let mut map = LruMap::builder(1_000_000)
        .name("Weight.thrash")
        .weigher(|_: &u64, v: &Vec<u8>| v.len() as u64)
        .max_weight(1_000)
        .build();
    let mut next = 0;
    for _ in 0..10 {
        for _ in 0..50 {
            map.insert(next, bytes(100)); // keys never repeat; 10 fit
            next += 1;
        }
        let _ = registry::snapshot();
        clock.advance(MINUTE);
    }
    let report = registry::snapshot()
        .into_iter()
        .find(|m| m.name == "Weight.thrash")
        .expect("registered");
    assert_eq!(
        (report.weight, report.max_weight, report.len),
        (1_000, 1_000, 10)
    );
    let suspicion = detector
        .suspects()
        .into_iter()
        .find(|s| s.map.name == "Weight.thrash")
        .map(|s| s.suspicion);
    // Window: the last 5 minutes; its start sample is at minute 5, four batches ago.
    assert_eq!(suspicion, Some(Suspicion::Thrashing { evictions: 200 }));
    let text = registry::render_prometheus();
    assert!(
        text.lines()
            .any(|line| line.starts_with("mapguard_map_weight_bytes{")
                && line.contains("Weight.thrash")
                && line.ends_with(" 1000")),
        "{text}"
    );
    assert!(
        registry::report()
            .lines()
            .any(|line| line.contains("Weight.thrash") && line.contains("1000 B/1000 B"))
    );
}

#[test]
fn a_bounded_maps_vacant_entry_honours_the_weight_budget() {
    let mut map = BoundedMap::builder(8)
        .weigher(|_: &u32, v: &Vec<u8>| v.len() as u64)
        .max_weight(10)
        .build();
    map.try_insert(1, bytes(6)).unwrap();
    let mapguard::map::Entry::Vacant(slot) = map.entry(2) else {
        panic!("2 is absent");
    };
    let refused = slot.try_insert(bytes(5)).unwrap_err();
    assert_eq!(
        refused.into_inner(),
        (2, bytes(5)),
        "6 + 5 is over 10: handed back"
    );
    let mapguard::map::Entry::Vacant(slot) = map.entry(2) else {
        panic!("2 is still absent");
    };
    slot.try_insert(bytes(4)).unwrap();
    assert_eq!(map.weight(), 10, "the entry's insert is weighed");
}

#[test]
fn an_entry_heavier_than_the_budget_is_refused_by_insert_and_kept_by_the_entry_api() {
    let tracker = Tracker::new();
    let mut map = LruMap::builder(8)
        .weigher(|_: &u32, v: &mapguard::testing::Tracked<Vec<u8>>| v.len() as u64)
        .max_weight(10)
        .cleanup()
        .build();
    map.insert(1, tracker.track(bytes(4)));
    let heavy = tracker.track(bytes(11));
    let heavy_id = heavy.id();
    map.insert(2, heavy);
    assert_eq!(
        tracker.cleanups_of(heavy_id),
        [RemovalCause::Evicted],
        "refused at once"
    );
    assert!(!map.contains_key(&2) && map.contains_key(&1));
    // An entry API must hand a reference back: it keeps the entry, alone.
    assert_eq!(
        map.entry(3)
            .or_insert_with(|| tracker.track(bytes(11)))
            .len(),
        11
    );
    assert_eq!(map.keys().copied().collect::<Vec<_>>(), [3]);
    assert_eq!(
        tracker.cleaned(RemovalCause::Evicted),
        2,
        "1 made room for it"
    );
    drop(map);
    tracker.assert_exactly_once();
}
