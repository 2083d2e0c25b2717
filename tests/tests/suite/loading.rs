//! Loading into a shared map: one load per absent key however many callers ask, no
//! lock held while it loads, failures and panics store nothing, and a cancelled async load
//! passes to a waiter. Timeouts here only stop a test that would otherwise hang; no result
//! depends on timing.

use std::convert::Infallible;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use mapguard::testing::block_on;
use mapguard::{CapacityError, ConcurrentBoundedMap, ConcurrentLruMap, Lifetime, RemovalCause};

use crate::request_scopes::logged_map;

/// How long a step may take before the test calls it a hang.
const HANG: Duration = Duration::from_secs(30);

/// Runs `work` on a thread and waits for it, failing (not hanging) if it never returns.
pub(crate) fn within_limit<T: Send + 'static>(
    what: &str,
    work: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || done.send(work()).unwrap());
    finished
        .recv_timeout(HANG)
        .unwrap_or_else(|_| panic!("{what} did not return: a lock is held while a load waits"))
}

/// A loader that counts its runs and waits for `release` before returning `value`.
fn gated(
    loads: &Arc<AtomicUsize>,
    release: &Arc<Barrier>,
    value: u64,
) -> impl FnOnce() -> u64 + Send + 'static {
    let (loads, release) = (Arc::clone(loads), Arc::clone(release));
    move || {
        loads.fetch_add(1, Ordering::SeqCst);
        release.wait();
        value
    }
}

#[test]
fn sixteen_threads_asking_for_one_absent_key_run_one_load_and_other_keys_stay_usable() {
    // One shard: the other key shares the loading key's shard.
    let map = Arc::new(ConcurrentLruMap::<u64, u64>::builder(64).shards(1).build());
    let loads = Arc::new(AtomicUsize::new(0));
    let release = Arc::new(Barrier::new(2));
    let start = Arc::new(Barrier::new(16));
    let callers: Vec<_> = (0..16)
        .map(|_| {
            let (map, start) = (Arc::clone(&map), Arc::clone(&start));
            let load = gated(&loads, &release, 7);
            std::thread::spawn(move || {
                start.wait();
                map.get_or_insert_with(1, load)
            })
        })
        .collect();
    // While the one load waits for `release`, the shard is free.
    let other = Arc::clone(&map);
    within_limit("a write and a read of another key", move || {
        other.insert(2, 20);
        assert_eq!(other.get(&2), Some(20));
    });
    release.wait();
    for caller in callers {
        assert_eq!(caller.join().unwrap(), 7);
    }
    assert_eq!(
        loads.load(Ordering::SeqCst),
        1,
        "one load for sixteen callers"
    );
    assert_eq!(map.get(&1), Some(7));
}

#[test]
fn a_loader_may_use_the_map_for_other_keys() {
    let map = Arc::new(ConcurrentLruMap::<u64, u64>::builder(64).shards(1).build());
    let inner = Arc::clone(&map);
    let value = within_limit("a loader that reads the map", move || {
        inner.get_or_insert_with(1, || inner.get_or_insert_with(2, || 20) + 1)
    });
    assert_eq!(value, 21);
    assert_eq!((map.get(&1), map.get(&2)), (Some(21), Some(20)));
}

#[test]
fn a_loader_asking_for_its_own_key_panics_instead_of_waiting_forever() {
    let map = Arc::new(ConcurrentLruMap::<u64, u64>::new(64));
    let inner = Arc::clone(&map);
    let outcome = within_limit("a loader that asks for its own key", move || {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            inner.get_or_insert_with(1, || inner.get_or_insert_with(1, || 2))
        }))
    });
    let message = *outcome.unwrap_err().downcast::<&str>().unwrap();
    assert!(message.contains("the key it is loading"), "{message}");
    assert!(!map.contains_key(&1), "nothing stored");
    // The abandoned load left no flight behind: the key loads on the next call.
    assert_eq!(map.get_or_insert_with(1, || 3), 3);
}

#[test]
fn a_panicking_load_stores_nothing_and_the_next_call_loads() {
    let (map, log) = logged_map(64, Lifetime::Process);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        map.get_or_insert_with(1, || panic!("the database is down"))
    }));
    assert!(outcome.is_err());
    assert!(!map.contains_key(&1));
    assert_eq!(map.get_or_insert_with(1, || 10), 10);
    drop(map);
    assert_eq!(*log.lock().unwrap(), [(1, RemovalCause::Dropped)]);
}

