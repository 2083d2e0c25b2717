use std::collections::HashMap;

#[mapguard::managed]
#[derive(Default, Clone, Debug)]
struct AppState {
    #[managed_map(lifetime = "request", max = 100, concurrent)]
    pages: HashMap<u64, String>,
    #[managed_map(lifetime = "process", max = 100)]
    plain: HashMap<u64, String>,
}

fn main() {}
