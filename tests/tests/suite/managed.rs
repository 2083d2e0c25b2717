//! `#[mapguard::managed]` end to end: the issue's example struct, built with
//! `#[derive(Default)]`, scopes clearing exactly their fields, and hooks firing once. The
//! lints below hold the generated code to what a strict user crate demands.
#![deny(warnings, clippy::pedantic)]

use std::cell::Cell;
use std::collections::HashMap;
use std::rc::{Rc, Weak};

use mapguard::{Cleanup, Lifetime, ManagedCache, RemovalCause};

thread_local! {
    static REMOVED_META: Cell<usize> = const { Cell::new(0) };
}

#[derive(Debug, Default)]
struct Conn(u32);

#[derive(Debug, Default)]
struct Channel {
    closed: Rc<Cell<usize>>,
}

impl Cleanup for Channel {
    fn cleanup(&mut self, _cause: RemovalCause) {
        self.closed.set(self.closed.get() + 1);
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Node(u32);

#[derive(Debug)]
struct Meta(u32);

#[allow(
    clippy::needless_pass_by_value,
    reason = "on_remove hooks receive values by value"
)]
fn log_removal(_key: Weak<Node>, value: Meta, cause: RemovalCause) {
    assert_eq!(value.0, 1);
    assert_eq!(cause, RemovalCause::Collected);
    REMOVED_META.with(|n| n.set(n.get() + 1));
}

#[mapguard::managed]
#[derive(Default)]
struct Sessions {
    #[managed_map(lifetime = "request", max = 5000)]
    by_id: HashMap<u64, Conn>,
    #[managed_map(lifetime = "session", max = 100, evict = "reject", cleanup)]
    open: HashMap<String, Channel>,
    #[managed_map(lifetime = "process", weak_keys, ttl = "10m", on_remove = log_removal)]
    meta: HashMap<Weak<Node>, Meta>,
    #[unmanaged(reason = "fixed table filled once at start-up")]
    codes: HashMap<u16, &'static str>,
    name: String,
}

#[test]
fn the_issue_example_is_configured_by_default() {
    let mut sessions = Sessions::default();
    assert_eq!(sessions.by_id.max(), 5000);
    assert_eq!(sessions.by_id.lifetime(), Lifetime::Request);
    assert_eq!(sessions.open.max(), 100);
    assert_eq!(sessions.open.lifetime(), Lifetime::Session);
    assert_eq!(sessions.meta.lifetime(), Lifetime::Process);
    sessions.codes.insert(404, "not found");
    sessions.name.push_str("svc");

    let closed = Rc::new(Cell::new(0));
    for id in 0..6000 {
        sessions.by_id.insert(id, Conn(1));
    }
    assert_eq!(sessions.by_id.len(), 5000, "LRU bound from the attribute");
    assert_eq!(sessions.by_id.peek(&5999).map(|conn| conn.0), Some(1));
    for i in 0..100 {
        let channel = Channel {
            closed: Rc::clone(&closed),
        };
        sessions.open.try_insert(format!("c{i}"), channel).unwrap();
    }
    let full = sessions
        .open
        .try_insert(String::from("x"), Channel::default());
    assert!(full.is_err(), "evict = \"reject\" makes a bounded map");

    let node = Rc::new(Node(1));
    sessions.meta.insert(Rc::clone(&node), Meta(1));
    drop(node);

    assert_eq!(sessions.end_scope(Lifetime::Request), 5000);
    assert!(sessions.by_id.is_empty());
    assert_eq!(sessions.open.len(), 100, "session scope untouched");
    assert_eq!(sessions.end_scope(Lifetime::Session), 100);
    assert_eq!(
        closed.get(),
        100,
        "`cleanup` ran Channel::cleanup once each"
    );
    assert_eq!(sessions.maintain(), 1, "the dead weak key is collected");
    assert_eq!(REMOVED_META.with(Cell::get), 1, "on_remove saw it");
    assert_eq!(sessions.codes.len(), 1);

    let stats = sessions.stats();
    let names: Vec<&str> = stats.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Sessions.by_id", "Sessions.open", "Sessions.meta"]);
    assert_eq!(
        (stats[0].lifetime, stats[0].max, stats[0].len),
        (Lifetime::Request, 5000, 0)
    );
    assert_eq!(stats[1].policy, "reject");
}

#[mapguard::managed]
#[derive(Default)]
struct Pair<T: Default>(
    #[managed_map(lifetime = "batch", max = 2)] HashMap<u8, T>,
    #[managed_map(lifetime = "request", max = 3, idle = "250ms")] HashMap<u8, T>,
);

#[test]
fn tuple_structs_and_generics() {
    let mut pair = Pair::<String>::default();
    pair.0.insert(1, String::from("a"));
    pair.1.insert(1, String::from("b"));
    assert_eq!(pair.end_scope(Lifetime::Batch), 1);
    assert!(pair.0.is_empty() && pair.1.len() == 1);
}

#[derive(Default, mapguard::Cleanup)]
struct Pooled {
    first: Channel,
    #[cleanup(skip)]
    untouched: Channel,
    #[cleanup(with = count_twice)]
    custom: Channel,
}

fn count_twice(channel: &mut Channel, _cause: RemovalCause) {
    channel.closed.set(channel.closed.get() + 2);
}

#[derive(mapguard::Cleanup)]
enum Resource {
    One(Channel),
    Named { channel: Channel },
    Nothing,
}

#[test]
fn derive_cleanup_on_structs_and_enums() {
    let closed = Rc::new(Cell::new(0));
    let channel = || Channel {
        closed: Rc::clone(&closed),
    };
    let mut pooled = Pooled {
        first: channel(),
        untouched: channel(),
        custom: channel(),
    };
    pooled.cleanup(RemovalCause::Evicted);
    assert_eq!(
        closed.get(),
        3,
        "first once, untouched skipped, custom via `with`"
    );
    for mut resource in [
        Resource::One(channel()),
        Resource::Named { channel: channel() },
        Resource::Nothing,
    ] {
        resource.cleanup(RemovalCause::Dropped);
    }
    assert_eq!(closed.get(), 5);
}
