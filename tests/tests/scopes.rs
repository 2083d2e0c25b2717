//! Lifetimes and scope guards: ending a scope clears exactly the maps of that lifetime, with
//! `ScopeEnded`, also when a handler panics inside the scope.

use std::panic::{AssertUnwindSafe, catch_unwind};

use mapguard::testing::{Tracked, Tracker};
use mapguard::{Lifetime, LruMap, ManagedCache, RemovalCause};

type Map = LruMap<u32, Tracked<u32>, mapguard::DefaultHashBuilder, mapguard::hooks::WithCleanup>;

fn map(lifetime: Lifetime) -> Map {
    LruMap::builder(16).lifetime(lifetime).cleanup().build()
}

#[test]
fn end_scope_clears_only_that_lifetime() {
    let tracker = Tracker::new();
    let mut maps: Vec<Map> = Lifetime::ALL.iter().map(|&l| map(l)).collect();
    for (i, m) in maps.iter_mut().enumerate() {
        for k in 0..=i as u32 {
            m.insert(k, tracker.track(k));
        }
    }
    // Request holds 1 entry, Session 2, Batch 3, Process 4.
    assert_eq!(maps.end_scope(Lifetime::Session), 2);
    assert_eq!(maps.iter().map(Map::len).collect::<Vec<_>>(), [1, 0, 3, 4]);
    assert_eq!(tracker.cleaned(RemovalCause::ScopeEnded), 2);
    assert_eq!(tracker.cleanups_of(1), [RemovalCause::ScopeEnded]);
    assert_eq!(
        maps.end_scope(Lifetime::Session),
        0,
        "ending it again releases nothing"
    );
    drop(maps);
    assert_eq!(tracker.cleaned(RemovalCause::Dropped), 8);
    tracker.assert_exactly_once();
}

#[test]
fn a_panicking_handler_still_ends_its_scope() {
    let tracker = Tracker::new();
    let mut cache = vec![map(Lifetime::Request), map(Lifetime::Session)];
    cache[1].insert(0, tracker.track(0));
    let result = catch_unwind(AssertUnwindSafe(|| {
        let mut scope = cache.scope(Lifetime::Request);
        for k in 1..=5 {
            scope[0].insert(k, tracker.track(k));
        }
        assert_eq!(scope.lifetime(), Lifetime::Request);
        panic!("the handler fails half-way");
    }));
    assert!(result.is_err());
    assert!(
        cache[0].is_empty(),
        "request entries released during unwinding"
    );
    assert_eq!(cache[1].len(), 1, "the session map is untouched");
    assert_eq!(tracker.cleaned(RemovalCause::ScopeEnded), 5);
    for id in 1..=5 {
        assert_eq!(tracker.cleanups_of(id), [RemovalCause::ScopeEnded]);
    }
}

#[test]
#[cfg_attr(miri, ignore = "50,000 inserts: too slow under Miri")]
fn scope_end_gives_memory_back() {
    let mut request = LruMap::builder(100_000).lifetime(Lifetime::Request).build();
    for k in 0..50_000_u64 {
        request.insert(k, k);
    }
    assert!(request.heap_bytes() > 50_000 * 16);
    assert_eq!(request.end_scope(Lifetime::Request), 50_000);
    assert_eq!(request.heap_bytes(), 0);
}
