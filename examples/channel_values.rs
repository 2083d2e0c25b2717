//! Seed chapter 2: a map value that owns the sending side of a channel. Removing it from a
//! std map does not close anything while a clone of the sender lives elsewhere, so the worker
//! blocked on the receiving side waits forever. The managed map runs the value's `Cleanup`
//! as it leaves, which tells the worker to stop: every worker exits.
//!
//! `cargo run --release --example channel_values`; exits non-zero if a worker of the managed
//! map is left blocked.

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Sender, channel};
use std::thread::JoinHandle;

use mapguard::{Cleanup, LruMap, RemovalCause};

enum Message {
    Job(u32),
    Stop,
}

/// A session's worker: the value the maps hold.
struct Worker {
    jobs: Sender<Message>,
}

impl Cleanup for Worker {
    /// The seed's "close the channel": with clones of the sender elsewhere, dropping ours
    /// closes nothing, so say it.
    fn cleanup(&mut self, _cause: RemovalCause) {
        let _ = self.jobs.send(Message::Stop);
    }
}

const WORKERS: usize = 64;

/// Spawns a worker that serves jobs until told to stop or its channel closes; returns the
/// value for the map, a clone of the sender kept "elsewhere" (a router, a retry queue), and
/// the thread.
fn spawn(
    exited: &Arc<AtomicUsize>,
    waiting: &Arc<AtomicUsize>,
) -> (Worker, Sender<Message>, JoinHandle<()>) {
    let (tx, rx) = channel();
    let (exited, waiting) = (Arc::clone(exited), Arc::clone(waiting));
    let thread = std::thread::spawn(move || {
        waiting.fetch_add(1, Ordering::SeqCst);
        while let Ok(Message::Job(job)) = rx.recv() {
            std::hint::black_box(job);
        }
        exited.fetch_add(1, Ordering::SeqCst);
    });
    (Worker { jobs: tx.clone() }, tx, thread)
}

/// Runs one version (std map or managed map); returns (workers, still blocked after removal).
fn run(label: &str, managed: bool) -> (usize, usize) {
    let exited = Arc::new(AtomicUsize::new(0));
    let waiting = Arc::new(AtomicUsize::new(0));
    let mut elsewhere = Vec::new();
    let mut threads = Vec::new();
    let mut std_map = HashMap::new();
    let mut managed_map = LruMap::builder(WORKERS).cleanup().build();
    for session in 0..WORKERS {
        let (worker, clone, thread) = spawn(&exited, &waiting);
        let _ = worker.jobs.send(Message::Job(1));
        if managed {
            managed_map.insert(session, worker);
        } else {
            std_map.insert(session, worker);
        }
        elsewhere.push(clone);
        threads.push(thread);
    }
    while waiting.load(Ordering::SeqCst) < WORKERS {
        std::thread::yield_now(); // every worker is now serving its channel
    }
    // Every session ends: the sessions' workers are removed from the map.
    if managed {
        managed_map.clear();
    } else {
        std_map.clear();
    }
    // Join the workers that can finish; a blocked one never would, so count instead.
    let mut finished = 0;
    let mut blocked = Vec::new();
    for thread in threads {
        if managed {
            thread.join().expect("worker");
            finished += 1;
        } else {
            blocked.push(thread);
        }
    }
    // The std version's workers cannot have exited: their channels are open and nobody told
    // them to stop. Count what the exit counter says rather than assume it.
    let still_blocked = if managed {
        WORKERS - finished
    } else {
        WORKERS - exited.load(Ordering::SeqCst)
    };
    // Release the std version's workers so the example can end: drop the clones elsewhere.
    drop(elsewhere);
    for thread in blocked {
        thread.join().expect("worker");
    }
    println!("| {label} | {WORKERS} | {still_blocked} |");
    (WORKERS, still_blocked)
}

fn main() -> ExitCode {
    println!("{WORKERS} workers, each with a sender clone kept elsewhere; all sessions end\n");
    println!("| map | workers | still blocked after removal |");
    println!("|---|---:|---:|");
    let (_, std_blocked) = run("std HashMap (cleared)", false);
    let (_, managed_blocked) = run("mapguard LruMap (cleanup)", true);
    println!();
    if managed_blocked == 0 && std_blocked == WORKERS {
        println!(
            "ok: removing from the std map stranded every worker; the managed map stopped them all"
        );
        ExitCode::SUCCESS
    } else {
        eprintln!("FAILED: std blocked {std_blocked}, managed blocked {managed_blocked}");
        ExitCode::FAILURE
    }
}
