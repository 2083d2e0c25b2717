// `alias` takes a plain name; a field of a type that is not a hash map (found by what it is,
// through `MapType`) cannot be rewritten.
use std::collections::HashMap;

#[derive(Default)]
struct Registry {
    entries: Vec<(u64, String)>,
}

#[mapguard::managed]
#[derive(Default)]
struct Service {
    #[managed_map(lifetime = "request", max = 10, alias = "Sessions")]
    sessions: HashMap<u64, String>,
    #[managed_map(lifetime = "request", max = 10)]
    registry: Registry,
}

fn main() {}
