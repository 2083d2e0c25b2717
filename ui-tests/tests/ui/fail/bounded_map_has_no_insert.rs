// A bounded map never evicts, so it has `try_insert`, not `insert` (nor `replace`, nor an
// entry's `or_insert`): each kind and method says so, and names the `try_` form.
use mapguard::map::Entry;
use std::collections::HashMap;
use std::rc::{Rc, Weak};
use std::sync::Arc;

#[mapguard::managed]
#[derive(Default)]
struct Tables {
    #[managed_map(lifetime = "request", max = 8, evict = "reject")]
    by_id: HashMap<u32, &'static str>,
}

fn main() {
    let mut map = mapguard::BoundedMap::new(8);
    map.insert(1, "one");
    map.replace(1, "uno");
    *map.entry(2).or_insert("two") = "deux";
    if let Entry::Vacant(slot) = map.entry(3) {
        slot.insert("three");
    }

    let shared = mapguard::ConcurrentBoundedMap::<u32, &str>::new(8);
    shared.insert(1, "one");

    let mut weak = mapguard::WeakKeyMap::<Weak<u32>, &str>::bounded_builder(8).build();
    weak.insert(Rc::new(1), "one");

    let shared_weak =
        mapguard::ConcurrentWeakKeyMap::<std::sync::Weak<u32>, &str>::bounded_builder(8).build();
    shared_weak.insert(Arc::new(1), "one");

    let mut tables = Tables::default();
    tables.by_id.insert(1, "one");
}
