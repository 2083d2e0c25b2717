//! `#[managed_map(..., concurrent)]` end to end: a `#[mapguard::managed]` struct shared by
//! many threads through `Arc`, with no lock of its own; hooks fire exactly once under
//! contention; scopes end through `&self`. Held to a strict user crate's lints.
#![deny(warnings, clippy::pedantic)]

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use mapguard::testing::{Tracked, Tracker};
use mapguard::{Lifetime, ManagedCache, RemovalCause, registry};

static EVICTED_RULES: AtomicUsize = AtomicUsize::new(0);

#[allow(
    clippy::needless_pass_by_value,
    reason = "on_remove hooks receive values by value"
)]
fn count_rule_eviction(_key: u64, _value: Arc<str>, cause: RemovalCause) {
    if cause == RemovalCause::Evicted {
        EVICTED_RULES.fetch_add(1, Ordering::Relaxed);
    }
}

#[mapguard::managed]
#[derive(Default)]
struct RuleEngine {
    #[managed_map(lifetime = "process", max = 256, concurrent, on_remove = count_rule_eviction)]
    compiled: HashMap<u64, Arc<str>>,
    #[managed_map(lifetime = "request", max = 100_000, concurrent, cleanup)]
    per_request: HashMap<u64, Tracked<u64>>,
}

#[test]
fn a_managed_struct_is_shared_by_threads_without_a_lock() {
    let engine = Arc::new(RuleEngine::default());
    let tracker = Tracker::new();
    let workers: Vec<_> = (0..4_u64)
        .map(|thread| {
            let (engine, tracker) = (Arc::clone(&engine), tracker.clone());
            std::thread::spawn(move || {
                for i in 0..2_000 {
                    let rule = (thread * 2_000 + i) % 1_000;
                    let compiled = engine
                        .compiled
                        .get_or_insert_with(rule, || Arc::from(format!("rule {rule}")));
                    assert_eq!(&*compiled, format!("rule {rule}"));
                    engine
                        .per_request
                        .insert(thread * 2_000 + i, tracker.track(i));
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    // The rule cache stayed within its bound and evicted through the hook.
    let shards = engine.compiled.shard_count();
    assert!(engine.compiled.len() <= 256 + shards);
    let report = registry::snapshot()
        .into_iter()
        .find(|m| m.name == "RuleEngine.compiled")
        .expect("the concurrent field is registered under its owner and field");
    assert_eq!(
        report.removed(RemovalCause::Evicted),
        report.inserts - report.len
    );
    assert_eq!(
        EVICTED_RULES.load(Ordering::Relaxed) as u64,
        report.removed(RemovalCause::Evicted)
    );
    // Ending the request scope, through the shared handle, cleans every scratch value once.
    assert_eq!(engine.per_request.end_scope(Lifetime::Request), 8_000);
    assert_eq!(tracker.cleaned(RemovalCause::ScopeEnded), 8_000);
    assert_eq!(tracker.live(), 0);
    tracker.assert_exactly_once();
    // The struct's own `ManagedCache` covers its concurrent fields too.
    let mut engine = Arc::into_inner(engine).expect("the workers are done");
    assert_eq!(engine.stats().len(), 2);
    let compiled = engine.compiled.len();
    assert_eq!(engine.end_scope(Lifetime::Process), compiled);
}
