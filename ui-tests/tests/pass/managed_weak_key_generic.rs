// A generic struct with a weak-keyed map: `T: Hash + Eq` on the struct makes `Weak<T>` a
// key, and the map is used through the field in a generic impl.
use std::collections::HashMap;
use std::hash::Hash;
use std::rc::{Rc, Weak};

#[mapguard::managed]
#[derive(Default)]
struct Index<T: Hash + Eq> {
    #[managed_map(lifetime = "process", weak_keys, max = 8)]
    by_node: HashMap<Weak<T>, u32>,
}

impl<T: Hash + Eq> Index<T> {
    fn tag(&mut self, node: &Rc<T>, tag: u32) {
        self.by_node.insert(Rc::clone(node), tag);
    }

    fn tag_of(&self, node: &T) -> Option<u32> {
        self.by_node.peek(node).copied()
    }
}

#[test]
fn expands_and_runs() {
    let mut index = Index::<String>::default();
    let node = Rc::new(String::from("n"));
    index.tag(&node, 3);
    assert_eq!(index.tag_of(&String::from("n")), Some(3));
    drop(node);
    assert_eq!(mapguard::ManagedCache::maintain(&mut index), 1);
}
