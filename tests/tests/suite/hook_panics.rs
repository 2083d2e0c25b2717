//! Exactly once, even when hooks panic: every value that leaves a map reaches both of its
//! hooks (its `Cleanup`, then the listener) once, whatever another value's hooks did; the
//! caller sees the first panic once the operation and every other hook have finished; the map
//! counts the panics.
//!
//! One test per path that hands values to hooks, on every map kind that has the path, with
//! hooks armed to panic on every call. A ledger records, per value, its cleanups, its
//! listener calls, whether the caller received it, and its drops; `assert_none_lost` then
//! requires each value dropped once, and either handed back (no hook) or through both hooks
//! once, with one cause.

use std::collections::HashMap;
use std::rc::{Rc, Weak as RcWeak};
use std::sync::{Arc, Weak as ArcWeak};
use std::time::Duration;

use mapguard_tests::ledger::{Arm, Book, Probe, listener, panic_of};

use mapguard::testing::MockClock;
use mapguard::{
    AdaptiveMap, BoundedMap, ConcurrentBoundedMap, ConcurrentLruMap, ConcurrentWeakKeyMap,
    Lifetime, LruMap, ManagedCache, RemovalCause, WeakKeyMap,
};

const TTL: Duration = Duration::from_secs(10);

/// A builder's map with `ttl` on `clock`, the value's `Cleanup` and the ledger's listener.
macro_rules! expiring {
    ($builder:expr, $clock:expr) => {
        $builder
            .ttl(TTL)
            .clock($clock.clone())
            .cleanup()
            .on_removal(listener)
            .build()
    };
}

/// Disarms the hooks, drops `map` (every remaining value through its hooks) and checks that
/// no value was lost.
#[track_caller]
fn drop_and_check<M>(book: &Book, map: M) {
    book.arm(Arm::Nothing);
    drop(map);
    book.assert_none_lost();
}

// ---- insert and replace housekeeping -------------------------------------------------------

#[test]
fn insert_housekeeping_reaches_every_expired_value_in_all_four_combinations() {
    for arm in [Arm::Cleanup, Arm::Listener] {
        // Plain keys.
        let (book, clock) = (Book::new(), MockClock::new());
        let mut map = expiring!(LruMap::builder(16), clock);
        for k in 0..4 {
            map.insert(k, book.value());
        }
        clock.advance(TTL * 2);
        book.arm(arm);
        let message = panic_of(|| map.insert(9, book.value()));
        assert!(
            message.is_some(),
            "{arm:?}: the hook's panic reaches the caller"
        );
        assert!(map.contains_key(&9), "{arm:?}: the new value is stored");
        let expired = book.left_with(RemovalCause::Expired);
        assert!(
            expired.len() >= 3,
            "{arm:?}: {expired:?} expired on the way"
        );
        for id in expired {
            assert_eq!(
                book.cleaned(id),
                [RemovalCause::Expired],
                "{arm:?}: value {id}"
            );
        }
        drop_and_check(&book, map);

        // Weak keys.
        let (book, clock) = (Book::new(), MockClock::new());
        let mut map = WeakKeyMap::<RcWeak<u32>, Probe>::lru_builder(16)
            .ttl(TTL)
            .clock(clock.clone())
            .cleanup()
            .on_removal(listener)
            .build();
        let keys: Vec<Rc<u32>> = (0..5).map(Rc::new).collect();
        for key in &keys[..4] {
            map.insert(Rc::clone(key), book.value());
        }
        clock.advance(TTL * 2);
        book.arm(arm);
        assert!(panic_of(|| map.insert(Rc::clone(&keys[4]), book.value())).is_some());
        assert!(map.contains_key(&4));
        assert!(
            book.left_with(RemovalCause::Expired).len() >= 3,
            "{arm:?}, weak"
        );
        drop_and_check(&book, map);
    }
}

