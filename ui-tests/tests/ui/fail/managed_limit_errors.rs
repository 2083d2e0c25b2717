// Misused limit keys: each error at its key or value, all reported at once.
use std::collections::HashMap;

fn weigh(_: &u64, value: &String) -> u64 {
    value.len() as u64
}

#[mapguard::managed]
#[derive(Default)]
struct Limits {
    #[managed_map(lifetime = "process", max = 10, shards = 4)]
    not_shared: HashMap<u64, String>,
    #[managed_map(lifetime = "process", max_bytes = "1MiB", max_weight = 10, weigher = weigh)]
    two_budgets: HashMap<u64, String>,
    #[managed_map(lifetime = "process", max_weight = "64MiB", weigher = weigh)]
    weight_as_size: HashMap<u64, String>,
    #[managed_map(lifetime = "process", concurrent, max = 10, shards = 0)]
    no_shards: HashMap<u64, String>,
    #[managed_map(lifetime = "process", max_bytes = -1)]
    negative: HashMap<u64, String>,
}

fn main() {}
