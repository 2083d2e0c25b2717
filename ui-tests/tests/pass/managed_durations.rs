//! `ttl` and `idle` take humantime's format: whole or compound units, days included.
use std::collections::HashMap;

#[mapguard::managed]
#[derive(Default)]
struct Sessions {
    #[managed_map(lifetime = "session", max = 10, ttl = "5min", idle = "90s")]
    short: HashMap<u64, String>,
    #[managed_map(lifetime = "session", max = 10, ttl = "1h30m")]
    compound: HashMap<u64, String>,
    #[managed_map(lifetime = "session", max = 10, ttl = "1d", idle = "2h 15m")]
    long: HashMap<u64, String>,
}

#[test]
fn expands_and_runs() {
    let mut sessions = Sessions::default();
    sessions.short.insert(1, String::from("a"));
    sessions.compound.insert(1, String::from("b"));
    sessions.long.insert(1, String::from("c"));
    assert_eq!(
        sessions.short.len() + sessions.compound.len() + sessions.long.len(),
        3
    );
}
