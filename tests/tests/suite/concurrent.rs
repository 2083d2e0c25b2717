//! Concurrent maps under many threads: every value leaves exactly once (cleaned with its cause,
//! or handed back), the bound holds within its tolerance, hooks may re-enter the map, and
//! scope ends, expiry and the registry work through `&self`.
//!
//! Stress tests are bounded in operations, not in time; each runs under a watchdog that fails
//! it (instead of hanging CI) if the threads do not finish, which is how a deadlock shows.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use mapguard::testing::{MockClock, Tracked, Tracker};
use mapguard::{
    ConcurrentBoundedMap, ConcurrentLruMap, Lifetime, ManagedCache, RemovalCause, registry,
};
use mapguard_tests::Rng;

/// Runs `test` on its own thread and fails if it has not finished after `limit`: a deadlock
/// then fails the test with a message instead of hanging the run.
fn within(limit: Duration, test: impl FnOnce() + Send + 'static) {
    let (done, finished) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        test();
        let _ = done.send(());
    });
    match finished.recv_timeout(limit) {
        Ok(()) => worker.join().expect("test thread panicked"),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            // The test panicked: re-raise its panic here.
            std::panic::resume_unwind(worker.join().unwrap_err());
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("threads did not finish within {limit:?}: a deadlock?")
        }
    }
}

const WATCHDOG: Duration = Duration::from_secs(120);

#[test]
fn lru_stress_every_value_leaves_exactly_once() {
    evicting_stress::<mapguard::policy::Lru>();
}

#[test]
fn adaptive_stress_every_value_leaves_exactly_once() {
    evicting_stress::<mapguard::policy::Adaptive>();
}

