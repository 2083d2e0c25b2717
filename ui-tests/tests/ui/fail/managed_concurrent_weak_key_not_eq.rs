// `weak_keys, concurrent` with a pointee that hashes but does not compare (`Hash` without
// `Eq`): one error at the key, the same as for a single-threaded weak-keyed map.
use std::collections::HashMap;
use std::sync::Weak;

#[derive(Hash)]
struct Session {
    id: u64,
}

#[mapguard::managed]
#[derive(Default, Debug)]
struct Registry {
    #[managed_map(lifetime = "process", weak_keys, concurrent, max = 100)]
    by_session: HashMap<Weak<Session>, u32>,
}

fn main() {
    let registry = Registry::default();
    println!("{registry:?}");
}
