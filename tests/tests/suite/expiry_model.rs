//! Model test for expiry: random inserts, reads, clock advances and `maintain` on maps with
//! `ttl` or `idle`. Lookups must see exactly the entries a model clock says are live; every
//! value must leave once, with `Expired` only if it had expired and `Replaced`/`Evicted` only
//! if it had not.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use mapguard::testing::{MockClock, Tracked, Tracker};
use mapguard::{BoundedMap, LruMap, ManagedCache, RemovalCause};
use proptest::prelude::*;

const LIMIT: u64 = 100;

#[derive(Clone, Debug)]
enum Op {
    Insert(u8),
    Get(u8),
    Advance(u64),
    Maintain,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0..10u8).prop_map(Op::Insert),
        3 => (0..10u8).prop_map(Op::Get),
        3 => (1..60u64).prop_map(Op::Advance),
        1 => Just(Op::Maintain),
    ]
}

#[derive(Clone, Copy, Debug)]
struct Stamp {
    written: u64,
    touched: u64,
}

/// When each value was last written and touched, by the model's clock.
#[derive(Default)]
struct Model {
    idle: bool,
    now: u64,
    stamps: HashMap<u64, Stamp>,
    /// Key -> id of the value the map should hold (live or not yet purged).
    held: HashMap<u8, u64>,
}

impl Model {
    fn expired(&self, id: u64, at: u64) -> bool {
        let stamp = self.stamps[&id];
        let since = if self.idle {
            stamp.touched
        } else {
            stamp.written
        };
        at >= since + LIMIT
    }

    fn live(&self, key: u8) -> Option<u64> {
        self.held
            .get(&key)
            .copied()
            .filter(|&id| !self.expired(id, self.now))
    }
}

type Log = Rc<RefCell<Vec<(u64, RemovalCause, u64)>>>;

trait Subject: ManagedCache {
    fn insert(&mut self, key: u8, value: Tracked<u8>) -> bool;
    fn get(&mut self, key: u8) -> Option<u64>;
    fn peek(&self, key: u8) -> Option<u64>;
}

macro_rules! subject {
    ($map:ty, $insert:expr, $get:ident) => {
        impl Subject for $map {
            fn insert(&mut self, key: u8, value: Tracked<u8>) -> bool {
                $insert(self, key, value)
            }
            fn get(&mut self, key: u8) -> Option<u64> {
                self.$get(&key).map(|v| v.id())
            }
            fn peek(&self, key: u8) -> Option<u64> {
                <$map>::peek(self, &key).map(Tracked::id)
            }
        }
    };
}

type Listener = Box<dyn FnMut(u8, Tracked<u8>, RemovalCause)>;
type Hooks = mapguard::hooks::WithCleanup<Listener>;
type Lru = LruMap<u8, Tracked<u8>, mapguard::DefaultHashBuilder, Hooks, mapguard::expiry::Expiring>;
type Bounded =
    BoundedMap<u8, Tracked<u8>, mapguard::DefaultHashBuilder, Hooks, mapguard::expiry::Expiring>;

subject!(
    Lru,
    |m: &mut Lru, k, v| {
        m.insert(k, v);
        true
    },
    get_mut
);
subject!(
    Bounded,
    |m: &mut Bounded, k, v| m.try_insert(k, v).is_ok(),
    get_mut
);

fn listener(log: &Log, clock: &MockClock) -> Listener {
    let (log, clock) = (Rc::clone(log), clock.clone());
    Box::new(move |_k, v: Tracked<u8>, cause| {
        let at = u64::try_from(mapguard::expiry::Clock::now(&clock).as_millis()).unwrap();
        log.borrow_mut().push((v.id(), cause, at));
    })
}