fn evicting_stress<P: mapguard::policy::Evicting>() {
    within(WATCHDOG, || {
        const THREADS: u64 = 4;
        const OPS: u64 = 20_000;
        const MAX: usize = 200;
        const SHARDS: usize = 4;
        let tracker = Tracker::new();
        let listened = Arc::new(AtomicUsize::new(0));
        let handed_back = AtomicU64::new(0);
        let made = AtomicU64::new(0);
        let seen = Arc::clone(&listened);
        let map = mapguard::ConcurrentMap::<u64, Tracked<u64>, P>::builder(MAX)
            .shards(SHARDS)
            .cleanup()
            .on_removal(move |_key: u64, value: Tracked<u64>, _cause| {
                assert_eq!(
                    *value,
                    value.id(),
                    "a value reached the hook in another's place"
                );
                seen.fetch_add(1, Ordering::Relaxed);
            })
            .build();
        std::thread::scope(|s| {
            for thread in 0..THREADS {
                let (map, tracker, handed_back, made) = (&map, &tracker, &handed_back, &made);
                s.spawn(move || {
                    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (thread + 1));
                    for _ in 0..OPS {
                        let key = rng.below(400);
                        match rng.below(10) {
                            0..=3 => {
                                let mut value = tracker.track(0);
                                *value = value.id();
                                made.fetch_add(1, Ordering::Relaxed);
                                map.insert(key, value);
                            }
                            4 => {
                                let mut value = tracker.track(0);
                                *value = value.id();
                                made.fetch_add(1, Ordering::Relaxed);
                                if map.replace(key, value).is_some() {
                                    handed_back.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                            5 => {
                                if map.remove(&key).is_some() {
                                    handed_back.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                            6 => {
                                map.discard(&key);
                            }
                            7 => {
                                if let Some(id) = map.update(&key, |value| value.id()) {
                                    assert!(id < tracker.created());
                                }
                            }
                            _ => {
                                let _ = map.contains_key(&key);
                            }
                        }
                        // Each shard holds at most ⌈max / shards⌉, at every moment.
                        assert!(map.len() <= MAX.div_ceil(SHARDS) * SHARDS);
                    }
                });
            }
        });
        let left_in_map = map.len() as u64;
        drop(map);
        let created = tracker.created();
        assert_eq!(created, made.load(Ordering::Relaxed));
        assert_eq!(tracker.cleaned(RemovalCause::Dropped), left_in_map);
        assert_eq!(
            tracker.cleaned_total() + handed_back.load(Ordering::Relaxed),
            created,
            "every value is cleaned or handed back: {tracker:?}"
        );
        assert_eq!(
            listened.load(Ordering::Relaxed) as u64,
            tracker.cleaned_total()
        );
        assert!(
            tracker.cleaned(RemovalCause::Evicted) > 0,
            "the test never filled a shard"
        );
        assert!(tracker.cleaned(RemovalCause::Replaced) > 0);
        assert!(tracker.cleaned(RemovalCause::Explicit) > 0);
        tracker.assert_exactly_once();
    });
}

#[test]
fn bounded_stress_never_exceeds_its_shards_and_hands_back_rejections() {
    within(WATCHDOG, || {
        const THREADS: u64 = 4;
        const OPS: u64 = 10_000;
        let tracker = Tracker::new();
        let rejected = AtomicU64::new(0);
        let removed = AtomicU64::new(0);
        let map = ConcurrentBoundedMap::builder(100)
            .shards(2)
            .cleanup()
            .build();
        std::thread::scope(|s| {
            for thread in 0..THREADS {
                let (map, tracker, rejected, removed) = (&map, &tracker, &rejected, &removed);
                s.spawn(move || {
                    let mut rng = Rng(0xD1B5_4A32_D192_ED03 ^ (thread + 1));
                    for _ in 0..OPS {
                        let key = rng.below(300);
                        match rng.below(4) {
                            0 | 1 => {
                                if let Err(error) = map.try_insert(key, tracker.track(key)) {
                                    assert_eq!(error.max(), 100);
                                    rejected.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                            2 => {
                                if map.remove(&key).is_some() {
                                    removed.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                            _ => {
                                map.discard(&key);
                            }
                        }
                        assert!(map.len() <= 100);
                    }
                });
            }
        });
        let left = map.len() as u64;
        drop(map);
        assert!(
            rejected.load(Ordering::Relaxed) > 0,
            "the test never filled a shard"
        );
        assert_eq!(tracker.cleaned(RemovalCause::Evicted), 0);
        assert_eq!(tracker.cleaned(RemovalCause::Dropped), left);
        assert_eq!(
            tracker.cleaned_total()
                + rejected.load(Ordering::Relaxed)
                + removed.load(Ordering::Relaxed),
            tracker.created(),
            "{tracker:?}"
        );
        tracker.assert_exactly_once();
    });
}

type Reentrant = ConcurrentLruMap<u32, u32, mapguard::DefaultHashBuilder, ReentrantHook>;

/// Evicted keys below 1,000 come back as `key + 1000`; every hook also reads the map.
struct ReentrantHook {
    map: Arc<OnceLock<Weak<Reentrant>>>,
    calls: Arc<AtomicUsize>,
    reinserted: Arc<AtomicUsize>,
}

impl mapguard::hooks::ConcurrentListener<u32, u32> for ReentrantHook {
    fn on_removal(&self, key: u32, value: u32, cause: RemovalCause) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let Some(map) = self.map.get().and_then(Weak::upgrade) else {
            return; // the map is being dropped
        };
        // Locks every shard, including the one this entry left.
        let _ = map.len();
        let _ = map.get(&key);
        if cause == RemovalCause::Evicted && key < 1_000 {
            map.insert(key + 1_000, value);
            self.reinserted.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[test]
fn hooks_may_use_the_map_they_left() {
    within(WATCHDOG, || {
        let slot = Arc::new(OnceLock::new());
        let calls = Arc::new(AtomicUsize::new(0));
        let reinserted = Arc::new(AtomicUsize::new(0));
        let map: Arc<Reentrant> = Arc::new(
            ConcurrentLruMap::builder(64)
                .shards(2)
                .listener(ReentrantHook {
                    map: Arc::clone(&slot),
                    calls: Arc::clone(&calls),
                    reinserted: Arc::clone(&reinserted),
                })
                .build(),
        );
        slot.set(Arc::downgrade(&map)).unwrap();
        std::thread::scope(|s| {
            for thread in 0..4_u32 {
                let map = &map;
                s.spawn(move || {
                    for i in 0..2_000 {
                        map.insert(thread * 250 + i % 250, i);
                        map.discard(&(i % 300 + 1_000));
                    }
                });
            }
        });
        // Hooks ran for evictions and for the hooks' own inserts, and re-inserted from inside.
        assert!(calls.load(Ordering::Relaxed) > 1_000);
        assert!(reinserted.load(Ordering::Relaxed) > 100);
        assert!(map.len() <= 64);
    });
}

type Probed = ConcurrentLruMap<u8, u8, mapguard::DefaultHashBuilder, ProbeHook>;

/// Records, for each departure, whether the key was still in the map when the hook ran.
#[derive(Default)]
struct Probe {
    map: OnceLock<Weak<Probed>>,
    seen: Mutex<Vec<(u8, RemovalCause, bool)>>,
}

/// The listener: shares the probe with the test.
struct ProbeHook(Arc<Probe>);

impl mapguard::hooks::ConcurrentListener<u8, u8> for ProbeHook {
    fn on_removal(&self, key: u8, _value: u8, cause: RemovalCause) {
        let map = self.0.map.get().and_then(Weak::upgrade);
        let present = map.is_some_and(|map| map.contains_key(&key));
        self.0.seen.lock().unwrap().push((key, cause, present));
    }
}

#[test]
fn a_hook_runs_after_the_shard_is_unlocked() {
    // One shard: if the hook ran under the lock, `contains_key` inside it would deadlock.
    within(WATCHDOG, || {
        let probe = Arc::new(Probe::default());
        let map: Arc<Probed> = Arc::new(
            ConcurrentLruMap::builder(1)
                .listener(ProbeHook(Arc::clone(&probe)))
                .build(),
        );
        assert_eq!(map.shard_count(), 1);
        probe.map.set(Arc::downgrade(&map)).unwrap();
        map.insert(1, 10);
        map.insert(2, 20); // evicts 1
        map.insert(2, 21); // replaces 2's value: key 2 is still present
        assert_eq!(
            *probe.seen.lock().unwrap(),
            [
                (1, RemovalCause::Evicted, false),
                (2, RemovalCause::Replaced, true)
            ]
        );
    });
}

#[test]
fn a_shared_map_ends_its_scope_from_any_thread() {
    within(WATCHDOG, || {
        let tracker = Tracker::new();
        let map = Arc::new(
            ConcurrentLruMap::builder(10_000)
                .lifetime(Lifetime::Request)
                .cleanup()
                .build(),
        );
        std::thread::scope(|s| {
            for thread in 0..4_u32 {
                let (map, tracker) = (&map, &tracker);
                s.spawn(move || {
                    for i in 0..500 {
                        map.insert(thread * 500 + i, tracker.track(i));
                    }
                });
            }
        });
        let ender = Arc::clone(&map);
        let released = std::thread::spawn(move || ender.end_scope(Lifetime::Request))
            .join()
            .unwrap();
        assert_eq!(released, 2_000);
        assert!(map.is_empty());
        assert_eq!(map.heap_bytes(), 0);
        assert_eq!(tracker.cleaned(RemovalCause::ScopeEnded), 2_000);
        assert_eq!(tracker.dropped(), 2_000);
        assert_eq!(map.end_scope(Lifetime::Session), 0);
        tracker.assert_exactly_once();
    });
}

#[test]
fn expiry_uses_the_injected_clock_in_every_shard() {
    let clock = MockClock::new();
    let tracker = Tracker::new();
    let map = ConcurrentLruMap::builder(1_000)
        .shards(4)
        .ttl(Duration::from_secs(10))
        .clock(clock.clone())
        .cleanup()
        .build();
    for key in 0..100 {
        map.insert(key, tracker.track(key));
    }
    clock.advance(Duration::from_secs(5));
    assert_eq!(map.update(&7, |v| **v), Some(7));
    clock.advance(Duration::from_secs(5));
    assert!(map.update(&7, |v| **v).is_none(), "expired on read");
    assert_eq!(tracker.cleaned(RemovalCause::Expired), 1);
    assert_eq!(map.maintain(), 99);
    assert_eq!(tracker.cleaned(RemovalCause::Expired), 100);
    assert!(map.is_empty());
    tracker.assert_exactly_once();
}

#[test]
fn the_registry_shows_one_entry_summing_the_shards() {
    // Room for all 400 keys while the threads run (so every `get` after an insert hits),
    // then a bound of 64 set from one thread evicts the rest.
    let mut map = ConcurrentLruMap::builder(1_000)
        .shards(4)
        .name("ConcurrentTest.registry")
        .lifetime(Lifetime::Session)
        .build();
    std::thread::scope(|s| {
        for thread in 0..4_u32 {
            let map = &map;
            s.spawn(move || {
                for i in 0..100 {
                    map.insert(thread * 100 + i, i);
                    let _ = map.get(&(thread * 100 + i));
                    let _ = map.get(&u32::MAX);
                }
            });
        }
    });
    map.set_max(64);
    assert!(map.len() <= 64);
    let ours: Vec<_> = registry::snapshot()
        .into_iter()
        .filter(|m| m.name == "ConcurrentTest.registry")
        .collect();
    assert_eq!(ours.len(), 1, "one registry entry, not one per shard");
    let report = &ours[0];
    assert_eq!(report.inserts, 400);
    assert_eq!(report.hits, 400);
    assert_eq!(report.misses, 400);
    assert_eq!(report.len, map.len() as u64);
    assert_eq!(report.removed(RemovalCause::Evicted), 400 - report.len);
    assert_eq!((report.max, report.lifetime), (64, Lifetime::Session));
    assert!(registry::report().contains("ConcurrentTest.registry"));
    assert_eq!(map.stats()[0].len, map.len());
    assert_eq!(
        ManagedCache::end_scope(&mut map, Lifetime::Session) as u64,
        report.len
    );
    drop(map);
    assert!(
        !registry::snapshot()
            .iter()
            .any(|m| m.name == "ConcurrentTest.registry")
    );
}

#[test]
fn get_or_insert_with_computes_each_key_once_across_threads() {
    within(WATCHDOG, || {
        let computed = AtomicUsize::new(0);
        let map = ConcurrentLruMap::builder(1_000).shards(4).build();
        std::thread::scope(|s| {
            for _ in 0..4 {
                let (map, computed) = (&map, &computed);
                s.spawn(move || {
                    for key in 0..500_u64 {
                        let value = map.get_or_insert_with(key, || {
                            computed.fetch_add(1, Ordering::Relaxed);
                            key * 2
                        });
                        assert_eq!(value, key * 2);
                    }
                });
            }
        });
        assert_eq!(computed.load(Ordering::Relaxed), 500);
        assert_eq!(map.len(), 500);
    });
}

#[test]
fn entries_that_left_before_a_closure_panicked_are_still_cleaned_once() {
    let tracker = Tracker::new();
    let map = ConcurrentLruMap::builder(10).cleanup().build();
    for key in 0..6_u8 {
        map.insert(key, tracker.track(key));
    }
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        map.retain(|key, _| {
            assert!(*key != 3, "the caller's closure panics at key 3");
            false
        });
    }));
    assert!(panicked.is_err());
    let removed_before_the_panic = 6 - map.len() as u64;
    assert!(removed_before_the_panic > 0 && removed_before_the_panic < 6);
    // Their hooks did not run yet (the panic came first); dropping the map runs them.
    assert_eq!(tracker.cleaned(RemovalCause::Explicit), 0);
    drop(map);
    assert_eq!(
        tracker.cleaned(RemovalCause::Explicit),
        removed_before_the_panic
    );
    assert_eq!(
        tracker.cleaned(RemovalCause::Dropped),
        6 - removed_before_the_panic
    );
    tracker.assert_exactly_once();
}

#[test]
fn after_a_closure_panicked_the_next_operation_runs_the_pending_hooks() {
    let tracker = Tracker::new();
    let map = ConcurrentLruMap::builder(10).cleanup().build();
    for key in 0..6_u8 {
        map.insert(key, tracker.track(key));
    }
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        map.retain(|key, _| {
            assert!(*key != 3, "the caller's closure panics at key 3");
            false
        });
    }));
    let removed_before_the_panic = 6 - map.len() as u64;
    map.insert(9, tracker.track(9)); // the same (only) shard
    assert_eq!(
        tracker.cleaned(RemovalCause::Explicit),
        removed_before_the_panic
    );
    drop(map);
    tracker.assert_exactly_once();
}
