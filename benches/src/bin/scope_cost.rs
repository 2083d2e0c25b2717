//! What a request scope costs a concurrent map's insert, against the same insert outside any
//! scope, in one process (ratios; absolute times on shared machines are noise).
//!
//! `cargo run --release -p mapguard-bench --bin scope_cost [-- --entries N --reps R]`
//!
//! - `unscoped`: inserts into a `"request"` map with no current scope.
//! - `scoped`: the same inserts while a request scope is current (4 entries per scope, as a
//!   request writes), the scopes created outside the timed loop.
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

fn unscoped(entries: u64) -> Duration {
    timed(entries, |rows| {
        (0..entries / PER_REQUEST).for_each(|r| write(rows, r));
    })
}

fn scoped(entries: u64) -> Duration {
    let scopes: Vec<Scope> = (0..entries / PER_REQUEST)
        .map(|_| Scope::new(Lifetime::Request))
        .collect();
    timed(entries, |rows| {
        for (request, scope) in (0..).zip(&scopes) {
            let _current = scope.enter();
            write(rows, request);
        }
    })
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
