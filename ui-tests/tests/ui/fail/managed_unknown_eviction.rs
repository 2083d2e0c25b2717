// A policy name that does not exist: the error lists the three that do.
use std::collections::HashMap;

#[mapguard::managed]
#[derive(Default)]
struct Cache {
    #[managed_map(lifetime = "process", max = 100, evict = "lfu")]
    pages: HashMap<u64, String>,
}

fn main() {
    let _ = Cache::default();
}
