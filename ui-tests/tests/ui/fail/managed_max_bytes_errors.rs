// Each mistake with a weight budget gives one error at its token: a size without a unit, a
// unit that does not exist, a weigher without a budget, a weigher of the wrong shape, and a
// value type that cannot be weighed.
use std::collections::HashMap;

fn by_len(value: &String) -> u64 {
    value.len() as u64
}

struct Opaque;

#[mapguard::managed]
#[derive(Default)]
struct Caches {
    #[managed_map(lifetime = "process", max_bytes = "64")]
    a: HashMap<u32, String>,
    #[managed_map(lifetime = "process", max_bytes = "64MB")]
    b: HashMap<u32, String>,
    #[managed_map(lifetime = "process", max = 10, weigher = by_len)]
    c: HashMap<u32, String>,
    #[managed_map(lifetime = "process", max_bytes = "1MiB", weigher = by_len)]
    d: HashMap<u32, String>,
    #[managed_map(lifetime = "process", max_bytes = "1MiB")]
    e: HashMap<u32, Opaque>,
}

fn main() {
    let _ = Caches::default();
}