#[test]
fn a_weak_map_insert_over_a_live_key_reaches_an_expired_neighbour() {
    for arm in Arm::PANICKING {
        let (book, clock) = (Book::new(), MockClock::new());
        let mut map = WeakKeyMap::<RcWeak<u32>, Probe>::lru_builder(4)
            .ttl(TTL)
            .clock(clock.clone())
            .cleanup()
            .on_removal(listener)
            .build();
        let (live, neighbour) = (Rc::new(1), Rc::new(2));
        map.insert(Rc::clone(&neighbour), book.value());
        clock.advance(TTL * 2);
        map.insert(Rc::clone(&live), book.value()); // also expires the neighbour: re-add it
        map.insert(Rc::clone(&neighbour), book.value());
        clock.advance(TTL * 2);
        book.arm(arm);
        assert!(panic_of(|| map.insert(Rc::clone(&live), book.value())).is_some());
        drop_and_check(&book, map);
    }
}

#[test]
fn replace_hands_back_or_cleans_the_old_value_when_a_neighbours_hook_panics() {
    for arm in Arm::PANICKING {
        let (book, clock) = (Book::new(), MockClock::new());
        let mut map = expiring!(LruMap::builder(16), clock);
        map.insert(100, book.value()); // value 0, kept fresh below
        for k in 0..3 {
            map.insert(k, book.value());
        }
        clock.advance(TTL.saturating_sub(Duration::from_secs(1)));
        map.insert(100, book.value()); // value 4 replaces value 0
        clock.advance(Duration::from_secs(2)); // 1..=3 expired, 4 live
        book.arm(arm);
        let mut received = None;
        let message = panic_of(|| received = map.replace(100, book.value()));
        assert!(message.is_some(), "{arm:?}");
        assert!(received.is_none());
        // The caller never got value 4: it went through its hooks instead.
        assert_eq!(book.listened(4), [RemovalCause::Replaced], "{arm:?}");
        drop_and_check(&book, map);
    }
}

#[test]
fn try_insert_and_try_replace_on_a_bounded_map_reach_every_value() {
    for arm in Arm::PANICKING {
        let (book, clock) = (Book::new(), MockClock::new());
        let mut map = expiring!(BoundedMap::builder(4), clock);
        for k in 0..4 {
            map.try_insert(k, book.value()).unwrap();
        }
        clock.advance(TTL.saturating_sub(Duration::from_secs(1)));
        map.try_insert(0, book.value()).unwrap(); // value 4; value 0 replaced
        clock.advance(Duration::from_secs(2));
        book.arm(arm);
        assert!(
            panic_of(|| map.try_insert(9, book.value())).is_some(),
            "{arm:?}"
        );
        assert!(map.contains_key(&9));
        book.arm(Arm::Nothing);
        map.maintain();
        map.try_insert(1, book.value()).unwrap(); // expire at 21 s
        map.try_insert(2, book.value()).unwrap();
        clock.advance(Duration::from_secs(4));
        let kept = book.value(); // value `kept.id`, under key 0, expires at 25 s
        let kept_id = kept.id;
        map.try_insert(0, kept).unwrap();
        clock.advance(Duration::from_secs(7)); // 1 and 2 expired, 0 live
        book.arm(arm);
        let mut received = None;
        assert!(panic_of(|| received = Some(map.try_replace(0, book.value()))).is_some());
        assert!(received.is_none());
        assert_eq!(book.listened(kept_id), [RemovalCause::Replaced], "{arm:?}");
        drop_and_check(&book, map);
        assert_eq!(book.listened(4), [RemovalCause::Replaced], "{arm:?}");
    }
}

// ---- eviction and the bound ----------------------------------------------------------------

