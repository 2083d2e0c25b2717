//! `Serialize`/`Deserialize` (feature `serde`): entries in the map's own order, configured maps
//! on the way back, and what does not fit leaves through the cleanup path or is an error.

use std::collections::HashMap;
use std::sync::Mutex;

use mapguard::{Lifetime, LruMap, ManagedCache, RemovalCause};
use serde::{Deserialize, Serialize};

/// Every removal the hooks saw, by map.
static REMOVED: Mutex<Vec<(&'static str, u32, RemovalCause)>> = Mutex::new(Vec::new());

/// The hooks are plain functions writing one static: tests that read it take turns.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn removed_from_lru(key: u32, _value: String, cause: RemovalCause) {
    REMOVED.lock().unwrap().push(("lru", key, cause));
}

fn removed_from_shared(key: u32, _value: String, cause: RemovalCause) {
    REMOVED.lock().unwrap().push(("shared", key, cause));
}

fn take_removed(map: &str) -> Vec<(u32, RemovalCause)> {
    let mut removed = REMOVED.lock().unwrap();
    let (mine, others): (Vec<_>, Vec<_>) = removed.drain(..).partition(|(m, _, _)| *m == map);
    removed.extend(others);
    mine.into_iter()
        .map(|(_, key, cause)| (key, cause))
        .collect()
}

#[mapguard::managed]
#[derive(Default, Serialize, Deserialize)]
struct Service {
    #[managed_map(lifetime = "request", max = 2, on_remove = removed_from_lru)]
    recent: HashMap<u32, String>,
    #[managed_map(lifetime = "session", max = 2, evict = "reject")]
    table: HashMap<u32, u32>,
    #[managed_map(lifetime = "process", max = 8, concurrent, on_remove = removed_from_shared)]
    shared: HashMap<u32, String>,
    name: String,
}

#[test]
fn a_managed_struct_round_trips_with_its_maps_configured() {
    let _serial = serial();
    let mut service = Service::default();
    service.recent.insert(1, String::from("one"));
    service.table.try_insert(7, 70).unwrap();
    service.shared.insert(3, String::from("three"));
    service.name = String::from("api");
    let json = serde_json::to_string(&service).unwrap();
    let mut back: Service = serde_json::from_str(&json).unwrap();
    assert_eq!(back.recent, service.recent);
    assert_eq!(back.table, service.table);
    assert_eq!(back.shared.peek(&3).as_deref(), Some("three"));
    assert_eq!(back.name, "api");
    // Configured as declared: bound, lifetime, name.
    let stats = back.stats();
    assert_eq!(stats.iter().map(|s| s.max).collect::<Vec<_>>(), [2, 2, 8]);
    assert_eq!(stats[0].name, "Service.recent");
    assert_eq!(back.end_scope(Lifetime::Request), 1);
    drop((service, back));
    let _ = take_removed("lru");
    let _ = take_removed("shared");
}

#[test]
fn entries_serialize_in_the_maps_own_order() {
    let mut map = LruMap::new(4);
    map.insert(1, 'a');
    map.insert(2, 'b');
    map.insert(3, 'c');
    map.get(&1); // the most recent now
    // Oldest first, so that reading replays the inserts.
    assert_eq!(
        serde_json::to_string(&map).unwrap(),
        r#"{"2":"b","3":"c","1":"a"}"#
    );
}

fn removed_from_table(key: u32, _value: u32, cause: RemovalCause) {
    REMOVED.lock().unwrap().push(("table", key, cause));
}

fn removed_from_shared_table(key: u32, _value: u32, cause: RemovalCause) {
    REMOVED.lock().unwrap().push(("shared table", key, cause));
}

#[mapguard::managed]
#[derive(Default, Serialize, Deserialize)]
struct Orders {
    #[managed_map(lifetime = "process", max = 3)]
    lru: HashMap<u32, u32>,
    #[managed_map(lifetime = "process", max = 3, evict = "adaptive")]
    adaptive: HashMap<u32, u32>,
    #[managed_map(lifetime = "process", max = 3, evict = "reject", on_remove = removed_from_table)]
    table: HashMap<u32, u32>,
    // Small enough for one shard: its order is the whole map's.
    #[managed_map(lifetime = "process", max = 3, concurrent)]
    shared: HashMap<u32, u32>,
    #[managed_map(lifetime = "process", max = 3, concurrent, evict = "reject", on_remove = removed_from_shared_table)]
    shared_table: HashMap<u32, u32>,
}

fn keys_of(map: &Orders) -> [Vec<u32>; 3] {
    let mut shared = Vec::new();
    map.shared.for_each(|key, _| shared.push(*key));
    [
        map.lru.keys().copied().collect(),
        map.table.keys().copied().collect(),
        shared,
    ]
}

