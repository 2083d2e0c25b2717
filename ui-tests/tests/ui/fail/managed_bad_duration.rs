use std::collections::HashMap;

#[mapguard::managed]
struct Cache {
    #[managed_map(lifetime = "request", max = 10, ttl = "ten minutes", idle = "0s")]
    entries: HashMap<u64, String>,
}

fn main() {}
