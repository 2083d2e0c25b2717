// Every key, generics with a where-clause, a custom hasher, weak keys, and a tuple struct.
#![deny(warnings)]
#![allow(
    clippy::zero_sized_map_values,
    reason = "`Conn` stands for a connection; its size does not matter here"
)]
use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::rc::{Rc, Weak};

use mapguard::{Cleanup, Lifetime, ManagedCache, RemovalCause};

#[derive(Default)]
struct Conn;
impl Cleanup for Conn {
    fn cleanup(&mut self, _: RemovalCause) {}
}

fn log<K, V>(_key: K, _value: V, _cause: RemovalCause) {}

#[mapguard::managed]
#[derive(Default)]
pub struct Everything<T>
where
    T: Default,
{
    #[managed_map(lifetime = "request", max = 10, evict = "lru", ttl = "250ms", idle = "30s", cleanup, on_remove = log, name = "svc.conns")]
    conns: HashMap<u64, Conn>,
    #[managed_map(lifetime = "session", max = 5, evict = "reject")]
    pub hashed: HashMap<String, T, RandomState>,
    #[managed_map(lifetime = "batch", weak_keys, max = 3, evict = "reject", idle = "2h")]
    weak: std::collections::HashMap<Weak<u32>, T>,
    #[unmanaged(reason = "filled once at start-up")]
    table: HashMap<u8, u8>,
}

#[mapguard::managed]
#[derive(Default)]
struct Tuple(
    #[managed_map(lifetime = "process", max = 1)] HashMap<u8, u8>,
    u32,
);

#[test]
fn expands_and_runs() {
    let mut all = Everything::<String>::default();
    all.conns.insert(1, Conn);
    all.hashed
        .try_insert(String::from("k"), String::from("v"))
        .unwrap();
    let key = Rc::new(7);
    all.weak.try_insert(Rc::clone(&key), String::new()).unwrap();
    all.table.insert(1, 1);
    assert_eq!(all.end_scope(Lifetime::Request), 1);
    assert_eq!(all.end_scope(Lifetime::Batch), 1);
    assert_eq!(all.hashed.len(), 1);
    let mut tuple = Tuple::default();
    tuple.0.insert(1, 1);
    tuple.1 = 2;
    assert_eq!(tuple.maintain(), 0);
}
