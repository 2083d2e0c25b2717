// The way out the weak-keys error gives: skip the field, rebuilt empty by `Default`.
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::rc::{Rc, Weak};

#[mapguard::managed]
#[derive(Default, Serialize, Deserialize)]
struct Graph {
    #[managed_map(lifetime = "process", weak_keys)]
    #[serde(skip)]
    meta: HashMap<Weak<String>, u32>,
    #[managed_map(lifetime = "process", max = 10)]
    names: HashMap<u32, String>,
}

fn round_trips<T: Serialize + for<'de> Deserialize<'de>>(_: &T) {}

#[test]
fn expands_and_runs() {
    let mut graph = Graph::default();
    let key = Rc::new(String::from("n"));
    graph.meta.insert(Rc::clone(&key), 1);
    graph.names.insert(1, String::from("one"));
    round_trips(&graph);
}
