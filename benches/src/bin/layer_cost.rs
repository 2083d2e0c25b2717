//! What `RequestScopeLayer` adds to a minimal axum handler's requests per second, against the
//! same router without it, in one process on 127.0.0.1 (a ratio; absolute rates on shared
//! machines are noise).
//!
//! `cargo run --release -p mapguard-bench --bin layer_cost [-- --requests N --reps R]`
//!
//! Each rep sends `N` requests over 64 concurrent keep-alive clients to each router in turn;
//! the best rate of each is reported. The handler writes one entry into a concurrent request
//! map, as a request handler would, so the scoped router also pays for tagging and ending.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use mapguard::tower::RequestScopeLayer;
use mapguard::{ConcurrentLruMap, Lifetime};
use std::sync::atomic::{AtomicU64, Ordering};

const CLIENTS: u64 = 64;

struct Rows {
    map: ConcurrentLruMap<u64, u64>,
    next: AtomicU64,
}

async fn handler(State(rows): State<Arc<Rows>>) -> &'static str {
    let key = rows.next.fetch_add(1, Ordering::Relaxed);
    rows.map.insert(key, key);
    "ok"
}

async fn serve(scoped: bool) -> std::net::SocketAddr {
    let rows = Arc::new(Rows {
        map: ConcurrentLruMap::builder(100_000)
            .lifetime(Lifetime::Request)
            .build(),
        next: AtomicU64::new(0),
    });
    let router = Router::new().route("/", get(handler)).with_state(rows);
    let router = if scoped {
        router.layer(RequestScopeLayer::new())
    } else {
        router
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    address
}

/// Requests per second of `requests` GETs over `CLIENTS` concurrent clients.
async fn rate(address: std::net::SocketAddr, requests: u64) -> f64 {
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let uri: hyper::Uri = format!("http://{address}/").parse().unwrap();
    let start = Instant::now();
    let workers: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (client, uri) = (client.clone(), uri.clone());
            tokio::spawn(async move {
                for _ in 0..requests / CLIENTS {
                    let response = client.get(uri.clone()).await.unwrap();
                    let _ = response.into_body().collect().await.unwrap();
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    requests as f64 / start.elapsed().max(Duration::from_nanos(1)).as_secs_f64()
}

fn main() {
    let mut requests: u64 = 20_000;
    let mut reps = 5;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().and_then(|v| v.parse::<u64>().ok());
        match (arg.as_str(), value) {
            ("--requests", Some(n)) if n >= CLIENTS => requests = n,
            ("--reps", Some(n)) if n > 0 => reps = n,
            _ => {
                eprintln!("usage: layer_cost [--requests N (>= {CLIENTS})] [--reps R (>= 1)]");
                std::process::exit(2);
            }
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let plain = serve(false).await;
        let scoped = serve(true).await;
        let (mut best_plain, mut best_scoped) = (0.0_f64, 0.0_f64);
        // Interleaved, so a slow spell of the machine hits both.
        for _ in 0..reps {
            best_plain = best_plain.max(rate(plain, requests).await);
            best_scoped = best_scoped.max(rate(scoped, requests).await);
        }
        println!("| router ({requests} requests, {CLIENTS} clients, best of {reps}) | requests/s | ratio |");
        println!("|---|---:|---:|");
        println!("| minimal handler | {best_plain:.0} | 1.00 |");
        println!(
            "| the same behind RequestScopeLayer | {best_scoped:.0} | {:.3} |",
            best_scoped / best_plain
        );
    });
}
