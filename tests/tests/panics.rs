//! A panicking hook must not corrupt the map or clean a value twice.

use std::cell::Cell;
use std::hash::{Hash, Hasher};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::{Rc, Weak};
use std::time::Duration;

use mapguard::expiry::Clock;
use mapguard::map::Entry;
use mapguard::testing::{MockClock, Tracked, Tracker};
use mapguard::{
    BoundedMap, ConcurrentLruMap, Lifetime, LruMap, ManagedCache, RemovalCause, WeakKeyMap,
};

/// Builds an LRU map whose listener panics when it receives value id `panic_on`.
fn map_panicking_on(
    panic_on: &Rc<Cell<Option<u64>>>,
    max: usize,
) -> LruMap<
    u32,
    Tracked<u32>,
    mapguard::DefaultHashBuilder,
    impl mapguard::hooks::RemovalListener<u32, Tracked<u32>>,
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
fn panic_during_clear_still_clears_and_cleans_every_entry() {
    let tracker = Tracker::new();
    let trigger = Rc::new(Cell::new(None));
    let mut map = map_panicking_on(&trigger, 8);
    for k in 0..6 {
        map.insert(k, tracker.track(k));
    }
    trigger.set(Some(3));
    assert!(
        quiet(|| map.clear()).is_err(),
        "the hook's panic reaches the caller"
    );
    assert!(map.is_empty(), "the clear finished");
    assert_eq!(
        tracker.cleaned(RemovalCause::Cleared),
        6,
        "every value was cleaned"
    );
    // The map still works, and what is added later is cleaned once.
    map.insert(9, tracker.track(9));
    trigger.set(None);
    drop(map);
    assert_eq!(tracker.cleaned(RemovalCause::Dropped), 1);
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
fn panic_while_dropping_the_map_still_cleans_the_rest() {
    let tracker = Tracker::new();
    let trigger = Rc::new(Cell::new(None));
    let mut map = map_panicking_on(&trigger, 8);
    for k in 0..5 {
        map.insert(k, tracker.track(k));
    }
    trigger.set(Some(0));
    assert!(quiet(move || drop(map)).is_err());
    // No value cleaned twice, none leaked, and every one reached its hooks.
    tracker.assert_exactly_once();
    for id in 0..5 {
        assert_eq!(
            tracker.cleanups_of(id),
            [RemovalCause::Dropped],
            "value {id}"
        );
    }
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

// ---------------------------------------------------------------------------------------
// Adversarial cases (issue R1–R10): each failed before its fix.
// ---------------------------------------------------------------------------------------

/// A listener that panics for value ids the trigger names (all of them when `panic_all`).
fn panicking_listener<K>(
    trigger: &Rc<Cell<Option<u64>>>,
) -> impl FnMut(K, Tracked<u32>, RemovalCause) + use<K> {
    let trigger = Rc::clone(trigger);
    move |_k, v: Tracked<u32>, cause| {
        assert!(
            trigger.get() != Some(v.id()) && trigger.get() != Some(u64::MAX),
            "hook panics on purpose ({cause})"
        );
    }
}

/// Every value id.
const ALL: Option<u64> = Some(u64::MAX);

#[test]
fn r1_an_insert_whose_expiry_hook_panics_still_stores_the_new_value() {
    let tracker = Tracker::new();
    let trigger = Rc::new(Cell::new(None));
    let clock = MockClock::new();
    let mut map = LruMap::builder(4)
        .ttl(Duration::from_secs(1))
        .clock(clock.clone())
        .cleanup()
        .on_removal(panicking_listener(&trigger))
        .build();
    map.insert(1, tracker.track(1));
    clock.advance(Duration::from_secs(2));
    trigger.set(ALL);
    assert!(quiet(|| map.insert(2, tracker.track(2))).is_err());
    assert_eq!(
        map.peek(&2).map(Tracked::id),
        Some(1),
        "the new value is stored"
    );
    assert!(!tracker.is_dropped(1));
    assert_eq!(tracker.cleanups_of(0), [RemovalCause::Expired]);
    assert_eq!(map.len(), 1);
    trigger.set(None);
    drop(map);
    tracker.assert_exactly_once();
    assert_eq!(tracker.cleanups_of(1), [RemovalCause::Dropped]);
}

#[test]
fn r1_siblings_replace_try_insert_and_weak_inserts_store_before_hooks_run() {
    let tracker = Tracker::new();
    let trigger = Rc::new(Cell::new(None));
    let clock = MockClock::new();

    // `replace` of an expired key: the new value is stored even though the expired one's
    // hook panics.
    let mut lru = LruMap::builder(4)
        .ttl(Duration::from_secs(1))
        .clock(clock.clone())
        .cleanup()
        .on_removal(panicking_listener(&trigger))
        .build();
    lru.insert(1, tracker.track(1)); // id 0
    clock.advance(Duration::from_secs(2));
    trigger.set(ALL);
    assert!(quiet(|| lru.replace(1, tracker.track(10))).is_err()); // id 1
    assert_eq!(lru.peek(&1).map(Tracked::id), Some(1));
    assert_eq!(tracker.cleanups_of(0), [RemovalCause::Expired]);

    // A full `BoundedMap`: the expired entry makes room, the new pair is stored.
    let mut bounded = BoundedMap::builder(1)
        .ttl(Duration::from_secs(1))
        .clock(clock.clone())
        .cleanup()
        .on_removal(panicking_listener(&trigger))
        .build();
    trigger.set(None);
    bounded.try_insert(1, tracker.track(1)).unwrap(); // id 2
    clock.advance(Duration::from_secs(2));
    trigger.set(ALL);
    assert!(quiet(|| bounded.try_insert(2, tracker.track(2))).is_err()); // id 3
    assert_eq!(bounded.peek(&2).map(Tracked::id), Some(3));
    assert_eq!(tracker.cleanups_of(2), [RemovalCause::Expired]);

    // A `WeakKeyMap` whose dead key is collected by the insert.
    let mut weak = WeakKeyMap::<Weak<u32>, Tracked<u32>>::lru_builder(1)
        .cleanup()
        .on_removal(panicking_listener(&trigger))
        .build();
    trigger.set(None);
    let (dead, alive) = (Rc::new(1), Rc::new(2));
    weak.insert(Rc::clone(&dead), tracker.track(1)); // id 4
    drop(dead);
    trigger.set(ALL);
    assert!(quiet(|| weak.insert(Rc::clone(&alive), tracker.track(2))).is_err()); // id 5
    assert_eq!(weak.get(&2).map(Tracked::id), Some(5));
    assert_eq!(tracker.cleanups_of(4), [RemovalCause::Collected]);

    // The same through a bounded weak map's `try_insert`.
    let mut weak_bounded = WeakKeyMap::<Weak<u32>, Tracked<u32>>::bounded_builder(1)
        .cleanup()
        .on_removal(panicking_listener(&trigger))
        .build();
    trigger.set(None);
    let dead = Rc::new(3);
    weak_bounded
        .try_insert(Rc::clone(&dead), tracker.track(3))
        .unwrap(); // id 6
    drop(dead);
    trigger.set(ALL);
    assert!(quiet(|| weak_bounded.try_insert(Rc::clone(&alive), tracker.track(4))).is_err()); // id 7
    assert_eq!(weak_bounded.get(&2).map(Tracked::id), Some(7));
    assert_eq!(tracker.cleanups_of(6), [RemovalCause::Collected]);

    trigger.set(None);
    drop((lru, bounded, weak, weak_bounded));
    tracker.assert_exactly_once();
}

#[test]
fn r2_set_max_restores_the_bound_even_when_a_hook_panics() {
    let tracker = Tracker::new();
    let trigger = Rc::new(Cell::new(None));
    let mut map = map_panicking_on(&trigger, 10);
    for k in 0..10 {
        map.insert(k, tracker.track(k));
    }
    trigger.set(Some(0)); // the first victim
    assert!(quiet(|| map.set_max(2)).is_err());
    assert_eq!(map.len(), 2, "the bound holds as soon as the panic is over");
    assert_eq!(map.keys().copied().collect::<Vec<_>>(), [9, 8]);
    trigger.set(None);
    for k in 10..30 {
        map.insert(k, tracker.track(k));
        assert!(map.len() <= 2);
    }
    drop(map);
    tracker.assert_exactly_once();
    // Every victim's hooks ran, the first one's panicking.
    for id in 0..8 {
        assert_eq!(
            tracker.cleanups_of(id),
            [RemovalCause::Evicted],
            "value {id}"
        );
    }
    assert_eq!(tracker.cleaned(RemovalCause::Evicted), 8 + 20);
}

#[test]
fn r3_concurrent_set_max_shrinks_every_shard_even_when_a_hook_panics() {
    let tracker = Tracker::new();
    let map = ConcurrentLruMap::builder(400)
        .shards(4)
        .cleanup()
        .on_removal(|_k: u32, _v: Tracked<u32>, _cause| panic!("hook panics on purpose"))
        .build();
    for k in 0..400 {
        let _ = quiet(|| map.insert(k, tracker.track(k)));
    }
    assert!(quiet(|| map.set_max(8)).is_err());
    assert_eq!(map.max(), 8);
    assert!(
        map.len() <= 8,
        "every shard holds at most ⌈8 / 4⌉ = 2, so {} is over",
        map.len()
    );
    drop(quiet(move || drop(map)));
    tracker.assert_exactly_once();
}

/// A key whose `Hash` panics once when armed with its number.
#[derive(Debug, PartialEq, Eq, Clone)]
struct Touchy(u32);

thread_local! {
    static HASH_PANICS_FOR: Cell<Option<u32>> = const { Cell::new(None) };
}

impl Hash for Touchy {
    fn hash<H: Hasher>(&self, state: &mut H) {
        if HASH_PANICS_FOR.with(Cell::get) == Some(self.0) {
            HASH_PANICS_FOR.with(|armed| armed.set(None));
            panic!("Hash panics on purpose for {}", self.0);
        }
        self.0.hash(state);
    }
}

fn arm_hash_panic(key: u32) {
    HASH_PANICS_FOR.with(|armed| armed.set(Some(key)));
}

#[test]
fn r4_a_panicking_hash_during_a_slab_move_leaves_the_map_whole() {
    let tracker = Tracker::new();
    let mut map = LruMap::builder(8).cleanup().build();
    for k in 0..4 {
        map.insert(Touchy(k), tracker.track(k));
    }
    // Removing key 0 moves the last slab node (key 3) into its slot, re-hashing key 3.
    arm_hash_panic(3);
    assert!(quiet(|| map.remove(&Touchy(0))).is_err());
    for k in 0..4 {
        assert_eq!(map.peek(&Touchy(k)).map(|v| **v), Some(k), "key {k}");
    }
    assert_eq!(map.remove(&Touchy(0)).map(|v| *v), Some(0));
    assert_eq!(map.len(), 3);
    drop(map);
    tracker.assert_exactly_once();
    assert_eq!(tracker.cleaned(RemovalCause::Dropped), 3);
}

#[test]
fn r4_siblings_hash_panics_in_eviction_growth_shrink_and_discard() {
    let tracker = Tracker::new();
    let mut map = LruMap::builder(64).cleanup().build();
    let mut next_key = 0;
    let mut insert = |map: &mut LruMap<Touchy, Tracked<u32>, _, _>| {
        let _ = quiet(|| map.insert(Touchy(next_key), tracker.track(next_key)));
        next_key += 1;
    };
    // Growth: the table rehashes every key; arm an early one.
    for _ in 0..3 {
        insert(&mut map);
    }
    arm_hash_panic(1);
    for _ in 0..40 {
        insert(&mut map);
    }
    // Eviction: arm the least recent key, then fill past the bound.
    for _ in 0..30 {
        insert(&mut map);
    }
    let victim = map.peek_lru().map(|(k, _)| k.0).unwrap();
    arm_hash_panic(victim);
    insert(&mut map);
    // Shrink: remove most keys, with one armed on the way.
    let keys: Vec<u32> = map.keys().map(|k| k.0).collect();
    arm_hash_panic(keys[keys.len() / 2]);
    for k in &keys[..keys.len() - 3] {
        let _ = quiet(|| map.discard(&Touchy(*k)));
    }
    HASH_PANICS_FOR.with(|armed| armed.set(None));
    // Whatever each panic cost, the map agrees with itself and every value leaves once.
    assert_eq!(map.iter().count(), map.len());
    for (key, value) in &map {
        assert_eq!(key.0, **value);
    }
    let report = registry_report(&map);
    assert_eq!(report, map.len() as u64);
    drop(map);
    tracker.assert_exactly_once();
}

/// The registry's idea of a map's length.
fn registry_report<
    K,
    V,
    P: mapguard::policy::Policy,
    S,
    L: mapguard::hooks::RemovalListener<K, V>,
>(
    map: &mapguard::ManagedMap<K, V, P, S, L>,
) -> u64 {
    mapguard::registry::snapshot()
        .into_iter()
        .find(|m| m.name == map.name())
        .map(|m| m.len)
        .unwrap()
}

#[test]
fn r5_a_weak_map_whose_hooks_panic_is_dropped_without_aborting() {
    let tracker = Tracker::new();
    let trigger = Rc::new(Cell::new(ALL));
    let mut map = WeakKeyMap::<Weak<u32>, Tracked<u32>>::builder()
        .cleanup()
        .on_removal(panicking_listener(&trigger))
        .build();
    let (alive, dead) = (Rc::new(1), Rc::new(2));
    map.insert(Rc::clone(&alive), tracker.track(1));
    map.insert(Rc::clone(&dead), tracker.track(2));
    drop(dead);
    assert!(quiet(move || drop(map)).is_err());
    // The dead key's value was cleaned first (its hook panicked); the live one still was.
    assert_eq!(tracker.cleanups_of(1), [RemovalCause::Collected]);
    assert_eq!(tracker.cleanups_of(0), [RemovalCause::Dropped]);
    tracker.assert_exactly_once();
}

#[test]
fn maps_dropped_during_unwinding_with_panicking_hooks_do_not_abort() {
    let tracker = Tracker::new();
    let trigger = Rc::new(Cell::new(ALL));
    let mut lru = map_panicking_on(&trigger, 8);
    let mut drained = map_panicking_on(&trigger, 8);
    let mut scoped = LruMap::builder(8)
        .lifetime(Lifetime::Request)
        .cleanup()
        .on_removal(panicking_listener(&trigger))
        .build();
    let mut weak = WeakKeyMap::<Weak<u32>, Tracked<u32>>::builder()
        .cleanup()
        .on_removal(panicking_listener(&trigger))
        .build();
    let concurrent = ConcurrentLruMap::builder(8)
        .cleanup()
        .on_removal(|_k: u32, _v: Tracked<u32>, _cause| panic!("hook panics on purpose"))
        .build();
    let key = Rc::new(0);
    for k in 0..3 {
        let _ = quiet(|| lru.insert(k, tracker.track(k)));
        let _ = quiet(|| drained.insert(k, tracker.track(k)));
        let _ = quiet(|| scoped.insert(k, tracker.track(k)));
        let _ = quiet(|| concurrent.insert(k, tracker.track(k)));
    }
    weak.insert(Rc::clone(&key), tracker.track(0));
    let iter_trigger = Rc::clone(&trigger);
    let seventh = tracker.track(7);
    let outcome = quiet(move || {
        let _guard = scoped.scope(Lifetime::Request);
        let _drain = drained.drain();
        let _lru = lru;
        let _weak = weak;
        let _concurrent = concurrent;
        let mut owned = map_panicking_on(&iter_trigger, 2);
        iter_trigger.set(None);
        owned.insert(7, seventh);
        iter_trigger.set(ALL);
        let _iter = owned.into_iter();
        panic!("the first panic");
    });
    let message = outcome.unwrap_err();
    assert_eq!(message.downcast_ref::<&str>(), Some(&"the first panic"));
    tracker.assert_exactly_once();
}

#[test]
fn r6_mock_clock_saturates_instead_of_wrapping() {
    let clock = MockClock::new();
    clock.advance(Duration::from_secs(5));
    clock.advance(Duration::MAX);
    assert_eq!(clock.now(), Duration::from_nanos(u64::MAX));
    clock.advance(Duration::from_secs(1));
    assert_eq!(clock.now(), Duration::from_nanos(u64::MAX));
}

#[test]
fn r7_every_way_to_hand_a_value_back_keeps_the_registry_exact() {
    let mut map = LruMap::builder(16).name("panics.r7").build();
    map.extend((0..10).map(|k| (k, k)));
    if let Entry::Occupied(slot) = map.entry(0) {
        assert_eq!(slot.remove(), 0);
    }
    if let Entry::Occupied(slot) = map.entry(1) {
        assert_eq!(slot.remove_entry(), (1, 1));
    }
    assert_eq!(map.pop_lru(), Some((2, 2)));
    assert_eq!(map.remove(&3), Some(3));
    assert_eq!(map.replace(4, 40), Some(4));
    assert_eq!(registry_report(&map), map.len() as u64);
    // A drain that is never dropped (as `mem::forget` would leave it): the map is empty
    // from the start, and so is the registry's count.
    let mut drain = std::mem::ManuallyDrop::new(map.drain());
    assert!(drain.next().is_some());
    let report = mapguard::registry::snapshot()
        .into_iter()
        .find(|m| m.name == "panics.r7")
        .unwrap();
    assert_eq!(report.len, 0);
    // Dropped after all, so that Miri sees no leak.
    drop(std::mem::ManuallyDrop::into_inner(drain));
    assert!(map.is_empty());
    assert_eq!(registry_report(&map), 0);
    // A drain dropped half-way: yielded values were handed back, the rest cleared.
    map.extend((0..4).map(|k| (k, k)));
    let mut drain = map.drain();
    drain.next();
    drop(drain);
    assert_eq!(registry_report(&map), 0);
    let report = mapguard::registry::snapshot()
        .into_iter()
        .find(|m| m.name == "panics.r7")
        .unwrap();
    // The first drain's 5 unyielded entries, then the second's 3.
    assert_eq!(report.removed(RemovalCause::Cleared), 5 + 3);
}

#[test]
#[cfg_attr(
    miri,
    ignore = "hundreds of thousands of operations: too slow under Miri"
)]
fn r8_concurrent_set_max_calls_take_turns_and_the_last_holds_everywhere() {
    for _ in 0..20 {
        let map = ConcurrentLruMap::<u32, u32>::builder(1_000_000)
            .shards(4096)
            .build();
        std::thread::scope(|s| {
            let map = &map;
            s.spawn(move || map.set_max(1_000_000));
            s.spawn(move || map.set_max(4096));
        });
        for k in 0..20_000 {
            map.insert(k, k);
        }
        let per_shard = map.max().div_ceil(map.shard_count());
        assert!(
            map.len() <= per_shard * map.shard_count(),
            "max() says {} but {} entries are held",
            map.max(),
            map.len()
        );
    }
}

