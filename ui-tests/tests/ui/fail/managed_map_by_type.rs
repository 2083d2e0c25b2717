// A field whose type is, or holds, a map is found by its type, whatever it is called:
// aliases, renamed imports, other hashers, containers, cells, tuples.
use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::collections::HashMap as Map;
use std::hash::BuildHasherDefault;
use std::sync::{Arc, Mutex, OnceLock};

type Registry = HashMap<u64, String>;
type FxHashMap<K, V> = HashMap<K, V, BuildHasherDefault<std::collections::hash_map::DefaultHasher>>;

#[mapguard::managed]
#[derive(Default)]
struct Service {
    #[managed_map(lifetime = "request", max = 10)]
    ok: HashMap<u32, String>,
    by_alias: Registry,
    by_hasher: FxHashMap<u32, u32>,
    renamed: Map<u32, u32>,
    listed: Vec<Registry>,
    sets: [BTreeSet<u8>; 4],
    lazily: OnceLock<Arc<Mutex<Registry>>>,
    paired: (u32, RefCell<Registry>),
    // Not maps: no error.
    numbers: Vec<u32>,
    borrowed_elsewhere: Option<&'static Registry>,
}

fn main() {}

// Other crates' maps, which the compiler's check cannot name, are found by name.
mod other_crates {
    pub struct AHashMap<K, V>(std::marker::PhantomData<(K, V)>);
    pub struct IndexSet<T>(std::marker::PhantomData<T>);
}

#[mapguard::managed]
struct ByName {
    ahash: other_crates::AHashMap<u32, u32>,
    index: other_crates::IndexSet<u32>,
}
