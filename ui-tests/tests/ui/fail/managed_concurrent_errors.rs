use std::collections::HashMap;
use std::sync::Weak;

#[mapguard::managed]
struct Shared {
    // Weak-keyed maps have no thread-safe form yet.
    #[managed_map(lifetime = "process", weak_keys, concurrent)]
    meta: HashMap<Weak<String>, u32>,
    // `concurrent` is a flag.
    #[managed_map(lifetime = "process", max = 10, concurrent = true)]
    rules: HashMap<String, u32>,
}

fn main() {}
