//! Model-based tests of the concurrent maps: random operation sequences against a reference
//! model. After every step the map must hold exactly the model's entries; every departure the
//! listener sees must be one the model allows (the right key, value and cause); with one shard
//! the evicted entry must be the least recently used. At the end every value has left exactly
//! once.

use std::sync::{Arc, Mutex};

use mapguard::testing::{Tracked, Tracker};
use mapguard::{ConcurrentBoundedMap, ConcurrentLruMap, DefaultHashBuilder, RemovalCause};
use proptest::prelude::*;

type Key = u8;
type Departures = Arc<Mutex<Vec<(Key, u64, RemovalCause)>>>;

#[derive(Clone, Debug)]
enum Op {
    Insert(Key),
    Replace(Key),
    Get(Key),
    Peek(Key),
    Remove(Key),
    Discard(Key),
    Retain(u8),
    Clear,
}

fn op() -> impl Strategy<Value = Op> {
    let key = 0..24u8;
    prop_oneof![
        6 => key.clone().prop_map(Op::Insert),
        2 => key.clone().prop_map(Op::Replace),
        3 => key.clone().prop_map(Op::Get),
        1 => key.clone().prop_map(Op::Peek),
        2 => key.clone().prop_map(Op::Remove),
        2 => key.clone().prop_map(Op::Discard),
        1 => (2..5u8).prop_map(Op::Retain),
        1 => Just(Op::Clear),
    ]
}

/// What should be in the map: keys in recency order (front = most recent) with value ids.
#[derive(Default)]
struct Model {
    entries: Vec<(Key, u64)>,
}

impl Model {
    fn get(&self, key: Key) -> Option<u64> {
        self.entries.iter().find(|(k, _)| *k == key).map(|e| e.1)
    }

    fn take(&mut self, key: Key) -> Option<u64> {
        let at = self.entries.iter().position(|(k, _)| *k == key)?;
        Some(self.entries.remove(at).1)
    }

    fn put_front(&mut self, key: Key, id: u64) {
        self.take(key);
        self.entries.insert(0, (key, id));
    }

    fn promote(&mut self, key: Key) {
        if let Some(id) = self.take(key) {
            self.entries.insert(0, (key, id));
        }
    }

    fn sorted(&self) -> Vec<(Key, u64)> {
        let mut entries = self.entries.clone();
        entries.sort_unstable();
        entries
    }
}

fn listener(departures: &Departures) -> impl Fn(Key, Tracked<Key>, RemovalCause) + Send + Sync {
    let departures = Arc::clone(departures);
    move |key, value, cause| departures.lock().unwrap().push((key, value.id(), cause))
}

fn drain(departures: &Departures) -> Vec<(Key, u64, RemovalCause)> {
    std::mem::take(&mut *departures.lock().unwrap())
}

/// Takes the model's entries that `leave` selects out, and checks that exactly those left the
/// map (in any order) with `cause`.
fn expect_left(
    departures: &Departures,
    model: &mut Model,
    cause: RemovalCause,
    leave: impl Fn(Key) -> bool,
) -> Result<(), TestCaseError> {
    let mut departed = drain(departures);
    departed.sort_unstable();
    let expected: Vec<_> = model
        .sorted()
        .into_iter()
        .filter(|&(k, _)| leave(k))
        .map(|(k, id)| (k, id, cause))
        .collect();
    model.entries.retain(|&(k, _)| !leave(k));
    prop_assert_eq!(departed, expected);
    Ok(())
}

/// One operation both maps serve the same way; `false` if `op` is not one of them.
fn common_op<
    P: mapguard::policy::Policy,
    L: mapguard::hooks::ConcurrentListener<Key, Tracked<Key>>,
