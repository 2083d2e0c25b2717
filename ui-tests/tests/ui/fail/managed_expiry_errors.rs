//! `expire_after` and `clock` given something that is not an expiry policy or a clock, or a
//! policy beside the `ttl` it replaces: each error at the path or key given.
use std::collections::HashMap;

/// Not an `ExpireAfter`.
struct NotAPolicy;

/// A clock without `Default`: the struct cannot build it.
#[derive(Debug)]
struct ManualClock;

impl mapguard::expiry::Clock for ManualClock {
    fn now(&self) -> std::time::Duration {
        std::time::Duration::ZERO
    }
}

#[mapguard::managed]
struct Sessions {
    #[managed_map(lifetime = "process", max = 10, expire_after = NotAPolicy)]
    by_id: HashMap<u64, String>,
    #[managed_map(lifetime = "process", max = 10, clock = ManualClock)]
    by_name: HashMap<String, u64>,
    #[managed_map(lifetime = "process", max = 10, clock = String)]
    by_token: HashMap<String, u64>,
}

#[mapguard::managed]
struct Mixed {
    #[managed_map(lifetime = "process", max = 10, ttl = "30s", expire_after = mapguard::expiry::OnlyWhenSet)]
    both: HashMap<u64, u64>,
    #[managed_map(lifetime = "process", max = 10, expire_after = "30s", clock = 5)]
    literals: HashMap<u64, u64>,
}

fn main() {
    let mut plain = mapguard::LruMap::<u64, u64>::new(8);
    plain.insert_with_ttl(1, 1, std::time::Duration::from_secs(1));
}
