use std::collections::HashMap;
use std::rc::Weak;

#[mapguard::managed]
struct Cache {
    #[managed_map(lifetime = "process", weak_keys, evict = "reject")]
    meta: HashMap<Weak<String>, u32>,
}

fn main() {}
