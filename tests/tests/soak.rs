//! Soak test for the concurrent maps: 8 threads of random operations for a set time, with
//! hooks and caller closures that panic now and then. Ignored by `cargo test`; run it with
//! `scripts/soak.sh [seconds]` (default 60).
//!
//! Afterwards: every value left exactly once, `len <= max + shards`, the registry's figures
//! match the map's, and no lock was left poisoned in a way later operations trip on.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use mapguard::testing::{Tracked, Tracker};
use mapguard::{ConcurrentBoundedMap, ConcurrentLruMap, Lifetime, RemovalCause};
use mapguard_tests::Rng;

/// Value ids whose hooks panic: one in `PANIC_EVERY`.
const PANIC_EVERY: u64 = 97;

#[allow(clippy::needless_pass_by_value, reason = "a listener takes the value")]
fn hook(_key: u32, value: Tracked<u32>, cause: RemovalCause) {
    assert!(
        !HOOKS_MAY_PANIC.load(Ordering::Relaxed) || value.id() % PANIC_EVERY != 0,
        "hook panics on purpose ({cause})"
    );
}

/// On while the threads run; off for the checks after.
static HOOKS_MAY_PANIC: AtomicBool = AtomicBool::new(true);

#[derive(Default)]
struct Counts {
    operations: AtomicU64,
    panics: AtomicU64,
}

#[test]
#[ignore = "a soak test: run scripts/soak.sh"]
fn concurrent_maps_hold_their_promises_under_a_soak() {
    let seconds = std::env::var("SOAK_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let tracker = Tracker::new();
    let lru = ConcurrentLruMap::builder(1_000)
        .name("soak.lru")
        .shards(16)
        .lifetime(Lifetime::Request)
        .cleanup()
        .on_removal(hook as fn(u32, Tracked<u32>, RemovalCause))
        .build();
    let bounded = ConcurrentBoundedMap::builder(1_000)
        .name("soak.bounded")
        .shards(16)
        .lifetime(Lifetime::Request)
        .cleanup()
        .on_removal(hook as fn(u32, Tracked<u32>, RemovalCause))
        .build();
    let counts = Counts::default();
    let quiet = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    std::thread::scope(|s| {
        for thread in 0..8_u64 {
            let (lru, bounded, tracker, counts) = (&lru, &bounded, &tracker, &counts);
            s.spawn(move || random_operations(thread, deadline, lru, bounded, tracker, counts));
        }
    });
    std::panic::set_hook(quiet);
    HOOKS_MAY_PANIC.store(false, Ordering::Relaxed);

    // The bound, and the registry's figures.
    for (name, len, max, shards) in [
        ("soak.lru", lru.len(), lru.max(), lru.shard_count()),
        (
            "soak.bounded",
            bounded.len(),
            bounded.max(),
            bounded.shard_count(),
        ),
    ] {
        assert!(
            len < max + shards,
            "{name}: {len} entries, max {max}, {shards} shards"
        );
        let report = mapguard::registry::snapshot()
            .into_iter()
            .find(|m| m.name == name)
            .unwrap();
        assert_eq!(report.len, len as u64, "{name}: registry disagrees");
    }
    // No poisoned lock trips later operations: each kind of operation works once more.
    let probe = tracker.track(u32::MAX);
    let probe_id = probe.id();
    lru.insert(u32::MAX, probe);
    assert_eq!(lru.update(&u32::MAX, |v| v.id()), Some(probe_id));
    lru.set_max(100);
    lru.retain(|_, _| true);
    assert!(lru.len() < 100 + lru.shard_count());
    bounded.clear();
    assert!(bounded.is_empty());

    let (operations, panics) = (
        counts.operations.load(Ordering::Relaxed),
        counts.panics.load(Ordering::Relaxed),
    );
    let left = lru.len() + bounded.len();
    drop(quiet_drop(lru));
    drop(quiet_drop(bounded));
    tracker.assert_exactly_once();
    println!(
        "soak: {seconds} s, 8 threads, {operations} operations ({panics} panicked on purpose); \
         {} values created, {} cleaned, {left} left at the end; exactly once held",
        tracker.created(),
        tracker.cleaned_total(),
    );
}

/// Drops a map whose hooks may panic, containing the panic.
fn quiet_drop<T>(map: T) -> std::thread::Result<()> {
    let quiet = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let outcome = catch_unwind(AssertUnwindSafe(move || drop(map)));
    std::panic::set_hook(quiet);
    outcome
}

type Lru = ConcurrentLruMap<
    u32,
    Tracked<u32>,
    mapguard::DefaultHashBuilder,
    mapguard::hooks::WithCleanup<fn(u32, Tracked<u32>, RemovalCause)>,
>;
type Bounded = ConcurrentBoundedMap<
    u32,
    Tracked<u32>,
    mapguard::DefaultHashBuilder,
    mapguard::hooks::WithCleanup<fn(u32, Tracked<u32>, RemovalCause)>,
>;

/// One thread's share of the soak: random operations until `deadline`.
fn random_operations(
    thread: u64,
    deadline: Instant,
    lru: &Lru,
    bounded: &Bounded,
    tracker: &Tracker,
    counts: &Counts,
) {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ ((thread + 1) * 0x1234_5678));
    while Instant::now() < deadline {
        for _ in 0..256 {
            let key = rng.below(4_000) as u32;
            let op = rng.below(1_000);
            let outcome = catch_unwind(AssertUnwindSafe(|| match op {
                0..=399 => lru.insert(key, tracker.track(key)),
                400..=499 => drop(lru.replace(key, tracker.track(key))),
                500..=549 => drop(lru.remove(&key)),
                550..=599 => drop(lru.discard(&key)),
                600..=699 => drop(lru.update(&key, |v| **v)),
                700..=799 => drop(bounded.try_insert(key, tracker.track(key))),
                800..=829 => drop(bounded.discard(&key)),
                830..=859 => drop(bounded.remove(&key)),
                // A caller's closure that panics under the shard's lock.
                860..=869 => drop(lru.update(&key, |_| panic!("closure panics"))),
                870..=874 => lru.retain(|k, _| k % 7 != 0),
                875..=879 => lru.set_max(200 + rng.below(1_800) as usize),
                880..=881 => lru.clear(),
                882..=883 => drop(bounded.end_scope(Lifetime::Request)),
                884..=889 => drop(lru.maintain()),
                _ => drop(lru.contains_key(&key)),
            }));
            counts.operations.fetch_add(1, Ordering::Relaxed);
            if outcome.is_err() {
                counts.panics.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}
