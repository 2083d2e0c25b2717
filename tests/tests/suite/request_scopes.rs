//! Scopes as values (`mapguard::scope::Scope`) on shared concurrent maps: each request's,
//! session's or batch's entries leave when it ends, exactly once, with `ScopeEnded`, and no
//! other scope's entries do — across threads, awaits, nesting, cancellation and panics.

use std::collections::HashMap;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use mapguard::scope::Scope;
use mapguard::{ConcurrentLruMap, ConcurrentWeakKeyMap, Lifetime, RemovalCause};

pub(crate) type Log = Arc<Mutex<Vec<(u64, RemovalCause)>>>;

/// A map of `lifetime` whose listener logs every (key, cause); one shard below 128 entries.
pub(crate) fn logged_map(
    max: usize,
    lifetime: Lifetime,
) -> (
    ConcurrentLruMap<
        u64,
        u64,
        mapguard::DefaultHashBuilder,
        impl mapguard::hooks::ConcurrentListener<u64, u64>,
    >,
    Log,
) {
    let log: Log = Arc::default();
    let sink = Arc::clone(&log);
    let map = ConcurrentLruMap::builder(max)
        .lifetime(lifetime)
        .on_removal(move |key: u64, _value: u64, cause| sink.lock().unwrap().push((key, cause)))
        .build();
    (map, log)
}

fn causes_of(log: &Log) -> HashMap<u64, Vec<RemovalCause>> {
    let mut by_key: HashMap<u64, Vec<RemovalCause>> = HashMap::new();
    for &(key, cause) in log.lock().unwrap().iter() {
        by_key.entry(key).or_default().push(cause);
    }
    by_key
}

#[test]
fn ending_a_scope_removes_exactly_its_entries() {
    let (map, log) = logged_map(1_000, Lifetime::Request);
    let first = Scope::new(Lifetime::Request);
    let second = Scope::new(Lifetime::Request);
    for key in 0..10 {
        let scope = if key % 2 == 0 { &first } else { &second };
        let _current = scope.enter();
        map.insert(key, key);
    }
    map.insert(100, 100); // no scope current: unscoped, stays
    assert_eq!((first.entries(), second.entries()), (5, 5));
    assert_eq!(first.end(), 5);
    assert_eq!(map.len(), 6); // the ended entries are gone from every figure at once
    assert_eq!(map.maintain(), 5); // and leave, through their hooks, here
    assert_eq!(map.len(), 6);
    for key in 0..10 {
        assert_eq!(map.contains_key(&key), key % 2 == 1, "key {key}");
    }
    let causes = causes_of(&log);
    assert_eq!(causes.len(), 5);
    for key in (0..10).step_by(2) {
        assert_eq!(causes[&key], [RemovalCause::ScopeEnded], "key {key}");
    }
    drop(second);
    assert_eq!(map.len(), 1); // the last handle went: the second request ended too
    assert!(map.contains_key(&100));
}

#[test]
fn thousands_of_requests_on_threads_leave_nothing_and_never_lose_each_others_entries() {
    const THREADS: u64 = 4;
    const REQUESTS: u64 = 500;
    const WRITES: u64 = 4;
    let (map, log) = logged_map(100_000, Lifetime::Request);
    std::thread::scope(|s| {
        for thread in 0..THREADS {
            let map = &map;
            s.spawn(move || {
                for request in 0..REQUESTS {
                    let scope = Scope::new(Lifetime::Request);
                    let base = (thread * REQUESTS + request) * WRITES;
                    {
                        let _current = scope.enter();
                        for key in base..base + WRITES {
                            map.insert(key, key);
                        }
                    }
                    // Other threads' requests ended meanwhile: ours are all still here.
                    for key in base..base + WRITES {
                        assert_eq!(map.get(&key), Some(key), "request lost its entry {key}");
                    }
                    drop(scope);
                }
            });
        }
    });
    map.maintain();
    assert_eq!(map.len(), 0);
    let causes = causes_of(&log);
    assert_eq!(causes.len() as u64, THREADS * REQUESTS * WRITES);
    assert!(
        causes.values().all(|c| *c == [RemovalCause::ScopeEnded]),
        "every entry left once, with its scope"
    );
}

#[test]
fn inserts_racing_their_scopes_end_leave_nothing_tagged_with_an_ended_scope() {
    const ROUNDS: u64 = 200;
    const WRITES: u64 = 50;
    let (map, log) = logged_map(100_000, Lifetime::Request);
    for round in 0..ROUNDS {
        let scope = Scope::new(Lifetime::Request);
        std::thread::scope(|s| {
            let writer = scope.clone();
            let map = &map;
            s.spawn(move || {
                let _current = writer.enter();
                for key in round * WRITES..(round + 1) * WRITES {
                    map.insert(key, key);
                }
            });
            s.spawn(|| scope.end());
        });
    }
    // Every scope ended; whichever side won each race, nothing of theirs may stay.
    assert_eq!(map.len(), 0);
    map.maintain();
    let causes = causes_of(&log);
    assert_eq!(causes.len() as u64, ROUNDS * WRITES);
    assert!(causes.values().all(|c| *c == [RemovalCause::ScopeEnded]));
}

