// Every builder combination compiles, with nameable types for struct fields.
use mapguard::hooks::WithCleanup;
use mapguard::{BoundedMap, Cleanup, DefaultHashBuilder, LruMap, RemovalCause};
use std::collections::hash_map::RandomState;

struct Conn;
impl Cleanup for Conn {
    fn cleanup(&mut self, _: RemovalCause) {}
}

struct State {
    conns: LruMap<u32, Conn, DefaultHashBuilder, WithCleanup>,
    names: BoundedMap<String, u32, RandomState>,
}

#[test]
fn expands_and_runs() {
    let mut state = State {
        conns: LruMap::builder(4).cleanup().build(),
        names: BoundedMap::with_hasher(4, RandomState::new()),
    };
    state.conns.insert(1, Conn);
    state.names.try_insert(String::from("a"), 1).unwrap();
    assert_eq!(state.names.get("a"), Some(&1));
    let mut log = Vec::new();
    let mut listened = LruMap::builder(1)
        .cleanup()
        .on_removal(|k: u8, _v: Conn, cause| log.push((k, cause)))
        .hasher(RandomState::new())
        .build();
    listened.insert(1, Conn);
    listened.insert(2, Conn);
    drop(listened);
    assert_eq!(
        log,
        [(1, RemovalCause::Evicted), (2, RemovalCause::Dropped)]
    );
}
