// `weak_keys = true`: one error, at the value; the flag still counts (no "needs `max`").
use std::collections::HashMap;
use std::rc::Weak;

struct Node;

impl mapguard::Cleanup for Node {
    fn cleanup(&mut self, _cause: mapguard::RemovalCause) {}
}

#[mapguard::managed]
#[derive(Default)]
struct Graph {
    #[managed_map(lifetime = "process", weak_keys = true)]
    meta: HashMap<Weak<String>, u32>,
    #[managed_map(lifetime = "request", max = 8, cleanup = true)]
    scratch: HashMap<u64, Node>,
}

fn main() {}
