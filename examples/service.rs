//! The main example: a real HTTP service (axum on 127.0.0.1, an ephemeral port) whose shared
//! state is a `#[mapguard::managed]` struct of concurrent request-, session- and
//! process-lifetime maps, behind `mapguard::tower::RequestScopeLayer`. An in-process HTTP
//! client (hyper's) drives it with rounds of 256 concurrent requests — sessions logging in
//! and out, clients hanging up mid-request, handlers panicking — and drives the same service
//! written with std maps beside it. Then it prints the comparison, the registry's report and
//! its leak suspects.
//!
//! One map is leaky on purpose, as services often are: a request-lifetime audit map written
//! from a task the handler spawns, which runs outside the request's scope. The registry's
//! clock is simulated (a minute per round) so that the detector's five-minute window passes
//! in a second; a Prometheus scrape each round is the history it judges.
//!
//! The managed service also serves the registry: the operator's page at `/mapguard` and the
//! Prometheus text at `/mapguard/metrics` (`mapguard::tower::RegistryService`). With
//! `--serve SECONDS` it keeps serving them after the run (`scripts/screenshot.sh` takes a
//! picture of the page that way); `--chart FILE.svg` writes every map's entries per round.
//!
//! Run with `cargo run --release --example service`. Exits non-zero if a request-scoped entry
//! outlives its request, a session's connection outlives its logout, a request finds its own
//! entries gone, or the detector misses the leak.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use mapguard::registry::{self, Suspicion};
use mapguard::scope::Scope;
use mapguard::testing::MockClock;
use mapguard::tower::{RegistryService, RequestScopeLayer};
use mapguard::{Cleanup, Lifetime, RemovalCause};
use tokio::sync::mpsc;

/// A session's connection: what matters is that it is closed when the session ends.
struct Connection {
    closed: Arc<AtomicU64>,
}

impl Cleanup for Connection {
    fn cleanup(&mut self, _cause: RemovalCause) {
        self.closed.fetch_add(1, Ordering::Relaxed);
    }
}

#[mapguard::managed]
#[derive(Default)]
struct Managed {
    /// Rows of the request being served: leave when it ends, however it ends.
    #[managed_map(lifetime = "request", max = 100_000, concurrent)]
    rows: HashMap<(u64, u64), Vec<u8>>,
    /// One connection per logged-in session; closed at logout (the session's scope ends).
    #[managed_map(lifetime = "session", max = 10_000, concurrent, cleanup)]
    connections: HashMap<u64, Connection>,
    /// Rendered pages, shared by everyone.
    #[managed_map(lifetime = "process", max = 400, ttl = "10m", concurrent)]
    pages: HashMap<String, String>,
    /// The deliberate leak: request-lifetime, but written by a spawned task, outside any
    /// request's scope.
    #[managed_map(lifetime = "request", max = 1_000_000, concurrent)]
    audit: HashMap<u64, String>,
}

/// The same state with std maps, as it is usually written.
#[derive(Default)]
struct Plain {
    rows: Mutex<HashMap<(u64, u64), Vec<u8>>>,
    connections: Mutex<HashMap<u64, Connection>>,
    pages: Mutex<HashMap<String, String>>,
}

/// What both versions share: the closed-connection count, the hung handlers' reports, and
/// (managed only) the session scopes, kept by the session store as a service keeps its
/// session tokens.
struct App<S> {
    state: Arc<S>,
    closed: Arc<AtomicU64>,
    sessions: Arc<Mutex<HashMap<u64, Scope>>>,
    hung: mpsc::UnboundedSender<u64>,
}

// By hand: a derive would ask `S: Clone`, and the state is shared, not cloned.
impl<S> Clone for App<S> {
    fn clone(&self) -> Self {
        Self {
            state: Arc::clone(&self.state),
            closed: Arc::clone(&self.closed),
            sessions: Arc::clone(&self.sessions),
            hung: self.hung.clone(),
        }
    }
}

