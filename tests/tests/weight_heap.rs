//! A map with `max_bytes = "8MiB"`, filled with values of random weight, never holds more
//! heap than its budget plus its own storage: measured with dhat, not read off `weight()`.
//!
//! `cargo test -p mapguard-tests --test weight_heap -- --nocapture` prints the peak.

use std::collections::HashMap;

use mapguard_tests::Rng;

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

const BUDGET: usize = 8 << 20;

#[mapguard::managed]
#[derive(Default)]
struct Blobs {
    #[managed_map(lifetime = "process", max_bytes = "8MiB")]
    by_id: HashMap<u64, Vec<u8>>,
}

#[test]
fn a_weight_budget_bounds_the_heap_its_values_hold() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let mut blobs = Blobs::default();
    let baseline = dhat::HeapStats::get().curr_bytes;
    let mut rng = Rng(0x5eed_b10b);
    let mut highest = 0;
    let mut too_heavy = 0;
    for id in 0..4_000_u64 {
        // 1 KiB to 1 MiB; one in a hundred heavier than the whole budget.
        let size = if rng.below(100) == 0 {
            too_heavy += 1;
            BUDGET + 1
        } else {
            1_024 + rng.below(1 << 20) as usize
        };
        blobs.by_id.insert(id, vec![0; size]);
        let held = dhat::HeapStats::get().curr_bytes - baseline;
        assert!(blobs.by_id.weight() <= BUDGET as u64);
        // The buffers, plus the map's storage (slab, table, weights) for its few thousand
        // entries at most.
        let storage = blobs.by_id.heap_bytes();
        assert!(
            held <= BUDGET + storage,
            "after id {id}: {held} bytes held, budget {BUDGET} + storage {storage}"
        );
        highest = highest.max(held);
    }
    assert!(too_heavy > 10, "the test never offered a too-heavy value");
    println!(
        "max_bytes = 8 MiB: at most {:.2} MiB held after any insert ({} entries now, weight {:.2} MiB)",
        highest as f64 / f64::from(1 << 20),
        blobs.by_id.len(),
        blobs.by_id.weight() as f64 / f64::from(1 << 20)
    );
}
