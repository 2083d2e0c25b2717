use std::collections::HashMap;

#[mapguard::managed]
struct Cache {
    #[managed_map(lifetime = "request", max = 10, max = 20)]
    entries: HashMap<u64, String>,
}

fn main() {}
