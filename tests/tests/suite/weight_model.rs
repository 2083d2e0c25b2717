//! Model-based tests for weight budgets: random operations with random weights against a
//! reference that knows the exact eviction order (LRU) or the exact refusals (bounded), and,
//! for the adaptive policy, the invariants (the budget holds, every value leaves once). After
//! every step the map holds exactly the model's entries, within both bounds, and reports the
//! model's total weight; at the end every value left exactly once with the predicted cause.

use std::collections::HashMap;

use mapguard::hooks::WithCleanup;
use mapguard::map::Entry;
use mapguard::testing::{Tracked, Tracker};
use mapguard::{AdaptiveMap, BoundedMap, LruMap, RemovalCause};
use proptest::prelude::*;

type Key = u8;
/// The value carries its own weight.
type Value = Tracked<u64>;

const MAX: usize = 6;
const BUDGET: u64 = 100;

#[derive(Clone, Debug)]
enum Op {
    Insert(Key, u64),
    Replace(Key, u64),
    Update(Key, u64),
    Entry(Key, u64),
    Get(Key),
    Remove(Key),
    Clear,
}

fn op() -> impl Strategy<Value = Op> {
    let key = 0..10u8;
    // Mostly within the budget, sometimes over it on their own.
    let weight = prop_oneof![8 => 0..40u64, 1 => 90..140u64];
    prop_oneof![
        6 => (key.clone(), weight.clone()).prop_map(|(k, w)| Op::Insert(k, w)),
        2 => (key.clone(), weight.clone()).prop_map(|(k, w)| Op::Replace(k, w)),
        2 => (key.clone(), weight.clone()).prop_map(|(k, w)| Op::Update(k, w)),
        2 => (key.clone(), weight).prop_map(|(k, w)| Op::Entry(k, w)),
        3 => key.clone().prop_map(Op::Get),
        1 => key.prop_map(Op::Remove),
        1 => Just(Op::Clear),
    ]
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fate {
    HandedBack,
    Cleaned(RemovalCause),
}

/// Entries front (most recent) to back, as `(key, value id, weight)`.
#[derive(Default)]
struct Model {
    entries: Vec<(Key, u64, u64)>,
    fates: HashMap<u64, Fate>,
}

impl Model {
    fn total(&self) -> u64 {
        self.entries.iter().map(|e| e.2).sum()
    }

    fn position(&self, key: Key) -> Option<usize> {
        self.entries.iter().position(|e| e.0 == key)
    }

    fn move_to_front(&mut self, pos: usize) {
        let entry = self.entries.remove(pos);
        self.entries.insert(0, entry);
    }

    /// `remove(key)` handed back `got`: the model's value, which left it.
    fn removed(&mut self, key: Key, got: Option<u64>) {
        let pos = self.position(key);
        assert_eq!(got, pos.map(|p| self.entries[p].1));
        if let Some(pos) = pos {
            let (_, id, _) = self.entries.remove(pos);
            self.fates.insert(id, Fate::HandedBack);
        }
    }

    fn cleared(&mut self) {
        for (_, id, _) in self.entries.drain(..) {
            self.fates.insert(id, Fate::Cleaned(RemovalCause::Cleared));
        }
    }

    fn evict_back(&mut self) {
        let (_, id, _) = self.entries.pop().unwrap();
        self.fates.insert(id, Fate::Cleaned(RemovalCause::Evicted));
    }

    /// LRU shedding: the back leaves until `incoming` fits (and one more entry, if `new`),
    /// never the front entry when it is the one being written (`new == false`).
    fn shed(&mut self, incoming: u64, new: bool) {
        while (new && self.entries.len() >= MAX) || self.total() + incoming > BUDGET {
            if self.entries.is_empty() || (!new && self.entries.len() == 1) {
                break;
            }
            self.evict_back();
        }
    }
}

#[allow(
    clippy::trivially_copy_pass_by_ref,
    reason = "a weigher takes the key by reference"
)]
fn weigher(_key: &Key, value: &Value) -> u64 {
    **value
}

/// A weighed map's per-entry state is `Weighed`.
type Lru = mapguard::weight::WeighedLruMap<
    Key,
    Value,
    mapguard::DefaultHashBuilder,
    WithCleanup<mapguard::hooks::NoListener>,
>;

