//! One test per removal path: the value leaves exactly once, with the documented cause, or is
//! handed back with no hook at all.

use mapguard::testing::{Tracked, Tracker};
use mapguard::{BoundedMap, LruMap, RemovalCause};

type TrackedLru =
    LruMap<u32, Tracked<u32>, mapguard::DefaultHashBuilder, mapguard::hooks::WithCleanup>;

fn lru(max: usize) -> TrackedLru {
    LruMap::builder(max).cleanup().build()
}

#[test]
fn insert_over_a_key_cleans_the_old_value_as_replaced() {
    let tracker = Tracker::new();
    let mut map = lru(4);
    let old = tracker.track(1);
    let old_id = old.id();
    map.insert(1, old);
    map.insert(1, tracker.track(2));
    assert_eq!(tracker.cleanups_of(old_id), [RemovalCause::Replaced]);
    assert!(tracker.is_dropped(old_id));
    assert_eq!(map.peek(&1).map(|v| **v), Some(2));
    assert_eq!(tracker.cleaned_total(), 1);
}

#[test]
fn a_full_lru_map_evicts_the_least_recently_used() {
    let tracker = Tracker::new();
    let mut map = lru(2);
    let ids: Vec<u64> = (0..3)
        .map(|k| {
            let value = tracker.track(k);
            let id = value.id();
            map.insert(k, value);
            if k == 1 {
                map.get(&0); // 0 becomes more recent than 1
            }
            id
        })
        .collect();
    assert_eq!(tracker.cleanups_of(ids[1]), [RemovalCause::Evicted]);
    assert!(tracker.cleanups_of(ids[0]).is_empty());
    assert_eq!(tracker.cleaned(RemovalCause::Evicted), 1);
    assert_eq!(map.len(), 2);
}

#[test]
fn lowering_max_evicts_from_the_back() {
    let tracker = Tracker::new();
    let mut map = lru(5);
    for k in 0..5 {
        map.insert(k, tracker.track(k));
    }
    map.set_max(2);
    assert_eq!(tracker.cleaned(RemovalCause::Evicted), 3);
    assert_eq!(map.keys().copied().collect::<Vec<_>>(), [4, 3]);
    for id in 0..3 {
        assert_eq!(tracker.cleanups_of(id), [RemovalCause::Evicted]);
    }
}

#[test]
fn discard_and_retain_clean_as_explicit_remove_hands_back() {
    let tracker = Tracker::new();
    let mut map = lru(8);
    for k in 0..6 {
        map.insert(k, tracker.track(k));
    }
    assert!(map.discard(&0));
    map.retain(|k, _| *k != 1);
    let handed = map.remove(&2).unwrap();
    assert!(tracker.cleanups_of(handed.id()).is_empty());
    assert_eq!(tracker.cleanups_of(0), [RemovalCause::Explicit]);
    assert_eq!(tracker.cleanups_of(1), [RemovalCause::Explicit]);
    assert_eq!(tracker.cleaned_total(), 2);
    drop(handed);
    assert!(tracker.is_dropped(2));
}

#[test]
fn clear_cleans_as_cleared_and_drop_as_dropped() {
    let tracker = Tracker::new();
    let mut map = lru(8);
    for k in 0..3 {
        map.insert(k, tracker.track(k));
    }
    map.clear();
    assert_eq!(tracker.cleaned(RemovalCause::Cleared), 3);
    for k in 0..2 {
        map.insert(k, tracker.track(k));
    }
    drop(map);
    assert_eq!(tracker.cleaned(RemovalCause::Dropped), 2);
    tracker.assert_exactly_once();
}

#[test]
fn a_full_bounded_map_rejects_and_hands_back_but_updates() {
    let tracker = Tracker::new();
    let mut map = BoundedMap::builder(2).cleanup().build();
    map.try_insert(1, tracker.track(1)).unwrap();
    map.try_insert(2, tracker.track(2)).unwrap();
    let rejected = map.try_insert(3, tracker.track(3)).unwrap_err();
    let (key, value) = rejected.into_inner();
    assert_eq!((key, *value), (3, 3));
    assert!(
        tracker.cleanups_of(value.id()).is_empty(),
        "rejected values are not cleaned"
    );
    map.try_insert(1, tracker.track(10)).unwrap();
    assert_eq!(tracker.cleanups_of(0), [RemovalCause::Replaced]);
    assert_eq!(map.len(), 2);
    drop(value);
    drop(map);
    assert_eq!(tracker.cleaned(RemovalCause::Dropped), 2);
    tracker.assert_exactly_once();
}

#[test]
fn unconsumed_drain_and_into_iter_items_go_through_cleanup() {
    let tracker = Tracker::new();
    let mut map = lru(8);
    for k in 0..4 {
        map.insert(k, tracker.track(k));
    }
    let first = map.drain().next().unwrap();
    assert!(tracker.cleanups_of(first.1.id()).is_empty());
    assert_eq!(tracker.cleaned(RemovalCause::Cleared), 3);

    for k in 0..4 {
        map.insert(k, tracker.track(k));
    }
    let mut iter = map.into_iter();
    let taken = iter.next().unwrap();
    drop(iter);
    assert!(tracker.cleanups_of(taken.1.id()).is_empty());
    assert_eq!(tracker.cleaned(RemovalCause::Dropped), 3);
    drop((first, taken));
    tracker.assert_exactly_once();
}

#[test]
fn value_cleanup_runs_before_the_listener() {
    let tracker = Tracker::new();
    let watcher = tracker.clone();
    let mut order = Vec::new();
    let mut map = LruMap::builder(1)
        .on_removal(|_k: u32, v: Tracked<u32>, cause| {
            order.push((watcher.cleanups_of(v.id()), cause));
        })
        .cleanup()
        .build();
    map.insert(1, tracker.track(1));
    map.insert(2, tracker.track(2));
    drop(map);
    assert_eq!(
        order,
        [
            (vec![RemovalCause::Evicted], RemovalCause::Evicted),
            (vec![RemovalCause::Dropped], RemovalCause::Dropped)
        ]
    );
}

#[cfg(unix)]
#[test]
#[cfg_attr(miri, ignore = "Miri cannot spawn processes")]
fn cleaning_a_child_process_kills_and_reaps_it() {
    use mapguard::Cleanup;
    let mut child = std::process::Command::new("sleep")
        .arg("60")
        .spawn()
        .expect("spawn sleep");
    child.cleanup(RemovalCause::Evicted);
    let status = child.try_wait().expect("try_wait");
    assert!(status.is_some(), "the process was killed and reaped");
}

/// The maps are `Send`/`Sync` exactly when their parts are (no hidden `Rc` or `Cell`).
#[test]
fn maps_are_send_and_sync_when_their_parts_are() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<LruMap<String, Vec<u8>>>();
    send_sync::<BoundedMap<u64, String>>();
    send_sync::<mapguard::WeakKeyMap<std::sync::Weak<str>, u64>>();
    send_sync::<
        LruMap<
            u64,
            u64,
            mapguard::DefaultHashBuilder,
            mapguard::hooks::NoListener,
            mapguard::expiry::Expiring,
        >,
    >();
}
