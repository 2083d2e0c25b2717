//! A scope's counts are exact under concurrency: `Scope::end()` returns how many
//! entries carried the scope when it ended, and `entries()` keeps saying so afterwards, while
//! other threads' operations remove the ended scope's entries at once. (The shuttle model
//! explores the same race's interleavings: `shuttle_model`'s scope-count scenario.)

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};

use mapguard::scope::Scope;
use mapguard::{ConcurrentLruMap, Lifetime, RemovalCause};

const THREADS: u64 = 8;
const SCOPES: u64 = 500;

#[test]
fn end_and_entries_are_exact_while_other_threads_remove_the_ended_entries() {
    let ended = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&ended);
    let requests = Arc::new(
        ConcurrentLruMap::<u64, u64>::builder(100_000)
            .lifetime(Lifetime::Request)
            .on_removal(move |_key, _value, cause| {
                assert_eq!(cause, RemovalCause::ScopeEnded);
                seen.fetch_add(1, Ordering::Relaxed);
            })
            .build(),
    );
    let process = Arc::new(ConcurrentLruMap::<u64, u64>::new(100_000));
    let start = Arc::new(Barrier::new(THREADS as usize));
    let threads: Vec<_> = (0..THREADS)
        .map(|thread| {
            let (requests, process, start) = (
                Arc::clone(&requests),
                Arc::clone(&process),
                Arc::clone(&start),
            );
            std::thread::spawn(move || {
                start.wait();
                let mut wrong = Vec::new();
                for request in 0..SCOPES {
                    let key = (thread * SCOPES + request) * 4;
                    let scope = Scope::new(Lifetime::Request);
                    let inside = scope.enter();
                    requests.insert(key, 0);
                    process.insert(key, 0);
                    std::thread::yield_now();
                    requests.insert(key + 1, 0);
                    requests.insert(key + 2, 0);
                    // Half the requests end inside the scope, half after leaving it.
                    if request % 2 == 0 {
                        drop(inside);
                    }
                    let before = scope.entries();
                    let carried = scope.end();
                    let after = scope.entries();
                    if (before, carried, after) != (3, 3, 3) {
                        wrong.push((request, before, carried, after));
                    }
                }
                wrong
            })
        })
        .collect();
    for thread in threads {
        let wrong = thread.join().unwrap();
        assert!(
            wrong.is_empty(),
            "(request, entries before, end, entries after): {wrong:?}"
        );
    }
    requests.maintain();
    assert!(requests.is_empty());
    assert_eq!(
        ended.load(Ordering::Relaxed) as u64,
        THREADS * SCOPES * 3,
        "every entry left once, with its scope"
    );
}

#[test]
fn an_entry_removed_before_the_end_no_longer_counts_and_ending_twice_counts_nothing() {
    let map = ConcurrentLruMap::<u64, u64>::builder(100)
        .lifetime(Lifetime::Request)
        .build();
    let scope = Scope::new(Lifetime::Request);
    {
        let _inside = scope.enter();
        (0..3).for_each(|key| map.insert(key, key));
    }
    assert!(map.discard(&0));
    assert_eq!(scope.entries(), 2);
    assert_eq!(scope.end(), 2);
    assert_eq!(map.maintain(), 2);
    assert_eq!(scope.entries(), 2, "how many carried it when it ended");
    assert_eq!(scope.end(), 0, "ending an ended scope");
}

#[test]
fn writes_of_another_thread_still_inside_count_when_it_leaves() {
    let map = Arc::new(
        ConcurrentLruMap::<u64, u64>::builder(100)
            .lifetime(Lifetime::Request)
            .build(),
    );
    let scope = Scope::new(Lifetime::Request);
    let (wrote, written) = std::sync::mpsc::channel();
    let (ended, end_seen) = std::sync::mpsc::channel::<()>();
    let writer = {
        let (map, scope) = (Arc::clone(&map), scope.clone());
        std::thread::spawn(move || {
            let _inside = scope.enter();
            map.insert(1, 1);
            wrote.send(()).unwrap();
            end_seen.recv().unwrap();
            map.insert(2, 2); // after the end: it leaves with the scope too
        })
    };
    written.recv().unwrap();
    assert_eq!(
        scope.end(),
        0,
        "the writer has not left: its write is not counted yet"
    );
    ended.send(()).unwrap();
    writer.join().unwrap();
    assert_eq!(scope.entries(), 2, "both of its writes, once it left");
    // The writer's second write removed the first (ended) entry; the second goes now.
    assert_eq!(map.maintain(), 1);
    assert!(map.is_empty());
    assert_eq!(scope.entries(), 2);
}