#[test]
fn set_max_shrinking_by_seven_reaches_all_seven() {
    for arm in Arm::PANICKING {
        let book = Book::new();
        let mut lru = LruMap::builder(10).cleanup().on_removal(listener).build();
        let mut adaptive = AdaptiveMap::builder(10)
            .cleanup()
            .on_removal(listener)
            .build();
        for k in 0..10 {
            lru.insert(k, book.value());
            adaptive.insert(k, book.value());
        }
        book.arm(arm);
        let first = panic_of(|| lru.set_max(3));
        assert!(
            first.as_deref().is_some_and(|m| m.ends_with("value 0")),
            "{arm:?}: the first victim's panic reaches the caller: {first:?}"
        );
        assert!(panic_of(|| adaptive.set_max(3)).is_some());
        assert_eq!((lru.len(), adaptive.len()), (3, 3));
        assert_eq!(book.left_with(RemovalCause::Evicted).len(), 14, "{arm:?}");
        book.arm(Arm::Nothing);
        drop((lru, adaptive));
        book.assert_none_lost();
    }
}

#[test]
fn an_insert_that_evicts_several_by_weight_reaches_every_victim() {
    for arm in Arm::PANICKING {
        let book = Book::new();
        let mut map = LruMap::builder(10)
            .weigher(|key: &u32, _: &Probe| u64::from(*key))
            .max_weight(10)
            .cleanup()
            .on_removal(listener)
            .build();
        for k in 1..=4 {
            map.insert(k, book.value()); // weight 10
        }
        book.arm(arm);
        assert!(
            panic_of(|| map.insert(9, book.value())).is_some(),
            "{arm:?}"
        );
        assert!(map.contains_key(&9));
        assert_eq!(book.left_with(RemovalCause::Evicted).len(), 4, "{arm:?}");
        drop_and_check(&book, map);
    }
}

#[test]
fn one_eviction_with_a_panicking_cleanup_still_reaches_the_listener() {
    let book = Book::new();
    let mut map = LruMap::builder(1).cleanup().on_removal(listener).build();
    map.insert(1, book.value());
    book.arm(Arm::Cleanup);
    let message = panic_of(|| map.insert(2, book.value()));
    assert_eq!(
        message.as_deref(),
        Some("cleanup panics on purpose: value 0")
    );
    assert_eq!(book.cleaned(0), [RemovalCause::Evicted]);
    assert_eq!(book.listened(0), [RemovalCause::Evicted]);
    drop_and_check(&book, map);
}

// ---- bulk removals ---------------------------------------------------------------------------

#[test]
fn clear_retain_and_maintain_finish_and_reach_every_value() {
    for arm in Arm::PANICKING {
        let (book, clock) = (Book::new(), MockClock::new());
        let mut map = expiring!(LruMap::builder(32), clock);
        for k in 0..20 {
            map.insert(k, book.value());
        }
        book.arm(arm);
        assert!(panic_of(|| map.retain(|k, _| k % 2 == 0)).is_some());
        assert_eq!(map.len(), 10, "{arm:?}: retain finished");
        assert_eq!(book.left_with(RemovalCause::Explicit).len(), 10);
        clock.advance(TTL * 2);
        assert!(panic_of(|| map.maintain()).is_some());
        assert!(map.is_empty(), "{arm:?}: maintain finished");
        assert_eq!(book.left_with(RemovalCause::Expired).len(), 10);
        book.arm(Arm::Nothing);
        for k in 0..5 {
            map.insert(k, book.value());
        }
        book.arm(arm);
        assert!(panic_of(|| map.clear()).is_some());
        assert!(map.is_empty());
        assert_eq!(book.left_with(RemovalCause::Cleared).len(), 5);
        drop_and_check(&book, map);
    }
}

