//! Memory follows the live entries — measured on the heap with dhat, not read off
//! `capacity()`.
//!
//! Run `cargo test -p mapguard-tests --test memory -- --nocapture` to see the figures.
//! dhat's profiler is process-global, so this binary has a single test running the
//! scenarios in sequence.

use std::rc::{Rc, Weak};

use mapguard::{BoundedMap, ConcurrentLruMap, Lifetime, LruMap, WeakKeyMap};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

fn heap() -> dhat::HeapStats {
    dhat::HeapStats::get()
}

/// Heap bytes that filling `map` with `0..n` adds: the storage, without the fixed per-map
/// cost of its name and registry entry (measured separately below).
fn filled(mut map: LruMap<u64, u64>, n: u64) -> (LruMap<u64, u64>, usize) {
    let before = heap().curr_bytes;
    for k in 0..n {
        map.insert(k, k);
    }
    let bytes = heap().curr_bytes - before;
    (map, bytes)
}

fn full_lru(n: u64) -> LruMap<u64, u64> {
    filled(LruMap::new(n as usize), n).0
}

#[test]
fn memory_follows_live_entries() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let entry = size_of::<(u64, u64)>();

    // Overhead per entry at full load, beyond the (K, V) pair itself.
    let before = heap().curr_bytes;
    let empty = LruMap::<u64, u64>::new(8);
    let fixed = heap().curr_bytes - before;
    println!("an empty LruMap holds {fixed} heap bytes (its name and registry entry)");
    assert!(fixed < 1_024, "{fixed} bytes for an empty map");
    drop(empty);

    for n in [1_000_u64, 100_000] {
        let (map, bytes) = filled(LruMap::new(n as usize), n);
        let overhead = bytes as f64 / n as f64 - entry as f64;
        println!("LruMap<u64, u64> at {n} entries: {overhead:.1} bytes per entry beyond (K, V)");
        // Two u32 links plus a u32 index and control byte per table slot; the table has
        // between 1.14 and 2.29 slots per entry at full load.
        assert!(
            overhead <= 8.0 + 5.0 * 2.29 + 0.5,
            "overhead {overhead:.1} at {n}"
        );
        let estimate = map.heap_bytes();
        assert!(
            estimate.abs_diff(bytes) * 100 <= bytes,
            "heap_bytes() estimate {estimate} is off the measured {bytes} by more than 1%"
        );
        drop(map);
    }

    // A huge bound with few entries allocates for the entries.
    let (few, bytes) = filled(LruMap::new(1_000_000), 10);
    println!("LruMap max=1_000_000 holding 10 entries: {bytes} heap bytes");
    assert!(bytes < 1_024, "{bytes} bytes for 10 entries");
    drop(few);

    // Removing everything one key at a time gives the memory back by itself.
    let n = 100_000_u64;
    let before = heap().curr_bytes;
    let mut map = full_lru(n);
    let peak = heap().curr_bytes - before;
    for k in 0..n {
        assert_eq!(map.remove(&k), Some(k));
    }
    let retained = heap().curr_bytes - before;
    let percent = 100.0 * retained as f64 / peak as f64;
    println!(
        "LruMap after removing all {n} entries: {retained} of {peak} bytes retained ({percent:.2}%)"
    );
    assert!(percent <= 5.0, "{percent:.2}% retained");
    drop(map);

    // Same for a bounded map emptied through `retain`, and `clear` frees everything.
    // Measured from after construction: the map's name (its call site) is not storage.
    let mut bounded = BoundedMap::new(50_000);
    let before = heap().curr_bytes;
    for k in 0..50_000_u64 {
        bounded.try_insert(k, k).unwrap();
    }
    bounded.retain(|k, _| k % 100 == 0);
    let kept = heap().curr_bytes - before;
    bounded.clear();
    let after_clear = heap().curr_bytes - before;
    // Print only after measuring: a captured test's output buffer is on the heap too.
    println!(
        "BoundedMap after retaining 500 of 50000 entries: {kept} bytes; after clear: {after_clear}"
    );
    assert!(
        kept < 500 * 4 * (entry + 16),
        "{kept} bytes for 500 entries"
    );
    assert_eq!(after_clear, 0, "clear frees everything");
    drop(bounded);

    after_evictions();
    no_reallocation_churn_at_the_shrink_boundary();
    weak_keys_give_memory_back_after_mass_death();
    scope_end_gives_memory_back();
    concurrent_map_memory();
    heap_checkpoint_asserts_returned_memory();
    registry_gives_memory_back_after_many_maps();
}

