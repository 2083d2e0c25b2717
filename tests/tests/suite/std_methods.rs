//! The methods std's maps and peers have, with the cleanup rule kept: what is handed back runs
//! no hook, what the caller never gets leaves through the hooks once, with its cause.

use std::time::Duration;

use mapguard::expiry::OnlyWhenSet;
use mapguard::testing::{MockClock, Tracked, Tracker};
use mapguard::{ConcurrentLruMap, LruMap, RemovalCause};

#[test]
fn into_keys_cleans_every_value_once_and_an_expired_one_as_expired() {
    let (tracker, clock) = (Tracker::new(), MockClock::new());
    let mut map = LruMap::<u8, Tracked<u8>>::builder(8)
        .expire_after(OnlyWhenSet)
        .clock(clock.clone())
        .cleanup()
        .build();
    map.insert(1, tracker.track(1));
    map.insert(2, tracker.track(2));
    map.insert_with_ttl(3, tracker.track(3), Duration::from_secs(1));
    clock.advance(Duration::from_secs(2));
    let mut keys: Vec<u8> = map.into_keys().collect();
    keys.sort_unstable();
    assert_eq!(keys, [1, 2], "an expired entry's key is not handed out");
    assert_eq!(tracker.cleaned(RemovalCause::Dropped), 2);
    assert_eq!(tracker.cleaned(RemovalCause::Expired), 1);
    tracker.assert_exactly_once();
}

#[test]
fn into_values_hands_values_back_and_cleans_the_rest_when_dropped() {
    let tracker = Tracker::new();
    let mut map = LruMap::<u8, Tracked<u8>>::builder(8).cleanup().build();
    (0..4).for_each(|key| map.insert(key, tracker.track(key)));
    let mut values = map.into_values();
    let first = values.next().expect("four values");
    drop(values);
    assert_eq!(tracker.cleaned(RemovalCause::Dropped), 3);
    assert!(
        !tracker.is_dropped(first.id()),
        "a value handed back is the caller's"
    );
    drop(first);
    tracker.assert_exactly_once();
}

#[test]
fn a_concurrent_drain_hands_back_live_entries_and_cleans_expired_ones() {
    let (tracker, clock) = (Tracker::new(), MockClock::new());
    let map = ConcurrentLruMap::<u8, Tracked<u8>>::builder(64)
        .shards(4)
        .expire_after(OnlyWhenSet)
        .clock(clock.clone())
        .cleanup()
        .build();
    (0..6).for_each(|key| map.insert(key, tracker.track(key)));
    map.insert_with_ttl(9, tracker.track(9), Duration::from_secs(1));
    clock.advance(Duration::from_secs(2));
    let mut taken: Vec<u8> = map
        .drain()
        .map(|(key, value)| {
            assert_eq!(*value, key);
            key
        })
        .collect();
    taken.sort_unstable();
    assert_eq!(taken, [0, 1, 2, 3, 4, 5]);
    assert!(map.is_empty());
    assert_eq!(tracker.cleaned(RemovalCause::Expired), 1);
    assert_eq!(tracker.cleaned_total(), 1, "drained values run no hook");
    tracker.assert_exactly_once();
}

#[test]
fn get_key_value_counts_as_a_use() {
    let mut map = LruMap::new(2);
    map.insert(1, 'a');
    map.insert(2, 'b');
    assert_eq!(map.get_key_value(&1), Some((&1, &'a')));
    map.insert(3, 'c');
    assert!(
        map.contains_key(&1) && !map.contains_key(&2),
        "2 was the least recent"
    );

    let shared = ConcurrentLruMap::builder(2).shards(1).build();
    shared.insert(1, 'a');
    shared.insert(2, 'b');
    assert_eq!(shared.get_key_value(&1), Some((1, 'a')));
    shared.insert(3, 'c');
    assert!(shared.contains_key(&1) && !shared.contains_key(&2));
}

#[test]
fn try_get_or_insert_with_stores_nothing_when_make_fails() {
    let tracker = Tracker::new();
    let mut map = LruMap::<u8, Tracked<u8>>::builder(1).cleanup().build();
    assert!(
        map.try_get_or_insert_with(1, || Err::<Tracked<u8>, _>("no"))
            .is_err()
    );
    assert!(map.is_empty());
    let made = map.try_get_or_insert_with(1, || Ok::<_, ()>(tracker.track(1)));
    assert_eq!(made.map(|value| **value), Ok(1));
    // Present: `make` does not run.
    let again = map.try_get_or_insert_with(1, || -> Result<Tracked<u8>, ()> { unreachable!() });
    assert_eq!(again.map(|value| **value), Ok(1));
    // A new key evicts as insert does.
    map.try_get_or_insert_with(2, || Ok::<_, ()>(tracker.track(2)))
        .unwrap();
    assert_eq!(tracker.cleaned(RemovalCause::Evicted), 1);
    drop(map);
    tracker.assert_exactly_once();
}

#[test]
fn if_a_hook_panics_during_a_drain_the_drained_values_are_cleaned_not_lost() {
    let (tracker, clock) = (Tracker::new(), MockClock::new());
    let map = ConcurrentLruMap::<u8, Tracked<u8>>::builder(64)
        .shards(2)
        .expire_after(OnlyWhenSet)
        .clock(clock.clone())
        .cleanup()
        .on_removal(|_, _, cause| assert_ne!(cause, RemovalCause::Expired, "a hook that panics"))
        .build();
    (0..4).for_each(|key| map.insert(key, tracker.track(key)));
    map.insert_with_ttl(9, tracker.track(9), Duration::from_secs(1));
    clock.advance(Duration::from_secs(2));
    let drained = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| map.drain().count()));
    assert!(drained.is_err(), "the hook's panic reaches the caller");
    assert_eq!(tracker.cleaned(RemovalCause::Expired), 1);
    assert_eq!(
        tracker.cleaned(RemovalCause::Cleared),
        4,
        "never handed out, so cleaned"
    );
    assert!(map.is_empty());
    tracker.assert_exactly_once();
}
