//! The main example: a simulated service whose state holds a session cache and a table of
//! open connections. A plain `HashMap` version of the same state grows with every new
//! client and keeps its memory after the clients leave; the managed version stays bounded,
//! closes every connection it lets go of, and gives memory back.
//!
//! Run with `cargo run --release --example service`. Exits non-zero if the fix does not hold.

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use mapguard::{BoundedMap, Cleanup, DefaultHashBuilder, LruMap, RemovalCause, WithCleanup};

/// A client connection: closing it is what matters, and what a plain map never does.
struct Connection {
    open: bool,
    closed_total: Arc<AtomicU64>,
}

impl Cleanup for Connection {
    fn cleanup(&mut self, _cause: RemovalCause) {
        if std::mem::take(&mut self.open) {
            self.closed_total.fetch_add(1, Ordering::Relaxed);
        }
    }
}

struct Session {
    #[allow(dead_code, reason = "payload standing in for real session data")]
    data: Vec<u8>,
}

struct ManagedState {
    sessions: LruMap<u64, Session>,
    connections: BoundedMap<u64, Connection, DefaultHashBuilder, WithCleanup>,
}

struct PlainState {
    sessions: HashMap<u64, Session>,
    connections: HashMap<u64, Connection>,
}

const CLIENTS: u64 = 200_000;
const SESSION_MAX: usize = 10_000;
const CONNECTION_MAX: usize = 1_000;

fn main() -> ExitCode {
    let closed = Arc::new(AtomicU64::new(0));
    let connect = |closed: &Arc<AtomicU64>| Connection {
        open: true,
        closed_total: Arc::clone(closed),
    };

    // Plain maps: every client leaves a session behind; connections are removed, not closed.
    let mut plain = PlainState {
        sessions: HashMap::new(),
        connections: HashMap::new(),
    };
    let plain_closed = Arc::new(AtomicU64::new(0));
    for client in 0..CLIENTS {
        plain.sessions.insert(client, Session { data: vec![0; 64] });
        plain.connections.insert(client, connect(&plain_closed));
        if client >= CONNECTION_MAX as u64 {
            plain.connections.remove(&(client - CONNECTION_MAX as u64));
        }
    }
    let plain_sessions = plain.sessions.len();

    // Managed maps: bounded sessions, connections closed as they leave.
    let mut managed = ManagedState {
        sessions: LruMap::new(SESSION_MAX),
        connections: BoundedMap::builder(CONNECTION_MAX).cleanup().build(),
    };
    let mut rejected = 0_u64;
    for client in 0..CLIENTS {
        managed
            .sessions
            .insert(client, Session { data: vec![0; 64] });
        if client >= CONNECTION_MAX as u64 {
            managed
                .connections
                .discard(&(client - CONNECTION_MAX as u64));
        }
        if let Err(full) = managed.connections.try_insert(client, connect(&closed)) {
            rejected += 1;
            drop(full.into_inner());
        }
    }
    let open_before_shutdown = managed.connections.len() as u64;
    let bytes_while_serving = managed.sessions.heap_bytes() + managed.connections.heap_bytes();
    managed.connections.clear();
    let closed_total = closed.load(Ordering::Relaxed);

    println!("{CLIENTS} clients served");
    println!();
    println!("| state | sessions held | connections closed when they left the map |");
    println!("|---|---:|---:|");
    println!(
        "| std HashMap | {plain_sessions} | {} of {} removed |",
        plain_closed.load(Ordering::Relaxed),
        CLIENTS - CONNECTION_MAX as u64
    );
    println!(
        "| mapguard | {} (max {SESSION_MAX}) | {closed_total} of {CLIENTS} |",
        managed.sessions.len(),
    );
    println!();
    println!(
        "managed maps held {bytes_while_serving} heap bytes while serving; \
         {open_before_shutdown} connections were open at shutdown and closed by clear(), \
         which left {} bytes allocated",
        managed.connections.heap_bytes()
    );

    let holds = managed.sessions.len() <= SESSION_MAX
        && closed_total == CLIENTS
        && rejected == 0
        && managed.connections.heap_bytes() == 0;
    if holds {
        println!("ok: bounded, every connection closed exactly once, memory returned");
        ExitCode::SUCCESS
    } else {
        eprintln!("FAILED: the managed state leaked");
        ExitCode::FAILURE
    }
}