/// Overhead per entry once a map has evicted (3×max distinct keys inserted), for LRU and
/// the adaptive policy (its fingerprints included; its marks live in the nodes' links), and
/// what removing every key leaves.
fn after_evictions() {
    let entry = size_of::<(u64, u64)>() as f64;
    for max in [1_000_u64, 100_000] {
        let before = heap().curr_bytes;
        let mut lru = LruMap::new(max as usize);
        (0..max).for_each(|k| lru.insert(k, k));
        let filled_bytes = heap().curr_bytes - before;
        (max..3 * max).for_each(|k| lru.insert(k, k));
        let lru_bytes = heap().curr_bytes - before;
        drop(lru);
        let before = heap().curr_bytes;
        let mut adaptive = mapguard::AdaptiveMap::new(max as usize);
        (0..3 * max).for_each(|k| adaptive.insert(k, k));
        let adaptive_bytes = heap().curr_bytes - before;
        (0..3 * max).for_each(|k| {
            let _ = adaptive.remove(&k);
        });
        let retained = heap().curr_bytes - before;
        drop(adaptive);
        let per_entry = |bytes: usize| bytes as f64 / max as f64 - entry;
        println!(
            "after evicting, {max} entries: LruMap {:.1}, AdaptiveMap {:.1} bytes per entry beyond (K, V); \
             AdaptiveMap keeps {retained} bytes after removing every key",
            per_entry(lru_bytes),
            per_entry(adaptive_bytes)
        );
        // Evicting holds as many entries as filling did: the table must not grow for the
        // tombstones replacements leave (it doubled at 100,000: 21.1 instead of 14.6).
        assert!(
            lru_bytes <= filled_bytes,
            "{lru_bytes} bytes after evicting, {filled_bytes} when filled"
        );
        // The adaptive policy adds about a byte of fingerprints (1.0 at 1k, 1.3 at 100k);
        // its marks take no bytes of their own. Once it evicts, its referee's shadows add a
        // few KiB (sampled hashes: 4.5 KiB at 1k, under a byte an entry at 100k).
        assert!(
            per_entry(adaptive_bytes) <= per_entry(lru_bytes) + 2.5 + 6_000.0 / max as f64,
            "{:.1} against {:.1}",
            per_entry(adaptive_bytes),
            per_entry(lru_bytes)
        );
        assert!(
            retained * 20 <= adaptive_bytes,
            "{retained} of {adaptive_bytes} bytes kept"
        );
    }
}

/// Allocations the heavy scenarios make one by one (maps, keys). dhat takes a backtrace of
/// every allocation, which is most of this test's time: 10,000 of them assert what 100,000
/// did (each scenario's bound is a ratio or a constant floor, not a size), in a tenth of it.
const MANY: usize = 10_000;

/// The registry forgets dropped maps and gives back the room they took.
fn registry_gives_memory_back_after_many_maps() {
    // One registry read first, so that earlier scenarios' dropped maps are swept.
    drop(mapguard::registry::snapshot());
    let before = heap().curr_bytes;
    let maps: Vec<LruMap<u8, u8>> = (0..MANY).map(|_| LruMap::new(4)).collect();
    let peak = heap().curr_bytes - before;
    drop(maps);
    drop(mapguard::registry::snapshot());
    let retained = heap().curr_bytes.saturating_sub(before);
    println!("{MANY} maps created and dropped: {peak} bytes at the peak, {retained} held after");
    assert!(
        retained * 100 <= peak,
        "{retained} of {peak} bytes still held after every map was dropped"
    );
}

/// Inserting and removing around one size must not reallocate back and forth.
fn no_reallocation_churn_at_the_shrink_boundary() {
    let mut map = full_lru(1_024);
    for k in 0..(1_024 - 255) {
        let _ = map.remove(&k);
    }
    let blocks_before = heap().total_blocks;
    for round in 0..10_000_u64 {
        map.insert(1_000_000 + round, round);
        let _ = map.remove(&(1_000_000 + round));
    }
    let reallocations = heap().total_blocks - blocks_before;
    println!("10000 insert/remove pairs at a shrink boundary: {reallocations} allocations");
    assert!(
        reallocations <= 4,
        "{reallocations} allocations: the map thrashes"
    );
}

