// A weak key `Weak<T>` of a generic struct: `T` must be bounded by `Hash + Eq` where the
// struct is declared, as for any map keyed by `T`. One error, at the key.
use std::collections::HashMap;
use std::rc::Weak;

#[mapguard::managed]
struct Index<T> {
    #[managed_map(lifetime = "process", weak_keys)]
    by_node: HashMap<Weak<T>, u32>,
}

fn main() {}