#[test]
fn a_failing_load_returns_its_error_stores_nothing_and_a_waiter_loads_in_its_place() {
    let map = Arc::new(ConcurrentLruMap::<u64, u64>::builder(64).shards(1).build());
    let (started, loading) = mpsc::channel();
    let (fail, failing) = mpsc::channel::<()>();
    let first = {
        let map = Arc::clone(&map);
        std::thread::spawn(move || {
            map.try_get_or_insert_with(1, || {
                started.send(()).unwrap();
                failing.recv().unwrap();
                Err("no row 1")
            })
        })
    };
    loading.recv().unwrap();
    // The second caller waits for the first load or, if it comes after it, loads at once:
    // either way its own loader runs once the first has failed.
    let second = {
        let map = Arc::clone(&map);
        std::thread::spawn(move || map.try_get_or_insert_with(1, || Ok::<u64, &str>(11)))
    };
    fail.send(()).unwrap();
    assert_eq!(first.join().unwrap(), Err("no row 1"));
    assert_eq!(second.join().unwrap(), Ok(11));
    assert_eq!(map.get(&1), Some(11));
}

#[test]
fn a_bounded_map_hands_a_load_back_when_the_shard_is_full() {
    #[derive(Debug, PartialEq)]
    enum LoadError {
        Full(u64),
    }
    impl From<CapacityError<u64, String>> for LoadError {
        fn from(full: CapacityError<u64, String>) -> Self {
            Self::Full(full.into_inner().0)
        }
    }
    let map = ConcurrentBoundedMap::<u64, String>::builder(1)
        .shards(1)
        .build();
    assert_eq!(
        map.get_or_insert_with(1, || String::from("one")),
        Ok(String::from("one"))
    );
    let rejected = map
        .get_or_insert_with(2, || String::from("two"))
        .unwrap_err();
    assert_eq!(rejected.into_inner(), (2, String::from("two")));
    // A present key is found, full or not.
    assert_eq!(
        map.get_or_insert_with(1, || unreachable!()),
        Ok(String::from("one"))
    );
    // The rejection reaches a fallible loader's error type through `From`.
    let full = map.try_get_or_insert_with(3, || Ok::<_, LoadError>(String::from("three")));
    assert_eq!(full, Err(LoadError::Full(3)));
}

#[test]
fn a_loaded_value_the_bound_forces_out_leaves_through_the_cleanup_path() {
    let (map, log) = logged_map(1, Lifetime::Process);
    assert_eq!(map.get_or_insert_with(1, || 10), 10);
    assert_eq!(map.get_or_insert_with(2, || 20), 20);
    assert_eq!(*log.lock().unwrap(), [(1, RemovalCause::Evicted)]);
    drop(map);
    assert_eq!(log.lock().unwrap()[1..], [(2, RemovalCause::Dropped)]);
}

/// Polls `future` once with a waker that records whether it was woken.
pub(crate) fn poll_once<F: Future>(
    future: std::pin::Pin<&mut F>,
    woken: &Arc<AtomicUsize>,
) -> Poll<F::Output> {
    struct Count(Arc<AtomicUsize>);
    impl std::task::Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let waker = Waker::from(Arc::new(Count(Arc::clone(woken))));
    future.poll(&mut Context::from_waker(&waker))
}

#[test]
fn cancelling_the_loading_task_hands_the_load_to_a_waiter() {
    let map = ConcurrentLruMap::<u64, u64>::new(64);
    let loads = AtomicUsize::new(0);
    let woken = Arc::new(AtomicUsize::new(0));
    // The first task starts the load and waits on something that never comes.
    let mut first = Box::pin(map.get_or_insert_async(1, async {
        loads.fetch_add(1, Ordering::SeqCst);
        std::future::pending::<u64>().await
    }));
    assert!(poll_once(first.as_mut(), &woken).is_pending());
    // The second joins the first's load.
    let mut second = pin!(map.get_or_insert_async(1, async {
        loads.fetch_add(1, Ordering::SeqCst);
        42
    }));
    assert!(poll_once(second.as_mut(), &woken).is_pending());
    assert_eq!(
        loads.load(Ordering::SeqCst),
        1,
        "the second waits, it does not load"
    );
    // Cancelling the first wakes the second, which loads in its place.
    drop(first);
    assert_eq!(woken.load(Ordering::SeqCst), 1);
    assert_eq!(poll_once(second.as_mut(), &woken), Poll::Ready(42));
    assert_eq!(loads.load(Ordering::SeqCst), 2);
    assert_eq!(map.get(&1), Some(42));
}

#[test]
fn a_waiting_task_gets_the_loaded_value_when_it_is_stored() {
    let map = ConcurrentLruMap::<u64, u64>::new(64);
    let woken = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = tokio::sync::oneshot::channel::<u64>();
    let mut first = pin!(map.get_or_insert_async(1, async { rx.await.unwrap() }));
    assert!(poll_once(first.as_mut(), &woken).is_pending());
    let mut second =
        pin!(map.get_or_insert_async(1, async { unreachable!("a waiter does not load") }));
    assert!(poll_once(second.as_mut(), &woken).is_pending());
    tx.send(5).unwrap();
    assert_eq!(poll_once(first.as_mut(), &woken), Poll::Ready(5));
    assert!(woken.load(Ordering::SeqCst) >= 1, "the waiter was woken");
    assert_eq!(poll_once(second.as_mut(), &woken), Poll::Ready(5));
}

