//! `WeakKeyMap` with `Arc` keys, expiry, the reject policy and scopes.

use std::rc::{Rc, Weak as RcWeak};
use std::sync::{Arc, Weak};
use std::time::Duration;

use mapguard::testing::{MockClock, Tracked, Tracker};
use mapguard::{Lifetime, RemovalCause, WeakKeyMap};

#[test]
fn arc_keys_are_collected_when_the_last_arc_goes() {
    let tracker = Tracker::new();
    let mut map = WeakKeyMap::<Weak<String>, Tracked<u8>>::builder()
        .cleanup()
        .build();
    let key = Arc::new(String::from("node"));
    let other = Arc::clone(&key);
    map.insert(Arc::clone(&key), tracker.track(1));
    drop(key);
    assert_eq!(map.maintain(), 0, "a clone still holds the key");
    assert!(map.contains_key("node"));
    drop(other);
    assert_eq!(map.maintain(), 1);
    assert_eq!(tracker.cleanups_of(0), [RemovalCause::Collected]);
    assert!(map.is_empty());
}

#[test]
fn weak_maps_expire_too() {
    let (tracker, clock) = (Tracker::new(), MockClock::new());
    let mut map = WeakKeyMap::<RcWeak<u8>, Tracked<u8>>::builder()
        .ttl(Duration::from_secs(5))
        .clock(clock.clone())
        .cleanup()
        .build();
    let (key, other) = (Rc::new(1), Rc::new(2));
    map.insert(Rc::clone(&key), tracker.track(1));
    map.insert(Rc::clone(&other), tracker.track(2));
    clock.advance(Duration::from_secs(5));
    assert!(
        map.peek(&1).is_none(),
        "expired entries are invisible at once"
    );
    // `get` is a lookup through `&mut`: it cleans the expired entry it finds, at once.
    assert!(map.get(&2).is_none());
    assert_eq!(tracker.cleanups_of(1), [RemovalCause::Expired]);
    assert_eq!(map.maintain(), 1, "the other expired entry");
    assert_eq!(tracker.cleanups_of(0), [RemovalCause::Expired]);
}

#[test]
fn a_full_bounded_weak_map_rejects_live_keys_and_frees_dead_ones() {
    let tracker = Tracker::new();
    let mut map = WeakKeyMap::<RcWeak<u8>, Tracked<u8>>::bounded_builder(2)
        .cleanup()
        .build();
    let (a, b, c) = (Rc::new(1), Rc::new(2), Rc::new(3));
    map.try_insert(Rc::clone(&a), tracker.track(1)).unwrap();
    map.try_insert(Rc::clone(&b), tracker.track(2)).unwrap();
    let rejected = map.try_insert(Rc::clone(&c), tracker.track(3)).unwrap_err();
    let (key, value) = rejected.into_inner();
    assert!(Rc::ptr_eq(&key, &c), "the strong key comes back");
    assert!(tracker.cleanups_of(value.id()).is_empty());
    drop(a); // the oldest entry's key dies: the next insert takes its slot
    map.try_insert(Rc::clone(&c), tracker.track(3)).unwrap();
    assert_eq!(tracker.cleanups_of(0), [RemovalCause::Collected]);
    assert_eq!(map.len(), 2);
}

#[test]
fn ending_the_scope_collects_dead_keys_and_ends_live_ones() {
    let tracker = Tracker::new();
    let mut map = WeakKeyMap::<RcWeak<u8>, Tracked<u8>>::builder()
        .lifetime(Lifetime::Request)
        .cleanup()
        .build();
    let (alive, dying) = (Rc::new(1), Rc::new(2));
    map.insert(Rc::clone(&alive), tracker.track(1));
    map.insert(Rc::clone(&dying), tracker.track(2));
    drop(dying);
    assert_eq!(map.end_scope(Lifetime::Session), 0);
    assert_eq!(map.end_scope(Lifetime::Request), 2);
    assert_eq!(tracker.cleanups_of(0), [RemovalCause::ScopeEnded]);
    assert_eq!(tracker.cleanups_of(1), [RemovalCause::Collected]);
}

#[test]
fn get_or_insert_with_the_only_strong_key_hands_the_value_back_and_collects_it() {
    let tracker = Tracker::new();
    let mut map = WeakKeyMap::<Weak<u8>, Tracked<u8>>::builder()
        .cleanup()
        .build();
    let kept = Arc::new(1);
    map.insert(Arc::clone(&kept), tracker.track(1));
    // The caller's key is the only one: the map holds it weakly, so it dies on return.
    let value = map.get_or_insert_with(Arc::new(2), || tracker.track(2));
    assert_eq!(**value, 2);
    assert_eq!(map.maintain(), 1);
    assert_eq!(tracker.cleanups_of(1), [RemovalCause::Collected]);
    assert!(tracker.cleanups_of(0).is_empty(), "a live key stays");
    assert_eq!(map.len(), 1);
}