/// Mass key death: `MANY` weak-keyed entries whose keys all die, then one maintenance pass.
fn weak_keys_give_memory_back_after_mass_death() {
    let before = heap().curr_bytes;
    let keys: Vec<Rc<u64>> = (0..MANY as u64).map(Rc::new).collect();
    let keys_bytes = heap().curr_bytes - before;
    let mut weak = WeakKeyMap::<Weak<u64>, u64>::new();
    for key in &keys {
        weak.insert(Rc::clone(key), **key);
    }
    let with_entries = heap().curr_bytes - before - keys_bytes;
    drop(keys);
    let after_death = heap().curr_bytes - before;
    let collected = weak.maintain();
    let after_maintain = heap().curr_bytes - before;
    println!(
        "WeakKeyMap, {MANY} entries: map {with_entries} bytes; keys dropped: {after_death} bytes \
         held (map + dead allocations the weak pointers pin); after maintain ({collected} \
         collected): {after_maintain} bytes"
    );
    assert_eq!(collected, MANY);
    // What remains is the store's floor of 16 slots, kept so tiny maps do not churn.
    assert!(
        after_maintain <= 1_024,
        "{after_maintain} bytes kept after the purge"
    );
    drop(weak);
}

/// A request-scoped map gives its memory back when the scope ends.
fn scope_end_gives_memory_back() {
    let mut request = LruMap::builder(1_000_000)
        .lifetime(Lifetime::Request)
        .build();
    let before = heap().curr_bytes;
    for k in 0..100_000_u64 {
        request.insert(k, k);
    }
    let during = heap().curr_bytes - before;
    let released = request.end_scope(Lifetime::Request);
    let after_scope = heap().curr_bytes - before;
    println!(
        "request-scoped LruMap: {during} bytes with 100000 entries; after end_scope \
         ({released} released): {after_scope} bytes"
    );
    assert_eq!(after_scope, 0);
}

/// `testing::HeapCheckpoint` sees memory come back after a scope end, and fails loudly when
/// it does not.
fn heap_checkpoint_asserts_returned_memory() {
    use mapguard::testing::HeapCheckpoint;
    let mut map = LruMap::builder(100_000).lifetime(Lifetime::Batch).build();
    let empty = HeapCheckpoint::now();
    for k in 0..20_000_u64 {
        map.insert(k, k);
    }
    assert!(empty.grown() > 20_000 * 16);
    let kept_alive = map.remove(&1);
    map.end_scope(Lifetime::Batch);
    empty.assert_returned(0);
    let leak: Vec<u64> = (0..1_000).collect();
    let missed = std::panic::catch_unwind(|| empty.assert_returned(0));
    assert!(
        missed.is_err(),
        "an 8 KB allocation still live must fail the assertion"
    );
    drop((leak, kept_alive));
}

/// A concurrent map costs about what its shards do, and gives everything back at a scope end.
fn concurrent_map_memory() {
    let before = heap().curr_bytes;
    // Room for twice the entries: a shard fills before the map does (the bound is per shard).
    let shared = ConcurrentLruMap::<u64, u64>::builder(200_000)
        .shards(8)
        .lifetime(Lifetime::Request)
        .build();
    let fixed = heap().curr_bytes - before;
    for k in 0..100_000_u64 {
        shared.insert(k, k);
    }
    let full = heap().curr_bytes - before - fixed;
    let overhead = full as f64 / 100_000.0 - size_of::<(u64, u64)>() as f64;
    let released = shared.end_scope(Lifetime::Request);
    let after = heap().curr_bytes - before;
    println!(
        "ConcurrentLruMap, 8 shards: {fixed} bytes empty; 100000 entries: {overhead:.1} bytes \
         per entry beyond (K, V); after end_scope ({released} released): {after} bytes"
    );
    assert_eq!(released, 100_000);
    assert!(overhead < 24.0, "{overhead:.1} bytes per entry");
    assert_eq!(after, fixed, "a scope end frees every shard's storage");
    drop(shared);
    assert_eq!(heap().curr_bytes, before);
}