#[test]
fn a_round_trip_restores_recency_order_and_the_next_eviction() {
    let mut orders = Orders::default();
    for key in 1..=3 {
        orders.lru.insert(key, key);
        orders.adaptive.insert(key, key);
        orders.table.try_insert(key, key).unwrap();
        orders.shared.insert(key, key);
    }
    orders.lru.get(&1); // 1 is the most recent, 2 the next to go
    let _ = orders.shared.get(&1);
    orders.table.try_insert(2, 20).unwrap(); // rewritten: the most recent write
    let before = keys_of(&orders);
    assert_eq!(before, [vec![1, 3, 2], vec![2, 3, 1], vec![1, 3, 2]]);
    let mut back: Orders = serde_json::from_str(&serde_json::to_string(&orders).unwrap()).unwrap();
    assert_eq!(keys_of(&back), before, "recency order, exactly");
    let mut adaptive: Vec<u32> = back.adaptive.keys().copied().collect();
    adaptive.sort_unstable();
    assert_eq!(adaptive, [1, 2, 3], "an adaptive map keeps its entries");
    // The next eviction is the one the writer's map would have made.
    orders.lru.insert(4, 4);
    back.lru.insert(4, 4);
    orders.shared.insert(4, 4);
    back.shared.insert(4, 4);
    assert_eq!(keys_of(&back)[0], keys_of(&orders)[0]);
    assert_eq!(keys_of(&back)[2], keys_of(&orders)[2]);
    assert!(!back.lru.contains_key(&2) && !back.shared.contains_key(&2));
}

#[test]
fn input_longer_than_the_bound_keeps_the_newest() {
    let input = r#"{"lru":{"1":1,"2":2,"3":3,"4":4,"5":5},"adaptive":{},"table":{},"shared":{"1":1,"2":2,"3":3,"4":4},"shared_table":{}}"#;
    let orders: Orders = serde_json::from_str(input).unwrap();
    assert_eq!(keys_of(&orders)[0], [5, 4, 3]);
    assert_eq!(keys_of(&orders)[2], [4, 3, 2]);
}

#[test]
fn a_bounded_map_refusing_input_runs_the_hooks_of_the_refused_value_and_of_what_it_took() {
    let _serial = serial();
    let _ = (take_removed("table"), take_removed("shared table"));
    for (field, other, map) in [
        ("table", "shared_table", "table"),
        ("shared_table", "table", "shared table"),
    ] {
        let input = format!(
            r#"{{"lru":{{}},"adaptive":{{}},"shared":{{}},"{other}":{{}},"{field}":{{"1":1,"2":2,"3":3,"4":4,"5":5}}}}"#
        );
        let error = serde_json::from_str::<Orders>(&input)
            .err()
            .expect("over the bound");
        assert!(error.to_string().contains("`max` of 3"), "{error}");
        let mut removed = take_removed(map);
        // The refused value first; then the three it took, dropped with it, in any order.
        assert_eq!(removed.remove(0), (4, RemovalCause::Evicted), "{map}");
        removed.sort_unstable();
        assert_eq!(
            removed,
            [
                (1, RemovalCause::Dropped),
                (2, RemovalCause::Dropped),
                (3, RemovalCause::Dropped)
            ],
            "{map}: each value read leaves once; 5 was never read"
        );
    }
}

#[test]
fn an_lru_map_past_its_bound_evicts_through_the_cleanup_path() {
    let _serial = serial();
    let _ = take_removed("lru");
    let input = r#"{"recent":{"1":"a","2":"b","3":"c"},"table":{},"shared":{},"name":""}"#;
    let service: Service = serde_json::from_str(input).unwrap();
    assert_eq!(service.recent.len(), 2);
    assert!(!service.recent.contains_key(&1) && service.recent.contains_key(&3));
    assert_eq!(take_removed("lru"), [(1, RemovalCause::Evicted)]);
    drop(service);
    assert_eq!(
        take_removed("lru"),
        [(3, RemovalCause::Dropped), (2, RemovalCause::Dropped)]
    );
}

#[test]
fn a_repeated_key_replaces_through_the_cleanup_path() {
    let _serial = serial();
    let _ = take_removed("shared");
    let input = r#"{"recent":{},"table":{},"shared":{"5":"first","5":"second"},"name":""}"#;
    let service: Service = serde_json::from_str(input).unwrap();
    assert_eq!(service.shared.peek(&5).as_deref(), Some("second"));
    assert_eq!(take_removed("shared"), [(5, RemovalCause::Replaced)]);
}

#[test]
fn a_bounded_map_past_its_bound_is_an_error_not_a_cut() {
    let _serial = serial();
    let input = r#"{"recent":{},"table":{"1":1,"2":2,"3":3},"shared":{},"name":""}"#;
    let error = serde_json::from_str::<Service>(input)
        .err()
        .expect("over the bound");
    assert!(
        error
            .to_string()
            .contains("more entries than the bounded map's `max` of 2"),
        "{error}"
    );
    // Updating a present key is not "more entries".
    let input = r#"{"recent":{},"table":{"1":1,"2":2,"1":10},"shared":{},"name":""}"#;
    let service: Service = serde_json::from_str(input).unwrap();
    assert_eq!(service.table.peek(&1), Some(&10));
}

#[test]
fn index_and_equality_read_entries() {
    let _serial = serial();
    let mut a = Service::default();
    let mut b = Service::default();
    a.recent.insert(1, String::from("x"));
    b.recent.insert(1, String::from("x"));
    assert_eq!(a.recent[&1], "x");
    assert_eq!(a.recent, b.recent);
    b.recent.insert(2, String::from("y"));
    assert_ne!(a.recent, b.recent);
    let missing = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| a.recent[&9].len()));
    assert!(
        missing.is_err(),
        "a missing key panics, as std's Index does"
    );
}