/// Rows each request writes.
const ROWS: u64 = 4;
/// Requests in flight at once, per round.
const CONCURRENT: u64 = 256;
const ROUNDS: u64 = 10;
/// Per round: clients that hang up mid-request, and handlers that panic.
const HANG_UPS: u64 = 4;
const PANICS: u64 = 2;
/// Per round: sessions that log in, and (from the second round) the previous round's that
/// log out.
const SESSIONS_PER_ROUND: u64 = 4;

trait Service: Send + Sync + 'static {
    fn write(self: &Arc<Self>, request: u64);
    /// Whether all of this request's rows are still there.
    fn read_back(&self, request: u64) -> bool;
    /// A plain handler removes its rows itself, at its end (when it gets there).
    fn finish(&self, request: u64);
    fn login(&self, app: &App<Self>, session: u64)
    where
        Self: Sized;
    /// Whether the session was logged in.
    fn logout(&self, app: &App<Self>, session: u64) -> bool
    where
        Self: Sized;
    fn page(&self, request: u64);
}

impl Service for Managed {
    fn write(self: &Arc<Self>, request: u64) {
        for row in 0..ROWS {
            self.rows.insert((request, row), vec![0; 64]);
        }
        let audit = format!("request {request} served");
        let state = Arc::clone(self);
        // Spawned work does not run in the request's scope: these entries are unscoped.
        tokio::spawn(async move { state.audit.insert(request, audit) });
    }
    fn read_back(&self, request: u64) -> bool {
        (0..ROWS).all(|row| self.rows.contains_key(&(request, row)))
    }
    fn finish(&self, _request: u64) {} // the layer ends the request's scope
    fn login(&self, app: &App<Self>, session: u64) {
        let scope = Scope::new(Lifetime::Session);
        {
            let _current = scope.enter();
            let connection = Connection {
                closed: Arc::clone(&app.closed),
            };
            self.connections.insert(session, connection);
        }
        app.sessions.lock().unwrap().insert(session, scope);
    }
    fn logout(&self, app: &App<Self>, session: u64) -> bool {
        // Ending the session's scope closes its connection (and anything else it wrote).
        let scope = app.sessions.lock().unwrap().remove(&session);
        scope.is_some_and(|scope| scope.end() > 0)
    }
    fn page(&self, request: u64) {
        let page = format!("/page/{}", request % 300);
        if self.pages.get(&page).is_none() {
            self.pages
                .insert(page.clone(), format!("<html>{page}</html>"));
        }
    }
}

impl Service for Plain {
    fn write(self: &Arc<Self>, request: u64) {
        let mut rows = self.rows.lock().unwrap();
        for row in 0..ROWS {
            rows.insert((request, row), vec![0; 64]);
        }
    }
    fn read_back(&self, request: u64) -> bool {
        let rows = self.rows.lock().unwrap();
        (0..ROWS).all(|row| rows.contains_key(&(request, row)))
    }
    fn finish(&self, request: u64) {
        let mut rows = self.rows.lock().unwrap();
        for row in 0..ROWS {
            rows.remove(&(request, row)); // skipped by a cancelled or panicking request
        }
    }
    fn login(&self, app: &App<Self>, session: u64) {
        let connection = Connection {
            closed: Arc::clone(&app.closed),
        };
        self.connections.lock().unwrap().insert(session, connection);
    }
    fn logout(&self, _app: &App<Self>, session: u64) -> bool {
        // Removed, never closed.
        self.connections.lock().unwrap().remove(&session).is_some()
    }
    fn page(&self, request: u64) {
        let page = format!("/page/{}", request % 300);
        let mut pages = self.pages.lock().unwrap();
        pages
            .entry(page.clone())
            .or_insert_with(|| format!("<html>{page}</html>"));
    }
}

