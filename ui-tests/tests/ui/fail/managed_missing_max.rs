use std::collections::HashMap;

#[mapguard::managed]
struct Cache {
    #[managed_map(lifetime = "session")]
    entries: HashMap<u64, String>,
}

fn main() {}