fn lru_step(map: &mut Lru, model: &mut Model, tracker: &Tracker, op: &Op) {
    match *op {
        Op::Insert(key, w) | Op::Replace(key, w) => {
            let value = tracker.track(w);
            let id = value.id();
            let hand_back = matches!(op, Op::Replace(..));
            let got = if hand_back {
                map.replace(key, value).map(|v| v.id())
            } else {
                map.insert(key, value);
                None
            };
            match model.position(key) {
                Some(pos) => {
                    let (_, old, _) = model.entries[pos];
                    if hand_back {
                        assert_eq!(got, Some(old));
                        model.fates.insert(old, Fate::HandedBack);
                    } else {
                        model
                            .fates
                            .insert(old, Fate::Cleaned(RemovalCause::Replaced));
                    }
                    model.entries[pos] = (key, id, w);
                    model.move_to_front(pos);
                    if w > BUDGET {
                        model.entries.remove(0);
                        model.fates.insert(id, Fate::Cleaned(RemovalCause::Evicted));
                    } else {
                        model.shed(0, false);
                    }
                }
                None if w > BUDGET => {
                    model.fates.insert(id, Fate::Cleaned(RemovalCause::Evicted));
                }
                None => {
                    model.shed(w, true);
                    model.entries.insert(0, (key, id, w));
                }
            }
        }
        Op::Update(key, w) => {
            let changed = map.update(&key, |v| **v = w);
            assert_eq!(changed.is_some(), model.position(key).is_some());
            if let Some(pos) = model.position(key) {
                model.entries[pos].2 = w;
                model.move_to_front(pos);
                if w > BUDGET {
                    let (_, id, _) = model.entries.remove(0);
                    model.fates.insert(id, Fate::Cleaned(RemovalCause::Evicted));
                } else {
                    model.shed(0, false);
                }
            }
        }
        Op::Entry(key, w) => {
            let value = tracker.track(w);
            let id = value.id();
            match (model.position(key), map.entry(key)) {
                (Some(pos), Entry::Occupied(entry)) => {
                    assert_eq!(entry.get().id(), model.entries[pos].1);
                    model.move_to_front(pos);
                    model.fates.insert(id, Fate::HandedBack);
                }
                (None, Entry::Vacant(slot)) => {
                    slot.insert(value);
                    // Kept even when too heavy: alone, until the next insert.
                    model.shed(w, true);
                    model.entries.insert(0, (key, id, w));
                }
                (expected, _) => panic!("entry disagrees with the model ({expected:?})"),
            }
        }
        Op::Get(key) => {
            let got = map.get(&key).map(Tracked::id);
            let pos = model.position(key);
            assert_eq!(got, pos.map(|p| model.entries[p].1));
            if let Some(pos) = pos {
                model.move_to_front(pos);
            }
        }
        Op::Remove(key) => model.removed(key, map.remove(&key).map(|v| v.id())),
        Op::Clear => {
            map.clear();
            model.cleared();
        }
    }
}

type Bounded = mapguard::weight::WeighedBoundedMap<
    Key,
    Value,
    mapguard::DefaultHashBuilder,
    WithCleanup<mapguard::hooks::NoListener>,
>;

fn bounded_step(map: &mut Bounded, model: &mut Model, tracker: &Tracker, op: &Op) {
    match *op {
        Op::Insert(key, w) | Op::Replace(key, w) | Op::Entry(key, w) => {
            let value = tracker.track(w);
            let id = value.id();
            let outcome = map.try_insert(key, value);
            let pos = model.position(key);
            let freed = pos.map_or(0, |p| model.entries[p].2);
            let fits =
                model.total() - freed + w <= BUDGET && (pos.is_some() || model.entries.len() < MAX);
            assert_eq!(outcome.is_ok(), fits, "{op:?}");
            match (outcome, pos) {
                (Err(rejected), _) => {
                    assert_eq!(rejected.into_inner().1.id(), id);
                    model.fates.insert(id, Fate::HandedBack);
                }
                (Ok(()), Some(pos)) => {
                    let old = model.entries[pos].1;
                    model
                        .fates
                        .insert(old, Fate::Cleaned(RemovalCause::Replaced));
                    model.entries[pos] = (key, id, w);
                    model.move_to_front(pos);
                }
                (Ok(()), None) => model.entries.insert(0, (key, id, w)),
            }
        }
        Op::Update(key, w) => {
            let changed = map.update(&key, |v| **v = w);
            assert_eq!(changed.is_some(), model.position(key).is_some());
            if let Some(pos) = model.position(key) {
                // A read for a bounded map: no reordering.
                model.entries[pos].2 = w;
                if model.total() > BUDGET {
                    let (_, id, _) = model.entries.remove(pos);
                    model.fates.insert(id, Fate::Cleaned(RemovalCause::Evicted));
                }
            }
        }
        Op::Get(key) => {
            let pos = model.position(key);
            assert_eq!(
                map.get(&key).map(Tracked::id),
                pos.map(|p| model.entries[p].1)
            );
        }
        Op::Remove(key) => model.removed(key, map.remove(&key).map(|v| v.id())),
        Op::Clear => {
            map.clear();
            model.cleared();
        }
    }
}

