// A map without a lifecycle gets the advice that fits it: a shared map is a `concurrent`
// managed map, a set is a map to `()`, an ordered map loses its order, a DashMap is sharded
// like a concurrent managed map.
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

mod dashmap {
    pub struct DashMap<K, V>(std::marker::PhantomData<(K, V)>);
}

#[mapguard::managed]
struct Service {
    shared: Arc<Mutex<HashMap<u64, String>>>,
    ordered: BTreeMap<u64, String>,
    seen: HashSet<u64>,
    sharded: dashmap::DashMap<u64, String>,
}

fn main() {}
