// The values of a managed map are cleaned when they leave; an unmanaged map inside each value
// would still grow without bound.
use std::collections::HashMap;

#[mapguard::managed]
#[derive(Default)]
struct Index {
    #[managed_map(lifetime = "process", max = 100)]
    by_tenant: HashMap<u64, HashMap<String, u64>>,
}

fn main() {}
