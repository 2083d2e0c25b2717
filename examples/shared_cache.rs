//! Seed chapters 1 and 5, shared between threads: a session table that worker threads fill
//! through `Arc<RwLock<HashMap>>` (Go's `sync.Map`, Java's `ConcurrentHashMap`) and never
//! empty, because the disconnect path forgets to delete. The std map keeps every session and
//! never closes one; the `concurrent` managed field is shared through `Arc` with no lock of
//! ours, stays within its bound, and closes every session exactly once — on eviction while
//! the threads run, then at the end of the session scope.
//!
//! `cargo run --release --example shared_cache`; exits non-zero if the bound breaks or a
//! session is closed twice or never.

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use mapguard::{Cleanup, Lifetime, RemovalCause, registry};

static OPENED: AtomicU64 = AtomicU64::new(0);
static CLOSED: AtomicU64 = AtomicU64::new(0);

/// A session holding a connection that must be closed once.
struct Session {
    user: u64,
    open: bool,
}

impl Session {
    fn open(user: u64) -> Self {
        OPENED.fetch_add(1, Ordering::Relaxed);
        Self { user, open: true }
    }
}

impl Cleanup for Session {
    fn cleanup(&mut self, _cause: RemovalCause) {
        assert!(self.open, "session of user {} closed twice", self.user);
        self.open = false;
        CLOSED.fetch_add(1, Ordering::Relaxed);
    }
}

#[mapguard::managed]
#[derive(Default)]
struct Gateway {
    #[managed_map(lifetime = "session", max = 2_000, concurrent, cleanup)]
    sessions: HashMap<u64, Session>,
}

const THREADS: u64 = 4;
const CONNECTS: u64 = 50_000;

fn main() -> ExitCode {
    // The leak: every connect inserts, the disconnect path never removes.
    let std_sessions: Arc<RwLock<HashMap<u64, Session>>> = Arc::default();
    std::thread::scope(|s| {
        for thread in 0..THREADS {
            let sessions = Arc::clone(&std_sessions);
            s.spawn(move || {
                for i in 0..CONNECTS {
                    let user = thread * CONNECTS + i;
                    sessions.write().unwrap().insert(user, Session::open(user));
                }
            });
        }
    });
    let std_len = std_sessions.read().unwrap().len();
    let std_closed = CLOSED.load(Ordering::Relaxed);
    drop(std_sessions); // dropped, never closed
    OPENED.store(0, Ordering::Relaxed);

    // The fix: the same workers, sharing the gateway through `Arc`, no lock of our own.
    let gateway = Arc::new(Gateway::default());
    std::thread::scope(|s| {
        for thread in 0..THREADS {
            let gateway = Arc::clone(&gateway);
            s.spawn(move || {
                for i in 0..CONNECTS {
                    let user = thread * CONNECTS + i;
                    gateway.sessions.insert(user, Session::open(user));
                }
            });
        }
    });
    let live = gateway.sessions.len();
    let shards = gateway.sessions.shard_count();
    let closed_while_running = CLOSED.load(Ordering::Relaxed);
    let report = registry::snapshot()
        .into_iter()
        .find(|m| m.name == "Gateway.sessions");
    let ended = gateway.sessions.end_scope(Lifetime::Session);
    let opened = OPENED.load(Ordering::Relaxed);
    let closed = CLOSED.load(Ordering::Relaxed);

    println!(
        "{THREADS} threads x {CONNECTS} connects, disconnects never delete\n\n\
         | map | sessions held | sessions closed |\n|---|---:|---:|\n\
         | Arc<RwLock<std HashMap>> | {std_len} | {std_closed} |\n\
         | #[managed_map(max = 2_000, concurrent, cleanup)] | {live} | {closed_while_running} (evicted) |"
    );
    if let Some(report) = &report {
        println!(
            "\nregistry: {} inserts={} evicted={} len={}/{} ({} shards)",
            report.name,
            report.inserts,
            report.removed(RemovalCause::Evicted),
            report.len,
            report.max,
            shards
        );
    }
    println!("end_scope(Session) closed the remaining {ended}; opened {opened}, closed {closed}");

    let bounded = live <= 2_000 + shards;
    if bounded && closed == opened && closed_while_running + ended as u64 == opened {
        println!("\nok: bounded while shared, and every session closed exactly once");
        ExitCode::SUCCESS
    } else {
        eprintln!("FAILED: live {live}, opened {opened}, closed {closed}");
        ExitCode::FAILURE
    }
}
