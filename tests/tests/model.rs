//! Model-based tests: random operation sequences run against `LruMap`/`BoundedMap` and a
//! plain reference model side by side. After every step the maps must hold the same entries
//! in the same recency order within the bound; at the end every value must have left exactly
//! once, through the cause the model predicts or handed back.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use mapguard::hooks::{RemovalListener, WithCleanup};
use mapguard::map::Entry;
use mapguard::testing::{Tracked, Tracker};
use mapguard::{BoundedMap, LruMap, RemovalCause};
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
    PopLru,
    Drain(usize),
    ShrinkToFit,
}

fn op() -> impl Strategy<Value = Op> {
    let key = 0..12u8;
    prop_oneof![
        6 => key.clone().prop_map(Op::Insert),
        2 => key.clone().prop_map(Op::Replace),
        3 => key.clone().prop_map(Op::Get),
        1 => key.clone().prop_map(Op::GetMut),
        1 => key.clone().prop_map(Op::Peek),
        2 => key.clone().prop_map(Op::Remove),
        2 => key.clone().prop_map(Op::Discard),
        3 => key.prop_map(Op::Entry),
        1 => (2..5u8).prop_map(Op::Retain),
        1 => Just(Op::Clear),
        1 => (1..8usize).prop_map(Op::SetMax),
        1 => Just(Op::PopLru),
        1 => (0..4usize).prop_map(Op::Drain),
        1 => Just(Op::ShrinkToFit),
    ]
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fate {
    HandedBack,
    Cleaned(RemovalCause),
}

/// The reference: a vector in recency order (front = most recent), and each value's fate.
#[derive(Default)]
struct Model {
    entries: Vec<(Key, u64)>,
    max: usize,
    fates: HashMap<u64, Fate>,
}

impl Model {
    fn position(&self, key: Key) -> Option<usize> {
        self.entries.iter().position(|(k, _)| *k == key)
    }

    fn promote(&mut self, key: Key) {
        if let Some(pos) = self.position(key) {
            let entry = self.entries.remove(pos);
            self.entries.insert(0, entry);
        }
    }

    fn take(&mut self, key: Key, fate: Fate) -> bool {
        match self.position(key) {
            Some(pos) => {
                let (_, id) = self.entries.remove(pos);
                self.fates.insert(id, fate);
                true
            }
            None => false,
        }
    }

    /// Upsert as the most recent. Returns whether the key was new.
    fn upsert(&mut self, key: Key, id: u64, old_fate: Fate) -> bool {
        let new = !self.take(key, old_fate);
        self.entries.insert(0, (key, id));
        new
    }

    fn evict_overflow(&mut self) {
        while self.entries.len() > self.max {
            let (_, id) = self.entries.pop().unwrap();
            self.fates.insert(id, Fate::Cleaned(RemovalCause::Evicted));
        }
    }

    fn remove_all(&mut self, fate: Fate) {
        for (_, id) in self.entries.drain(..) {
            self.fates.insert(id, fate);
        }
    }
}

/// Records what the listener saw, and checks the value was cleaned before the listener ran.
#[derive(Clone)]
struct Witness {
    tracker: Tracker,
    seen: Rc<RefCell<Vec<(u64, RemovalCause)>>>,
}

impl RemovalListener<Key, Value> for Witness {
    fn on_removal(&mut self, key: Key, value: Value, cause: RemovalCause) {
        assert_eq!(key, *value, "listener got a key that is not the value's");
        assert_eq!(
            self.tracker.cleanups_of(value.id()).last(),
            Some(&cause),
            "the value's cleanup must run before the listener"
        );
        self.seen.borrow_mut().push((value.id(), cause));
    }
}

type Lru = LruMap<Key, Value, mapguard::DefaultHashBuilder, WithCleanup<Witness>>;
type Bounded = BoundedMap<Key, Value, mapguard::DefaultHashBuilder, WithCleanup<Witness>>;

/// The operations whose behaviour differs by policy.
trait Subject {
    const EVICTS: bool;
    fn build(max: usize, witness: Witness) -> Self;
    fn insert(&mut self, key: Key, value: Value) -> Result<(), Value>;
    fn replace(&mut self, key: Key, value: Value) -> Result<Option<Value>, Value>;
    fn get(&mut self, key: Key) -> Option<u64>;
    fn entry(&mut self, key: Key, make: impl FnOnce() -> Value) -> Result<u64, Value>;
    fn set_max(&mut self, max: usize) -> bool;
    fn pop_lru(&mut self) -> Option<(Key, Value)>;
    fn map(
        &mut self,
    ) -> &mut mapguard::ManagedMap<
        Key,
        Value,
        Self::P,
        mapguard::DefaultHashBuilder,
        WithCleanup<Witness>,
    >;
    type P: mapguard::policy::Policy;
}

impl Subject for Lru {
    const EVICTS: bool = true;
    type P = mapguard::policy::Lru;
    fn build(max: usize, witness: Witness) -> Self {
        LruMap::builder(max).listener(witness).cleanup().build()
    }
    fn insert(&mut self, key: Key, value: Value) -> Result<(), Value> {
        LruMap::insert(self, key, value);
        Ok(())
    }
    fn replace(&mut self, key: Key, value: Value) -> Result<Option<Value>, Value> {
        Ok(LruMap::replace(self, key, value))
    }
    fn get(&mut self, key: Key) -> Option<u64> {
        LruMap::get(self, &key).map(Tracked::id)
    }
    fn entry(&mut self, key: Key, make: impl FnOnce() -> Value) -> Result<u64, Value> {
        Ok(self.entry(key).or_insert_with(make).id())
    }
    fn set_max(&mut self, max: usize) -> bool {
        LruMap::set_max(self, max);
        true
    }
    fn pop_lru(&mut self) -> Option<(Key, Value)> {
        LruMap::pop_lru(self)
    }
    fn map(&mut self) -> &mut Self {
        self
    }
}

impl Subject for Bounded {
    const EVICTS: bool = false;
    type P = mapguard::policy::Reject;
    fn build(max: usize, witness: Witness) -> Self {
        BoundedMap::builder(max).listener(witness).cleanup().build()
    }
    fn insert(&mut self, key: Key, value: Value) -> Result<(), Value> {
        self.try_insert(key, value).map_err(|e| e.into_inner().1)
    }
    fn replace(&mut self, key: Key, value: Value) -> Result<Option<Value>, Value> {
        self.try_replace(key, value).map_err(|e| e.into_inner().1)
    }
    fn get(&mut self, key: Key) -> Option<u64> {
        BoundedMap::get(self, &key).map(Tracked::id)
    }
    fn entry(&mut self, key: Key, make: impl FnOnce() -> Value) -> Result<u64, Value> {
        match self.entry(key) {
            Entry::Occupied(slot) => Ok(slot.get().id()),
            Entry::Vacant(slot) => slot
                .try_insert(make())
                .map(|v| v.id())
                .map_err(|e| e.into_inner().1),
        }
    }
    fn set_max(&mut self, _max: usize) -> bool {
        false
    }
    fn pop_lru(&mut self) -> Option<(Key, Value)> {
        None
    }
    fn map(&mut self) -> &mut Self {
        self
    }
}

fn run<M: Subject>(max: usize, ops: &[Op]) {
    let tracker = Tracker::new();
    let witness = Witness {
        tracker: tracker.clone(),
        seen: Rc::default(),
    };
    let seen = Rc::clone(&witness.seen);
    let mut subject = M::build(max, witness);
    let mut model = Model {
        max,
        ..Model::default()
    };

    for op in ops {
        apply(&mut subject, &mut model, &tracker, op);
        let actual: Vec<(Key, u64)> = subject.map().iter().map(|(k, v)| (*k, v.id())).collect();
        assert_eq!(
            actual, model.entries,
            "contents or order diverged after {op:?}"
        );
        assert!(subject.map().len() <= subject.map().max());
        assert_eq!(subject.map().len(), model.entries.len());
    }

    drop(subject);
    model.remove_all(Fate::Cleaned(RemovalCause::Dropped));
    check_fates(&tracker, &model, &seen.borrow());
}

/// Every value left exactly once, as the model predicts, and the listener heard exactly the
/// cleaned ones.
fn check_fates(tracker: &Tracker, model: &Model, seen: &[(u64, RemovalCause)]) {
    tracker.assert_exactly_once();
    assert_eq!(tracker.created(), model.fates.len() as u64);
    for (&id, &fate) in &model.fates {
        let cleanups = tracker.cleanups_of(id);
        let heard: Vec<_> = seen
            .iter()
            .filter(|(i, _)| *i == id)
            .map(|(_, c)| *c)
            .collect();
        match fate {
            Fate::HandedBack => {
                assert!(
                    cleanups.is_empty(),
                    "value {id} was handed back but cleaned: {cleanups:?}"
                );
                assert!(heard.is_empty(), "listener heard handed-back value {id}");
            }
            Fate::Cleaned(cause) => {
                assert_eq!(cleanups, [cause], "value {id}");
                assert_eq!(heard, [cause], "listener, value {id}");
            }
        }
    }
}

fn expected_id(model: &Model, key: Key) -> Option<u64> {
    model.position(key).map(|p| model.entries[p].1)
}

fn apply_upsert<M: Subject>(
    subject: &mut M,
    model: &mut Model,
    tracker: &Tracker,
    key: Key,
    hand_back_old: bool,
) {
    let value = tracker.track(key);
    let id = value.id();
    let full = model.entries.len() >= model.max && model.position(key).is_none();
    let (outcome, old_fate) = if hand_back_old {
        (subject.replace(key, value).map(drop), Fate::HandedBack)
    } else {
        (
            subject.insert(key, value),
            Fate::Cleaned(RemovalCause::Replaced),
        )
    };
    if full && !M::EVICTS {
        let rejected = outcome.expect_err("a full bounded map must reject");
        assert_eq!(rejected.id(), id);
        model.fates.insert(id, Fate::HandedBack);
    } else {
        outcome.map_err(|_| ()).expect("insert must succeed");
        model.upsert(key, id, old_fate);
        model.evict_overflow();
    }
}

fn apply_entry<M: Subject>(subject: &mut M, model: &mut Model, tracker: &Tracker, key: Key) {
    let present = expected_id(model, key);
    let value = tracker.track(key);
    let id = value.id();
    match (present, subject.entry(key, || value)) {
        (Some(existing), Ok(got)) => {
            assert_eq!(got, existing);
            if M::EVICTS {
                model.promote(key);
            }
        }
        (None, Ok(got)) => {
            assert_eq!(got, id);
            model.upsert(key, id, Fate::HandedBack);
            model.evict_overflow();
        }
        (None, Err(rejected)) => {
            assert!(!M::EVICTS && model.entries.len() >= model.max);
            assert_eq!(rejected.id(), id);
        }
        (Some(_), Err(_)) => panic!("an occupied entry cannot reject"),
    }
    // The made value is either stored or handed back, never both.
    model.fates.entry(id).or_insert(Fate::HandedBack);
}

fn apply<M: Subject>(subject: &mut M, model: &mut Model, tracker: &Tracker, op: &Op) {
    // Reads reorder only a map that evicts by recency.
    let reads_promote = M::EVICTS;
    match *op {
        Op::Insert(key) => apply_upsert(subject, model, tracker, key, false),
        Op::Replace(key) => apply_upsert(subject, model, tracker, key, true),
        Op::Entry(key) => apply_entry(subject, model, tracker, key),
        Op::Get(key) => {
            assert_eq!(subject.get(key), expected_id(model, key));
            if reads_promote {
                model.promote(key);
            }
        }
        Op::GetMut(key) => {
            let expected = expected_id(model, key);
            assert_eq!(subject.map().get_mut(&key).map(|v| v.id()), expected);
            if reads_promote {
                model.promote(key);
            }
        }
        Op::Peek(key) => {
            let expected = expected_id(model, key);
            assert_eq!(subject.map().peek(&key).map(Tracked::id), expected);
            assert_eq!(subject.map().contains_key(&key), expected.is_some());
        }
        Op::Remove(key) => {
            let expected = expected_id(model, key);
            assert_eq!(subject.map().remove(&key).map(|v| v.id()), expected);
            model.take(key, Fate::HandedBack);
        }
        Op::Discard(key) => {
            let present = model.take(key, Fate::Cleaned(RemovalCause::Explicit));
            assert_eq!(subject.map().discard(&key), present);
        }
        Op::Retain(modulus) => {
            subject.map().retain(|k, _| k % modulus != 0);
            let (keep, gone): (Vec<_>, Vec<_>) =
                model.entries.drain(..).partition(|(k, _)| k % modulus != 0);
            model.entries = keep;
            for (_, id) in gone {
                model
                    .fates
                    .insert(id, Fate::Cleaned(RemovalCause::Explicit));
            }
        }
        Op::Clear => {
            subject.map().clear();
            model.remove_all(Fate::Cleaned(RemovalCause::Cleared));
            assert_eq!(subject.map().heap_bytes(), 0, "clear frees storage");
        }
        Op::SetMax(max) => {
            if subject.set_max(max) {
                model.max = max;
                model.evict_overflow();
            }
        }
        Op::PopLru => {
            let expected = if M::EVICTS {
                model.entries.last().copied()
            } else {
                None
            };
            let popped = subject.pop_lru().map(|(k, v)| (k, v.id()));
            assert_eq!(popped, expected);
            if let Some((key, _)) = popped {
                model.take(key, Fate::HandedBack);
            }
        }
        Op::Drain(take) => {
            let mut drain = subject.map().drain();
            let yielded: Vec<u64> = drain.by_ref().take(take).map(|(_, v)| v.id()).collect();
            drop(drain);
            for (_, id) in model.entries.drain(..) {
                let fate = if yielded.contains(&id) {
                    Fate::HandedBack
                } else {
                    Fate::Cleaned(RemovalCause::Cleared)
                };
                model.fates.insert(id, fate);
            }
        }
        Op::ShrinkToFit => subject.map().shrink_to_fit(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(512)))]

    #[test]
    fn lru_map_matches_the_model(max in 1..8usize, ops in prop::collection::vec(op(), 0..ops(80))) {
        run::<Lru>(max, &ops);
    }

    #[test]
    fn bounded_map_matches_the_model(max in 1..8usize, ops in prop::collection::vec(op(), 0..ops(80))) {
        run::<Bounded>(max, &ops);
    }
}

