// A weak-keyed map hashes and compares keys by what they point to: a `Node` without `Hash`
// and `Eq` cannot be a key.
use std::collections::HashMap;
use std::rc::Weak;

struct Node;

#[mapguard::managed]
#[derive(Default)]
struct Graph {
    #[managed_map(lifetime = "process", weak_keys)]
    meta: HashMap<Weak<Node>, u32>,
}

fn main() {}
