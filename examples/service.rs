//! The main example: a small simulated service whose state is a `#[mapguard::managed]`
//! struct of request-, session- and process-scoped maps. It serves many requests, each under
//! a scope guard, beside a plain-`HashMap` version of the same state. Then it prints the
//! registry's report and its leak suspects — and one map is leaky on purpose: a
//! request-scoped audit map whose scope the code forgets to end.
//!
//! The service runs on simulated time (30 ms a request, on a `MockClock` given to the
//! registry). Like a real deployment, nothing in it asks about leaks while it runs: a
//! Prometheus scraper renders the registry every 15 s, and an operator calls
//! `leak_suspects()` once at the end. The scrapes alone are the history that catches the
//! growing map, with its growth rate.
//!
//! Run with `cargo run --release --example service`. Exits non-zero if the managed state
//! leaks, or if the leak suspects miss the leaky map.

use std::cell::Cell;
use std::collections::HashMap;
use std::process::ExitCode;
use std::rc::Rc;

use std::time::Duration;

use mapguard::registry::Suspicion;
use mapguard::testing::MockClock;
use mapguard::{Cleanup, Lifetime, ManagedCache, RemovalCause, registry};

/// A client connection: what matters is that it is closed when it leaves.
#[derive(Default)]
struct Connection {
    closed: Rc<Cell<u64>>,
}

impl Cleanup for Connection {
    fn cleanup(&mut self, _cause: RemovalCause) {
        self.closed.set(self.closed.get() + 1);
    }
}

#[mapguard::managed]
#[derive(Default)]
struct Service {
    /// Scratch data of the request being served.
    #[managed_map(lifetime = "request", max = 1_000)]
    scratch: HashMap<u64, Vec<u8>>,
    /// One open connection per session; closed when the session ends or is evicted.
    #[managed_map(lifetime = "session", max = 5_000, cleanup)]
    connections: HashMap<u64, Connection>,
    /// Rendered pages, shared by everyone.
    #[managed_map(lifetime = "process", max = 400, ttl = "10m")]
    pages: HashMap<String, String>,
}

/// The deliberate leak: request-scoped, but nothing ever ends its scope.
#[mapguard::managed]
#[derive(Default)]
struct Audit {
    #[managed_map(lifetime = "request", max = 100_000)]
    trail: HashMap<u64, String>,
}

/// The same state with std maps, as it is usually written.
#[derive(Default)]
struct PlainService {
    scratch: HashMap<u64, Vec<u8>>,
    connections: HashMap<u64, Connection>,
    pages: HashMap<String, String>,
}

const REQUESTS: u64 = 50_000;
const SESSIONS: u64 = 5_000;
/// Simulated time a request takes.
const REQUEST_TIME: Duration = Duration::from_millis(30);
/// How often the scraper renders the registry: every 500 requests.
const SCRAPE_EVERY: u64 = 15_000 / 30;

fn main() -> ExitCode {
    let clock = MockClock::new();
    registry::set_clock(clock.clone());
    let closed = Rc::new(Cell::new(0));
    let mut service = Service::default();
    let mut audit = Audit::default();
    let mut plain = PlainService::default();
    let plain_closed = Rc::new(Cell::new(0));
    let mut scrapes = 0;

    for request in 0..REQUESTS {
        let session = request % SESSIONS;
        // Managed: the scope guard ends the request scope when it drops, even on a panic.
        {
            let mut scope = service.scope(Lifetime::Request);
            scope.scratch.insert(request, vec![0; 256]);
            if scope.connections.get_mut(&session).is_none() {
                let connection = Connection {
                    closed: Rc::clone(&closed),
                };
                scope.connections.insert(session, connection);
            }
            let page = format!("/page/{}", request % 300);
            if scope.pages.get(&page).is_none() {
                scope
                    .pages
                    .insert(page.clone(), format!("<html>{page}</html>"));
            }
        }
        audit
            .trail
            .insert(request, format!("request {request} served")); // never cleared
        if request % 10 == 9 {
            // Session ends for a few clients: the managed map closes their connections.
            service.connections.discard(&(session / 2));
        }
        clock.advance(REQUEST_TIME);
        if request % SCRAPE_EVERY == 0 {
            let _exposition = registry::render_prometheus(); // what the scraper does, no more
            scrapes += 1;
        }

        // Plain: the same work, as usually written.
        plain.scratch.insert(request, vec![0; 256]); // nobody removes request data
        plain
            .connections
            .entry(session)
            .or_insert_with(|| Connection {
                closed: Rc::clone(&plain_closed),
            });
        if request % 10 == 9 {
            plain.connections.remove(&(session / 2)); // removed, never closed
        }
        let page = format!("/page/{}", request % 300);
        plain
            .pages
            .entry(page.clone())
            .or_insert_with(|| format!("<html>{page}</html>"));
    }

    println!(
        "{REQUESTS} requests served by each version in {:?} of simulated time, {scrapes} scrapes\n",
        REQUEST_TIME * REQUESTS as u32
    );
    print_comparison(&plain, &service, plain_closed.get(), closed.get());
    println!();
    println!("registry::report():\n{}", registry::report());

    let suspects = registry::leak_suspects(); // the one call: the scrapes built the history
    println!("registry::leak_suspects():");
    for suspect in &suspects {
        println!(
            "  {} ({}): {:?}",
            suspect.map.name, suspect.map.site, suspect.suspicion
        );
    }

    let found_leak = suspects.iter().any(|s| {
        s.map.name == "Audit.trail"
            && matches!(s.suspicion, Suspicion::Growing { per_minute, .. } if per_minute > 0)
    });
    let scratch_clean = service.scratch.is_empty();
    let only_the_leak = suspects.iter().all(|s| s.map.name == "Audit.trail");
    let bounded = service.pages.len() <= 400 && service.connections.len() <= 5_000;
    if found_leak && scratch_clean && bounded && only_the_leak && closed.get() > 0 {
        println!("\nok: request data released every request, bounds held, and the leak found");
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "\nFAILED: found_leak={found_leak} scratch_clean={scratch_clean} bounded={bounded} \
             only_the_leak={only_the_leak}"
        );
        ExitCode::FAILURE
    }
}

/// The side-by-side table of the two versions.
fn print_comparison(plain: &PlainService, service: &Service, plain_closed: u64, closed: u64) {
    println!("| map | std HashMap | managed |");
    println!("|---|---:|---:|");
    println!(
        "| request scratch (entries) | {} | {} |",
        plain.scratch.len(),
        service.scratch.len()
    );
    println!("| connections closed when removed | {plain_closed} | {closed} |");
    println!(
        "| session connections held (bound 5000) | {} | {} |",
        plain.connections.len(),
        service.connections.len()
    );
}
