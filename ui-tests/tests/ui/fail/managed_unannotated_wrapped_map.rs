// Maps are found inside common wrappers too.
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

#[mapguard::managed]
struct Cache {
    shared: Arc<Mutex<BTreeMap<u64, String>>>,
}

fn main() {}
