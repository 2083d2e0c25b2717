//! A panicking hook must not corrupt the map or clean a value twice.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;

use mapguard::testing::{Tracked, Tracker};
use mapguard::{LruMap, RemovalCause};

/// Builds an LRU map whose listener panics when it receives value id `panic_on`.
fn map_panicking_on(
    panic_on: &Rc<Cell<Option<u64>>>,
    max: usize,
) -> LruMap<
    u32,
    Tracked<u32>,
    mapguard::DefaultHashBuilder,
    impl mapguard::RemovalListener<u32, Tracked<u32>>,
> {
    let trigger = Rc::clone(panic_on);
    LruMap::builder(max)
        .cleanup()
        .on_removal(move |_k, v: Tracked<u32>, cause| {
            assert_ne!(
                trigger.get(),
                Some(v.id()),
                "hook panics on purpose ({cause})"
            );
        })
        .build()
}

fn quiet<R>(f: impl FnOnce() -> R) -> std::thread::Result<R> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = catch_unwind(AssertUnwindSafe(f));
    std::panic::set_hook(hook);
    result
}

#[test]
fn panic_while_replacing_leaves_the_new_value_stored() {
    let tracker = Tracker::new();
    let trigger = Rc::new(Cell::new(None));
    let mut map = map_panicking_on(&trigger, 4);
    let old = tracker.track(1);
    trigger.set(Some(old.id()));
    map.insert(1, old);
    assert!(quiet(|| map.insert(1, tracker.track(2))).is_err());
    assert_eq!(map.peek(&1).map(|v| **v), Some(2));
    assert_eq!(tracker.cleanups_of(0), [RemovalCause::Replaced]);
    assert!(
        tracker.is_dropped(0),
        "the value whose hook panicked is dropped"
    );
    trigger.set(None);
    drop(map);
    tracker.assert_exactly_once();
    assert_eq!(tracker.cleaned(RemovalCause::Dropped), 1);
}

#[test]
fn panic_during_clear_keeps_the_entries_not_yet_reached() {
    let tracker = Tracker::new();
    let trigger = Rc::new(Cell::new(None));
    let mut map = map_panicking_on(&trigger, 8);
    for k in 0..6 {
        map.insert(k, tracker.track(k));
    }
    // `clear` works from the last slab slot backwards; slot 3 holds value 3.
    trigger.set(Some(3));
    assert!(quiet(|| map.clear()).is_err());
    assert_eq!(map.len(), 3, "values 0..3 were not reached and stay");
    assert_eq!(tracker.cleaned(RemovalCause::Cleared), 3);
    let mut left: Vec<u32> = map.keys().copied().collect();
    left.sort_unstable();
    assert_eq!(left, [0, 1, 2]);
    // The map still works, and what is left is cleaned once, later.
    map.insert(9, tracker.track(9));
    trigger.set(None);
    drop(map);
    assert_eq!(tracker.cleaned(RemovalCause::Dropped), 4);
    tracker.assert_exactly_once();
}

#[test]
fn panic_during_retain_hook_leaves_a_consistent_map() {
    let tracker = Tracker::new();
    let trigger = Rc::new(Cell::new(None));
    let mut map = map_panicking_on(&trigger, 16);
    for k in 0..10 {
        map.insert(k, tracker.track(k));
    }
    trigger.set(Some(4));
    assert!(quiet(|| map.retain(|k, _| k % 2 == 1)).is_err());
    // Every remaining key is findable and iteration agrees with len.
    let keys: Vec<u32> = map.keys().copied().collect();
    assert_eq!(keys.len(), map.len());
    for k in &keys {
        assert!(map.contains_key(k));
    }
    trigger.set(None);
    map.retain(|k, _| k % 2 == 1);
    assert_eq!(map.len(), 5);
    drop(map);
    tracker.assert_exactly_once();
    for id in (0..10).step_by(2) {
        assert_eq!(tracker.cleanups_of(id), [RemovalCause::Explicit]);
    }
}

#[test]
fn panic_while_dropping_the_map_drops_the_rest_without_hooks() {
    let tracker = Tracker::new();
    let trigger = Rc::new(Cell::new(None));
    let mut map = map_panicking_on(&trigger, 8);
    for k in 0..5 {
        map.insert(k, tracker.track(k));
    }
    trigger.set(Some(0));
    assert!(quiet(move || drop(map)).is_err());
    // No value cleaned twice, none leaked. Dropping goes in slab order: value 0 was cleaned
    // and its listener panicked; values 1..5 were dropped without hooks (documented).
    tracker.assert_exactly_once();
    assert_eq!(tracker.cleanups_of(0), [RemovalCause::Dropped]);
    for id in 1..5 {
        assert!(
            tracker.cleanups_of(id).is_empty(),
            "value {id} got a hook after the panic"
        );
    }
    assert_eq!(tracker.cleaned_total(), 1);
    assert_eq!(tracker.dropped(), 5);
}

#[test]
fn panic_in_the_user_predicate_of_retain_is_harmless() {
    let tracker = Tracker::new();
    let mut map = LruMap::builder(8).cleanup().build();
    for k in 0..6_u32 {
        map.insert(k, tracker.track(k));
    }
    assert!(
        quiet(|| map.retain(|k, _| {
            assert!(*k != 3, "predicate panics");
            *k % 2 == 0
        }))
        .is_err()
    );
    assert_eq!(map.keys().count(), map.len());
    drop(map);
    tracker.assert_exactly_once();
}
