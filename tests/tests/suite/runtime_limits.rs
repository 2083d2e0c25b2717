//! `#[managed_map]` limits given as expressions: read when the struct is built, so an operator
//! sets them from a flag or a config file; a zero is a panic that names the field.

use std::cell::Cell;
use std::collections::HashMap;

/// What a service reads from its configuration when it starts.
#[derive(Clone, Copy)]
struct Limits {
    keys: usize,
    bytes: u64,
    shards: usize,
}

thread_local! {
    static LIMITS: Cell<Limits> = const {
        Cell::new(Limits { keys: 1_000, bytes: 64 << 20, shards: 4 })
    };
}

fn limits() -> Limits {
    LIMITS.with(Cell::get)
}

fn set_limits(limits: Limits) {
    LIMITS.with(|cell| cell.set(limits));
}

#[allow(
    clippy::trivially_copy_pass_by_ref,
    clippy::ptr_arg,
    reason = "a weigher takes the map's key and value by reference"
)]
fn weigh_len(_: &u64, value: &Vec<u8>) -> u64 {
    value.len() as u64
}

#[mapguard::managed]
#[derive(Default)]
struct Server {
    #[managed_map(
        lifetime = "process",
        concurrent,
        max = limits().keys,
        max_bytes = limits().bytes,
        shards = limits().shards
    )]
    keys: HashMap<String, String>,
    #[managed_map(lifetime = "process", max = 100, max_weight = 50, weigher = weigh_len)]
    blobs: HashMap<u64, Vec<u8>>,
    #[managed_map(lifetime = "process", concurrent, evict = "reject", max = limits().keys / 2, shards = 2)]
    channels: HashMap<u64, u64>,
}

#[test]
fn limits_given_as_expressions_are_read_when_the_struct_is_built() {
    set_limits(Limits {
        keys: 1_000,
        bytes: 64 << 20,
        shards: 4,
    });
    let first = Server::default();
    set_limits(Limits {
        keys: 20,
        bytes: 100,
        shards: 8,
    });
    let second = Server::default();
    assert_eq!(
        (
            first.keys.max(),
            first.keys.max_weight(),
            first.keys.shard_count()
        ),
        (1_000, Some(64 << 20), 4)
    );
    assert_eq!(
        (
            second.keys.max(),
            second.keys.max_weight(),
            second.keys.shard_count()
        ),
        (20, Some(100), 8)
    );
    assert_eq!((first.channels.max(), second.channels.max()), (500, 10));
    // The budget read at construction holds for the whole map.
    second.keys.insert("a".into(), "x".repeat(60));
    second.keys.insert("b".into(), "y".repeat(60));
    assert!(second.keys.weight() <= 100);
    assert!(second.keys.contains_key("b"));
    // A bounded concurrent field takes exactly its run-time `max`.
    let accepted = (0..50)
        .filter(|&k| second.channels.try_insert(k, k).is_ok())
        .count();
    assert_eq!(accepted, 10);
}

/// Limits a service fixed at startup, read through a `static` (the issue's `limits.keys`).
static LIMITS_AT_START: Limits = Limits {
    keys: 300,
    bytes: 1 << 20,
    shards: 4,
};

#[mapguard::managed]
#[derive(Default)]
struct Cache {
    #[managed_map(
        lifetime = "process",
        concurrent,
        max = LIMITS_AT_START.keys,
        max_bytes = LIMITS_AT_START.bytes,
        shards = 4
    )]
    pages: HashMap<u64, String>,
}

#[test]
fn a_static_configs_fields_are_limits_too() {
    let cache = Cache::default();
    assert_eq!(
        (
            cache.pages.max(),
            cache.pages.max_weight(),
            cache.pages.shard_count()
        ),
        (300, Some(1 << 20), 4)
    );
    assert_eq!(LIMITS_AT_START.shards, 4);
}

#[test]
fn max_weight_counts_in_the_weighers_units() {
    let mut server = Server::default();
    server.blobs.insert(1, vec![0; 30]);
    server.blobs.insert(2, vec![0; 30]);
    assert_eq!(server.blobs.max_weight(), Some(50));
    assert!(server.blobs.weight() <= 50);
    assert!(server.blobs.contains_key(&2));
    assert!(!server.blobs.contains_key(&1), "evicted to fit");
}

#[test]
#[should_panic(expected = "`max` of `Server.keys` is 0 (read when the struct was built)")]
fn a_zero_max_at_run_time_panics_naming_the_field() {
    set_limits(Limits {
        keys: 0,
        bytes: 1,
        shards: 1,
    });
    let _ = Server::default();
}

#[test]
#[should_panic(expected = "`max_bytes` of `Server.keys` is 0 (read when the struct was built)")]
fn a_zero_budget_at_run_time_panics_naming_the_field() {
    set_limits(Limits {
        keys: 10,
        bytes: 0,
        shards: 1,
    });
    let _ = Server::default();
}

#[test]
#[should_panic(expected = "`shards` of `Server.keys` is 0 (read when the struct was built)")]
fn zero_shards_at_run_time_panic_naming_the_field() {
    set_limits(Limits {
        keys: 10,
        bytes: 10,
        shards: 0,
    });
    let _ = Server::default();
}