#[test]
fn drain_and_into_iter_dropped_early_reach_every_value_not_yielded() {
    for arm in Arm::PANICKING {
        let book = Book::new();
        let mut map = LruMap::builder(8).cleanup().on_removal(listener).build();
        for k in 0..6 {
            map.insert(k, book.value());
        }
        book.arm(arm);
        let message = panic_of(|| {
            let mut drain = map.drain();
            let (_, first) = drain.next().unwrap();
            book.hand_back(first);
        });
        assert!(message.is_some(), "{arm:?}");
        assert_eq!(book.left_with(RemovalCause::Cleared).len(), 5, "{arm:?}");
        book.arm(Arm::Nothing);
        for k in 0..6 {
            map.insert(k, book.value());
        }
        book.arm(arm);
        let receiver = book.clone();
        let message = panic_of(move || {
            let mut rest = map.into_iter();
            let (_, first) = rest.next().unwrap();
            receiver.hand_back(first);
        });
        assert!(message.is_some());
        book.arm(Arm::Nothing);
        assert_eq!(book.left_with(RemovalCause::Dropped).len(), 5, "{arm:?}");
        book.assert_none_lost();
    }
}

#[test]
fn dropping_a_map_reaches_every_value_on_every_kind() {
    for arm in Arm::PANICKING {
        let book = Book::new();
        let mut lru = LruMap::builder(8).cleanup().on_removal(listener).build();
        let mut bounded = BoundedMap::builder(8)
            .cleanup()
            .on_removal(listener)
            .build();
        let concurrent = ConcurrentLruMap::builder(64)
            .shards(4)
            .cleanup()
            .on_removal(listener)
            .build();
        let keys: Vec<Rc<u32>> = (0..5).map(Rc::new).collect();
        let mut weak = WeakKeyMap::<RcWeak<u32>, Probe>::builder()
            .cleanup()
            .on_removal(listener)
            .build();
        let shared_keys: Vec<Arc<u32>> = (0..5).map(Arc::new).collect();
        let shared_weak = ConcurrentWeakKeyMap::<ArcWeak<u32>, Probe>::builder()
            .shards(2)
            .cleanup()
            .on_removal(listener)
            .build();
        for (k, (key, shared_key)) in (0_u32..).zip(keys.iter().zip(&shared_keys)) {
            lru.insert(k, book.value());
            bounded.try_insert(k, book.value()).unwrap();
            concurrent.insert(k, book.value());
            weak.insert(Rc::clone(key), book.value());
            shared_weak.insert(Arc::clone(shared_key), book.value());
        }
        book.arm(arm);
        assert!(panic_of(move || drop(lru)).is_some());
        assert!(panic_of(move || drop(bounded)).is_some());
        assert!(panic_of(move || drop(concurrent)).is_some());
        assert!(panic_of(move || drop(weak)).is_some());
        assert!(panic_of(move || drop(shared_weak)).is_some());
        book.arm(Arm::Nothing);
        assert_eq!(book.left_with(RemovalCause::Dropped).len(), 25, "{arm:?}");
        book.assert_none_lost();
    }
}

#[test]
fn a_map_dropped_while_unwinding_reaches_every_value_and_does_not_abort() {
    let book = Book::new();
    let mut map = LruMap::builder(8).cleanup().on_removal(listener).build();
    for k in 0..5 {
        map.insert(k, book.value());
    }
    book.arm(Arm::Both);
    let message = panic_of(move || {
        let _map = map;
        panic!("the caller's own panic, on purpose");
    });
    assert_eq!(
        message.as_deref(),
        Some("the caller's own panic, on purpose"),
        "the unwinding panic is the one that reaches the caller; the hooks' are contained"
    );
    book.arm(Arm::Nothing);
    book.assert_none_lost();
    assert_eq!(book.left_with(RemovalCause::Dropped).len(), 5);
}

// ---- scopes --------------------------------------------------------------------------------

fn on_remove(_key: u32, value: Probe, cause: RemovalCause) {
    value.heard(cause);
}

#[mapguard::managed]
#[derive(Default)]
struct Handler {
    #[managed_map(lifetime = "request", max = 8, cleanup, on_remove = on_remove)]
    first: HashMap<u32, Probe>,
    #[managed_map(lifetime = "request", max = 8, concurrent, cleanup, on_remove = on_remove)]
    second: HashMap<u32, Probe>,
}

