//! Scopes as values on single-threaded maps of every kind: a `#[managed_map]` field of a
//! request, session or batch lifetime (`LruMap`, `AdaptiveMap`, `BoundedMap`, `WeakKeyMap`)
//! tags each entry with the scope current when it was written; when the scope ends, exactly
//! its entries leave with `ScopeEnded`: lookups skip them at once, the map's next write (or
//! `maintain`, a whole-map operation, its drop) removes them through their hooks.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::{Rc, Weak};

use mapguard::scope::Scope;
use mapguard::testing::{Tracked, Tracker};
use mapguard::{Lifetime, RemovalCause};

#[mapguard::managed]
#[derive(Default)]
struct Service {
    #[managed_map(lifetime = "request", max = 8, cleanup)]
    lru: HashMap<u64, Tracked<u64>>,
    #[managed_map(lifetime = "request", max = 8, evict = "adaptive", cleanup)]
    adaptive: HashMap<u64, Tracked<u64>>,
    #[managed_map(lifetime = "request", max = 8, evict = "reject", cleanup)]
    bounded: HashMap<u64, Tracked<u64>>,
    #[managed_map(lifetime = "request", weak_keys, cleanup)]
    weak: HashMap<Weak<u64>, Tracked<u64>>,
    #[managed_map(lifetime = "session", max = 8, cleanup)]
    sessions: HashMap<u64, Tracked<u64>>,
    #[managed_map(lifetime = "process", max = 8, cleanup)]
    process: HashMap<u64, Tracked<u64>>,
}

thread_local! {
    /// The weak-keyed map's keys, alive for the whole test.
    static KEYS: Vec<Rc<u64>> = (0..8).map(Rc::new).collect();
}

fn strong(key: u64) -> Rc<u64> {
    KEYS.with(|keys| Rc::clone(&keys[usize::try_from(key).unwrap()]))
}

/// One kind's contract: two request scopes and an unscoped write; the first scope ends.
/// `$field` is the `Service` field; `$put(map, key, value)` writes.
macro_rules! ending_a_scope_removes_exactly_its_entries {
    ($test:ident, $field:ident, $put:expr) => {
        #[test]
        fn $test() {
            let tracker = Tracker::new();
            let mut service = Service::default();
            let put = $put;
            let (first, second) = (Scope::new(Lifetime::Request), Scope::new(Lifetime::Request));
            let mut ids = Vec::new();
            let mut write = |service: &mut Service, key: u64| {
                let value = tracker.track(key);
                ids.push(value.id());
                put(&mut service.$field, key, value);
            };
            {
                let _current = first.enter();
                write(&mut service, 1);
                write(&mut service, 2);
            }
            {
                let _current = second.enter();
                write(&mut service, 3);
            }
            write(&mut service, 4); // no scope current: unscoped
            assert_eq!((first.entries(), second.entries()), (2, 1));

            assert_eq!(first.end(), 2);
            // Invisible to lookups at once; nothing has left yet (`&self` cannot clean).
            let map = &mut service.$field;
            assert!(map.peek(&1).is_none() && !map.contains_key(&2));
            assert!(map.peek(&3).is_some() && map.peek(&4).is_some());
            assert_eq!(tracker.cleaned_total(), 0);
            // The next write cleans them, each once, with their scope's cause.
            assert!(!map.discard(&7));
            assert_eq!(tracker.cleanups_of(ids[0]), [RemovalCause::ScopeEnded]);
            assert_eq!(tracker.cleanups_of(ids[1]), [RemovalCause::ScopeEnded]);
            assert_eq!(tracker.cleaned_total(), 2);
            assert_eq!(map.len(), 2);
            assert_eq!(first.entries(), 2, "how many carried it when it ended");

            // The second request ends with its last handle; the map goes before another
            // operation: its entry leaves with the scope's cause, the unscoped one as dropped.
            drop(second);
            drop(service);
            assert_eq!(tracker.cleanups_of(ids[2]), [RemovalCause::ScopeEnded]);
            assert_eq!(tracker.cleanups_of(ids[3]), [RemovalCause::Dropped]);
            tracker.assert_exactly_once();
        }
    };
}

ending_a_scope_removes_exactly_its_entries!(
    lru_fields_end_their_scopes,
    lru,
    |map: &mut _, k, v| {
        mapguard::LruMap::insert(map, k, v);
    }
);

ending_a_scope_removes_exactly_its_entries!(
    adaptive_fields_end_their_scopes,
    adaptive,
    |map: &mut _, k, v| mapguard::AdaptiveMap::insert(map, k, v)
);

ending_a_scope_removes_exactly_its_entries!(
    bounded_fields_end_their_scopes,
    bounded,
    |map: &mut _, k, v| mapguard::BoundedMap::try_insert(map, k, v).unwrap()
);

ending_a_scope_removes_exactly_its_entries!(
    weak_keyed_fields_end_their_scopes,
    weak,
    |map: &mut mapguard::WeakKeyMap<Weak<u64>, Tracked<u64>, _, _, _, _, _>, k, v| {
        map.insert(strong(k), v);
    }
);