#[test]
fn sixty_four_tokio_tasks_run_one_async_load() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    let map = Arc::new(ConcurrentLruMap::<u64, String>::new(1_000));
    let loads = Arc::new(AtomicUsize::new(0));
    let release = Arc::new(tokio::sync::Notify::new());
    let values = runtime.block_on(async {
        let tasks: Vec<_> = (0..64)
            .map(|_| {
                let (map, loads, release) =
                    (Arc::clone(&map), Arc::clone(&loads), Arc::clone(&release));
                tokio::spawn(async move {
                    map.get_or_insert_async(9, async {
                        loads.fetch_add(1, Ordering::SeqCst);
                        release.notified().await;
                        String::from("loaded once")
                    })
                    .await
                })
            })
            .collect();
        // The load waits until every task was spawned; `notify_one` keeps a permit if the
        // loader has not reached `notified` yet.
        release.notify_one();
        let mut values = Vec::new();
        for task in tasks {
            values.push(
                tokio::time::timeout(HANG, task)
                    .await
                    .expect("a task hung")
                    .unwrap(),
            );
        }
        values
    });
    assert!(values.iter().all(|value| value == "loaded once"));
    assert_eq!(loads.load(Ordering::SeqCst), 1);
}

#[test]
fn the_async_forms_fail_and_reject_as_the_blocking_ones_do() {
    let map = ConcurrentLruMap::<u64, u64>::new(8);
    let failed = block_on(map.try_get_or_insert_async(1, async { Err("down") }));
    assert_eq!(failed, Err("down"));
    assert!(!map.contains_key(&1));
    assert_eq!(
        block_on(map.try_get_or_insert_async(1, async { Ok::<u64, Infallible>(3) })),
        Ok(3)
    );
    let bounded = ConcurrentBoundedMap::<u64, u64>::builder(1)
        .shards(1)
        .build();
    assert_eq!(block_on(bounded.get_or_insert_async(1, async { 1 })), Ok(1));
    let rejected = block_on(bounded.get_or_insert_async(2, async { 2 })).unwrap_err();
    assert_eq!(rejected.into_inner(), (2, 2));
}

/// Threads and tasks mixing loads, writes and discards over a few keys: every value that went
/// in (loaded or inserted) leaves exactly once, and every load returned a value of its key.
#[test]
fn loads_writes_and_discards_from_threads_and_tasks_leave_every_value_exactly_once() {
    let stored = Arc::new(AtomicUsize::new(0));
    let left = Arc::new(AtomicUsize::new(0));
    let map = {
        let left = Arc::clone(&left);
        Arc::new(
            ConcurrentLruMap::builder(16)
                .shards(2)
                .listener(move |key: u64, value: u64, _cause| {
                    assert_eq!(value / 1_000, key, "a value left under another key");
                    left.fetch_add(1, Ordering::SeqCst);
                })
                .build(),
        )
    };
    let step = |map: &ConcurrentLruMap<u64, u64, _, _>, stored: &AtomicUsize, i: u64| {
        let key = i % 24;
        match i % 5 {
            0 => {
                map.insert(key, key * 1_000 + 1);
                stored.fetch_add(1, Ordering::SeqCst);
            }
            1 => {
                map.discard(&key);
            }
            _ => {
                let value = map.get_or_insert_with(key, || {
                    stored.fetch_add(1, Ordering::SeqCst);
                    key * 1_000
                });
                assert_eq!(value / 1_000, key);
            }
        }
    };
    let threads: Vec<_> = (0..8_u64)
        .map(|t| {
            let (map, stored) = (Arc::clone(&map), Arc::clone(&stored));
            std::thread::spawn(move || (0..2_000).for_each(|i| step(&map, &stored, i * 8 + t)))
        })
        .collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    runtime.block_on(async {
        let tasks: Vec<_> = (0..32_u64)
            .map(|t| {
                let (map, stored) = (Arc::clone(&map), Arc::clone(&stored));
                tokio::spawn(async move {
                    for i in 0..200 {
                        let key = (i * 32 + t) % 24;
                        let value = map
                            .get_or_insert_async(key, async {
                                stored.fetch_add(1, Ordering::SeqCst);
                                tokio::task::yield_now().await;
                                key * 1_000
                            })
                            .await;
                        assert_eq!(value / 1_000, key);
                        if i % 7 == 0 {
                            map.discard(&key);
                        }
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
    for thread in threads {
        thread.join().unwrap();
    }
    drop(Arc::into_inner(map).expect("every clone was dropped"));
    assert_eq!(left.load(Ordering::SeqCst), stored.load(Ordering::SeqCst));
}