#[test]
fn an_entry_written_again_under_another_scope_belongs_to_that_one() {
    let (map, log) = logged_map(100, Lifetime::Request);
    let first = Scope::new(Lifetime::Request);
    let second = Scope::new(Lifetime::Request);
    first.enter_and(|| map.insert(1, 10));
    second.enter_and(|| map.insert(1, 11)); // replaces: 10 leaves as Replaced
    assert_eq!((first.entries(), second.entries()), (0, 1));
    first.end();
    assert_eq!(map.get(&1), Some(11));
    second.end();
    assert_eq!(map.get(&1), None);
    assert_eq!(
        causes_of(&log)[&1],
        [RemovalCause::Replaced, RemovalCause::ScopeEnded]
    );
}

#[test]
fn an_entry_that_left_earlier_is_not_ended_again() {
    let (map, log) = logged_map(2, Lifetime::Request);
    let scope = Scope::new(Lifetime::Request);
    scope.enter_and(|| {
        map.insert(1, 1);
        map.insert(2, 2);
    });
    assert!(map.discard(&1));
    map.insert(3, 3); // unscoped
    map.insert(4, 4); // unscoped, evicts 2 (one shard of two)
    assert_eq!(scope.entries(), 0);
    assert_eq!(scope.end(), 0);
    map.maintain();
    let causes = causes_of(&log);
    assert_eq!(causes[&1], [RemovalCause::Explicit]);
    assert_eq!(causes[&2], [RemovalCause::Evicted]);
    assert_eq!(causes.len(), 2);
    assert_eq!(map.len(), 2);
}

#[test]
fn a_write_under_a_scope_that_already_ended_leaves_at_the_next_operation() {
    let (map, log) = logged_map(100, Lifetime::Request);
    let scope = Scope::new(Lifetime::Request);
    let current = scope.enter();
    map.insert(1, 1);
    assert_eq!(scope.end(), 1);
    map.insert(2, 2); // still current, but ended
    drop(current);
    assert_eq!(map.get(&2), None);
    assert_eq!(map.len(), 0);
    let causes = causes_of(&log);
    assert_eq!(causes[&1], [RemovalCause::ScopeEnded]);
    assert_eq!(causes[&2], [RemovalCause::ScopeEnded]);
}

#[test]
fn a_request_nested_in_a_session_ends_only_the_request_map_entries() {
    let (requests, _) = logged_map(100, Lifetime::Request);
    let (sessions, session_log) = logged_map(100, Lifetime::Session);
    let session = Scope::new(Lifetime::Session);
    let in_session = session.enter();
    for request in 0..3 {
        let scope = Scope::new(Lifetime::Request);
        scope.enter_and(|| {
            requests.insert(request, request);
            sessions.insert(request, request);
        });
    }
    requests.maintain();
    assert_eq!(requests.len(), 0);
    assert_eq!(sessions.len(), 3);
    drop(in_session);
    session.end();
    sessions.maintain();
    assert_eq!(sessions.len(), 0);
    assert_eq!(causes_of(&session_log).len(), 3);
}

#[test]
fn weak_keyed_concurrent_maps_end_their_scopes_too() {
    let map = ConcurrentWeakKeyMap::<std::sync::Weak<u64>, u64>::builder()
        .lifetime(Lifetime::Request)
        .build();
    let keys: Vec<Arc<u64>> = (0..4).map(Arc::new).collect();
    let scope = Scope::new(Lifetime::Request);
    scope.enter_and(|| {
        for key in &keys[..2] {
            map.insert(Arc::clone(key), **key);
        }
    });
    for key in &keys[2..] {
        map.insert(Arc::clone(key), **key);
    }
    assert_eq!(scope.end(), 2);
    assert_eq!(map.get(&0), None);
    assert_eq!(map.get(&1), None);
    assert_eq!(map.get(&2), Some(2));
    assert_eq!(map.len(), 2);
}

/// A future that is pending once, then ready: an await point.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