#[test]
fn a_scope_end_reaches_every_field_and_value_when_the_first_fields_hooks_panic() {
    for arm in Arm::PANICKING {
        let book = Book::new();
        let mut handler = Handler::default();
        for k in 0..3 {
            handler.first.insert(k, book.value());
            handler.second.insert(k, book.value());
        }
        book.arm(arm);
        let first = panic_of(|| handler.end_scope(Lifetime::Request));
        assert!(first.is_some(), "{arm:?}");
        assert!(
            handler.first.is_empty() && handler.second.is_empty(),
            "{arm:?}"
        );
        assert_eq!(book.left_with(RemovalCause::ScopeEnded).len(), 6);
        // A scope guard, the same.
        book.arm(Arm::Nothing);
        for k in 0..3 {
            handler.first.insert(k, book.value());
            handler.second.insert(k, book.value());
        }
        book.arm(arm);
        assert!(panic_of(|| drop(handler.scope(Lifetime::Request))).is_some());
        assert_eq!(book.left_with(RemovalCause::ScopeEnded).len(), 12);
        book.arm(Arm::Nothing);
        drop(handler);
        book.assert_none_lost();
    }
}

#[test]
fn scope_ends_of_a_vec_of_maps_reach_every_map() {
    let book = Book::new();
    let mut maps: Vec<_> = (0..3)
        .map(|_| {
            LruMap::builder(4)
                .lifetime(Lifetime::Batch)
                .cleanup()
                .on_removal(listener)
                .build()
        })
        .collect();
    for map in &mut maps {
        map.insert(1, book.value());
    }
    book.arm(Arm::Both);
    assert!(panic_of(|| maps.end_scope(Lifetime::Batch)).is_some());
    assert!(maps.iter().all(LruMap::is_empty));
    book.arm(Arm::Nothing);
    drop(maps);
    book.assert_none_lost();
    assert_eq!(book.left_with(RemovalCause::ScopeEnded).len(), 3);
}

// ---- weak keys -----------------------------------------------------------------------------

#[test]
fn weak_key_collection_reaches_every_dead_keys_value() {
    for arm in Arm::PANICKING {
        let book = Book::new();
        let mut map = WeakKeyMap::<RcWeak<u32>, Probe>::builder()
            .cleanup()
            .on_removal(listener)
            .build();
        let mut keys: Vec<Rc<u32>> = (0..6).map(Rc::new).collect();
        for key in &keys {
            map.insert(Rc::clone(key), book.value());
        }
        keys.truncate(2); // four keys die
        book.arm(arm);
        assert!(panic_of(|| map.maintain()).is_some(), "{arm:?}");
        assert_eq!(map.len(), 2);
        assert_eq!(book.left_with(RemovalCause::Collected).len(), 4);
        keys.truncate(1);
        assert!(panic_of(|| map.clear()).is_some());
        drop_and_check(&book, map);
    }
}

// ---- concurrent maps -------------------------------------------------------------------------

