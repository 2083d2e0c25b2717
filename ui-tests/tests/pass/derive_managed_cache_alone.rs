// derive(ManagedCache) on a struct whose fields are already managed maps; the helper
// attribute marks which fields take part, and may restate the lifetime.
use mapguard::{Lifetime, LruMap, ManagedCache};

#[derive(ManagedCache)]
struct State {
    #[managed_map]
    per_request: LruMap<u64, String>,
    #[managed_map(lifetime = "session")]
    per_session: LruMap<u64, String>,
    not_a_map: u32,
}

#[test]
fn expands_and_runs() {
    let mut state = State {
        per_request: LruMap::builder(8).lifetime(Lifetime::Request).build(),
        per_session: LruMap::builder(8).lifetime(Lifetime::Session).build(),
        not_a_map: 0,
    };
    state.per_request.insert(1, String::from("a"));
    state.per_session.insert(1, String::from("b"));
    assert_eq!(state.end_scope(Lifetime::Request), 1);
    assert_eq!(state.per_session.len(), 1);
    assert_eq!(state.not_a_map, 0);
}
