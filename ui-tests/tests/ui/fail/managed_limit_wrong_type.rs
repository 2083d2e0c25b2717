// A run-time `max` is a `usize` and a run-time `max_bytes` a `u64`: another type is an error
// at the expression.
use std::collections::HashMap;

struct Config {
    max_keys: u64,
    max_bytes: usize,
}

fn config() -> Config {
    Config { max_keys: 10, max_bytes: 1 << 20 }
}

#[mapguard::managed]
#[derive(Default)]
struct Server {
    #[managed_map(lifetime = "process", concurrent, max = config().max_keys, max_bytes = config().max_bytes)]
    keys: HashMap<u64, String>,
}

fn main() {}
