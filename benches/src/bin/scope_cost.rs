//! What a request scope costs a concurrent map's insert, against the same insert outside any
//! scope, in one process (ratios; absolute times on shared machines are noise).
//!
//! `cargo run --release -p mapguard-bench --bin scope_cost [-- --entries N --reps R]`
//!
//! - `unscoped`: inserts into a `"request"` map with no current scope, in batches of 256
//!   requests of 4 entries (removed, untimed, between batches).
//! - `scoped`: the same inserts, each request's while its own scope is current (256 live
//!   scopes, as 256 requests in flight); the scopes are created, and ended, untimed.
//! - `request cycle`: per 4 inserts, a new scope entered, the inserts, the scope ended, and
//!   the next operation removing its entries (the whole life of a request's entries),
//!   against `unscoped` inserts plus removing them one by one.

use std::hint::black_box;
use std::time::{Duration, Instant};

use mapguard::scope::Scope;
use mapguard::{ConcurrentLruMap, Lifetime};

const PER_REQUEST: u64 = 4;

fn map(entries: u64) -> ConcurrentLruMap<u64, u64> {
    ConcurrentLruMap::builder(entries as usize * 2)
        .lifetime(Lifetime::Request)
        .build()
}

/// Times `work` on a new request map of room for `entries`.
fn timed(entries: u64, work: impl FnOnce(&ConcurrentLruMap<u64, u64>)) -> Duration {
    let rows = map(entries);
    let start = Instant::now();
    work(&rows);
    let elapsed = start.elapsed();
    black_box(rows.len());
    elapsed
}

/// Writes request `request`'s entries.
fn write(rows: &ConcurrentLruMap<u64, u64>, request: u64) {
    for row in 0..PER_REQUEST {
        let key = request * PER_REQUEST + row;
        rows.insert(key, key);
    }
}

/// Requests in flight at once: the live scopes a map holds entries of.
const IN_FLIGHT: u64 = 256;

/// Batches of `IN_FLIGHT` requests writing their entries, timed; between batches, untimed,
/// the batch's entries leave (with their scopes when `scoped`), so both maps stay the size a
/// service's request map is.
fn batches(entries: u64, scoped: bool) -> Duration {
    let rows = map(entries);
    let mut elapsed = Duration::ZERO;
    for batch in 0..entries / PER_REQUEST / IN_FLIGHT {
        let requests = batch * IN_FLIGHT..(batch + 1) * IN_FLIGHT;
        let batch_scopes: Vec<Scope> = requests
            .clone()
            .filter(|_| scoped)
            .map(|_| Scope::new(Lifetime::Request))
            .collect();
        let start = Instant::now();
        if scoped {
            for (request, scope) in requests.clone().zip(&batch_scopes) {
                let _current = scope.enter();
                write(&rows, request);
            }
        } else {
            requests.clone().for_each(|request| write(&rows, request));
        }
        elapsed += start.elapsed();
        drop(batch_scopes);
        for request in requests.filter(|_| !scoped) {
            for row in 0..PER_REQUEST {
                rows.discard(&(request * PER_REQUEST + row));
            }
        }
        rows.maintain();
        assert!(rows.is_empty(), "every request's entries left");
    }
    elapsed
}

fn unscoped(entries: u64) -> Duration {
    batches(entries, false)
}

fn scoped(entries: u64) -> Duration {
    batches(entries, true)
}

fn unscoped_cycle(entries: u64) -> Duration {
    timed(entries, |rows| {
        for request in 0..entries / PER_REQUEST {
            write(rows, request);
            for row in 0..PER_REQUEST {
                rows.discard(&(request * PER_REQUEST + row));
            }
        }
    })
}

fn scoped_cycle(entries: u64) -> Duration {
    timed(entries, |rows| {
        for request in 0..entries / PER_REQUEST {
            let scope = Scope::new(Lifetime::Request);
            let _current = scope.enter();
            write(rows, request);
        } // the guard, then the scope's last handle: the request ends
        rows.maintain();
        assert!(rows.is_empty(), "every request's entries left");
    })
}

fn best(reps: usize, run: impl Fn() -> Duration) -> Duration {
    (0..reps).map(|_| run()).min().unwrap_or_default()
}

fn main() {
    let mut entries: u64 = 200_000;
    let mut reps = 7;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().and_then(|v| v.parse::<u64>().ok());
        match (arg.as_str(), value) {
            ("--entries", Some(n)) if n >= PER_REQUEST => entries = n,
            ("--reps", Some(n)) if n > 0 => reps = usize::try_from(n).unwrap_or(usize::MAX),
            _ => {
                eprintln!("usage: scope_cost [--entries N (>= 4)] [--reps R (>= 1)]");
                std::process::exit(2);
            }
        }
    }
    let per_op = |d: Duration| d.as_nanos() as f64 / entries as f64;
    // Interleaved, so a slow spell of the machine hits both sides.
    let (mut a, mut b, mut c, mut d) = (Duration::MAX, Duration::MAX, Duration::MAX, Duration::MAX);
    for _ in 0..reps {
        a = a.min(best(1, || unscoped(entries)));
        b = b.min(best(1, || scoped(entries)));
        c = c.min(best(1, || unscoped_cycle(entries)));
        d = d.min(best(1, || scoped_cycle(entries)));
    }
    println!("| workload ({entries} entries, best of {reps}) | ns per entry | ratio |");
    println!("|---|---:|---:|");
    println!("| insert, no scope | {:.1} | 1.00 |", per_op(a));
    println!(
        "| insert in a request scope | {:.1} | {:.2} |",
        per_op(b),
        per_op(b) / per_op(a)
    );
    println!("| insert + discard, no scope | {:.1} | 1.00 |", per_op(c));
    println!(
        "| request cycle: scope, insert, end, removal | {:.1} | {:.2} |",
        per_op(d),
        per_op(d) / per_op(c)
    );
}
