// Weak-keyed maps do not serialize: one error per derive, saying why and what to do.
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::rc::Weak;

#[mapguard::managed]
#[derive(Default, Serialize, Deserialize)]
struct Graph {
    #[managed_map(lifetime = "process", weak_keys)]
    meta: HashMap<Weak<String>, u32>,
}

fn main() {}
