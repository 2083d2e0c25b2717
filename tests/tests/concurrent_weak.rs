//! `ConcurrentWeakKeyMap`: weak keys shared between threads. Keys die on other threads; each
//! dead key's value leaves exactly once with `Collected`, every other value exactly once with
//! the cause of its operation, and no hook runs under a shard lock.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use mapguard::hooks::ConcurrentListener;
use mapguard::testing::{Tracked, Tracker};
use mapguard::{ConcurrentWeakKeyMap, Lifetime, ManagedCache, RemovalCause};

type Map = ConcurrentWeakKeyMap<Weak<u64>, Tracked<u64>>;

#[test]
fn keys_dropped_on_other_threads_are_collected_exactly_once() {
    let tracker = Tracker::new();
    let map = Arc::new(
        ConcurrentWeakKeyMap::<Weak<u64>, Tracked<u64>>::builder()
            .shards(4)
            .cleanup()
            .build(),
    );
    // Each thread inserts its keys, keeps half of them, and drops the rest.
    let kept: Vec<Vec<Arc<u64>>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..4u64)
            .map(|thread| {
                let (map, tracker) = (Arc::clone(&map), tracker.clone());
                scope.spawn(move || {
                    let mut kept = Vec::new();
                    for n in 0..500 {
                        let key = Arc::new(thread * 1_000 + n);
                        map.insert(Arc::clone(&key), tracker.track(*key));
                        if n % 2 == 0 {
                            kept.push(key);
                        }
                    }
                    kept
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    // Some dead keys were collected already by later inserts' sweeps; the rest now.
    map.maintain();
    assert_eq!(tracker.cleaned(RemovalCause::Collected), 1_000);
    assert_eq!(map.len(), 1_000);
    for key in kept.iter().flatten() {
        assert!(map.contains_key(&**key));
    }
    // The live ones leave with the map.
    drop(map);
    assert_eq!(tracker.cleaned(RemovalCause::Dropped), 1_000);
    tracker.assert_exactly_once();
    drop(kept);
}

#[test]
fn a_key_dying_while_other_threads_read_and_maintain_leaves_once() {
    let tracker = Tracker::new();
    let map = Arc::new(
        ConcurrentWeakKeyMap::<Weak<u64>, Tracked<u64>>::builder()
            .shards(2)
            .cleanup()
            .build(),
    );
    for round in 0..50u64 {
        let key = Arc::new(round);
        map.insert(Arc::clone(&key), tracker.track(round));
        std::thread::scope(|scope| {
            let readers: Vec<_> = (0..3)
                .map(|_| {
                    let map = Arc::clone(&map);
                    scope.spawn(move || {
                        for _ in 0..20 {
                            let _ = map.contains_key(&round);
                            map.maintain();
                        }
                    })
                })
                .collect();
            drop(key); // on this thread, while the others look and collect
            for reader in readers {
                reader.join().unwrap();
            }
        });
        map.maintain();
        assert_eq!(tracker.cleanups_of(round), [RemovalCause::Collected]);
    }
    drop(map);
    tracker.assert_exactly_once();
}

type HookedMap =
    ConcurrentWeakKeyMap<Weak<u64>, u64, mapguard::policy::Lru, mapguard::DefaultHashBuilder, Hook>;

/// Counts departures by cause, and uses the map from inside every hook.
struct Hook {
    map: Arc<OnceLock<Weak<HookedMap>>>,
    causes: Arc<Mutex<Vec<RemovalCause>>>,
    reentered: Arc<AtomicUsize>,
}

impl ConcurrentListener<Weak<u64>, u64> for Hook {
    fn on_removal(&self, _key: Weak<u64>, _value: u64, cause: RemovalCause) {
        self.causes.lock().unwrap().push(cause);
        if let Some(map) = self.map.get().and_then(Weak::upgrade) {
            // Would deadlock if the shard were still locked.
            let _ = map.len();
            self.reentered.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[test]
fn hooks_run_outside_the_locks_with_the_operations_cause() {
    let slot = Arc::new(OnceLock::new());
    let causes = Arc::new(Mutex::new(Vec::new()));
    let reentered = Arc::new(AtomicUsize::new(0));
    let map = Arc::new(
        ConcurrentWeakKeyMap::<Weak<u64>, u64>::lru_builder(2)
            .shards(1)
            .lifetime(Lifetime::Request)
            .listener(Hook {
                map: Arc::clone(&slot),
                causes: Arc::clone(&causes),
                reentered: Arc::clone(&reentered),
            })
            .build(),
    );
    slot.set(Arc::downgrade(&map)).unwrap();
    let keys: Vec<Arc<u64>> = (0..4).map(Arc::new).collect();
    map.insert(Arc::clone(&keys[0]), 0);
    map.insert(Arc::clone(&keys[0]), 10); // replaces
    map.insert(Arc::clone(&keys[1]), 1);
    map.insert(Arc::clone(&keys[2]), 2); // evicts 0
    assert!(map.discard(&1));
    assert_eq!(map.remove(&2), Some(2)); // handed back: no hook
    map.insert(Arc::clone(&keys[3]), 3);
    assert_eq!(map.end_scope(Lifetime::Request), 1);
    assert_eq!(
        *causes.lock().unwrap(),
        [
            RemovalCause::Replaced,
            RemovalCause::Evicted,
            RemovalCause::Explicit,
            RemovalCause::ScopeEnded,
        ]
    );
    assert_eq!(reentered.load(Ordering::Relaxed), 4);
    assert_eq!(map.stats()[0].len, 0);
}

#[test]
fn a_bounded_map_hands_back_what_does_not_fit() {
    let map: ConcurrentWeakKeyMap<Weak<u64>, u64, mapguard::policy::Reject> =
        ConcurrentWeakKeyMap::bounded_builder(1).shards(1).build();
    let (a, b) = (Arc::new(1), Arc::new(2));
    map.try_insert(Arc::clone(&a), 10).unwrap();
    let (key, value) = map.try_insert(Arc::clone(&b), 20).unwrap_err().into_inner();
    assert_eq!((*key, value), (2, 20));
    // A dead key frees its place for the next insert.
    drop(a);
    map.try_insert(Arc::clone(&b), 20).unwrap();
    assert_eq!(map.get(&2), Some(20));
}

#[test]
fn it_is_send_and_sync_and_registered_once() {
    fn shared<T: Send + Sync>() {}
    shared::<Map>();
    let map: Map = ConcurrentWeakKeyMap::builder()
        .name("concurrent_weak.registered_once")
        .shards(8)
        .build();
    let registered = || {
        mapguard::registry::snapshot()
            .into_iter()
            .filter(|r| r.name == "concurrent_weak.registered_once")
            .count()
    };
    // One entry for the map, not one per shard (this crate builds mapguard with `tracking`).
    assert_eq!(registered(), 1);
    drop(map);
    assert_eq!(registered(), 0);
}

#[test]
fn a_scope_end_counts_once_for_the_whole_map() {
    // `Batch`: no other test of this binary ends that lifetime, so the count is this map's.
    let map = ConcurrentWeakKeyMap::<Weak<u64>, Tracked<u64>>::builder()
        .name("concurrent_weak.scope_once")
        .lifetime(Lifetime::Batch)
        .shards(4)
        .cleanup()
        .build();
    let tracker = Tracker::new();
    let key = Arc::new(7);
    map.insert(Arc::clone(&key), tracker.track(7));
    let scope_ends = || {
        mapguard::registry::snapshot()
            .into_iter()
            .find(|r| r.name == "concurrent_weak.scope_once")
            .map(|r| r.scope_ends_since_cleared)
    };
    assert_eq!((map.len(), map.lifetime()), (1, Lifetime::Batch));
    assert_eq!(map.end_scope(Lifetime::Batch), 1);
    assert_eq!(
        scope_ends(),
        Some(0),
        "the map itself was cleared by the scope end"
    );
    assert_eq!(tracker.cleaned(RemovalCause::ScopeEnded), 1);
}

type ResizeHook = fn(Weak<u32>, u32, RemovalCause);
type Reentrant = ConcurrentWeakKeyMap<
    Weak<u32>,
    u32,
    mapguard::policy::Lru,
    mapguard::DefaultHashBuilder,
    ResizeHook,
>;

static REENTRANT: OnceLock<Reentrant> = OnceLock::new();
static REENTRANT_EVICTED: AtomicUsize = AtomicUsize::new(0);

/// Counts the eviction, then changes the map's bound from inside the hook.
fn evicted_then_resize(_key: Weak<u32>, _value: u32, cause: RemovalCause) {
    assert_eq!(cause, RemovalCause::Evicted);
    REENTRANT_EVICTED.fetch_add(1, Ordering::Relaxed);
    if let Some(map) = REENTRANT.get() {
        map.set_max(4); // re-entrant: must not deadlock
    }
}

#[test]
fn a_hook_may_call_set_max_while_set_max_runs_hooks() {
    // ResizeHooks run with no lock held, not even the resizing one.
    let map: Reentrant = ConcurrentWeakKeyMap::lru_builder(8)
        .shards(1)
        .on_removal(evicted_then_resize as ResizeHook)
        .build();
    let keys: Vec<Arc<u32>> = (0..8).map(Arc::new).collect();
    for key in &keys {
        map.insert(Arc::clone(key), **key);
    }
    let map = REENTRANT.get_or_init(|| map);
    map.set_max(2);
    assert_eq!(map.len(), 2);
    assert_eq!(REENTRANT_EVICTED.load(Ordering::Relaxed), 6);
    assert_eq!(map.max(), 4, "the hook's set_max ran after ours");
}