/// Fill, remove most entries (which makes the storage shrink and renumber slots), then keep
/// using the map: the small-`max` runs above never leave the 16-slot floor.
fn fill_then_thin() -> impl Strategy<Value = (usize, Vec<Op>)> {
    // Under Miri, just past the 16-slot floor: enough to shrink and renumber.
    let sizes = if cfg!(miri) {
        20..40usize
    } else {
        20..250usize
    };
    sizes.prop_flat_map(|n| {
        let keys = n.min(usize::from(Key::MAX) + 1);
        (
            Just(n),
            prop::collection::vec(any::<bool>(), keys),
            prop::collection::vec(op(), 0..ops(60)),
        )
            .prop_map(move |(n, thin, tail)| {
                let mut ops: Vec<Op> = (0..keys).map(|k| Op::Insert(k as Key)).collect();
                for (k, discard) in thin.iter().enumerate() {
                    ops.push(if *discard {
                        Op::Discard(k as Key)
                    } else {
                        Op::Get(k as Key)
                    });
                    if k % 3 != 0 {
                        ops.push(Op::Remove(k as Key));
                    }
                }
                ops.extend(tail);
                (n, ops)
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(64)))]

    #[test]
    fn shrinking_storage_keeps_both_maps_consistent((max, ops) in fill_then_thin()) {
        run::<Lru>(max, &ops);
        run::<Bounded>(max, &ops);
    }
}

/// Proptest cases: `normal`, or a handful under Miri (which runs them ~1000× slower).
const fn cases(normal: u32) -> u32 {
    if cfg!(miri) { 2 } else { normal }
}

/// The most operations a generated run has: `normal`, or a short run under Miri.
const fn ops(normal: usize) -> usize {
    if cfg!(miri) { 24 } else { normal }
}
