use std::collections::HashMap;

#[mapguard::managed]
struct Cache {
    #[managed_map(max = 100)]
    entries: HashMap<u64, String>,
}

fn main() {}
