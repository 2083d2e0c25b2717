// Zero, negative, a string, and an expression: each is reported at its own token.
use std::collections::HashMap;

#[mapguard::managed]
struct Cache {
    #[managed_map(lifetime = "request", max = 0)]
    zero: HashMap<u64, String>,
    #[managed_map(lifetime = "request", max = -5)]
    negative: HashMap<u64, String>,
    #[managed_map(lifetime = "request", max = "5000")]
    string: HashMap<u64, String>,
    #[managed_map(lifetime = "request", max = LIMIT)]
    constant: HashMap<u64, String>,
}

const LIMIT: usize = 10;

fn main() {}
