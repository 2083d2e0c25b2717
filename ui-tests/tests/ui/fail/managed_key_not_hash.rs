// Siblings of `managed_weak_key_not_hash.rs`: a key type without `Hash`, in a plain managed
// map and behind an alias of a weak-keyed one. One error each, at the field.
use std::collections::HashMap;
use std::rc::Weak;

struct Node;

type NodeMeta = HashMap<Weak<Node>, u32>;

#[mapguard::managed]
#[derive(Default)]
struct Graph {
    #[managed_map(lifetime = "process", max = 64)]
    by_node: HashMap<Node, u32>,
    #[managed_map(lifetime = "process", weak_keys)]
    meta: NodeMeta,
}

fn main() {}