/// Writes the request's rows, lets every other request run, reads them back.
async fn work<S: Service>(Path(request): Path<u64>, State(app): State<App<S>>) -> &'static str {
    app.state.write(request);
    app.state.page(request);
    tokio::task::yield_now().await;
    let mine = app.state.read_back(request);
    app.state.finish(request);
    if mine { "ok" } else { "lost" }
}

/// Writes, then waits for a reply that never comes; its client hangs up.
async fn hang<S: Service>(Path(request): Path<u64>, State(app): State<App<S>>) -> &'static str {
    app.state.write(request);
    let _ = app.hung.send(request);
    std::future::pending::<()>().await;
    app.state.finish(request);
    "unreachable"
}

/// Writes, then fails with a panic before it cleans up.
async fn fail<S: Service>(Path(request): Path<u64>, State(app): State<App<S>>) -> &'static str {
    app.state.write(request);
    tokio::task::yield_now().await;
    panic!("request {request} fails on purpose");
}

async fn login<S: Service>(Path(session): Path<u64>, State(app): State<App<S>>) -> &'static str {
    app.state.login(&app, session);
    "in"
}

async fn logout<S: Service>(Path(session): Path<u64>, State(app): State<App<S>>) -> &'static str {
    if app.state.logout(&app, session) {
        "out"
    } else {
        "not logged in"
    }
}