#[test]
fn shard_count_never_exceeds_max() {
    let map = ConcurrentLruMap::<u32, u32>::builder(1)
        .shards(usize::MAX)
        .build();
    assert_eq!(map.shard_count(), 1);
    for k in 0..1000 {
        map.insert(k, k);
    }
    assert_eq!(map.len(), 1);
}

#[test]
#[cfg_attr(
    miri,
    ignore = "hundreds of thousands of operations: too slow under Miri"
)]
fn r10_shared_reads_count_every_hit() {
    let mut map = BoundedMap::builder(8).name("panics.r10").build();
    map.try_insert(1, 1).unwrap();
    let map = &map;
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(move || {
                for _ in 0..50_000 {
                    assert_eq!(map.get(&1), Some(&1));
                }
            });
        }
    });
    let report = mapguard::registry::snapshot()
        .into_iter()
        .find(|m| m.name == "panics.r10")
        .unwrap();
    assert_eq!(report.hits, 200_000);
}

/// Found by the fuzzer: a hand-back counted before the removal (which runs `Hash`) finished.
#[test]
fn a_hash_panic_while_handing_back_keeps_the_registry_exact() {
    let mut map = LruMap::builder(8).name("panics.hash_hand_back").build();
    for k in 0..4 {
        map.insert(Touchy(k), k);
    }
    arm_hash_panic(0); // the least recent: `pop_lru` hashes it to find its table slot
    assert!(quiet(|| map.pop_lru()).is_err());
    assert_eq!(map.len(), 4);
    assert_eq!(registry_report(&map), 4);
    arm_hash_panic(1);
    assert!(quiet(|| map.remove(&Touchy(1))).is_err());
    assert_eq!(registry_report(&map), 4);
}

/// Found by the fuzzer: `set_max` lowered the bound, then a victim's `Hash` panicked.
#[test]
fn a_hash_panic_in_set_max_keeps_the_old_bound() {
    let tracker = Tracker::new();
    let mut map = LruMap::builder(8).cleanup().build();
    for k in 0..8 {
        map.insert(Touchy(k), tracker.track(k));
    }
    arm_hash_panic(2); // the third victim
    assert!(quiet(|| map.set_max(2)).is_err());
    assert!(
        map.len() <= map.max(),
        "{} entries, max {}",
        map.len(),
        map.max()
    );
    map.set_max(2);
    assert_eq!(map.len(), 2);
    drop(map);
    tracker.assert_exactly_once();
}