#[test]
fn a_process_field_keeps_no_tags_and_a_session_ends_only_its_own_entries() {
    let tracker = Tracker::new();
    let mut service = Service::default();
    let (request, session) = (Scope::new(Lifetime::Request), Scope::new(Lifetime::Session));
    {
        let (_request, _session) = (request.enter(), session.enter());
        service.process.insert(1, tracker.track(1));
        service.sessions.insert(1, tracker.track(1));
        service.lru.insert(1, tracker.track(1));
    }
    // Each map takes the scope of its own lifetime; a process map none.
    assert_eq!((request.entries(), session.entries()), (1, 1));
    drop(request);
    service.lru.insert(2, tracker.track(2));
    service.sessions.insert(2, tracker.track(2));
    service.process.insert(2, tracker.track(2));
    assert_eq!(tracker.cleaned(RemovalCause::ScopeEnded), 1);
    assert_eq!(
        (
            service.lru.len(),
            service.sessions.len(),
            service.process.len()
        ),
        (1, 2, 2)
    );
    drop(session);
    assert!(service.sessions.peek(&1).is_none());
    service.sessions.maintain();
    assert_eq!(tracker.cleaned(RemovalCause::ScopeEnded), 2);
    assert_eq!(service.sessions.len(), 1); // the unscoped write stays
}

#[test]
fn a_drain_cleans_an_ended_scopes_entries_and_hands_back_the_rest() {
    let tracker = Tracker::new();
    let mut service = Service::default();
    let session = Scope::new(Lifetime::Session);
    {
        let _current = session.enter();
        service.sessions.insert(1, tracker.track(1));
    }
    service.sessions.insert(2, tracker.track(2));
    drop(session);
    let drained: Vec<u64> = service.sessions.drain().map(|(key, _)| key).collect();
    assert_eq!(drained, [2], "the ended session's entry is not handed back");
    assert_eq!(tracker.cleaned(RemovalCause::ScopeEnded), 1);
    assert_eq!(tracker.cleaned_total(), 1);
}

#[test]
fn a_full_bounded_map_has_room_once_an_ended_scopes_entries_leave() {
    let tracker = Tracker::new();
    let mut service = Service::default();
    let request = Scope::new(Lifetime::Request);
    {
        let _current = request.enter();
        for key in 0..8 {
            service.bounded.try_insert(key, tracker.track(key)).unwrap();
        }
    }
    assert!(service.bounded.try_insert(8, tracker.track(8)).is_err());
    drop(request);
    assert!(service.bounded.try_insert(9, tracker.track(9)).is_ok());
    assert_eq!(tracker.cleaned(RemovalCause::ScopeEnded), 8);
    assert_eq!(service.bounded.len(), 1);
}

#[test]
fn an_entry_written_again_under_another_scope_belongs_to_that_one() {
    let tracker = Tracker::new();
    let mut service = Service::default();
    let (old, new) = (Scope::new(Lifetime::Request), Scope::new(Lifetime::Request));
    {
        let _current = old.enter();
        service.lru.insert(1, tracker.track(1));
    }
    {
        let _current = new.enter();
        service.lru.insert(1, tracker.track(2));
    }
    assert_eq!((old.entries(), new.entries()), (0, 1));
    assert_eq!(old.end(), 0);
    assert_eq!(service.lru.get(&1).map(|v| **v), Some(2));
    assert_eq!(new.end(), 1);
    assert!(
        service.lru.get(&1).is_none(),
        "a lookup skips it and cleans it"
    );
    assert!(service.lru.is_empty());
    assert_eq!(tracker.cleaned(RemovalCause::ScopeEnded), 1);
    assert_eq!(tracker.cleaned(RemovalCause::Replaced), 1);
}

fn panicking_hook(key: u64, _value: Tracked<u64>, _cause: RemovalCause) {
    assert_ne!(key, 1, "the hook of key 1 panics");
}

#[mapguard::managed]
#[derive(Default)]
struct Fragile {
    #[managed_map(lifetime = "request", max = 8, cleanup, on_remove = panicking_hook)]
    rows: HashMap<u64, Tracked<u64>>,
}

#[test]
fn a_panicking_hook_of_an_ended_scope_reaches_the_writer_after_every_hook_ran() {
    let tracker = Tracker::new();
    let mut fragile = Fragile::default();
    let request = Scope::new(Lifetime::Request);
    {
        let _current = request.enter();
        fragile.rows.insert(1, tracker.track(1));
        fragile.rows.insert(2, tracker.track(2));
    }
    fragile.rows.insert(3, tracker.track(3));
    request.end();
    let caught = catch_unwind(AssertUnwindSafe(|| {
        fragile.rows.insert(4, tracker.track(4));
    }));
    assert!(caught.is_err(), "the hook's panic reaches the caller");
    // The insert happened first; both ended entries went through their hooks.
    assert_eq!(tracker.cleaned(RemovalCause::ScopeEnded), 2);
    assert_eq!(fragile.rows.len(), 2);
    assert!(fragile.rows.contains_key(&3) && fragile.rows.contains_key(&4));
    drop(fragile);
    tracker.assert_exactly_once();
}

#[test]
fn a_value_removed_while_an_ended_scopes_hook_panics_still_reaches_the_hooks() {
    let tracker = Tracker::new();
    let mut fragile = Fragile::default();
    let request = Scope::new(Lifetime::Request);
    {
        let _current = request.enter();
        fragile.rows.insert(1, tracker.track(1));
    }
    fragile.rows.insert(3, tracker.track(3));
    request.end();
    // The removal settles the ended scope first; its hook panics, so the caller never
    // receives 3: it goes through the hooks instead of being dropped without them.
    let caught = catch_unwind(AssertUnwindSafe(|| fragile.rows.remove(&3)));
    assert!(caught.is_err(), "the hook's panic reaches the caller");
    assert_eq!(tracker.cleaned(RemovalCause::ScopeEnded), 1);
    assert_eq!(tracker.cleaned(RemovalCause::Explicit), 1);
    assert!(fragile.rows.is_empty());
    drop(fragile);
    tracker.assert_exactly_once();
}
