use std::collections::HashMap;

#[mapguard::managed]
struct Shared {
    // `concurrent` is a flag.
    #[managed_map(lifetime = "process", max = 10, concurrent = true)]
    rules: HashMap<String, u32>,
}

fn main() {}