#[test]
fn concurrent_operations_reach_every_value_and_hand_back_or_hook_theirs() {
    for arm in Arm::PANICKING {
        let (book, clock) = (Book::new(), MockClock::new());
        let map = ConcurrentLruMap::builder(64)
            .shards(1)
            .ttl(TTL)
            .clock(clock.clone())
            .cleanup()
            .on_removal(listener)
            .build();
        for k in 0..8 {
            map.insert(k, book.value());
        }
        clock.advance(TTL.saturating_sub(Duration::from_secs(1)));
        map.insert(100, book.value()); // value 8, fresh
        map.insert(101, book.value()); // value 9, fresh
        clock.advance(Duration::from_secs(2)); // 0..8 expired
        book.arm(arm);
        // An insert whose housekeeping expires neighbours.
        assert!(
            panic_of(|| map.insert(200, book.value())).is_some(),
            "{arm:?}"
        );
        assert!(map.contains_key(&200));
        // A remove the caller cannot receive: the value goes through its hooks.
        // The first insert expired at most four: the rest wait for these two.
        let mut received = None;
        if panic_of(|| received = map.remove(&100)).is_some() {
            assert!(received.is_none());
            assert_eq!(book.listened(8), [RemovalCause::Explicit], "{arm:?}");
        }
        if let Some(value) = received {
            book.hand_back(value);
        }
        let mut replaced = None;
        if panic_of(|| replaced = map.replace(101, book.value())).is_some() {
            assert_eq!(book.listened(9), [RemovalCause::Replaced], "{arm:?}");
        }
        if let Some(value) = replaced {
            book.hand_back(value);
        }
        assert!(panic_of(|| map.set_max(1)).is_some() || map.len() <= 1);
        book.arm(Arm::Nothing);
        for k in 0..4 {
            map.insert(k, book.value());
        }
        map.set_max(64);
        for k in 0..4 {
            map.insert(k, book.value());
        }
        book.arm(arm);
        assert!(panic_of(|| map.retain(|k, _| *k > 1)).is_some());
        assert!(panic_of(|| map.clear()).is_some());
        assert!(map.is_empty(), "{arm:?}");
        drop_and_check(&book, map);
    }
}

#[test]
fn a_concurrent_scope_end_empties_every_shard_when_hooks_panic() {
    let book = Book::new();
    let map = ConcurrentLruMap::builder(256)
        .shards(8)
        .lifetime(Lifetime::Request)
        .cleanup()
        .on_removal(listener)
        .build();
    for k in 0..64 {
        map.insert(k, book.value());
    }
    book.arm(Arm::Both);
    assert!(panic_of(|| map.end_scope(Lifetime::Request)).is_some());
    assert!(map.is_empty(), "every shard was emptied");
    assert_eq!(book.left_with(RemovalCause::ScopeEnded).len(), 64);
    drop_and_check(&book, map);
}

#[test]
fn a_concurrent_bounded_try_insert_rejected_during_a_panic_is_not_lost() {
    let (book, clock) = (Book::new(), MockClock::new());
    let map = ConcurrentBoundedMap::builder(2)
        .shards(1)
        .ttl(TTL)
        .clock(clock.clone())
        .cleanup()
        .on_removal(listener)
        .build();
    map.try_insert(1, book.value()).unwrap();
    map.try_insert(2, book.value()).unwrap();
    clock.advance(TTL * 2);
    book.arm(Arm::Listener);
    // Housekeeping expires both; the new key fits; the hooks' panic still reaches us.
    assert!(panic_of(|| map.try_insert(3, book.value())).is_some());
    assert!(map.contains_key(&3));
    drop_and_check(&book, map);
}

#[test]
fn concurrent_weak_maps_reach_every_collected_value() {
    let book = Book::new();
    let map = ConcurrentWeakKeyMap::<ArcWeak<u32>, Probe>::builder()
        .shards(2)
        .cleanup()
        .on_removal(listener)
        .build();
    let mut keys: Vec<Arc<u32>> = (0..6).map(Arc::new).collect();
    for key in &keys {
        map.insert(Arc::clone(key), book.value());
    }
    keys.truncate(2);
    book.arm(Arm::Both);
    assert!(panic_of(|| map.maintain()).is_some());
    assert_eq!(book.left_with(RemovalCause::Collected).len(), 4);
    let mut received = None;
    assert!(
        panic_of(|| received = map.remove(&0)).is_none(),
        "no hook ran"
    );
    book.hand_back(received.unwrap());
    assert!(panic_of(|| map.clear()).is_some());
    drop_and_check(&book, map);
}

// ---- loading ---------------------------------------------------------------------------------

thread_local! {
    /// The ledger values deserialized on this thread go to.
    static LOADING: std::cell::RefCell<Option<Book>> = const { std::cell::RefCell::new(None) };
}

