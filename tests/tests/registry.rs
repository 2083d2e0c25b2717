//! The registry: maps join and leave it, their figures add up, reports and leak suspects find
//! the leaky map, and the Prometheus text parses.

use std::collections::HashMap;

use mapguard::registry::{self, LeakSuspect, Suspicion};
use mapguard::{BoundedMap, Lifetime, LruMap, RemovalCause};

fn find(name: &str) -> Option<registry::MapReport> {
    registry::snapshot().into_iter().find(|m| m.name == name)
}

fn suspect(name: &str, suspects: &[LeakSuspect]) -> Option<Suspicion> {
    suspects
        .iter()
        .find(|s| s.map.name == name)
        .map(|s| s.suspicion.clone())
}

#[test]
fn maps_register_on_creation_and_leave_on_drop() {
    let map = LruMap::<u8, u8>::builder(4).name("Reg.lifecycle").build();
    let report = find("Reg.lifecycle").expect("registered");
    assert!(
        report.site.file().ends_with("registry.rs"),
        "{}",
        report.site
    );
    // Whatever the test runner names this thread, the report names the same one.
    assert_eq!(report.thread.as_deref(), std::thread::current().name());
    drop(map);
    assert!(find("Reg.lifecycle").is_none(), "gone with the map");
    let unnamed = LruMap::<u8, u8>::new(4);
    assert!(
        unnamed.name().contains("registry.rs:"),
        "unnamed maps go by call site"
    );
    assert!(find(unnamed.name()).is_some());
}

#[test]
fn figures_follow_every_path() {
    let mut map = LruMap::builder(3).name("Reg.figures").build();
    for k in 0..5 {
        map.insert(k, k); // 3 inserts fit, 2 evict
    }
    map.insert(4, 40); // replaced
    assert_eq!(map.get(&4), Some(&40));
    assert_eq!(map.get(&0), None);
    assert_eq!(map.remove(&3), Some(3)); // handed back
    assert!(map.discard(&2)); // explicit
    let report = find("Reg.figures").unwrap();
    assert_eq!(report.len, map.len() as u64);
    assert_eq!((report.inserts, report.peak_len, report.max), (5, 3, 3));
    assert_eq!((report.hits, report.misses, report.handed_back), (1, 1, 1));
    assert_eq!(report.removed(RemovalCause::Evicted), 2);
    assert_eq!(report.removed(RemovalCause::Replaced), 1);
    assert_eq!(report.removed(RemovalCause::Explicit), 1);
    map.drain().next();
    map.insert(9, 9);
    map.clear();
    let report = find("Reg.figures").unwrap();
    assert_eq!(report.len, 0);
    assert_eq!(report.handed_back, 2);
    assert_eq!(report.removed(RemovalCause::Cleared), 1);
}

#[test]
fn a_thrashing_map_is_suspected() {
    let mut thrash = LruMap::builder(10).name("Reg.thrash").build();
    let mut fine = LruMap::builder(10).name("Reg.fine").build();
    let _ = registry::snapshot(); // any read is a sample: the baseline
    for key in 0..100 {
        thrash.insert(key, ()); // keys never repeat
        fine.insert(key % 5, ()); // keys repeat: no evictions
    }
    let suspects = registry::leak_suspects();
    assert_eq!(
        suspect("Reg.thrash", &suspects),
        Some(Suspicion::Thrashing { evictions: 90 })
    );
    assert_eq!(suspect("Reg.fine", &suspects), None);
}

#[test]
fn a_request_scope_that_is_never_ended_is_suspected() {
    let mut forgotten = LruMap::builder(10)
        .name("Reg.forgotten")
        .lifetime(Lifetime::Request)
        .build();
    forgotten.insert(1, ());
    let mut served = LruMap::builder(10).lifetime(Lifetime::Request).build();
    for request in 0..registry::FORGOTTEN_SCOPE_ENDS {
        served.insert(request, ());
        served.end_scope(Lifetime::Request);
    }
    let suspects = registry::leak_suspects();
    assert!(matches!(
        suspect("Reg.forgotten", &suspects),
        Some(Suspicion::ScopeNeverEnded { scope_ends }) if scope_ends >= registry::FORGOTTEN_SCOPE_ENDS
    ));
    assert_eq!(suspect(served.name(), &suspects), None, "its scope ends");
    forgotten.end_scope(Lifetime::Request);
    assert_eq!(suspect("Reg.forgotten", &registry::leak_suspects()), None);
}

#[test]
fn the_report_names_every_map() {
    let mut map = BoundedMap::builder(8)
        .name("Reg.report")
        .lifetime(Lifetime::Batch)
        .build();
    map.try_insert(1, 1).unwrap();
    let report = registry::report();
    let line = report
        .lines()
        .find(|l| l.contains("Reg.report"))
        .expect("listed");
    assert!(
        line.contains("batch") && line.contains("1/8") && line.contains("registry.rs"),
        "{line}"
    );
}

