use std::collections::BTreeMap;

#[mapguard::managed]
struct Cache {
    #[managed_map(lifetime = "request", max = 10)]
    count: u64,
    #[managed_map(lifetime = "request", max = 10)]
    ordered: BTreeMap<u64, String>,
    #[managed_map(lifetime = "request", max = 10)]
    maybe: Option<std::collections::HashMap<u64, String>>,
}

fn main() {}