fn check_end(tracker: &Tracker, mut model: Model) {
    for (_, id, _) in model.entries.drain(..) {
        model.fates.insert(id, Fate::Cleaned(RemovalCause::Dropped));
    }
    tracker.assert_exactly_once();
    assert_eq!(tracker.created(), model.fates.len() as u64);
    for (&id, &fate) in &model.fates {
        match fate {
            Fate::HandedBack => assert!(tracker.cleanups_of(id).is_empty(), "value {id}"),
            Fate::Cleaned(cause) => assert_eq!(tracker.cleanups_of(id), [cause], "value {id}"),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(if cfg!(miri) { 4 } else { 512 }))]

    #[test]
    fn lru_under_a_weight_budget_matches_the_model(ops in prop::collection::vec(op(), 0..100)) {
        let tracker = Tracker::new();
        let mut map: Lru = LruMap::builder(MAX).weigher(weigher).max_weight(BUDGET).cleanup().build();
        let mut model = Model::default();
        for op in &ops {
            lru_step(&mut map, &mut model, &tracker, op);
            let actual: Vec<(Key, u64, u64)> = map.iter().map(|(k, v)| (*k, v.id(), **v)).collect();
            prop_assert_eq!(&actual, &model.entries, "after {:?}", op);
            prop_assert_eq!(map.weight(), model.total());
            prop_assert!(map.len() <= MAX);
        }
        drop(map);
        check_end(&tracker, model);
    }

    #[test]
    fn bounded_under_a_weight_budget_matches_the_model(ops in prop::collection::vec(op(), 0..100)) {
        let tracker = Tracker::new();
        let mut map: Bounded = BoundedMap::builder(MAX).weigher(weigher).max_weight(BUDGET).cleanup().build();
        let mut model = Model::default();
        for op in &ops {
            bounded_step(&mut map, &mut model, &tracker, op);
            let actual: Vec<(Key, u64, u64)> = map.iter().map(|(k, v)| (*k, v.id(), **v)).collect();
            prop_assert_eq!(&actual, &model.entries, "after {:?}", op);
            prop_assert_eq!(map.weight(), model.total());
            prop_assert!(map.weight() <= BUDGET && map.len() <= MAX);
        }
        drop(map);
        check_end(&tracker, model);
    }

    /// The adaptive policy chooses its own victims: what is checked is that both bounds hold
    /// after every insert-style write and every value leaves exactly once.
    #[test]
    fn adaptive_under_a_weight_budget_keeps_both_bounds(ops in prop::collection::vec(op(), 0..200)) {
        let tracker = Tracker::new();
        let mut map = AdaptiveMap::builder(MAX).weigher(weigher).max_weight(BUDGET).cleanup().build();
        for op in &ops {
            match *op {
                Op::Insert(key, w) => map.insert(key, tracker.track(w)),
                Op::Replace(key, w) => drop(map.replace(key, tracker.track(w))),
                Op::Update(key, w) => drop(map.update(&key, |v| **v = w)),
                Op::Entry(key, w) => {
                    let value = tracker.track(w);
                    map.entry(key).or_insert(value);
                }
                Op::Get(key) => drop(map.get(&key)),
                Op::Remove(key) => drop(map.remove(&key)),
                Op::Clear => map.clear(),
            }
            let total: u64 = map.values().map(|v| **v).sum();
            prop_assert_eq!(map.weight(), total);
            prop_assert!(map.len() <= MAX);
            // Over the budget only as an entry API's too-heavy entry, alone.
            if map.weight() > BUDGET {
                prop_assert_eq!(map.len(), 1, "{} over the budget after {:?}", map.weight(), op);
            }
            prop_assert_eq!(tracker.live(), map.len() as u64);
        }
        drop(map);
        tracker.assert_exactly_once();
    }
}
