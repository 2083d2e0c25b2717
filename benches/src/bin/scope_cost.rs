//! What a request scope costs a concurrent map's insert, against the same insert outside any
//! scope, in one process (ratios; absolute times on shared machines are noise).
//!
//! `cargo run --release -p mapguard-bench --bin scope_cost [-- --entries N --reps R]`
//!
//! - `unscoped`: inserts into a `"request"` map with no current scope, in rounds of 256
//!   requests of 4 entries; the round before stays in the map while a round writes, and
//!   leaves (removed, untimed) after it: a service's steady state.
//! - `scoped`: the same inserts, each request's while its own scope is current (256 to 512
//!   live scopes, as requests in flight); the scopes are created, and ended, untimed.
//! - `request cycle`: the whole life of a request's entries with 256 requests in flight:
//!   per request, a new scope entered, its 4 inserts, and the request 256 back ending (its
//!   scope dropped; the shards remove its entries at their next operations), against the same
//!   inserts with no scope and the request 256 back removing its rows one by one.

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

/// Rounds of `IN_FLIGHT` requests writing their entries, timed, while the previous round's
/// requests are still in flight; between rounds, untimed, the previous round's entries leave
/// (their scopes end, when `scoped`, and `maintain` takes them). So the map holds one to two
/// rounds at all times, as a busy service's request map does: no round starts from an empty
/// map, and no timed insert pays for growing tables the last round shrank.
fn batches(entries: u64, scoped: bool) -> Duration {
    let rows = map(entries);
    let mut elapsed = Duration::ZERO;
    let mut previous: Option<(std::ops::Range<u64>, Vec<Scope>)> = None;
    for round in 0..entries / PER_REQUEST / IN_FLIGHT {
        let requests = round * IN_FLIGHT..(round + 1) * IN_FLIGHT;
        let round_scopes: Vec<Scope> = requests
            .clone()
            .filter(|_| scoped)
            .map(|_| Scope::new(Lifetime::Request))
            .collect();
        let start = Instant::now();
        if scoped {
            for (request, scope) in requests.clone().zip(&round_scopes) {
                let _current = scope.enter();
                write(&rows, request);
            }
        } else {
            requests.clone().for_each(|request| write(&rows, request));
        }
        elapsed += start.elapsed();
        if let Some((done, scopes)) = previous.replace((requests, round_scopes)) {
            drop(scopes);
            for request in done.filter(|_| !scoped) {
                for row in 0..PER_REQUEST {
                    rows.discard(&(request * PER_REQUEST + row));
                }
            }
            rows.maintain();
            assert_eq!(
                rows.len() as u64,
                IN_FLIGHT * PER_REQUEST,
                "one round's entries left"
            );
        }
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
            // The request `IN_FLIGHT` back finishes: its rows are removed by hand.
            if let Some(done) = request.checked_sub(IN_FLIGHT) {
                for row in 0..PER_REQUEST {
                    rows.discard(&(done * PER_REQUEST + row));
                }
            }
        }
    })
}

fn scoped_cycle(entries: u64) -> Duration {
    timed(entries, |rows| {
        let mut in_flight = std::collections::VecDeque::new();
        for request in 0..entries / PER_REQUEST {
            let scope = Scope::new(Lifetime::Request);
            {
                let _current = scope.enter();
                write(rows, request);
            }
            in_flight.push_back(scope);
            // The request `IN_FLIGHT` back finishes: its scope's last handle drops, and
            // the shards holding its rows remove them at their next operation.
            if in_flight.len() as u64 > IN_FLIGHT {
                in_flight.pop_front();
            }
        }
        drop(in_flight);
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
    println!(
        "| insert + discard, no scope, 256 in flight | {:.1} | 1.00 |",
        per_op(c)
    );
    println!(
        "| request cycle, 256 in flight: scope, insert, end, removal | {:.1} | {:.2} |",
        per_op(d),
        per_op(d) / per_op(c)
    );
}
