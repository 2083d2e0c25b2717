// A `max` constant that turns out to be zero is caught at compile time, at the expression.
use std::collections::HashMap;

const NOTHING: usize = 0;

#[mapguard::managed]
#[derive(Default)]
struct Cache {
    #[managed_map(lifetime = "request", max = NOTHING)]
    empty: HashMap<u64, String>,
}

fn main() {
    let _ = Cache::default();
}