/// A [`Probe`] read from JSON (any number), into the ledger [`LOADING`] names.
#[derive(Debug)]
struct Loadable(Probe);

impl<'de> serde::Deserialize<'de> for Loadable {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let _: u32 = serde::Deserialize::deserialize(d)?;
        Ok(Self(
            LOADING.with(|book| book.borrow().as_ref().unwrap().value()),
        ))
    }
}

impl mapguard::Cleanup for Loadable {
    fn cleanup(&mut self, cause: RemovalCause) {
        self.0.cleanup(cause);
    }
}

fn loaded_removed(_key: u32, value: Loadable, cause: RemovalCause) {
    value.0.heard(cause);
}

#[test]
fn serde_loading_past_the_bound_reaches_every_value_that_went_in() {
    #[mapguard::managed]
    #[derive(Default, serde::Deserialize)]
    struct Loaded {
        #[managed_map(lifetime = "process", max = 2, cleanup, on_remove = loaded_removed)]
        recent: HashMap<u32, Loadable>,
    }
    for arm in Arm::PANICKING {
        let book = Book::new();
        LOADING.with(|loading| *loading.borrow_mut() = Some(book.clone()));
        book.arm(arm);
        let json = r#"{"recent": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0}}"#;
        let loaded = panic_of(|| serde_json::from_str::<Loaded>(json));
        assert!(
            loaded.is_some(),
            "{arm:?}: the first eviction's panic reaches the caller"
        );
        LOADING.with(|loading| *loading.borrow_mut() = None);
        book.arm(Arm::Nothing);
        // Three went in: the third evicted the first, then the map was dropped.
        assert_eq!(book.hooked(), 3, "{arm:?}");
        book.assert_none_lost();
    }
}

// ---- the figures -----------------------------------------------------------------------------

#[test]
fn every_kind_counts_its_hook_panics() {
    let book = Book::new();
    let mut map = LruMap::builder(10)
        .name("HookPanics.counted")
        .cleanup()
        .on_removal(listener)
        .build();
    let shared = ConcurrentLruMap::builder(10)
        .name("HookPanics.counted_shared")
        .cleanup()
        .on_removal(listener)
        .build();
    for k in 0..10 {
        map.insert(k, book.value());
        shared.insert(k, book.value());
    }
    book.arm(Arm::Both);
    assert!(panic_of(|| map.set_max(7)).is_some());
    assert!(panic_of(|| shared.clear()).is_some());
    book.arm(Arm::Nothing);
    // Three evicted values, two hooks each; ten cleared values, two hooks each.
    assert_eq!(map.stats()[0].hook_panics, 6);
    assert_eq!(shared.stats()[0].hook_panics, 20);
    let report = mapguard::registry::snapshot();
    let counted = |name: &str| report.iter().find(|m| m.name == name).unwrap().hook_panics;
    assert_eq!(counted("HookPanics.counted"), 6);
    assert_eq!(counted("HookPanics.counted_shared"), 20);
    let text = mapguard::registry::render_prometheus();
    assert!(text.contains("# TYPE mapguard_hook_panics_total counter"));
    assert!(
        text.lines().any(|line| line.starts_with(
            r#"mapguard_hook_panics_total{map="HookPanics.counted",lifetime="process",policy="lru",site=""#
        ) && line.ends_with("} 6")),
        "{text}"
    );
    let table = mapguard::registry::report();
    assert!(table.lines().next().unwrap().contains("hook panics"));
    drop((map, shared));
    book.assert_none_lost();
}

#[test]
fn without_panics_nothing_is_counted_and_nothing_changes() {
    let book = Book::new();
    let clock = MockClock::new();
    let mut map = expiring!(LruMap::builder(4), clock);
    for k in 0..10 {
        map.insert(k, book.value());
    }
    assert_eq!(map.stats()[0].hook_panics, 0);
    assert_eq!(book.left_with(RemovalCause::Evicted).len(), 6);
    drop(map);
    book.assert_none_lost();
}
