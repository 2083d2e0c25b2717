// `max_bytes` bounds what a field's entries weigh: through the value's `Weigh` impl, or a
// `weigher`; with or without `max`; on plain, concurrent and weak-keyed maps.
#![deny(warnings)]
#![allow(
    clippy::ptr_arg,
    reason = "a weigher takes `&K` and `&V` as the map holds them"
)]
use std::collections::HashMap;
use std::sync::{Arc, Weak};

use mapguard::weight::Weigh;

struct Blob(Vec<u8>);

impl Weigh for Blob {
    fn weight(&self) -> u64 {
        self.0.weight()
    }
}

fn entry_bytes(key: &String, value: &Vec<u8>) -> u64 {
    (key.len() + value.len()) as u64
}

#[mapguard::managed]
#[derive(Default)]
pub struct Store {
    #[managed_map(lifetime = "process", max_bytes = "1KiB")]
    blobs: HashMap<u32, Blob>,
    #[managed_map(lifetime = "process", max = 100, max_bytes = "64KiB", weigher = entry_bytes, concurrent)]
    pages: HashMap<String, Vec<u8>>,
    #[managed_map(lifetime = "request", max_bytes = "2KiB", weak_keys)]
    by_owner: HashMap<Weak<u8>, Blob>,
}

#[test]
fn expands_and_runs() {
    let mut store = Store::default();
    for key in 0..10 {
        store.blobs.insert(key, Blob(vec![0; 300]));
    }
    assert_eq!(store.blobs.max_weight(), Some(1024));
    assert!(store.blobs.weight() <= 1024 && store.blobs.len() == 3);
    store.pages.insert(String::from("/"), vec![0; 10]);
    assert_eq!(store.pages.weight(), 11);
    let owner = Arc::new(1);
    store
        .by_owner
        .insert(Arc::clone(&owner), Blob(vec![0; 5_000])); // heavier than 2 KiB
    assert!(store.by_owner.is_empty());
}
