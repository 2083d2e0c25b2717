// Concurrent fields: the struct is Send + Sync, shareable through Arc without a lock, and
// hooks are plain functions.
#![deny(warnings)]
#![allow(
    clippy::zero_sized_map_values,
    reason = "`Conn` stands for a connection; its size does not matter here"
)]
use std::collections::HashMap;
use std::sync::Arc;

use mapguard::{Cleanup, Lifetime, RemovalCause};

#[derive(Clone, Default)]
struct Conn;
impl Cleanup for Conn {
    fn cleanup(&mut self, _: RemovalCause) {}
}

fn log<K, V>(_key: K, _value: V, _cause: RemovalCause) {}

#[mapguard::managed]
#[derive(Default)]
pub struct Shared {
    #[managed_map(lifetime = "process", max = 1000, concurrent, on_remove = log, ttl = "10m")]
    rules: HashMap<String, Arc<str>>,
    #[managed_map(lifetime = "request", max = 64, evict = "reject", concurrent, cleanup)]
    conns: HashMap<u64, Conn>,
}

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn expands_and_runs() {
    assert_send_sync::<Shared>();
    let shared = Arc::new(Shared::default());
    let worker = {
        let shared = Arc::clone(&shared);
        std::thread::spawn(move || {
            shared
                .rules
                .insert(String::from("deny"), Arc::from("compiled"));
            shared.conns.try_insert(1, Conn).is_ok()
        })
    };
    assert!(worker.join().unwrap());
    assert_eq!(shared.rules.get("deny").as_deref(), Some("compiled"));
    assert_eq!(shared.conns.end_scope(Lifetime::Request), 1);
}
