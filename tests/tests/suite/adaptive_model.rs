//! Model-based tests for `AdaptiveMap`: random operation sequences against a reference that
//! knows which keys are present but not which one the policy will choose to evict. After
//! every step the map holds exactly the model's entries (what it evicted is read off the
//! difference, and must be what the operation allows: one entry for a new key arriving while
//! full, the excess for `set_max`, none otherwise), never more than `max`, and no value
//! outlives its entry (the ghost holds fingerprints, never values). At the end every value
//! has left exactly once, with the cause the model recorded.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use mapguard::hooks::{RemovalListener, WithCleanup};
use mapguard::map::Entry;
use mapguard::testing::{Tracked, Tracker};
use mapguard::{AdaptiveMap, RemovalCause};
use proptest::prelude::*;

type Key = u8;
type Value = Tracked<Key>;

#[derive(Clone, Debug)]
enum Op {
    Insert(Key),
    Replace(Key),
    Get(Key),
    GetMut(Key),
    Peek(Key),
    Remove(Key),
    Discard(Key),
    Entry(Key),
    Retain(u8),
    Clear,
    SetMax(usize),
    Drain(usize),
    ShrinkToFit,
}

fn op(keys: u8) -> impl Strategy<Value = Op> {
    let key = 0..keys;
    prop_oneof![
        8 => key.clone().prop_map(Op::Insert),
        2 => key.clone().prop_map(Op::Replace),
        6 => key.clone().prop_map(Op::Get),
        1 => key.clone().prop_map(Op::GetMut),
        1 => key.clone().prop_map(Op::Peek),
        2 => key.clone().prop_map(Op::Remove),
        2 => key.clone().prop_map(Op::Discard),
        4 => key.prop_map(Op::Entry),
        1 => (2..5u8).prop_map(Op::Retain),
        1 => Just(Op::Clear),
        1 => (1..12usize).prop_map(Op::SetMax),
        1 => (0..4usize).prop_map(Op::Drain),
        1 => Just(Op::ShrinkToFit),
    ]
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fate {
    HandedBack,
    Cleaned(RemovalCause),
}

#[derive(Clone)]
struct Witness {
    tracker: Tracker,
    seen: Rc<RefCell<Vec<(u64, RemovalCause)>>>,
}

impl RemovalListener<Key, Value> for Witness {
    fn on_removal(&mut self, key: Key, value: Value, cause: RemovalCause) {
        assert_eq!(key, *value, "listener got a key that is not the value's");
        assert_eq!(self.tracker.cleanups_of(value.id()).last(), Some(&cause));
        self.seen.borrow_mut().push((value.id(), cause));
    }
}

type Map = AdaptiveMap<Key, Value, mapguard::DefaultHashBuilder, WithCleanup<Witness>>;

#[derive(Default)]
struct Model {
    entries: BTreeMap<Key, u64>,
    max: usize,
    fates: HashMap<u64, Fate>,
}

impl Model {
    fn take(&mut self, key: Key, fate: Fate) -> bool {
        self.entries
            .remove(&key)
            .map(|id| self.fates.insert(id, fate))
            .is_some()
    }

    /// Entries the model holds and the map no longer does left by eviction: exactly
    /// `expected` of them, never `spared` (the key the operation just stored).
    fn evicted(&mut self, map: &Map, expected: usize, spared: Option<Key>) {
        let gone: Vec<Key> = self
            .entries
            .keys()
            .copied()
            .filter(|k| !map.contains_key(k))
            .collect();
        assert_eq!(gone.len(), expected, "evicted {gone:?}");
        assert!(
            spared.is_none_or(|k| !gone.contains(&k)),
            "evicted the new key"
        );
        for key in gone {
            self.take(key, Fate::Cleaned(RemovalCause::Evicted));
        }
    }

    fn remove_all(&mut self, fate: Fate) {
        for (_, id) in std::mem::take(&mut self.entries) {
            self.fates.insert(id, fate);
        }
    }
}

fn upsert(map: &mut Map, model: &mut Model, tracker: &Tracker, key: Key, hand_back: bool) {
    let value = tracker.track(key);
    let id = value.id();
    let evicts = usize::from(model.entries.len() >= model.max && !model.entries.contains_key(&key));
    let old = model.entries.insert(key, id);
    if hand_back {
        let replaced = map.replace(key, value).map(|v| v.id());
        assert_eq!(replaced, old);
        if let Some(old) = old {
            model.fates.insert(old, Fate::HandedBack);
        }
    } else {
        map.insert(key, value);
        if let Some(old) = old {
            model
                .fates
                .insert(old, Fate::Cleaned(RemovalCause::Replaced));
        }
    }
    model.evicted(map, evicts, Some(key));
}

fn apply(map: &mut Map, model: &mut Model, tracker: &Tracker, op: &Op) {
    match *op {
        Op::Insert(key) => upsert(map, model, tracker, key, false),
        Op::Replace(key) => upsert(map, model, tracker, key, true),
        Op::Get(key) => assert_eq!(
            map.get(&key).map(Tracked::id),
            model.entries.get(&key).copied()
        ),
        Op::GetMut(key) => assert_eq!(
            map.get_mut(&key).map(|v| v.id()),
            model.entries.get(&key).copied()
        ),
        Op::Peek(key) => {
            assert_eq!(
                map.peek(&key).map(Tracked::id),
                model.entries.get(&key).copied()
            );
        }
        Op::Remove(key) => {
            let expected = model.entries.get(&key).copied();
            assert_eq!(map.remove(&key).map(|v| v.id()), expected);
            model.take(key, Fate::HandedBack);
        }
        Op::Discard(key) => {
            let present = model.take(key, Fate::Cleaned(RemovalCause::Explicit));
            assert_eq!(map.discard(&key), present);
        }
        Op::Entry(key) => {
            let value = tracker.track(key);
            let id = value.id();
            match (model.entries.get(&key).copied(), map.entry(key)) {
                (Some(existing), Entry::Occupied(entry)) => assert_eq!(entry.get().id(), existing),
                (None, Entry::Vacant(slot)) => {
                    let evicts = usize::from(model.entries.len() >= model.max);
                    slot.insert(value);
                    model.entries.insert(key, id);
                    model.evicted(map, evicts, Some(key));
                }
                (expected, _) => panic!("entry disagrees with the model ({expected:?})"),
            }
            model.fates.entry(id).or_insert(Fate::HandedBack);
        }
        Op::Retain(modulus) => {
            map.retain(|k, _| k % modulus != 0);
            let gone: Vec<Key> = model
                .entries
                .keys()
                .copied()
                .filter(|k| k % modulus == 0)
                .collect();
            for key in gone {
                model.take(key, Fate::Cleaned(RemovalCause::Explicit));
            }
        }
        Op::Clear => {
            map.clear();
            model.remove_all(Fate::Cleaned(RemovalCause::Cleared));
        }
        Op::SetMax(max) => {
            let excess = model.entries.len().saturating_sub(max);
            map.set_max(max);
            model.max = max;
            model.evicted(map, excess, None);
        }
        Op::Drain(take) => {
            let mut drain = map.drain();
            let yielded: Vec<u64> = drain.by_ref().take(take).map(|(_, v)| v.id()).collect();
            drop(drain);
            for (_, id) in std::mem::take(&mut model.entries) {
                let fate = if yielded.contains(&id) {
                    Fate::HandedBack
                } else {
                    Fate::Cleaned(RemovalCause::Cleared)
                };
                model.fates.insert(id, fate);
            }
        }
        Op::ShrinkToFit => map.shrink_to_fit(),
    }
}

fn run(max: usize, ops: &[Op]) {
    let tracker = Tracker::new();
    let witness = Witness {
        tracker: tracker.clone(),
        seen: Rc::default(),
    };
    let seen = Rc::clone(&witness.seen);
    let mut map: Map = AdaptiveMap::builder(max)
        .listener(witness)
        .cleanup()
        .build();
    let mut model = Model {
        max,
        ..Model::default()
    };
    for op in ops {
        apply(&mut map, &mut model, &tracker, op);
        let actual: BTreeMap<Key, u64> = map.iter().map(|(k, v)| (*k, v.id())).collect();
        assert_eq!(actual, model.entries, "contents diverged after {op:?}");
        assert!(map.len() <= map.max(), "over the bound after {op:?}");
        assert_eq!(map.iter().len(), map.len());
        // Values held anywhere but in the entries (the ghost, say) would be live here.
        assert_eq!(
            tracker.live(),
            map.len() as u64,
            "a value outlived its entry"
        );
    }
    drop(map);
    model.remove_all(Fate::Cleaned(RemovalCause::Dropped));
    tracker.assert_exactly_once();
    assert_eq!(tracker.created(), model.fates.len() as u64);
    let seen = seen.borrow();
    for (&id, &fate) in &model.fates {
        let heard: Vec<_> = seen
            .iter()
            .filter(|(i, _)| *i == id)
            .map(|(_, c)| *c)
            .collect();
        match fate {
            Fate::HandedBack => {
                assert!(
                    tracker.cleanups_of(id).is_empty(),
                    "value {id} handed back but cleaned"
                );
                assert!(heard.is_empty());
            }
            Fate::Cleaned(cause) => {
                assert_eq!(tracker.cleanups_of(id), [cause], "value {id}");
                assert_eq!(heard, [cause], "listener, value {id}");
            }
        }
    }
}

fn cases(normal: u32) -> u32 {
    if cfg!(miri) { 4 } else { normal }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(512)))]

    /// Small maps and few keys: every operation meets a full map often.
    #[test]
    fn adaptive_map_matches_the_model(max in 1..8usize, ops in prop::collection::vec(op(12), 0..120)) {
        run(max, &ops);
    }

    /// More keys than the map holds many times over, so that keys leave probation, come back
    /// through the ghost and turn the main queue over.
    #[test]
    fn adaptive_map_turns_its_queues_over(max in 4..40usize, ops in prop::collection::vec(op(120), 0..400)) {
        run(max, &ops);
    }
}

