//! Seed chapter 1: deleting every key from a hash map keeps its memory. A std `HashMap`
//! emptied with `remove` still holds its whole table; a managed map gives it back as it
//! empties.
//!
//! `cargo run --release --example capacity_after_delete`; exits non-zero if the managed map
//! keeps more than 5% of its peak.

use std::collections::HashMap;
use std::process::ExitCode;

use mapguard::LruMap;

#[global_allocator]
static HEAP: cap::Cap<std::alloc::System> = cap::Cap::new(std::alloc::System, usize::MAX);

const ENTRIES: u64 = 1_000_000;

/// Fills with `insert`, empties with `remove`; returns (bytes at peak, bytes after).
fn fill_and_empty(mut insert: impl FnMut(u64), mut remove: impl FnMut(u64)) -> (usize, usize) {
    let before = HEAP.allocated();
    for k in 0..ENTRIES {
        insert(k);
    }
    let peak = HEAP.allocated() - before;
    for k in 0..ENTRIES {
        remove(k);
    }
    (peak, HEAP.allocated() - before)
}

fn main() -> ExitCode {
    let std_map = std::cell::RefCell::new(HashMap::new());
    let (std_peak, std_after) = fill_and_empty(
        |k| {
            std_map.borrow_mut().insert(k, k);
        },
        |k| {
            std_map.borrow_mut().remove(&k);
        },
    );
    let std_capacity = std_map.borrow().capacity();
    drop(std_map);

    let managed = std::cell::RefCell::new(LruMap::new(ENTRIES as usize));
    let (managed_peak, managed_after) = fill_and_empty(
        |k| managed.borrow_mut().insert(k, k),
        |k| {
            managed.borrow_mut().discard(&k);
        },
    );

    println!("{ENTRIES} u64 -> u64 entries inserted, then every key removed\n");
    println!("| map | heap at peak | heap after removing all | kept |");
    println!("|---|---:|---:|---:|");
    for (name, peak, after) in [
        ("std HashMap", std_peak, std_after),
        ("mapguard LruMap", managed_peak, managed_after),
    ] {
        println!(
            "| {name} | {peak} B | {after} B | {:.1}% |",
            100.0 * after as f64 / peak as f64
        );
    }
    println!("\nthe empty std map still reports capacity {std_capacity}");
    if (managed_after as f64) <= 0.05 * managed_peak as f64 {
        println!("ok: the managed map gave its memory back");
        ExitCode::SUCCESS
    } else {
        eprintln!("FAILED: the managed map kept {managed_after} bytes");
        ExitCode::FAILURE
    }
}
