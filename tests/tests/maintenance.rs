//! The maintenance list: which maps enrol, what `maintain_all` and the scheduled task clean
//! in a map nobody touches, and that a dropped map's entries still leave on the dropping
//! thread. Its own binary: `maintain_all` reaches every enrolled map of the process, and the
//! suite's maps have panicking hooks on purpose.

use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use mapguard::expiry::Expiring;
use mapguard::maintenance;
use mapguard::scope::Scope;
use mapguard::testing::{MockClock, Tracked, Tracker};
use mapguard::{ConcurrentLruMap, Lifetime, RemovalCause};

#[mapguard::managed]
#[derive(Default)]
struct Service {
    #[managed_map(lifetime = "request", max = 1_000, concurrent, cleanup)]
    rows: HashMap<u64, Tracked<u64>>,
    #[managed_map(lifetime = "process", max = 1_000, concurrent)]
    config: HashMap<String, String>,
    #[managed_map(lifetime = "process", max = 1_000, ttl = "30s", concurrent)]
    tokens: HashMap<String, u64>,
    #[managed_map(lifetime = "process", weak_keys, max = 1_000, concurrent, cleanup)]
    by_connection: HashMap<Weak<u64>, Tracked<u64>>,
}

#[mapguard::managed]
#[derive(Default)]
struct Local {
    #[managed_map(lifetime = "request", max = 10, concurrent)]
    rows: HashMap<u64, Rc<String>>,
}

#[mapguard::managed]
#[derive(Default)]
struct Generic<V: Send + 'static> {
    #[managed_map(lifetime = "request", max = 10, concurrent)]
    rows: HashMap<u64, V>,
}

/// The maintenance list is one per process and a test's `maintain_all` runs every enrolled
/// map, other tests' too (one of them maintains in a loop on a thread of its own; another
/// enrols a map whose hook panics): each test holds the list alone.
fn list_alone() -> std::sync::MutexGuard<'static, ()> {
    static LIST: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LIST.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[test]
fn managed_maps_enrol_when_they_have_something_to_clean_alone_and_can_cross_threads() {
    let _alone = list_alone();
    let service = Service::default();
    assert!(service.rows.is_enrolled_for_maintenance(), "a request map");
    assert!(service.tokens.is_enrolled_for_maintenance(), "a ttl map");
    assert!(
        service.by_connection.is_enrolled_for_maintenance(),
        "weak keys"
    );
    assert!(
        !service.config.is_enrolled_for_maintenance(),
        "a process map without ttl has nothing to clean while idle"
    );
    assert!(
        !Local::default().rows.is_enrolled_for_maintenance(),
        "`Rc` values cannot be maintained from another thread"
    );
    assert!(
        !Generic::<u64>::default().rows.is_enrolled_for_maintenance(),
        "a generic struct's maps are not enrolled (lookup cannot see lifetime bounds)"
    );
}

#[test]
fn an_ended_scopes_entries_leave_through_maintain_all_without_a_touch_of_the_map() {
    let _alone = list_alone();
    let tracker = Tracker::new();
    let service = Service::default();
    let (request, other) = (Scope::new(Lifetime::Request), Scope::new(Lifetime::Request));
    {
        let _in_request = request.enter();
        for key in 0..5 {
            service.rows.insert(key, tracker.track(key));
        }
    }
    {
        let _in_other = other.enter();
        service.rows.insert(9, tracker.track(9));
    }
    drop(request);
    assert_eq!(tracker.cleaned_total(), 0, "nothing touched the map yet");

    maintenance::maintain_all();
    assert_eq!(tracker.cleaned(RemovalCause::ScopeEnded), 5);
    assert_eq!(
        tracker.cleaned_total(),
        5,
        "the other request's entry stays"
    );
    assert_eq!(service.rows.len(), 1);
    drop(other);
    maintenance::maintain_all();
    assert_eq!(tracker.cleaned(RemovalCause::ScopeEnded), 6);
    drop(service);
    tracker.assert_exactly_once();
}

#[test]
fn expired_and_collected_entries_leave_through_maintain_all() {
    let _alone = list_alone();
    let clock = MockClock::new();
    let tracker = Tracker::new();
    let sessions: ConcurrentLruMap<u64, Tracked<u64>, _, _, Expiring> =
        ConcurrentLruMap::builder(100)
            .ttl(Duration::from_secs(60))
            .clock(clock.clone())
            .cleanup()
            .build();
    assert!(!sessions.is_enrolled_for_maintenance());
    sessions.enrol_for_maintenance();
    sessions.enrol_for_maintenance(); // once is enough; twice is harmless
    for key in 0..3 {
        sessions.insert(key, tracker.track(key));
    }
    clock.advance(Duration::from_secs(30));
    sessions.insert(3, tracker.track(3));
    clock.advance(Duration::from_secs(31));
    maintenance::maintain_all();
    assert_eq!(tracker.cleaned(RemovalCause::Expired), 3);
    assert_eq!(sessions.len(), 1);

    // Weak keys: a field of the attribute's, enrolled by itself; its hook sees the cause.
    let service = Service::default();
    let connection = Arc::new(7);
    service
        .by_connection
        .insert(Arc::clone(&connection), tracker.track(7));
    drop(connection);
    assert_eq!(service.by_connection.len(), 1, "not collected yet");
    maintenance::maintain_all();
    assert_eq!(service.by_connection.len(), 0, "collected by the list");
    assert_eq!(tracker.cleaned(RemovalCause::Collected), 1);
    drop(sessions);
    tracker.assert_exactly_once();
}

