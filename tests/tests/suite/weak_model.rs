//! Model test for `WeakKeyMap`: keys are `Rc` handles created and dropped at random points.
//! Lookups must see exactly the live keys' values; every value must leave exactly once —
//! `Collected` if and only if its key died while it was in the map, otherwise the cause of
//! the operation that removed it.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::{Rc, Weak};

use mapguard::testing::{Tracked, Tracker};
use mapguard::{RemovalCause, WeakKeyMap};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Op {
    Insert(u8),
    DropKey(u8),
    Get(u8),
    Remove(u8),
    Discard(u8),
    Maintain,
    Clear,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..8u8).prop_map(Op::Insert),
        4 => (0..8u8).prop_map(Op::DropKey),
        3 => (0..8u8).prop_map(Op::Get),
        1 => (0..8u8).prop_map(Op::Remove),
        1 => (0..8u8).prop_map(Op::Discard),
        1 => Just(Op::Maintain),
        1 => Just(Op::Clear),
    ]
}

type Log = Rc<RefCell<Vec<(u64, RemovalCause)>>>;
type Listener = Box<dyn FnMut(Weak<u8>, Tracked<u8>, RemovalCause)>;
type Map = WeakKeyMap<
    Weak<u8>,
    Tracked<u8>,
    mapguard::policy::Lru,
    mapguard::DefaultHashBuilder,
    mapguard::hooks::WithCleanup<Listener>,
>;

#[derive(Default)]
struct Model {
    /// The strong handles the test holds: a key is alive while it is here.
    handles: HashMap<u8, Rc<u8>>,
    /// Key -> id of the value stored under the live handle.
    live: HashMap<u8, u64>,
    /// Values whose key died while stored: they must leave as `Collected`.
    orphans: Vec<u64>,
    /// Expected cause per value (none = handed back).
    fates: HashMap<u64, Option<RemovalCause>>,
}

impl Model {
    fn leave(&mut self, key: u8, fate: Option<RemovalCause>) -> Option<u64> {
        let id = self.live.remove(&key)?;
        self.fates.insert(id, fate);
        Some(id)
    }
}

fn evicted(log: &Log, id: u64) -> bool {
    log.borrow()
        .iter()
        .any(|&(i, c)| i == id && c == RemovalCause::Evicted)
}

/// A live value the map no longer shows is only acceptable as an eviction.
fn reconcile(map: &Map, model: &mut Model, log: &Log, bounded: bool) {
    for key in 0..8u8 {
        let shown = map.peek(&key).map(Tracked::id);
        match (shown, model.live.get(&key).copied()) {
            (Some(got), Some(want)) => assert_eq!(got, want, "key {key}"),
            (None, None) => {}
            (Some(got), None) => panic!("key {key} shows value {got}, which is gone"),
            (None, Some(want)) => {
                assert!(
                    bounded && evicted(log, want),
                    "live value {want} of key {key} missing"
                );
                model.leave(key, Some(RemovalCause::Evicted));
            }
        }
    }
}

fn run(max: Option<usize>, ops: &[Op]) {
    let (tracker, log) = (Tracker::new(), Log::default());
    let sink = Rc::clone(&log);
    let listener: Listener = Box::new(move |_key, value, cause| {
        sink.borrow_mut().push((value.id(), cause));
    });
    let builder = match max {
        Some(max) => WeakKeyMap::lru_builder(max),
        None => WeakKeyMap::builder(),
    };
    let mut map: Map = builder.listener(listener).cleanup().build();
    let mut model = Model::default();

    for op in ops {
        match *op {
            Op::Insert(key) => {
                let handle = Rc::clone(model.handles.entry(key).or_insert_with(|| Rc::new(key)));
                let value = tracker.track(key);
                let id = value.id();
                map.insert(handle, value);
                model.leave(key, Some(RemovalCause::Replaced));
                model.live.insert(key, id);
            }
            Op::DropKey(key) => {
                if model.handles.remove(&key).is_some() {
                    if let Some(id) = model.live.remove(&key) {
                        model.orphans.push(id);
                        model.fates.insert(id, Some(RemovalCause::Collected));
                    }
                }
            }
            Op::Get(key) => {
                let shown = map.get_mut(&key).map(|v| v.id());
                if shown.is_none() && model.live.contains_key(&key) {
                    let id = model.live[&key];
                    assert!(
                        max.is_some() && evicted(&log, id),
                        "live value {id} missing"
                    );
                    model.leave(key, Some(RemovalCause::Evicted));
                }
            }
            Op::Remove(key) => {
                if let Some(value) = map.remove(&key) {
                    assert_eq!(model.leave(key, None), Some(value.id()));
                }
            }
            Op::Discard(key) => {
                if map.discard(&key) {
                    assert!(model.leave(key, Some(RemovalCause::Explicit)).is_some());
                }
            }
            Op::Maintain => {
                map.maintain();
                assert!(
                    map.len() <= model.live.len(),
                    "maintain leaves no dead entry"
                );
            }
            Op::Clear => {
                map.clear();
                for key in model.live.keys().copied().collect::<Vec<_>>() {
                    model.leave(key, Some(RemovalCause::Cleared));
                }
            }
        }
        reconcile(&map, &mut model, &log, max.is_some());
        if let Some(max) = max {
            assert!(map.len() <= max);
        }
    }

    drop(map);
    for key in model.live.keys().copied().collect::<Vec<_>>() {
        model.leave(key, Some(RemovalCause::Dropped));
    }
    tracker.assert_exactly_once();
    for (&id, &fate) in &model.fates {
        let cleanups = tracker.cleanups_of(id);
        match fate {
            None => assert!(cleanups.is_empty(), "value {id} was handed back"),
            Some(cause) => assert_eq!(cleanups, [cause], "value {id}"),
        }
    }
    assert_eq!(
        tracker.cleaned(RemovalCause::Collected),
        model.orphans.len() as u64,
        "every value whose key died was collected"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(384)))]

    #[test]
    fn unbounded_weak_map_matches_the_model(ops in prop::collection::vec(op(), 0..80)) {
        run(None, &ops);
    }

    #[test]
    fn lru_weak_map_matches_the_model(max in 1..6usize, ops in prop::collection::vec(op(), 0..80)) {
        run(Some(max), &ops);
    }
}

#[test]
fn an_insert_only_workload_with_dying_keys_stays_bounded() {
    let tracker = Tracker::new();
    let mut map = WeakKeyMap::<Weak<u64>, Tracked<u64>>::builder()
        .cleanup()
        .build();
    let mut peak = 0;
    for k in 0..100_000_u64 {
        let key = Rc::new(k);
        map.insert(Rc::clone(&key), tracker.track(k));
        drop(key); // the key dies right after its insert
        peak = peak.max(map.len());
    }
    assert!(peak <= 4, "dead entries piled up to {peak}");
    drop(map);
    assert_eq!(tracker.cleaned(RemovalCause::Collected), 100_000);
    tracker.assert_exactly_once();
}

/// Proptest cases: `normal`, or a handful under Miri (which runs them ~1000× slower).
const fn cases(normal: u32) -> u32 {
    if cfg!(miri) { 4 } else { normal }
}
