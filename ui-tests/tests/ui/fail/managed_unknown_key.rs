use std::collections::HashMap;

#[mapguard::managed]
struct Cache {
    #[managed_map(lifetime = "request", max = 10, maxsize = 10, lifetme = "request")]
    entries: HashMap<u64, String>,
}

fn main() {}