#[test]
fn a_map_dropped_while_maintain_all_holds_it_still_cleans_on_the_dropping_thread() {
    let _alone = list_alone();
    let stop = Arc::new(AtomicBool::new(false));
    let maintainer = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                maintenance::maintain_all();
            }
        })
    };
    for round in 0..300 {
        let tracker = Tracker::new();
        let map = ConcurrentLruMap::builder(64).shards(4).cleanup().build();
        map.enrol_for_maintenance();
        for key in 0..16_u64 {
            map.insert(key, tracker.track(key));
        }
        drop(map);
        assert_eq!(
            tracker.cleaned(RemovalCause::Dropped),
            16,
            "round {round}: every entry left by the time `drop` returned"
        );
        tracker.assert_exactly_once();
    }
    stop.store(true, Ordering::Relaxed);
    maintainer.join().unwrap();
}

#[test]
fn a_panicking_hook_of_one_map_stops_no_other_maps_maintenance() {
    let _alone = list_alone();
    let clock = MockClock::new();
    let tracker = Tracker::new();
    let panicking = ConcurrentLruMap::builder(8)
        .ttl(Duration::from_secs(1))
        .clock(clock.clone())
        .listener(|_key: u64, _value: u64, _cause| panic!("a hook that panics"))
        .build();
    let calm = ConcurrentLruMap::builder(8)
        .ttl(Duration::from_secs(1))
        .clock(clock.clone())
        .cleanup()
        .build();
    panicking.enrol_for_maintenance();
    calm.enrol_for_maintenance();
    panicking.insert(1, 1);
    calm.insert(1, tracker.track(1));
    clock.advance(Duration::from_secs(2));

    let outcome = std::panic::catch_unwind(maintenance::maintain_all);
    assert!(outcome.is_err(), "the hook's panic reaches the caller");
    assert_eq!(tracker.cleaned(RemovalCause::Expired), 1, "the other map");
    assert_eq!((panicking.len(), calm.len()), (0, 0));
    drop(calm);
    tracker.assert_exactly_once();
}

/// Yields to the runtime until `done` holds, at most `limit` times.
async fn yield_until(limit: usize, done: impl Fn() -> bool) -> bool {
    for _ in 0..limit {
        if done() {
            return true;
        }
        tokio::task::yield_now().await;
    }
    done()
}

#[tokio::test(start_paused = true)]
#[allow(
    clippy::await_holding_lock,
    reason = "no other task of this one-thread runtime takes the list; other tests wait on theirs"
)]
async fn the_scheduled_task_cleans_an_idle_map_each_period_until_dropped() {
    let _alone = list_alone();
    let clock = MockClock::new();
    let tracker = Tracker::new();
    let sessions = ConcurrentLruMap::builder(100)
        .ttl(Duration::from_secs(60))
        .clock(clock.clone())
        .cleanup()
        .build();
    sessions.enrol_for_maintenance();
    let service = Service::default();

    let task = maintenance::spawn(Duration::from_secs(5));
    sessions.insert(1, tracker.track(1));
    let request = Scope::new(Lifetime::Request);
    {
        let _in_request = request.enter();
        service.rows.insert(2, tracker.track(2));
    }
    clock.advance(Duration::from_secs(61));
    request.end();
    assert!(
        !yield_until(20, || tracker.cleaned_total() > 0).await,
        "the first run is one period away"
    );

    tokio::time::advance(Duration::from_secs(5)).await;
    assert!(
        yield_until(100, || tracker.cleaned_total() == 2).await,
        "one run cleans both maps, untouched"
    );
    assert_eq!(tracker.cleaned(RemovalCause::Expired), 1);
    assert_eq!(tracker.cleaned(RemovalCause::ScopeEnded), 1);
    assert!(task.is_running());

    task.stop();
    sessions.insert(3, tracker.track(3));
    clock.advance(Duration::from_secs(61));
    tokio::time::advance(Duration::from_secs(60)).await;
    assert!(
        !yield_until(20, || tracker.cleaned_total() > 2).await,
        "a stopped schedule cleans nothing"
    );
    drop((sessions, service));
    tracker.assert_exactly_once();
}
