//! Seed chapter 5 case study: a rule-result cache that grows without bound because of an
//! insert-instead-of-insert-if-absent bug — the key includes the request's timestamp, so no
//! key ever repeats and every evaluation adds an entry. The std map grows to hundreds of
//! thousands of entries; the `max = 10_000` managed map stays bounded, and
//! `registry::leak_suspects()` names the field that thrashes.
//!
//! `cargo run --release --example rule_cache`; exits non-zero if the bound breaks or the
//! suspect is missed.

use std::collections::HashMap;
use std::process::ExitCode;

use mapguard::registry::{self, Suspicion};

#[global_allocator]
static HEAP: cap::Cap<std::alloc::System> = cap::Cap::new(std::alloc::System, usize::MAX);

/// The buggy key: (rule, user, timestamp) where (rule, user) was meant.
type Key = (u32, u32, u64);

#[mapguard::managed]
#[derive(Default)]
struct RuleEngine {
    #[managed_map(lifetime = "process", max = 10_000)]
    results: HashMap<Key, bool>,
}

const EVALUATIONS: u64 = 300_000;

fn evaluate(rule: u32, user: u32) -> bool {
    (rule ^ user) % 3 == 0
}

fn main() -> ExitCode {
    let before = HEAP.allocated();
    let mut std_results: HashMap<Key, bool> = HashMap::new();
    for t in 0..EVALUATIONS {
        let (rule, user) = ((t % 50) as u32, (t % 1_000) as u32);
        // The bug: a fresh key every time, so this always inserts.
        std_results
            .entry((rule, user, t))
            .or_insert_with(|| evaluate(rule, user));
    }
    let std_bytes = HEAP.allocated() - before;
    let std_entries = std_results.len();
    drop(std_results);

    let mut engine = RuleEngine::default();
    let _ = registry::leak_suspects(); // a monitor's first check: a sample to judge from
    let before = HEAP.allocated();
    for t in 0..EVALUATIONS {
        let (rule, user) = ((t % 50) as u32, (t % 1_000) as u32);
        engine
            .results
            .entry((rule, user, t))
            .or_insert_with(|| evaluate(rule, user));
    }
    let managed_bytes = HEAP.allocated() - before;
    let suspects = registry::leak_suspects(); // the next check

    println!("{EVALUATIONS} rule evaluations with the timestamp-in-the-key bug\n");
    println!("| map | entries | heap held |");
    println!("|---|---:|---:|");
    println!("| std HashMap | {std_entries} | {} KiB |", std_bytes >> 10);
    println!(
        "| mapguard, max = 10_000 | {} | {} KiB |",
        engine.results.len(),
        managed_bytes >> 10
    );
    println!("\nregistry::leak_suspects():");
    for suspect in &suspects {
        println!(
            "  {} at {}: {:?}",
            suspect.map.name, suspect.map.site, suspect.suspicion
        );
    }
    let named = suspects.iter().any(|s| {
        s.map.name == "RuleEngine.results" && matches!(s.suspicion, Suspicion::Thrashing { .. })
    });
    if engine.results.len() <= 10_000 && named {
        println!("\nok: bounded, and the thrashing field is named: fix the key, not the bound");
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "FAILED: {} entries, suspect named: {named}",
            engine.results.len()
        );
        ExitCode::FAILURE
    }
}
