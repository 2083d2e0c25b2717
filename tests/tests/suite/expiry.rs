//! Expiry with an injected clock: no sleeps. Every expired value leaves exactly once, with
//! `Expired`, whether it is looked up again or never touched.

use std::time::Duration;

use mapguard::expiry::OnlyWhenSet;
use mapguard::testing::{MockClock, Tracked, Tracker};
use mapguard::{BoundedMap, LruMap, RemovalCause};

const TTL: Duration = Duration::from_secs(10);

fn ttl_map(
    clock: &MockClock,
    max: usize,
) -> LruMap<
    u32,
    Tracked<u32>,
    mapguard::DefaultHashBuilder,
    mapguard::hooks::WithCleanup,
    mapguard::expiry::Expiring,
> {
    LruMap::builder(max)
        .ttl(TTL)
        .clock(clock.clone())
        .cleanup()
        .build()
}

#[test]
fn ttl_hides_at_once_and_cleans_on_access() {
    let (tracker, clock) = (Tracker::new(), MockClock::new());
    let mut map = ttl_map(&clock, 8);
    map.insert(1, tracker.track(1));
    clock.advance(TTL.saturating_sub(Duration::from_nanos(1)));
    assert_eq!(
        map.peek(&1).map(|v| **v),
        Some(1),
        "still alive 1ns before the deadline"
    );
    clock.advance(Duration::from_nanos(1));
    assert!(
        map.peek(&1).is_none(),
        "invisible to &self lookups at the deadline"
    );
    assert!(!map.contains_key(&1));
    assert!(
        tracker.cleanups_of(0).is_empty(),
        "&self lookups cannot clean"
    );
    assert!(map.get(&1).is_none());
    assert_eq!(tracker.cleanups_of(0), [RemovalCause::Expired]);
    assert!(map.is_empty());
    drop(map);
    tracker.assert_exactly_once();
}

#[test]
fn reads_do_not_extend_ttl_but_writes_do() {
    let (tracker, clock) = (Tracker::new(), MockClock::new());
    let mut map = ttl_map(&clock, 8);
    map.insert(1, tracker.track(1));
    map.insert(2, tracker.track(2));
    clock.advance(TTL / 2);
    assert!(map.get(&1).is_some()); // a read: the ttl still counts from the write
    map.insert(2, tracker.track(20)); // a write: restarts 2's ttl
    clock.advance(TTL / 2);
    assert!(map.get(&1).is_none());
    assert_eq!(map.get(&2).map(|v| **v), Some(20));
    assert_eq!(tracker.cleanups_of(0), [RemovalCause::Expired]);
    assert_eq!(tracker.cleanups_of(1), [RemovalCause::Replaced]);
}

#[test]
fn idle_is_restarted_by_reads() {
    let (tracker, clock) = (Tracker::new(), MockClock::new());
    let idle = Duration::from_millis(250);
    let mut map = BoundedMap::builder(8)
        .idle(idle)
        .clock(clock.clone())
        .cleanup()
        .build();
    map.try_insert("busy", tracker.track(0)).unwrap();
    map.try_insert("quiet", tracker.track(1)).unwrap();
    for _ in 0..10 {
        clock.advance(idle / 2);
        assert!(
            map.get_mut("busy").is_some(),
            "each read restarts the idle timer"
        );
    }
    assert!(map.get("quiet").is_none());
    assert_eq!(map.maintain(), 1, "maintain purges the quiet entry");
    assert_eq!(tracker.cleanups_of(1), [RemovalCause::Expired]);
    assert!(tracker.cleanups_of(0).is_empty());
}

#[test]
fn entries_never_touched_again_are_released_by_later_inserts() {
    let (tracker, clock) = (Tracker::new(), MockClock::new());
    let n = 1_000_u32;
    let mut map = ttl_map(&clock, 10_000);
    for k in 0..n {
        map.insert(k, tracker.track(k));
    }
    clock.advance(TTL);
    // Other keys only: the old ones are never looked up again.
    for k in n..2 * n {
        map.insert(k, tracker.track(k));
    }
    assert_eq!(tracker.cleaned(RemovalCause::Expired), u64::from(n));
    assert_eq!(map.len(), n as usize);
    for id in 0..u64::from(n) {
        assert_eq!(tracker.cleanups_of(id), [RemovalCause::Expired]);
    }
}

#[test]
fn an_expired_value_is_not_replaced_but_expired() {
    let (tracker, clock) = (Tracker::new(), MockClock::new());
    let mut map = ttl_map(&clock, 8);
    map.insert(1, tracker.track(1));
    clock.advance(TTL);
    map.insert(1, tracker.track(2));
    assert_eq!(tracker.cleanups_of(0), [RemovalCause::Expired]);
    assert_eq!(map.peek(&1).map(|v| **v), Some(2));
}

#[test]
fn a_full_bounded_map_of_expired_entries_accepts_new_keys() {
    let (tracker, clock) = (Tracker::new(), MockClock::new());
    let mut map = BoundedMap::builder(3)
        .ttl(TTL)
        .clock(clock.clone())
        .cleanup()
        .build();
    for k in 0..3 {
        map.try_insert(k, tracker.track(k)).unwrap();
    }
    assert!(map.try_insert(3, tracker.track(3)).is_err());
    clock.advance(TTL);
    // Writes are ordered oldest-last, so the insert's expiry step frees the oldest first.
    map.try_insert(4, tracker.track(4)).unwrap();
    map.try_insert(5, tracker.track(5)).unwrap();
    assert_eq!(tracker.cleaned(RemovalCause::Expired), 3);
    assert_eq!(map.len(), 2);
}

#[test]
fn expiry_costs_a_deadline_and_a_wheel_place_per_entry_and_nothing_without_it() {
    const ENTRIES: u64 = 10_000;
    fn per_entry<E: mapguard::expiry::Expiry>(
        mut timed: LruMap<u64, u64, mapguard::DefaultHashBuilder, mapguard::hooks::NoListener, E>,
    ) -> usize {
        let mut plain = LruMap::new(ENTRIES as usize);
        for k in 0..ENTRIES {
            plain.insert(k, k);
            timed.insert(k, k);
        }
        (timed.heap_bytes() - plain.heap_bytes()) / ENTRIES as usize
    }
    let clock = MockClock::new();
    let builder = || LruMap::builder(ENTRIES as usize).clock(clock.clone());
    // A deadline in the node and two wheel links; `ttl` with `idle` also keeps the write time.
    assert_eq!(per_entry(builder().ttl(TTL).build()), 16);
    assert_eq!(per_entry(builder().expire_after(OnlyWhenSet).build()), 16);
    assert_eq!(per_entry(builder().ttl(TTL).idle(TTL).build()), 24);
    // A clock alone keeps the nodes' deadlines, and no wheel until an entry is given one.
    assert_eq!(per_entry(builder().build()), 8);
}

#[test]
fn a_victim_that_expired_while_an_entry_was_held_leaves_as_expired() {
    let (tracker, clock) = (Tracker::new(), MockClock::new());
    let mut map = ttl_map(&clock, 1);
    map.insert(1, tracker.track(1));
    let mapguard::map::Entry::Vacant(slot) = map.entry(2) else {
        panic!("2 is absent");
    };
    clock.advance(TTL); // time passes while the caller holds the entry
    slot.insert(tracker.track(2));
    assert_eq!(tracker.cleanups_of(0), [RemovalCause::Expired]);
    assert_eq!(tracker.cleaned(RemovalCause::Evicted), 0);
}
