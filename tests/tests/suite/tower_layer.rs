//! `mapguard::tower::RequestScopeLayer` on a real axum server (127.0.0.1, an ephemeral port)
//! driven by a real HTTP client (hyper's): every request's entries in a shared request map
//! leave when its request ends — finished, cancelled by a client that hangs up, or panicking
//! — each once with `ScopeEnded`, and no request ever finds its own entries gone.
//!
//! Bounded: a fixed number of requests, and the whole test under a 60 s timeout.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use mapguard::hooks::ConcurrentListener;
use mapguard::tower::RequestScopeLayer;
use mapguard::{ConcurrentLruMap, DefaultHashBuilder, Lifetime, RemovalCause};
use tokio::sync::{Barrier, mpsc};

/// A request's id and the number of one of its entries.
type Key = (u64, u64);

/// Logs every departure's key and cause.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<(Key, RemovalCause)>>>);

impl ConcurrentListener<Key, u64> for Log {
    fn on_removal(&self, key: Key, _value: u64, cause: RemovalCause) {
        self.0.lock().unwrap().push((key, cause));
    }
}

type RequestMap = ConcurrentLruMap<Key, u64, DefaultHashBuilder, Log>;

/// Entries each request writes.
const WRITES: u64 = 4;
/// Requests that run at once, all in flight together (a barrier holds them).
const CONCURRENT: usize = 64;
/// Rounds of `CONCURRENT` requests.
const ROUNDS: u64 = 4;
/// Requests whose client hangs up mid-handler, and requests whose handler panics.
const CANCELLED: u64 = 16;
const PANICKING: u64 = 8;

#[derive(Clone)]
struct App {
    rows: Arc<RequestMap>,
    barrier: Arc<Barrier>,
    /// Handlers that will hang report here once their entries are written.
    written: mpsc::UnboundedSender<u64>,
    /// Hanging and panicking handlers report here when the server drops them.
    dropped: mpsc::UnboundedSender<u64>,
}

/// Reports its request's id when dropped, with the handler's future.
struct ReportDrop(mpsc::UnboundedSender<u64>, u64);

impl Drop for ReportDrop {
    fn drop(&mut self) {
        let _ = self.0.send(self.1);
    }
}

/// Writes this request's entries, waits until every request of its round has written, then
/// reads its own back: "ok" only if all are there with its values.
async fn write_then_read(Path(id): Path<u64>, State(app): State<App>) -> &'static str {
    for i in 0..WRITES {
        app.rows.insert((id, i), id * 100 + i);
    }
    app.barrier.wait().await;
    let mine = (0..WRITES).all(|i| app.rows.get(&(id, i)) == Some(id * 100 + i));
    if mine { "ok" } else { "lost" }
}

/// Writes, then waits forever: only a client hanging up ends it.
async fn write_then_hang(Path(id): Path<u64>, State(app): State<App>) -> &'static str {
    let _report = ReportDrop(app.dropped.clone(), id);
    for i in 0..WRITES {
        app.rows.insert((id, i), id);
    }
    let _ = app.written.send(id);
    std::future::pending::<()>().await;
    "unreachable"
}

/// Writes, then panics.
async fn write_then_panic(Path(id): Path<u64>, State(app): State<App>) -> &'static str {
    let _report = ReportDrop(app.dropped.clone(), id);
    for i in 0..WRITES {
        app.rows.insert((id, i), id);
    }
    tokio::task::yield_now().await;
    panic!("handler {id} fails on purpose");
}

#[test]
fn every_request_scope_ends_with_its_request_on_a_real_server() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        tokio::time::timeout(Duration::from_secs(60), serve_and_check())
            .await
            .expect("the test finishes within 60 s");
    });
}

async fn serve_and_check() {
    let log = Log::default();
    let rows: Arc<RequestMap> = Arc::new(
        ConcurrentLruMap::builder(100_000)
            .name("Test.rows")
            .lifetime(Lifetime::Request)
            .listener(log.clone())
            .build(),
    );
    let (written, mut hung) = mpsc::unbounded_channel();
    let (dropped, mut gone) = mpsc::unbounded_channel();
    let app = App {
        rows: Arc::clone(&rows),
        barrier: Arc::new(Barrier::new(CONCURRENT)),
        written,
        dropped,
    };
    let router = Router::new()
        .route("/write/{id}", get(write_then_read))
        .route("/hang/{id}", get(write_then_hang))
        .route("/panic/{id}", get(write_then_panic))
        .with_state(app)
        .layer(RequestScopeLayer::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let url = |path: String| {
        format!("http://{address}{path}")
            .parse::<hyper::Uri>()
            .unwrap()
    };

    // Rounds of concurrent requests, each checking its own entries survive the others'.
    let mut next_id = 0;
    for _ in 0..ROUNDS {
        let requests: Vec<_> = (0..CONCURRENT as u64)
            .map(|n| {
                let (client, uri) = (client.clone(), url(format!("/write/{}", next_id + n)));
                tokio::spawn(async move {
                    let response = client.get(uri).await.unwrap();
                    response.into_body().collect().await.unwrap().to_bytes()
                })
            })
            .collect();
        next_id += CONCURRENT as u64;
        for request in requests {
            assert_eq!(
                &request.await.unwrap()[..],
                b"ok",
                "a request lost its entries"
            );
        }
    }

    // Clients that hang up once their handler has written (the handler never returns).
    for n in 0..CANCELLED {
        let id = next_id + n;
        let request = tokio::spawn(client.get(url(format!("/hang/{id}"))));
        assert_eq!(hung.recv().await, Some(id));
        request.abort();
        let _ = request.await;
    }
    next_id += CANCELLED;
    // Handlers that panic after writing: the connection closes; the client sees an error.
    for n in 0..PANICKING {
        let response = client.get(url(format!("/panic/{}", next_id + n))).await;
        assert!(response.is_err(), "a panicking handler sends no response");
    }

    // The server drops a hung handler when it sees its connection close, and a panicking one
    // while unwinding: wait for each (bounded by the test's timeout), then run the map's
    // housekeeping once, as a service's next request or `maintain()` would.
    let mut ended: Vec<u64> = Vec::new();
    while ended.len() < (CANCELLED + PANICKING) as usize {
        ended.push(gone.recv().await.expect("the server holds a sender"));
    }
    ended.sort_unstable();
    let first_hung = ROUNDS * CONCURRENT as u64;
    assert_eq!(ended, (first_hung..next_id + PANICKING).collect::<Vec<_>>());
    // A scope ends on the server's side a moment after its client is done: when hyper drops
    // the response body (which may come after the last byte went out), or, for a panicking
    // handler, when the runtime drops its task after the handler's own locals. Ended scopes'
    // entries leave `len` at once, so wait for that (no sleep; bounded by the test's
    // timeout), then run the housekeeping a service's next request or `maintain()` would.
    while !rows.is_empty() {
        tokio::task::yield_now().await;
    }
    rows.maintain();
    let total = (ROUNDS * CONCURRENT as u64 + CANCELLED + PANICKING) * WRITES;
    server.abort();

    assert!(
        rows.is_empty(),
        "{} entries outlived their requests",
        rows.len()
    );
    let mut causes: HashMap<Key, Vec<RemovalCause>> = HashMap::new();
    for &(key, cause) in log.0.lock().unwrap().iter() {
        causes.entry(key).or_default().push(cause);
    }
    assert_eq!(causes.len() as u64, total, "every entry left once");
    for (key, left) in &causes {
        assert_eq!(left, &[RemovalCause::ScopeEnded], "entry {key:?}");
    }
}
