//! Model checking of the shard + hook hand-off with shuttle: the real `ConcurrentMap`, built
//! on shuttle's mutexes, under every interleaving of small scenarios (exhaustive DFS) and
//! many random ones of larger ones (PCT). Shuttle fails a run that deadlocks, so hooks that
//! lock the map again prove that no hook runs under a shard lock; the ledger checks that every
//! value left exactly once, with a cause its operation allows.
//!
//! The map runs on shuttle's mutexes only when built with `--cfg mapguard_shuttle`, so this
//! test is empty otherwise. Run it with
//! `RUSTFLAGS="--cfg mapguard_shuttle" CARGO_TARGET_DIR=target/shuttle cargo test -p mapguard-tests --test shuttle_model --features mapguard/shuttle`
//! (CI does).
#![cfg(mapguard_shuttle)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, Weak};

use mapguard::hooks::ConcurrentListener;
use mapguard::policy::{Lru, Reject};
use mapguard::scope::Scope;
use mapguard::testing::{Tracked, Tracker};
use mapguard::{ConcurrentMap, DefaultHashBuilder, Lifetime, RemovalCause};

type Map<P> = ConcurrentMap<u8, Tracked<u8>, P, DefaultHashBuilder, Hook<P>>;

/// Counts departures by cause, and locks the map again from inside every hook.
struct Hook<P: mapguard::policy::Policy> {
    map: Arc<OnceLock<Weak<Map<P>>>>,
    causes: Arc<[AtomicUsize; 8]>,
}

impl<P: mapguard::policy::Policy> ConcurrentListener<u8, Tracked<u8>> for Hook<P> {
    fn on_removal(&self, key: u8, value: Tracked<u8>, cause: RemovalCause) {
        assert_eq!(*value, key, "a value reached the hook under another key");
        self.causes[cause.index()].fetch_add(1, Ordering::Relaxed);
        if let Some(map) = self.map.get().and_then(Weak::upgrade) {
            // Would deadlock (and shuttle would fail the run) if a shard were still locked.
            let _ = map.len();
            let _ = map.contains_key(&key);
        }
    }
}

fn shared<P: mapguard::policy::Policy>(
    max: usize,
    shards: usize,
) -> (Arc<Map<P>>, Arc<[AtomicUsize; 8]>) {
    shared_with_lifetime(max, shards, Lifetime::Process)
}

/// `shared`, of `lifetime`.
fn shared_with_lifetime<P: mapguard::policy::Policy>(
    max: usize,
    shards: usize,
    lifetime: Lifetime,
) -> (Arc<Map<P>>, Arc<[AtomicUsize; 8]>) {
    let slot = Arc::new(OnceLock::new());
    let causes: Arc<[AtomicUsize; 8]> = Arc::new(Default::default());
    let map = Arc::new(
        ConcurrentMap::<u8, Tracked<u8>, P>::builder(max)
            .shards(shards)
            .lifetime(lifetime)
            .listener(Hook {
                map: Arc::clone(&slot),
                causes: Arc::clone(&causes),
            })
            .build(),
    );
    slot.set(Arc::downgrade(&map)).unwrap();
    (map, causes)
}

fn count(causes: &[AtomicUsize; 8], cause: RemovalCause) -> usize {
    causes[cause.index()].load(Ordering::Relaxed)
}

/// Two threads insert different keys into a one-entry map while the main thread clears it:
/// in every interleaving, each value is evicted, cleared or dropped with the map, once.
fn evict_clear() {
    let tracker = Tracker::new();
    let (map, causes) = shared::<Lru>(1, 1);
    let handles: Vec<_> = [1_u8, 2]
        .into_iter()
        .map(|key| {
            let (map, tracker) = (Arc::clone(&map), tracker.clone());
            shuttle::thread::spawn(move || map.insert(key, tracker.track(key)))
        })
        .collect();
    map.clear();
    for handle in handles {
        handle.join().unwrap();
    }
    let remaining = map.len();
    assert!(remaining <= 1);
    drop(map);
    let displaced = count(&causes, RemovalCause::Evicted);
    let cleared = count(&causes, RemovalCause::Cleared);
    assert_eq!(count(&causes, RemovalCause::Dropped), remaining);
    assert_eq!(displaced + cleared + remaining, 2, "{tracker:?}");
    assert_eq!(tracker.live(), 0);
    tracker.assert_exactly_once();
}

