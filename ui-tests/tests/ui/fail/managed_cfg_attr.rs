// `#[cfg_attr(pred, managed_map(...))]` cannot decide a field's type after the macro ran:
// one error, saying what to write instead.
use std::collections::HashMap;

#[mapguard::managed]
#[derive(Default)]
struct Service {
    #[cfg_attr(all(), managed_map(lifetime = "request", max = 10))]
    scratch: HashMap<u64, String>,
}

fn main() {
    let service = Service::default();
    let _ = service.scratch.len();
}