/// Starts `state` on 127.0.0.1 and returns its address, the closed-connection counter and
/// the hung handlers' reports.
async fn start<S: Service>(
    state: Arc<S>,
    scoped: bool,
) -> (std::net::SocketAddr, App<S>, mpsc::UnboundedReceiver<u64>) {
    let (hung, reports) = mpsc::unbounded_channel();
    let app = App {
        state,
        closed: Arc::default(),
        sessions: Arc::default(),
        hung,
    };
    let router = Router::new()
        .route("/work/{id}", get(work::<S>))
        .route("/hang/{id}", get(hang::<S>))
        .route("/fail/{id}", get(fail::<S>))
        .route("/login/{id}", get(login::<S>))
        .route("/logout/{id}", get(logout::<S>))
        .with_state(app.clone());
    let router = if scoped {
        // The operator's page at /mapguard, the Prometheus text at /mapguard/metrics.
        router
            .nest_service("/mapguard", RegistryService::new())
            .layer(RequestScopeLayer::new())
    } else {
        router
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    (address, app, reports)
}

type HttpClient = Client<HttpConnector, Empty<Bytes>>;

async fn get_text(client: &HttpClient, address: std::net::SocketAddr, path: &str) -> Option<Bytes> {
    let uri = format!("http://{address}{path}").parse().ok()?;
    let response = client.get(uri).await.ok()?;
    Some(response.into_body().collect().await.ok()?.to_bytes())
}

/// What the driver saw of one version.
#[derive(Default)]
struct Outcome {
    served: u64,
    lost: u64,
    logouts: u64,
    /// Calls that got no answer though their handler neither hangs nor fails.
    failed: u64,
}

/// Drives one version: rounds of concurrent work, logins and logouts, hang-ups and panics.
/// `between_rounds` runs after each round (the managed version's scrape and clock).
async fn drive<S: Service>(
    address: std::net::SocketAddr,
    reports: &mut mpsc::UnboundedReceiver<u64>,
    mut between_rounds: impl FnMut(),
) -> Outcome {
    let client: HttpClient = Client::builder(TokioExecutor::new()).build_http();
    let mut outcome = Outcome::default();
    let mut next = 0;
    for round in 0..ROUNDS {
        let calls: Vec<_> = (0..CONCURRENT)
            .map(|n| {
                let spread = CONCURRENT / SESSIONS_PER_ROUND;
                let session = n / spread;
                let path = match n % spread {
                    0 => format!("/login/{}", round * SESSIONS_PER_ROUND + session),
                    1 if round > 0 => {
                        format!("/logout/{}", (round - 1) * SESSIONS_PER_ROUND + session)
                    }
                    _ => format!("/work/{}", next + n),
                };
                let client = client.clone();
                tokio::spawn(async move { (path.clone(), get_text(&client, address, &path).await) })
            })
            .collect();
        next += CONCURRENT;
        for call in calls {
            let (path, body) = call.await.unwrap();
            match body.as_deref() {
                Some(b"ok") => outcome.served += 1,
                Some(b"lost") => outcome.lost += 1,
                Some(b"out") => outcome.logouts += 1,
                None if !path.starts_with("/fail") => outcome.failed += 1,
                _ => {}
            }
        }
        for _ in 0..HANG_UPS {
            let call = tokio::spawn({
                let client = client.clone();
                let path = format!("/hang/{next}");
                async move { get_text(&client, address, &path).await }
            });
            let _ = reports.recv().await; // the handler has written
            call.abort(); // the client goes away
            next += 1;
        }
        for _ in 0..PANICS {
            let _ = get_text(&client, address, &format!("/fail/{next}")).await;
            next += 1;
        }
        between_rounds();
    }
    outcome
}

/// What the command line asks for beyond the run: serve the operator's page for a while,
/// write the growth chart.
#[derive(Default)]
struct Options {
    serve: Option<Duration>,
    chart: Option<std::path::PathBuf>,
}

fn options() -> Result<Options, String> {
    let mut options = Options::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} takes a value"));
        match arg.as_str() {
            "--serve" => {
                let seconds = value()?;
                let seconds: u64 = seconds
                    .parse()
                    .map_err(|_| format!("--serve takes seconds, not {seconds:?}"))?;
                options.serve = Some(Duration::from_secs(seconds));
            }
            "--chart" => options.chart = Some(value()?.into()),
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(options)
}

fn main() -> ExitCode {
    let options = match options() {
        Ok(options) => options,
        Err(error) => {
            eprintln!(
                "service: {error}\nusage: service [--serve SECONDS] [--chart FILE.svg]\n  --serve: after the run, keep serving the operator's page (/mapguard) for SECONDS\n  --chart: write the maps' growth per round as an SVG"
            );
            return ExitCode::from(2);
        }
    };
    // Panics on purpose are expected; keep every other panic's report.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !info.to_string().contains("on purpose") {
            default_hook(info);
        }
    }));
    let clock = MockClock::new();
    registry::set_clock(clock.clone());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (checks, address, growth) = runtime.block_on(async {
        tokio::time::timeout(Duration::from_secs(60), run(clock))
            .await
            .expect("the example finishes within 60 s")
    });
    if let Some(path) = &options.chart {
        if let Err(error) = std::fs::write(path, growth.svg()) {
            eprintln!("service: cannot write {}: {error}", path.display());
            return ExitCode::FAILURE;
        }
        println!("wrote {}", path.display());
    }
    if let Some(serve) = options.serve {
        println!("serving http://{address}/mapguard (and /mapguard/metrics) for {serve:?}");
        runtime.block_on(async { tokio::time::sleep(serve).await });
    }
    if checks {
        println!(
            "\nok: every request's rows left with it, every logout closed its session, no request lost its rows, and the leak was found"
        );
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Entries per round of every map, for the chart.
#[derive(Default)]
struct Growth {
    /// `(map, entries after each round)`, in the order they are drawn.
    lines: Vec<(&'static str, Vec<u64>)>,
}

impl Growth {
    fn record(&mut self, map: &'static str, entries: u64) {
        match self.lines.iter_mut().find(|(name, _)| *name == map) {
            Some((_, values)) => values.push(entries),
            None => self.lines.push((map, vec![entries])),
        }
    }

    /// A line chart: entries after each round, one line per map, with a legend.
    #[allow(clippy::cast_precision_loss, reason = "pixels")]
    fn svg(&self) -> String {
        const COLOURS: [&str; 7] = [
            "#b42318", "#0969da", "#1a7f37", "#8250df", "#bc4c00", "#57606a", "#bf3989",
        ];
        let (width, height, left, bottom) = (780.0, 320.0, 56.0, 36.0);
        let top = self
            .lines
            .iter()
            .flat_map(|(_, values)| values.iter().copied())
            .max()
            .unwrap_or(1)
            .max(1);
        let top_value = top as f64;
        let rounds = self.lines.iter().map(|(_, v)| v.len()).max().unwrap_or(1);
        let x = |round: usize| {
            left + (width - left - 300.0) * round as f64 / (rounds - 1).max(1) as f64
        };
        let y =
            |value: u64| (height - bottom) - (height - bottom - 40.0) * value as f64 / top_value;
        let mut svg = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">\
             <rect width=\"{width}\" height=\"{height}\" fill=\"#ffffff\"/>\
             <text x=\"{left}\" y=\"14\" fill=\"#1b1f24\">Entries after each round of {CONCURRENT} requests (cargo run --release --example service)</text>\
             <line x1=\"{left}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#8c959f\"/>\
             <text x=\"4\" y=\"{}\" fill=\"#57606a\">{top}</text><text x=\"4\" y=\"{}\" fill=\"#57606a\">0</text>\
             <text x=\"{}\" y=\"{}\" fill=\"#57606a\" text-anchor=\"middle\">round</text>\
             <text x=\"{left}\" y=\"{}\" fill=\"#57606a\" text-anchor=\"middle\">1</text>\
             <text x=\"{}\" y=\"{}\" fill=\"#57606a\" text-anchor=\"middle\">{rounds}</text>",
            height - bottom,
            x(rounds - 1),
            height - bottom,
            y(top) + 4.0,
            height - bottom,
            x(rounds / 2),
            height - 8.0,
            height - bottom + 16.0,
            x(rounds - 1),
            height - bottom + 16.0,
        );
        for (index, (map, values)) in self.lines.iter().enumerate() {
            let colour = COLOURS[index % COLOURS.len()];
            let points: Vec<String> = values
                .iter()
                .enumerate()
                .map(|(round, value)| format!("{:.1},{:.1}", x(round), y(*value)))
                .collect();
            let legend_y = 40.0 + 18.0 * index as f64;
            let _ = write!(
                svg,
                "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>\
                 <rect x=\"{}\" y=\"{}\" width=\"12\" height=\"3\" fill=\"{colour}\"/>\
                 <text x=\"{}\" y=\"{}\" fill=\"#1b1f24\">{map} ({})</text>",
                points.join(" "),
                width - 260.0,
                legend_y - 4.0,
                width - 242.0,
                legend_y,
                values.last().copied().unwrap_or(0),
            );
        }
        svg.push_str("</svg>\n");
        svg
    }
}

async fn run(clock: MockClock) -> (bool, std::net::SocketAddr, Growth) {
    // Expired pages and ended requests' and sessions' entries leave within a second even in
    // maps no request touches (every map of `Managed` that has them enrolled itself).
    let _maintenance = mapguard::maintenance::spawn(Duration::from_secs(1));
    let managed = Arc::new(Managed::default());
    let (managed_at, managed_app, mut managed_reports) = start(Arc::clone(&managed), true).await;
    let (plain_at, plain_app, mut plain_reports) = start(Arc::new(Plain::default()), false).await;

    let mut scrapes = 0;
    let mut growth = Growth::default();
    let managed_outcome = drive::<Managed>(managed_at, &mut managed_reports, || {
        clock.advance(Duration::from_secs(60));
        let _exposition = registry::render_prometheus(); // what the scraper does, no more
        scrapes += 1;
        growth.record("Managed.audit (the leak)", managed.audit.len() as u64);
        growth.record("Managed.rows", managed.rows.len() as u64);
        growth.record("Managed.connections", managed.connections.len() as u64);
        growth.record("Managed.pages", managed.pages.len() as u64);
    })
    .await;
    let plain_outcome = drive::<Plain>(plain_at, &mut plain_reports, || {
        let plain = &plain_app.state;
        growth.record("std rows", plain.rows.lock().unwrap().len() as u64);
        growth.record(
            "std connections",
            plain.connections.lock().unwrap().len() as u64,
        );
        growth.record("std pages", plain.pages.lock().unwrap().len() as u64);
    })
    .await;

    // The server ends a request's scope a moment after its client is done (when hyper drops
    // the body or the cancelled handler): wait for that, then the housekeeping runs.
    while !managed.rows.is_empty() {
        tokio::task::yield_now().await;
    }
    // What the schedule runs, run now so the figures below are final.
    mapguard::maintenance::maintain_all();

    let open_sessions = managed_app.sessions.lock().unwrap().len() as u64;
    println!(
        "{ROUNDS} rounds of {CONCURRENT} concurrent requests, {HANG_UPS} hang-ups and {PANICS} panics each, per version; {scrapes} scrapes\n"
    );
    print_comparison(
        (&plain_app, &plain_outcome),
        (&managed_app, &managed_outcome),
        open_sessions,
    );
    println!("\nregistry::report():\n{}", registry::report());
    let suspects = registry::leak_suspects();
    println!("registry::leak_suspects():");
    for suspect in &suspects {
        println!(
            "  {} ({}): {:?}",
            suspect.map.name, suspect.map.site, suspect.suspicion
        );
    }

    let checks = [
        (
            "a request found its own rows gone",
            managed_outcome.lost == 0,
        ),
        (
            "a request got no answer",
            managed_outcome.failed + plain_outcome.failed == 0,
        ),
        (
            "a logout found no session",
            managed_outcome.logouts == (ROUNDS - 1) * SESSIONS_PER_ROUND,
        ),
        (
            "a request-scoped row outlived its request",
            managed.rows.is_empty(),
        ),
        (
            "a logout left its session's connection open",
            managed_app.closed.load(Ordering::Relaxed) == managed_outcome.logouts
                && managed.connections.len() as u64 == open_sessions,
        ),
        (
            "the page cache outgrew its bound",
            managed.pages.len() <= 400,
        ),
        (
            "the detector missed the unscoped audit writes",
            suspects.iter().any(|s| {
                s.map.name == "Managed.audit"
                    && matches!(s.suspicion, Suspicion::UnscopedWrites { .. })
            }),
        ),
        (
            "the detector flagged a map that does not leak",
            suspects.iter().all(|s| s.map.name == "Managed.audit"),
        ),
    ];
    let mut all_hold = true;
    for (failure, holds) in checks {
        if !holds {
            eprintln!("FAILED: {failure}");
            all_hold = false;
        }
    }
    (all_hold, managed_at, growth)
}

/// The side-by-side table of the two versions.
fn print_comparison(
    (plain_app, plain_outcome): (&App<Plain>, &Outcome),
    (managed_app, managed_outcome): (&App<Managed>, &Outcome),
    open_sessions: u64,
) {
    let (plain, managed) = (&plain_app.state, &managed_app.state);
    println!("| | std HashMap | managed |");
    println!("|---|---:|---:|");
    println!(
        "| requests that found their rows | {} | {} |",
        plain_outcome.served, managed_outcome.served
    );
    println!(
        "| requests that lost their rows | {} | {} |",
        plain_outcome.lost, managed_outcome.lost
    );
    println!(
        "| request rows left after every request ended | {} | {} |",
        plain.rows.lock().unwrap().len(),
        managed.rows.len()
    );
    println!(
        "| connections closed at {} logouts | {} | {} |",
        managed_outcome.logouts,
        plain_app.closed.load(Ordering::Relaxed),
        managed_app.closed.load(Ordering::Relaxed)
    );
    println!(
        "| connections held ({open_sessions} sessions open) | {} | {} |",
        plain.connections.lock().unwrap().len(),
        managed.connections.len()
    );
}
