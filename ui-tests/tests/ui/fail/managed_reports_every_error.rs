// Every problem of a struct is reported in one compile.
use std::collections::HashMap;

#[mapguard::managed]
struct Cache {
    #[managed_map(max = 10)]
    a: HashMap<u64, String>,
    #[managed_map(lifetime = "forever", max = 10)]
    b: HashMap<u64, String>,
    c: HashMap<u64, String>,
    #[managed_map(lifetime = "request", max = 10)]
    #[unmanaged(reason = "both")]
    d: HashMap<u64, String>,
}

fn main() {}