#[test]
fn first_20k_interleavings_of_evict_clear() {
    shuttle::check_dfs(evict_clear, Some(20_000));
}

/// Three threads of mixed operations on a two-shard map: handed-back and cleaned values
/// together account for every value.
fn mixed_operations() {
    let tracker = Tracker::new();
    let handed_back = Arc::new(AtomicUsize::new(0));
    let (map, causes) = shared::<Lru>(2, 2);
    let handles: Vec<_> = (0..3_u8)
        .map(|thread| {
            let (map, tracker, handed_back) =
                (Arc::clone(&map), tracker.clone(), Arc::clone(&handed_back));
            shuttle::thread::spawn(move || {
                for step in 0..3_u8 {
                    let key = (thread + step) % 4;
                    match (thread + step) % 3 {
                        0 => map.insert(key, tracker.track(key)),
                        1 => {
                            if map.replace(key, tracker.track(key)).is_some() {
                                handed_back.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        _ => {
                            if map.remove(&key).is_some() {
                                handed_back.fetch_add(1, Ordering::Relaxed);
                            }
                            map.discard(&((key + 1) % 4));
                        }
                    }
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    assert!(map.len() <= 2);
    drop(map);
    let cleaned: usize = causes.iter().map(|c| c.load(Ordering::Relaxed)).sum();
    assert_eq!(
        cleaned + handed_back.load(Ordering::Relaxed),
        tracker.created() as usize,
        "{tracker:?}"
    );
    tracker.assert_exactly_once();
}

#[test]
fn random_interleavings_of_mixed_operations() {
    shuttle::check_pct(mixed_operations, 2_000, 3);
    shuttle::check_random(mixed_operations, 2_000);
}

/// Two threads race for the last slot of a bounded map: exactly one wins, the other gets its
/// value back, and nothing is evicted.
fn bounded_race() {
    let tracker = Tracker::new();
    let (map, causes) = shared::<Reject>(1, 1);
    let handles: Vec<_> = [1_u8, 2]
        .into_iter()
        .map(|key| {
            let (map, tracker) = (Arc::clone(&map), tracker.clone());
            shuttle::thread::spawn(move || map.try_insert(key, tracker.track(key)).is_ok())
        })
        .collect();
    let wins = handles
        .into_iter()
        .map(|handle| usize::from(handle.join().unwrap()))
        .sum::<usize>();
    assert_eq!(wins, 1);
    assert_eq!(map.len(), 1);
    drop(map);
    assert_eq!(count(&causes, RemovalCause::Evicted), 0);
    assert_eq!(count(&causes, RemovalCause::Dropped), 1);
    tracker.assert_exactly_once();
}

#[test]
fn every_interleaving_of_a_bounded_race() {
    shuttle::check_dfs(bounded_race, None);
}

/// Three threads race for the last two places of a bounded map of two shards, which share
/// its bound: exactly two win, whichever shards their keys fall in, and the map never holds
/// more than two.
fn bounded_race_across_shards() {
    let tracker = Tracker::new();
    let (map, causes) = shared::<Reject>(2, 2);
    let handles: Vec<_> = [1_u8, 2, 3]
        .into_iter()
        .map(|key| {
            let (map, tracker) = (Arc::clone(&map), tracker.clone());
            shuttle::thread::spawn(move || {
                let won = map.try_insert(key, tracker.track(key)).is_ok();
                assert!(map.len() <= 2);
                won
            })
        })
        .collect();
    let wins = handles
        .into_iter()
        .map(|handle| usize::from(handle.join().unwrap()))
        .sum::<usize>();
    assert_eq!(wins, 2);
    assert_eq!(map.len(), 2);
    drop(map);
    assert_eq!(count(&causes, RemovalCause::Evicted), 0);
    assert_eq!(count(&causes, RemovalCause::Dropped), 2);
    tracker.assert_exactly_once();
}

#[test]
fn interleavings_of_a_bounded_race_across_shards() {
    shuttle::check_pct(bounded_race_across_shards, 3_000, 3);
    shuttle::check_random(bounded_race_across_shards, 3_000);
}

/// The weak-keyed concurrent map: one thread drops its key while another inserts into the
/// same shard and a third collects. In every interleaving the dead key's value leaves once,
/// with `Collected`, and the live one once, with `Dropped`, after the map is dropped.
fn weak_key_dies_across_threads() {
    use mapguard::ConcurrentWeakKeyMap;

    let tracker = Tracker::new();
    let map = Arc::new(
        ConcurrentWeakKeyMap::<std::sync::Weak<u8>, Tracked<u8>>::builder()
            .shards(1)
            .cleanup()
            .build(),
    );
    let dying = Arc::new(1_u8);
    map.insert(Arc::clone(&dying), tracker.track(1));
    let living = Arc::new(2_u8);
    let dropper = shuttle::thread::spawn(move || drop(dying));
    let inserter = {
        let (map, tracker, living) = (Arc::clone(&map), tracker.clone(), Arc::clone(&living));
        shuttle::thread::spawn(move || map.insert(living, tracker.track(2)))
    };
    let collector = {
        let map = Arc::clone(&map);
        shuttle::thread::spawn(move || map.maintain())
    };
    dropper.join().unwrap();
    inserter.join().unwrap();
    collector.join().unwrap();
    map.maintain();
    assert_eq!(
        tracker.cleanups_of(0),
        [RemovalCause::Collected],
        "{tracker:?}"
    );
    drop(map);
    assert_eq!(
        tracker.cleanups_of(1),
        [RemovalCause::Dropped],
        "{tracker:?}"
    );
    tracker.assert_exactly_once();
    drop(living);
}

#[test]
fn every_interleaving_of_a_weak_key_dying_across_threads() {
    shuttle::check_dfs(weak_key_dies_across_threads, Some(20_000));
}

/// One thread writes two entries under a request scope while another ends it, and a third
/// writes under a second scope that stays open: in every interleaving the ended scope's
/// entries leave once with `ScopeEnded` (none stays tagged with the ended scope, whether it
/// was written before or after the end), and the open scope's entry is untouched.
fn insert_racing_its_scopes_end() {
    let tracker = Tracker::new();
    let (map, causes) = shared_with_lifetime::<Lru>(8, 2, Lifetime::Request);
    let ending = Scope::new(Lifetime::Request);
    let open = Scope::new(Lifetime::Request);
    let writer = {
        let (map, tracker, scope) = (Arc::clone(&map), tracker.clone(), ending.clone());
        shuttle::thread::spawn(move || {
            let _current = scope.enter();
            map.insert(1, tracker.track(1));
            map.insert(2, tracker.track(2));
        })
    };
    let other = {
        let (map, tracker, scope) = (Arc::clone(&map), tracker.clone(), open.clone());
        shuttle::thread::spawn(move || {
            let _current = scope.enter();
            map.insert(3, tracker.track(3));
        })
    };
    let ender = shuttle::thread::spawn(move || {
        ending.end();
    });
    for handle in [writer, other, ender] {
        handle.join().unwrap();
    }
    map.maintain();
    assert_eq!(count(&causes, RemovalCause::ScopeEnded), 2, "{tracker:?}");
    assert!(map.contains_key(&3) && !map.contains_key(&1) && !map.contains_key(&2));
    assert_eq!(open.entries(), 1);
    drop(open);
    map.maintain();
    assert_eq!(count(&causes, RemovalCause::ScopeEnded), 3);
    assert!(map.is_empty());
    drop(map);
    assert_eq!(tracker.live(), 0);
    tracker.assert_exactly_once();
}

/// A scope ends and is dropped on one thread while another creates a scope, which takes the
/// first one's slot in the process's scope table when it comes after the drop, and writes
/// under it before or after the map has removed the first scope's entries. In every
/// interleaving the first scope's entries leave once with `ScopeEnded`, the new scope's stay and
/// count as its own, and nothing the map counts against the old scope reaches the new one.
fn a_scopes_slot_reused_while_its_entries_wait() {
    let tracker = Tracker::new();
    let (map, causes) = shared_with_lifetime::<Lru>(8, 2, Lifetime::Request);
    let first = Scope::new(Lifetime::Request);
    {
        let _current = first.enter();
        map.insert(1, tracker.track(1));
        map.insert(2, tracker.track(2));
    }
    let dropper = shuttle::thread::spawn(move || drop(first));
    let reuser = {
        let (map, tracker) = (Arc::clone(&map), tracker.clone());
        shuttle::thread::spawn(move || {
            let next = Scope::new(Lifetime::Request);
            {
                let _current = next.enter();
                map.insert(3, tracker.track(3));
                map.insert(4, tracker.track(4));
            }
            next
        })
    };
    dropper.join().unwrap();
    let next = reuser.join().unwrap();
    map.maintain();
    assert_eq!(count(&causes, RemovalCause::ScopeEnded), 2, "{tracker:?}");
    assert!(map.contains_key(&3) && map.contains_key(&4));
    assert!(!map.contains_key(&1) && !map.contains_key(&2));
    assert_eq!(next.entries(), 2);
    assert_eq!(next.end(), 2);
    map.maintain();
    assert_eq!(count(&causes, RemovalCause::ScopeEnded), 4);
    assert!(map.is_empty());
    drop(map);
    assert_eq!(tracker.live(), 0);
    tracker.assert_exactly_once();
}

/// A request writes two entries and ends itself while another thread writes to the same map
/// (each write first removes ended scopes' entries): in every interleaving `end()` returns 2,
/// `entries()` still says 2 afterwards, however far the other thread got with removing them,
/// and both leave once with `ScopeEnded`.
fn a_scopes_count_while_another_thread_removes_its_entries() {
    let tracker = Tracker::new();
    let (map, causes) = shared_with_lifetime::<Lru>(8, 1, Lifetime::Request);
    let request = Scope::new(Lifetime::Request);
    let ender = {
        let (map, tracker, request) = (Arc::clone(&map), tracker.clone(), request.clone());
        shuttle::thread::spawn(move || {
            let _current = request.enter();
            map.insert(1, tracker.track(1));
            map.insert(2, tracker.track(2));
            assert_eq!(request.end(), 2, "the count at the end");
            assert_eq!(request.entries(), 2, "the count after the end");
        })
    };
    let writer = {
        let (map, tracker) = (Arc::clone(&map), tracker.clone());
        shuttle::thread::spawn(move || {
            map.insert(3, tracker.track(3));
            map.insert(4, tracker.track(4));
        })
    };
    ender.join().unwrap();
    writer.join().unwrap();
    map.maintain();
    assert_eq!(count(&causes, RemovalCause::ScopeEnded), 2, "{tracker:?}");
    assert_eq!(request.entries(), 2);
    drop(map);
    tracker.assert_exactly_once();
}

// Random and PCT schedules for the scope scenarios: DFS replays a schedule prefix and needs
// each execution to take the same steps, but the process's scope table, end counter and ring
// of recent ends outlive an execution (a scope may reuse a slot one execution freed, or a map
// take the ring's path instead of the flags'), and shuttle 0.8.1's DFS scheduler then trips
// its own assertions (dfs.rs, execution.rs).
#[test]
fn random_schedules_of_an_insert_racing_its_scopes_end() {
    shuttle::check_random(insert_racing_its_scopes_end, 5_000);
}

#[test]
fn pct_schedules_of_an_insert_racing_its_scopes_end() {
    shuttle::check_pct(insert_racing_its_scopes_end, 2_000, 3);
}

#[test]
fn random_schedules_of_a_scopes_count_while_another_thread_removes_its_entries() {
    shuttle::check_random(
        a_scopes_count_while_another_thread_removes_its_entries,
        3_000,
    );
}

#[test]
fn pct_schedules_of_a_scopes_count_while_another_thread_removes_its_entries() {
    shuttle::check_pct(
        a_scopes_count_while_another_thread_removes_its_entries,
        2_000,
        3,
    );
}

#[test]
fn random_schedules_of_a_scopes_slot_reused_while_its_entries_wait() {
    shuttle::check_random(a_scopes_slot_reused_while_its_entries_wait, 3_000);
}

#[test]
fn pct_schedules_of_a_scopes_slot_reused_while_its_entries_wait() {
    shuttle::check_pct(a_scopes_slot_reused_while_its_entries_wait, 2_000, 3);
}

/// A one-shard map, and `callers` threads each asking it for key 1 with a loader that counts
/// its runs and returns 7.
#[allow(clippy::type_complexity, reason = "a test's handles, named once here")]
fn loading_callers(
    callers: usize,
) -> (
    Arc<mapguard::ConcurrentLruMap<u8, u8>>,
    Arc<AtomicUsize>,
    Vec<shuttle::thread::JoinHandle<u8>>,
) {
    let map = Arc::new(mapguard::ConcurrentLruMap::builder(8).shards(1).build());
    let loads = Arc::new(AtomicUsize::new(0));
    let handles = (0..callers)
        .map(|_| {
            let (map, loads) = (Arc::clone(&map), Arc::clone(&loads));
            shuttle::thread::spawn(move || {
                map.get_or_insert_with(1, || {
                    loads.fetch_add(1, Ordering::SeqCst);
                    7
                })
            })
        })
        .collect();
    (map, loads, handles)
}

/// Three threads ask for one absent key while a fourth writes another key of the same shard:
/// one load, every caller gets its value, and the writer is never blocked by the load.
fn single_flight() {
    let (map, loads, callers) = loading_callers(3);
    let writer = {
        let map = Arc::clone(&map);
        shuttle::thread::spawn(move || {
            map.insert(2, 20);
            map.get(&2)
        })
    };
    for caller in callers {
        assert_eq!(caller.join().unwrap(), 7);
    }
    assert_eq!(writer.join().unwrap(), Some(20));
    assert_eq!(
        loads.load(Ordering::SeqCst),
        1,
        "one load for three callers"
    );
}

/// A loader fails beside two good ones: nothing is stored by it, and the others get a value
/// one of them loaded, once. (A failed load is abandoned by the same drop as a panicking one,
/// which shuttle cannot run: it fails a run on any panic, caught or not.)
fn single_flight_with_a_failing_loader() {
    let (map, loads, callers) = loading_callers(2);
    let failing = {
        let map = Arc::clone(&map);
        shuttle::thread::spawn(move || map.try_get_or_insert_with(1, || Err("the load fails")))
    };
    for caller in callers {
        assert_eq!(caller.join().unwrap(), 7);
    }
    // It failed (nothing stored by it), or it came after a good load and found 7.
    assert!(matches!(
        failing.join().unwrap(),
        Err("the load fails") | Ok(7)
    ));
    assert_eq!(loads.load(Ordering::SeqCst), 1, "one good load");
    assert_eq!(map.get(&1), Some(7));
}

#[test]
fn every_interleaving_of_single_flight() {
    shuttle::check_dfs(single_flight, Some(20_000));
}

#[test]
fn random_and_pct_schedules_of_single_flight_with_a_failing_loader() {
    shuttle::check_random(single_flight_with_a_failing_loader, 3_000);
    shuttle::check_pct(single_flight_with_a_failing_loader, 2_000, 3);
}