>(
    op: &Op,
    map: &mapguard::ConcurrentMap<Key, Tracked<Key>, P, DefaultHashBuilder, L>,
    model: &mut Model,
    departures: &Departures,
) -> Result<bool, TestCaseError> {
    match *op {
        Op::Discard(key) => {
            let present = model.get(key).is_some();
            prop_assert_eq!(map.discard(&key), present);
            expect_left(departures, model, RemovalCause::Explicit, |k| k == key)?;
        }
        Op::Retain(modulus) => {
            map.retain(|key, _| key % modulus != 0);
            expect_left(departures, model, RemovalCause::Explicit, |k| {
                k % modulus == 0
            })?;
        }
        Op::Clear => {
            map.clear();
            expect_left(departures, model, RemovalCause::Cleared, |_| true)?;
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// A new key went in (id `id`): the model allows no departure, or one eviction (of the least
/// recently used entry when there is one shard).
fn admitted(
    model: &mut Model,
    departed: &[(Key, u64, RemovalCause)],
    key: Key,
    id: u64,
    one_shard: bool,
) -> Result<(), TestCaseError> {
    match departed {
        [] => {}
        [(victim, victim_id, RemovalCause::Evicted)] => {
            prop_assert_ne!(*victim, key);
            if one_shard {
                prop_assert_eq!(model.entries.last().map(|e| e.0), Some(*victim));
            }
            prop_assert_eq!(model.take(*victim), Some(*victim_id));
        }
        other => prop_assert!(false, "unexpected departures {other:?}"),
    }
    model.put_front(key, id);
    Ok(())
}

fn contents<
    P: mapguard::policy::Policy,
    L: mapguard::hooks::ConcurrentListener<Key, Tracked<Key>>,
>(
    map: &mapguard::ConcurrentMap<Key, Tracked<Key>, P, DefaultHashBuilder, L>,
) -> Vec<(Key, u64)> {
    let mut seen = Vec::new();
    map.for_each(|key, value| seen.push((*key, value.id())));
    seen.sort_unstable();
    seen
}

#[allow(
    clippy::too_many_lines,
    reason = "one match arm per operation reads best whole"
)]
fn run_lru(ops: &[Op], max: usize, shards: usize) -> Result<(), TestCaseError> {
    let tracker = Tracker::new();
    let departures = Departures::default();
    let map = ConcurrentLruMap::builder(max)
        .shards(shards)
        .on_removal(listener(&departures))
        .build();
    let bound = max.div_ceil(shards) * shards;
    let one_shard = shards == 1;
    let mut model = Model::default();
    for op in ops {
        match *op {
            Op::Insert(key) => {
                let value = tracker.track(key);
                let id = value.id();
                map.insert(key, value);
                let departed = drain(&departures);
                if let Some(old) = model.get(key) {
                    prop_assert_eq!(departed, vec![(key, old, RemovalCause::Replaced)]);
                    model.put_front(key, id);
                } else {
                    admitted(&mut model, &departed, key, id, one_shard)?;
                }
            }
            Op::Replace(key) => {
                let value = tracker.track(key);
                let id = value.id();
                let old = map.replace(key, value).map(|v| v.id());
                let departed = drain(&departures);
                prop_assert_eq!(old, model.get(key));
                if old.is_some() {
                    prop_assert!(departed.is_empty());
                    model.put_front(key, id);
                } else {
                    admitted(&mut model, &departed, key, id, one_shard)?;
                }
            }
            Op::Get(key) => {
                let id = map.update(&key, |v| v.id());
                prop_assert_eq!(id, model.get(key));
                model.promote(key);
            }
            Op::Peek(key) => {
                let mut id = None;
                map.for_each(|k, v| {
                    if *k == key {
                        id = Some(v.id());
                    }
                });
                prop_assert_eq!(id, model.get(key));
                prop_assert_eq!(map.contains_key(&key), id.is_some());
            }
            Op::Remove(key) => {
                let id = map.remove(&key).map(|v| v.id());
                prop_assert_eq!(id, model.take(key));
            }
            _ => {
                prop_assert!(common_op(op, &map, &mut model, &departures)?);
            }
        }
        prop_assert!(drain(&departures).is_empty());
        prop_assert_eq!(contents(&map), model.sorted());
        prop_assert!(map.len() <= bound);
    }
    drop(map);
    let mut departed = drain(&departures);
    departed.sort_unstable();
    let expected: Vec<_> = model
        .sorted()
        .into_iter()
        .map(|(k, id)| (k, id, RemovalCause::Dropped))
        .collect();
    prop_assert_eq!(departed, expected);
    prop_assert_eq!(tracker.live(), 0);
    tracker.assert_exactly_once();
    Ok(())
}

fn run_bounded(ops: &[Op], max: usize, shards: usize) -> Result<(), TestCaseError> {
    let tracker = Tracker::new();
    let departures = Departures::default();
    let map = ConcurrentBoundedMap::builder(max)
        .shards(shards)
        .on_removal(listener(&departures))
        .build();
    let per_shard = max.div_ceil(shards);
    let mut model = Model::default();
    for op in ops {
        match *op {
            Op::Insert(key) | Op::Replace(key) => {
                let value = tracker.track(key);
                let id = value.id();
                let result = map.try_insert(key, value);
                let departed = drain(&departures);
                match (model.get(key), result) {
                    (Some(old), Ok(())) => {
                        prop_assert_eq!(departed, vec![(key, old, RemovalCause::Replaced)]);
                        model.put_front(key, id);
                    }
                    (Some(_), Err(_)) => prop_assert!(false, "updating a present key failed"),
                    (None, Ok(())) => {
                        prop_assert!(departed.is_empty());
                        model.put_front(key, id);
                    }
                    (None, Err(error)) => {
                        prop_assert!(departed.is_empty());
                        // Only a full shard rejects: with one shard, a full map.
                        if shards == 1 {
                            prop_assert_eq!(model.entries.len(), max);
                        } else {
                            prop_assert!(model.entries.len() >= per_shard);
                        }
                        let (back_key, back) = error.into_inner();
                        prop_assert_eq!((back_key, back.id()), (key, id));
                    }
                }
            }
            Op::Get(key) | Op::Peek(key) => {
                let id = map.update(&key, |v| v.id());
                prop_assert_eq!(id, model.get(key));
            }
            Op::Remove(key) => {
                prop_assert_eq!(map.remove(&key).map(|v| v.id()), model.take(key));
            }
            _ => {
                prop_assert!(common_op(op, &map, &mut model, &departures)?);
            }
        }
        prop_assert_eq!(contents(&map), model.sorted());
        prop_assert!(map.len() <= per_shard * shards);
    }
    drop(map);
    prop_assert_eq!(tracker.live(), 0);
    prop_assert_eq!(tracker.cleaned(RemovalCause::Evicted), 0);
    tracker.assert_exactly_once();
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(256)))]

    #[test]
    fn lru_one_shard_matches_the_model(ops in prop::collection::vec(op(), 1..120), max in 1..10usize) {
        run_lru(&ops, max, 1)?;
    }

    #[test]
    fn lru_four_shards_matches_the_model(ops in prop::collection::vec(op(), 1..120), max in 4..24usize) {
        run_lru(&ops, max, 4)?;
    }

    #[test]
    fn bounded_matches_the_model(
        ops in prop::collection::vec(op(), 1..120),
        max in 1..16usize,
        shards in prop::sample::select(vec![1usize, 2, 4]),
    ) {
        run_bounded(&ops, max, shards)?;
    }
}

/// Proptest cases: `normal`, or a handful under Miri (which runs them ~1000× slower).
const fn cases(normal: u32) -> u32 {
    if cfg!(miri) { 4 } else { normal }
}