/// Compares what the map shows for `key` with the model. A live entry the map no longer has is
/// only acceptable if the size bound evicted it (which the log must show); the model then
/// forgets it.
fn reconcile(shown: Option<u64>, model: &mut Model, key: u8, log: &Log, evicts: bool, what: &str) {
    let expected = model.live(key);
    match (shown, expected) {
        (Some(got), Some(want)) => assert_eq!(got, want, "{what}({key}) at t={}", model.now),
        (None, None) => {}
        (Some(got), None) => panic!(
            "{what}({key}) at t={} shows {got}, which is gone",
            model.now
        ),
        (None, Some(want)) => {
            let evicted = log
                .borrow()
                .iter()
                .any(|&(id, cause, _)| id == want && cause == RemovalCause::Evicted);
            assert!(
                evicts && evicted,
                "{what}({key}) at t={}: live value {want} missing",
                model.now
            );
            model.held.remove(&key);
        }
    }
}

fn run<M: Subject>(
    map: &mut M,
    model: &mut Model,
    (tracker, clock, log): (&Tracker, &MockClock, &Log),
    evicts: bool,
    ops: &[Op],
) {
    for op in ops {
        match *op {
            Op::Insert(key) => {
                let value = tracker.track(key);
                let id = value.id();
                if map.insert(key, value) {
                    model.held.insert(key, id);
                    model.stamps.insert(
                        id,
                        Stamp {
                            written: model.now,
                            touched: model.now,
                        },
                    );
                }
            }
            Op::Get(key) => {
                let shown = map.get(key);
                reconcile(shown, model, key, log, evicts, "get");
                if let Some(id) = shown {
                    model.stamps.get_mut(&id).unwrap().touched = model.now;
                }
            }
            Op::Advance(ms) => {
                clock.advance(Duration::from_millis(ms));
                model.now += ms;
            }
            Op::Maintain => {
                map.maintain();
            }
        }
        for key in 0..10 {
            reconcile(map.peek(key), model, key, log, evicts, "peek");
        }
    }
}

fn check(model: &Model, tracker: &Tracker, log: &Log) {
    tracker.assert_exactly_once();
    for &(id, cause, at) in log.borrow().iter() {
        let expired = model.expired(id, at);
        match cause {
            RemovalCause::Expired => assert!(expired, "value {id} cleaned as expired at {at}"),
            RemovalCause::Replaced | RemovalCause::Evicted => {
                assert!(
                    !expired,
                    "value {id} was expired at {at} but left as {cause}"
                );
            }
            RemovalCause::Dropped => {}
            other => panic!("unexpected cause {other} for value {id}"),
        }
        assert_eq!(tracker.cleanups_of(id).len(), 1);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(256)))]

    #[test]
    fn lru_expiry_matches_the_model(idle: bool, max in 1..8usize, ops in prop::collection::vec(op(), 0..80)) {
        let (tracker, clock, log) = (Tracker::new(), MockClock::new(), Log::default());
        let limit = Duration::from_millis(LIMIT);
        let builder = LruMap::builder(max).clock(clock.clone()).cleanup();
        let builder = if idle { builder.idle(limit) } else { builder.ttl(limit) };
        let mut map: Lru = builder.listener(listener(&log, &clock)).build();
        let mut model = Model { idle, ..Model::default() };
        run(&mut map, &mut model, (&tracker, &clock, &log), true, &ops);
        drop(map);
        check(&model, &tracker, &log);
    }

    #[test]
    fn bounded_expiry_matches_the_model(idle: bool, max in 1..8usize, ops in prop::collection::vec(op(), 0..80)) {
        let (tracker, clock, log) = (Tracker::new(), MockClock::new(), Log::default());
        let limit = Duration::from_millis(LIMIT);
        let builder = BoundedMap::builder(max).clock(clock.clone()).cleanup();
        let builder = if idle { builder.idle(limit) } else { builder.ttl(limit) };
        let mut map: Bounded = builder.listener(listener(&log, &clock)).build();
        let mut model = Model { idle, ..Model::default() };
        run(&mut map, &mut model, (&tracker, &clock, &log), false, &ops);
        drop(map);
        check(&model, &tracker, &log);
    }
}

/// Proptest cases: `normal`, or a handful under Miri (which runs them ~1000× slower).
const fn cases(normal: u32) -> u32 {
    if cfg!(miri) { 4 } else { normal }
}
