// `#[mapguard::managed(...)]` takes only `crate = path`.
use std::collections::HashMap;

#[mapguard::managed(krate = mapguard)]
#[derive(Default)]
struct Service {
    #[managed_map(lifetime = "request", max = 10)]
    scratch: HashMap<u64, String>,
}

fn main() {
    let service = Service::default();
    assert!(service.scratch.is_empty());
}
