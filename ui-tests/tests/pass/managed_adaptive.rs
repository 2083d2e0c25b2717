// `evict = "adaptive"` on a plain, a concurrent and a weak-keyed map: each is the adaptive
// policy (the registry names it), with the same methods as its LRU counterpart.
#![deny(warnings)]
use std::collections::HashMap;
use std::sync::{Arc, Weak};

use mapguard::{Lifetime, RemovalCause};

fn log<K, V>(_key: K, _value: V, _cause: RemovalCause) {}

#[mapguard::managed]
#[derive(Default)]
pub struct Caches {
    #[managed_map(lifetime = "process", max = 2, evict = "adaptive", on_remove = log)]
    pages: HashMap<u64, String>,
    #[managed_map(
        lifetime = "process",
        max = 64,
        evict = "adaptive",
        concurrent,
        ttl = "10m"
    )]
    shared: HashMap<String, u32>,
    #[managed_map(
        lifetime = "request",
        max = 8,
        evict = "adaptive",
        weak_keys,
        concurrent
    )]
    by_owner: HashMap<Weak<String>, u32>,
}

#[test]
fn expands_and_runs() {
    let mut caches = Caches::default();
    caches.pages.insert(1, String::from("a"));
    caches.pages.insert(2, String::from("b"));
    assert_eq!(caches.pages.get(&1).map(String::as_str), Some("a"));
    caches.pages.insert(3, String::from("c")); // full: one entry leaves
    assert_eq!(caches.pages.len(), 2);
    caches.shared.insert(String::from("k"), 1);
    assert_eq!(caches.shared.get("k"), Some(1));
    let owner = Arc::new(String::from("owner"));
    caches.by_owner.insert(Arc::clone(&owner), 7);
    assert_eq!(caches.by_owner.len(), 1);
    let policies: Vec<&str> = mapguard::registry::snapshot()
        .iter()
        .filter(|m| m.name.starts_with("Caches."))
        .map(|m| m.policy)
        .collect();
    assert_eq!(policies, ["adaptive"; 3]);
    assert_eq!(caches.by_owner.end_scope(Lifetime::Request), 1);
}
