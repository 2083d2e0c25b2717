//! Listeners with state in named types: `BoxedListener`/`SharedListener` fields built with
//! `on_removal_boxed`, each map counting into its owner's own state; and the attribute's
//! `on_remove` as a closure.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use mapguard::hooks::{BoxedListener, SharedListener};
use mapguard::{ConcurrentLruMap, DefaultHashBuilder, LruMap, RemovalCause};

/// A server whose map's hook counts into this server's own counter.
struct Server {
    keys: ConcurrentLruMap<u64, u64, DefaultHashBuilder, SharedListener<u64, u64>>,
    evicted: Arc<AtomicU64>,
}

impl Server {
    fn new(max: usize) -> Self {
        let evicted = Arc::new(AtomicU64::new(0));
        let count = Arc::clone(&evicted);
        let keys = ConcurrentLruMap::builder(max)
            .shards(4)
            .on_removal_boxed(move |_, _, cause| {
                if cause == RemovalCause::Evicted {
                    count.fetch_add(1, Ordering::Relaxed);
                }
            })
            .build();
        Self { keys, evicted }
    }
}

#[test]
fn each_servers_shared_listener_counts_its_own_map_from_eight_threads() {
    let (busy, idle) = (Server::new(100), Server::new(100));
    std::thread::scope(|s| {
        for thread in 0..8u64 {
            let busy = &busy;
            s.spawn(move || {
                for i in 0..1_000 {
                    busy.keys.insert(thread * 1_000 + i, i);
                }
            });
        }
    });
    idle.keys.insert(1, 1);
    assert_eq!(busy.keys.len(), 100);
    assert_eq!(busy.evicted.load(Ordering::Relaxed), 8_000 - 100);
    assert_eq!(
        idle.evicted.load(Ordering::Relaxed),
        0,
        "no global counter shared"
    );
}

#[test]
fn a_boxed_listener_field_sees_every_cause() {
    struct Jobs {
        map: LruMap<u8, char, DefaultHashBuilder, BoxedListener<u8, char>>,
        log: Arc<Mutex<Vec<(u8, RemovalCause)>>>,
    }
    let log = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&log);
    let mut jobs = Jobs {
        map: LruMap::builder(1)
            .on_removal_boxed(move |key, _, cause| seen.lock().unwrap().push((key, cause)))
            .build(),
        log,
    };
    jobs.map.insert(1, 'a');
    jobs.map.insert(1, 'b');
    jobs.map.insert(2, 'c');
    let Jobs { map, log } = jobs;
    drop(map);
    assert_eq!(
        *log.lock().unwrap(),
        [
            (1, RemovalCause::Replaced),
            (1, RemovalCause::Evicted),
            (2, RemovalCause::Dropped)
        ]
    );
}

static CLOSED: AtomicU64 = AtomicU64::new(0);

#[mapguard::managed]
#[derive(Default)]
struct Pool {
    #[managed_map(
        lifetime = "process",
        max = 1,
        on_remove = |_id: u32, _conn: String, cause| {
            if cause == mapguard::RemovalCause::Evicted {
                CLOSED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
    )]
    conns: HashMap<u32, String>,
    #[managed_map(lifetime = "process", concurrent, max = 1, on_remove = |_, _, _| {})]
    shared: HashMap<u32, String>,
}

#[test]
fn on_remove_takes_a_closure() {
    let mut pool = Pool::default();
    let before = CLOSED.load(Ordering::Relaxed);
    pool.conns.insert(1, String::from("a"));
    pool.conns.insert(2, String::from("b"));
    assert_eq!(CLOSED.load(Ordering::Relaxed), before + 1);
    pool.shared.insert(1, String::from("a"));
    pool.shared.insert(2, String::from("b"));
    assert_eq!(pool.shared.len(), 1);
}