/// A loop over more keys than fit: LRU never hits; the adaptive map keeps a stable part of
/// the loop and hits it on every pass.
#[test]
fn a_loop_larger_than_the_map_still_hits() {
    let mut lru = mapguard::LruMap::new(100);
    let mut adaptive = AdaptiveMap::new(100);
    let (mut lru_hits, mut adaptive_hits) = (0, 0);
    for _ in 0..20 {
        for key in 0..150u32 {
            if lru.get(&key).is_some() {
                lru_hits += 1;
            } else {
                lru.insert(key, ());
            }
            if adaptive.get(&key).is_some() {
                adaptive_hits += 1;
            } else {
                adaptive.insert(key, ());
            }
        }
    }
    assert_eq!(lru_hits, 0);
    // 19 passes after the first; at least half the map stays put.
    assert!(adaptive_hits >= 19 * 50, "{adaptive_hits} hits");
}

/// One-pass scans do not flush the keys that are read again and again.
#[test]
fn a_scan_does_not_flush_the_hot_keys() {
    let mut map = AdaptiveMap::new(100);
    for round in 0..50u32 {
        for key in 0..50u32 {
            if map.get(&key).is_none() {
                map.insert(key, round);
            }
        }
    }
    for key in 1_000..3_000u32 {
        map.insert(key, 0);
    }
    let kept = (0..50u32).filter(|k| map.contains_key(k)).count();
    assert!(
        kept >= 45,
        "only {kept} of 50 hot keys survived a scan of 2,000"
    );
}