fn poll_once<F: Future + ?Sized>(future: Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn a_future_run_in_a_scope_writes_into_it_across_awaits_and_threads() {
    let (map, log) = logged_map(100, Lifetime::Request);
    let map = Arc::new(map);
    let scope = Scope::new(Lifetime::Request);
    let task = {
        let map = Arc::clone(&map);
        scope.run(async move {
            map.insert(1, 1);
            YieldOnce(false).await;
            map.insert(2, 2); // polled on another thread by now
        })
    };
    let mut task = Box::pin(task);
    assert!(poll_once(task.as_mut()).is_pending());
    let task = std::thread::spawn(move || {
        assert!(poll_once(task.as_mut()).is_ready());
        task
    })
    .join()
    .unwrap();
    assert_eq!(scope.entries(), 2);
    drop(task);
    drop(scope); // the last handle: the request ends
    assert_eq!(map.len(), 0);
    map.maintain(); // the hooks run at the map's next operation
    assert_eq!(causes_of(&log).len(), 2);
}

#[test]
fn dropping_a_future_mid_request_ends_its_scope() {
    let (map, log) = logged_map(100, Lifetime::Request);
    let map = Arc::new(map);
    let task = {
        let map = Arc::clone(&map);
        Scope::new(Lifetime::Request).run(async move {
            map.insert(7, 7);
            YieldOnce(false).await;
            unreachable!("cancelled before this");
        })
    };
    let mut task = Box::pin(task);
    assert!(poll_once(task.as_mut()).is_pending());
    assert_eq!(map.len(), 1);
    drop(task); // the client went away
    assert_eq!(map.len(), 0);
    map.maintain();
    assert_eq!(causes_of(&log)[&7], [RemovalCause::ScopeEnded]);
}

#[test]
fn a_panicking_request_ends_its_scope_while_unwinding() {
    let (map, log) = logged_map(100, Lifetime::Request);
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let scope = Scope::new(Lifetime::Request);
        let _current = scope.enter();
        map.insert(3, 3);
        panic!("handler failed");
    }));
    assert!(outcome.is_err());
    assert_eq!(map.len(), 0);
    map.maintain();
    assert_eq!(causes_of(&log)[&3], [RemovalCause::ScopeEnded]);
}

#[test]
fn process_maps_are_never_tagged() {
    let (map, log) = logged_map(100, Lifetime::Process);
    let scope = Scope::new(Lifetime::Request);
    scope.enter_and(|| map.insert(1, 1));
    assert_eq!(scope.end(), 0);
    assert_eq!(map.len(), 1);
    assert!(log.lock().unwrap().is_empty());
}

/// `scope.enter()` around a closure.
trait EnterAnd {
    fn enter_and<R>(&self, work: impl FnOnce() -> R) -> R;
}

impl EnterAnd for Scope {
    fn enter_and<R>(&self, work: impl FnOnce() -> R) -> R {
        let _current = self.enter();
        work()
    }
}

/// A map finds its ended scopes among the ends since it last looked, whether that is one end
/// among many scopes of its own, or so many ends ago that the recent ones no longer hold it
/// (then it looks at its own scopes' flags): each ended scope's entries leave once, with
/// `ScopeEnded`, and no live scope's entries do.
#[test]
fn a_map_finds_its_ended_scopes_among_few_recent_ends_or_after_very_many() {
    let (map, log) = logged_map(10_000, Lifetime::Request);
    let scopes: Vec<Scope> = (0..300).map(|_| Scope::new(Lifetime::Request)).collect();
    for (key, scope) in (0_u64..).zip(&scopes) {
        let _current = scope.enter();
        map.insert(key, key);
    }
    // One end among 300 scopes of the map: found among the recent ends.
    assert_eq!(scopes[7].end(), 1);
    assert!(!map.contains_key(&7));
    assert_eq!(
        causes_of(&log),
        HashMap::from([(7, vec![RemovalCause::ScopeEnded])])
    );

    // Then 3,000 ends of scopes the map never saw, after two more of its own: more than the
    // recent ends keep, so the map looks at its own scopes' flags.
    scopes[8].end();
    scopes[9].end();
    for _ in 0..3_000 {
        Scope::new(Lifetime::Request).end();
    }
    assert_eq!(map.len(), 297);
    // Each lookup is its shard's next operation: the hooks of what left there run.
    assert!(!map.contains_key(&8) && !map.contains_key(&9));
    let causes = causes_of(&log);
    assert_eq!(causes.len(), 3);
    assert!((7..10).all(|key| causes[&key] == [RemovalCause::ScopeEnded]));

    // Every other scope's entry is still there, and leaves with its own scope.
    assert!((0..7).chain(10..300).all(|key| map.contains_key(&key)));
    drop(scopes);
    assert_eq!(map.len(), 0);
    assert_eq!(
        map.maintain(),
        297,
        "the untouched shards' ended entries leave here"
    );
    let causes = causes_of(&log);
    assert_eq!(causes.len(), 300);
    assert!(causes.values().all(|c| c == &[RemovalCause::ScopeEnded]));
}