#[test]
fn prometheus_text_parses() {
    let mut map = LruMap::builder(2).name("Reg.\"prom\"").build();
    map.insert(1, 1);
    map.insert(2, 2);
    map.insert(3, 3);
    let text = registry::render_prometheus();
    let mut types: HashMap<String, String> = HashMap::new();
    let mut samples = 0;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE name kind");
            assert!(matches!(kind, "gauge" | "counter"), "{line}");
            if kind == "counter" {
                assert!(name.ends_with("_total"), "counters end in _total: {line}");
            }
            types.insert(name.to_owned(), kind.to_owned());
        } else if line.starts_with("# HELP ") {
        } else {
            let (series, value) = line.rsplit_once(' ').expect("sample: series value");
            value.parse::<u64>().expect("integer value");
            let name = &series[..series.find('{').expect("labels")];
            assert!(types.contains_key(name), "sample before its TYPE: {line}");
            assert!(series.ends_with('}') && series.contains("map=\""), "{line}");
            samples += 1;
        }
    }
    assert!(samples > 0);
    // Labels: the name (escaped), lifetime, policy and the call site (this file).
    let labels =
        r#"map="Reg.\"prom\"",lifetime="process",policy="lru",site="tests/tests/registry.rs:"#;
    let line = |family: &str| {
        text.lines()
            .find(|line| line.starts_with(&format!("{family}{{{labels}")))
            .unwrap_or_else(|| panic!("no {family} for the map:\n{text}"))
    };
    assert!(line("mapguard_map_entries").ends_with("} 2"));
    assert!(line("mapguard_maps").ends_with("} 1"));
    let evicted = text
        .lines()
        .find(|l| {
            l.starts_with(&format!("mapguard_map_removals_total{{{labels}"))
                && l.contains(r#"cause="evicted""#)
        })
        .expect("evictions");
    assert!(evicted.ends_with(r#"",cause="evicted"} 1"#), "{evicted}");
}

#[test]
fn key_lifetimes_are_recorded_when_asked() {
    use mapguard::testing::MockClock;
    use std::time::Duration;

    let clock = MockClock::new();
    let mut map = LruMap::builder(100)
        .key_lifetimes()
        .clock(clock.clone())
        .name("Reg.ages")
        .build();
    for k in 0..100 {
        map.insert(k, k);
    }
    clock.advance(Duration::from_millis(1));
    for k in 0..90 {
        let _ = map.remove(&k); // 90 keys live ~1 ms
    }
    clock.advance(Duration::from_secs(1));
    for k in 100..109 {
        map.insert(k, k);
    }
    map.clear(); // 9 keys ~0 ms (just born), 10 keys ~1 s
    let ages = find("Reg.ages").unwrap().key_lifetimes.expect("recorded");
    assert_eq!(ages.departed, 109);
    let ms = Duration::from_millis(1);
    assert!(ages.p50 >= ms && ages.p50 <= 2 * ms, "p50 {:?}", ages.p50);
    let s = Duration::from_secs(1);
    assert!(ages.p99 >= s && ages.p99 <= 2 * s, "p99 {:?}", ages.p99);
    let plain = LruMap::<u8, u8>::builder(4).name("Reg.no_ages").build();
    assert_eq!(
        find(plain.name()).unwrap().key_lifetimes,
        None,
        "off unless asked"
    );
}

#[test]
fn heap_bytes_follow_the_slab_as_it_grows_and_clears() {
    let mut map = LruMap::builder(10_000).name("Reg.heap").build();
    let report = || find("Reg.heap").unwrap().heap_bytes;
    assert_eq!(report(), 0);
    let mut refreshed = Vec::new();
    for k in 0..1_000_u64 {
        map.insert(k, k);
        let len = map.len();
        // The slab doubles from 4 when full: it just grew at lengths 1, 5, 9, 17, 33, ...
        if len == 1 || (len - 1).is_power_of_two() && len >= 5 {
            assert_eq!(report(), map.heap_bytes() as u64, "at length {len}");
            refreshed.push(report());
        } else {
            // In between, only the hash table may have grown since.
            assert!(report() <= map.heap_bytes() as u64, "at length {len}");
        }
    }
    assert_eq!(refreshed.len(), 9); // 1, 5, 9, ..., 513
    assert!(refreshed.windows(2).all(|w| w[0] < w[1]), "{refreshed:?}");
    map.clear();
    assert_eq!(report(), 0);
}

#[test]
fn reserved_capacity_shows_from_the_start_and_goes_with_clear() {
    let mut map = LruMap::<u64, u64>::builder(10_000)
        .capacity(1_000)
        .name("Reg.reserved")
        .build();
    let report = || find("Reg.reserved").unwrap().heap_bytes;
    assert!(map.capacity() >= 1_000);
    assert_eq!(report(), map.heap_bytes() as u64);
    assert!(report() >= 1_000 * 16);
    for k in 0..1_000 {
        map.insert(k, k);
    }
    assert!(
        map.capacity() >= 1_000 && map.capacity() < 2_000,
        "no reallocation while filling"
    );
    map.clear();
    assert_eq!(report(), 0);
}

#[test]
fn contains_key_counts_a_lookup_so_a_check_then_insert_cache_shows_its_misses() {
    let mut cache = LruMap::builder(8).name("Registry.contains").build();
    for key in [1, 2, 1, 3, 1] {
        if !cache.contains_key(&key) {
            cache.insert(key, key * 10);
        }
    }
    let mut weak = mapguard::WeakKeyMap::<std::rc::Weak<u32>, ()>::builder()
        .name("Registry.contains_weak")
        .build();
    let key = std::rc::Rc::new(7);
    assert!(!weak.contains_key(&7));
    weak.insert(std::rc::Rc::clone(&key), ());
    assert!(weak.contains_key(&7));
    let report = mapguard::registry::snapshot();
    let figures = |name: &str| {
        let map = report.iter().find(|m| m.name == name).unwrap();
        (map.hits, map.misses)
    };
    assert_eq!(
        figures("Registry.contains"),
        (2, 3),
        "hits: 1 twice; misses: 1, 2, 3"
    );
    assert_eq!(figures("Registry.contains_weak"), (1, 1));
}
