//! Model-based test of the exactly-once rule under panicking hooks, over every map kind.
//!
//! Random operations (inserts, replaces, removals, reads, entries, `set_max`, `retain`,
//! `clear`, drains, scope ends, maintenance, time passing, weak keys dying), each with hooks
//! armed to panic at random (the value's `Cleanup`, the listener, both, or neither). The model
//! knows the entries, not the victims: what left is read off the ledger. After every step:
//! - the map holds exactly the model's live entries (keys and value ids);
//! - a step panicked if and only if a hook panicked in it, and the map's `hook_panics`
//!   figure equals the panics raised;
//! - the bound holds.
//!
//! At the end the map is dropped (hooks possibly armed) and every value must have been
//! dropped once, and either handed back or through both hooks once with one cause.

use std::collections::BTreeMap;
use std::hash::BuildHasher;
use std::rc::{Rc, Weak as RcWeak};
use std::sync::{Arc, Weak as ArcWeak};
use std::time::Duration;

use mapguard::expiry::Expiry;
use mapguard::hooks::{ConcurrentListener, RemovalListener};
use mapguard::map::Entry;
use mapguard::policy::{Evicting, Policy, Reject};
use mapguard::testing::MockClock;
use mapguard::{
    AdaptiveMap, BoundedMap, ConcurrentBoundedMap, ConcurrentLruMap, ConcurrentMap,
    ConcurrentWeakKeyMap, Lifetime, LruMap, ManagedCache, ManagedMap, WeakKeyMap,
};
use mapguard_tests::ledger::{Arm, Book, Probe, listener, panic_of};
use proptest::prelude::*;

const KEYS: u8 = 6;
const TTL: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, Debug)]
enum Op {
    Insert(u8),
    Replace(u8),
    Remove(u8),
    Discard(u8),
    Get(u8),
    Entry(u8),
    SetMax(u8),
    Retain(u8),
    Clear,
    Drain(u8),
    EndScope,
    Maintain,
    Advance(u8),
    Kill(u8),
}

fn op() -> impl Strategy<Value = Op> {
    let key = 0..KEYS;
    prop_oneof![
        6 => key.clone().prop_map(Op::Insert),
        2 => key.clone().prop_map(Op::Replace),
        2 => key.clone().prop_map(Op::Remove),
        2 => key.clone().prop_map(Op::Discard),
        2 => key.clone().prop_map(Op::Get),
        2 => key.clone().prop_map(Op::Entry),
        1 => (1..6u8).prop_map(Op::SetMax),
        1 => any::<u8>().prop_map(Op::Retain),
        1 => Just(Op::Clear),
        1 => (0..3u8).prop_map(Op::Drain),
        1 => Just(Op::EndScope),
        1 => Just(Op::Maintain),
        2 => (1..12u8).prop_map(Op::Advance),
        1 => key.prop_map(Op::Kill),
    ]
}

fn arm() -> impl Strategy<Value = Arm> {
    prop_oneof![
        3 => Just(Arm::Nothing),
        1 => Just(Arm::Cleanup),
        1 => Just(Arm::Listener),
        1 => Just(Arm::Both),
    ]
}

/// A map under test, driven through one interface.
trait Subject {
    /// Runs `op`; hands back to `book` every value the caller receives.
    fn apply(&mut self, op: Op, book: &Book);
    /// Live entries as (key, value id), or `None` if the kind cannot list them.
    fn contents(&self) -> Option<Vec<(u8, usize)>>;
    /// Whether `key`'s entry (from the strong key of generation `generation`) is live.
    fn live(&self, key: u8, generation: u64) -> bool;
    /// The key's current generation (weak maps: a killed key is a new allocation).
    fn generation(&self, key: u8) -> u64;
    fn len(&self) -> usize;
    fn bound(&self) -> usize;
    fn hook_panics(&self) -> u64;
}

/// Weak maps' strong keys, by key, with a generation per allocation.
struct Pool<T> {
    keys: Vec<(T, u64)>,
    next_generation: u64,
}

impl<T> Pool<T> {
    fn new(make: impl Fn(u8) -> T) -> Self {
        Self {
            keys: (0..KEYS).map(|k| (make(k), u64::from(k))).collect(),
            next_generation: u64::from(KEYS),
        }
    }

    fn kill(&mut self, key: u8, make: impl Fn(u8) -> T) {
        self.keys[usize::from(key)] = (make(key), self.next_generation);
        self.next_generation += 1;
    }
}

// ---- single-owner maps -----------------------------------------------------------------------

/// What every single-owner subject reads the same way (through `self.0`).
macro_rules! single_owner_figures {
    () => {
        fn contents(&self) -> Option<Vec<(u8, usize)>> {
            Some(self.0.iter().map(|(k, v)| (*k, v.id)).collect())
        }

        fn live(&self, _: u8, _: u64) -> bool {
            true
        }

        fn generation(&self, _: u8) -> u64 {
            0
        }

        fn len(&self) -> usize {
            self.0.len()
        }

        fn bound(&self) -> usize {
            self.0.max()
        }

        fn hook_panics(&self) -> u64 {
            stats_panics(&self.0)
        }
    };
}

struct Evict<M>(M, MockClock);
struct Bound<M>(M, MockClock);

fn stats_panics(cache: &impl ManagedCache) -> u64 {
    cache.stats()[0].hook_panics
}

impl<P, S, L, E> Subject for Evict<ManagedMap<u8, Probe, P, S, L, E>>
where
    P: Evicting,
    S: BuildHasher,
    L: RemovalListener<u8, Probe>,
    E: Expiry,
{
    fn apply(&mut self, op: Op, book: &Book) {
        let map = &mut self.0;
        match op {
            Op::Insert(k) => map.insert(k, book.value()),
            Op::Replace(k) => {
                if let Some(old) = map.replace(k, book.value()) {
                    book.hand_back(old);
                }
            }
            Op::Remove(k) => {
                if let Some(old) = map.remove(&k) {
                    book.hand_back(old);
                }
            }
            Op::Discard(k) => drop(map.discard(&k)),
            Op::Get(k) => drop(map.get(&k)),
            Op::Entry(k) => drop(map.entry(k).or_insert_with(|| book.value())),
            Op::SetMax(n) => map.set_max(usize::from(n)),
            Op::Retain(seed) => map.retain(|k, _| (k ^ seed) % 3 != 0),
            Op::Clear => map.clear(),
            Op::Drain(n) => {
                for (_, value) in map.drain().take(usize::from(n)) {
                    book.hand_back(value);
                }
            }
            Op::EndScope => drop(map.end_scope(Lifetime::Request)),
            Op::Maintain => drop(map.maintain()),
            Op::Advance(s) => self.1.advance(Duration::from_secs(u64::from(s))),
            Op::Kill(_) => {}
        }
    }

    single_owner_figures!();
}

impl<S, L, E> Subject for Bound<ManagedMap<u8, Probe, Reject, S, L, E>>
where
    S: BuildHasher,
    L: RemovalListener<u8, Probe>,
    E: Expiry,
{
    fn apply(&mut self, op: Op, book: &Book) {
        let map = &mut self.0;
        match op {
            Op::Insert(k) => {
                if let Err(rejected) = map.try_insert(k, book.value()) {
                    book.hand_back(rejected.into_inner().1);
                }
            }
            Op::Replace(k) => match map.try_replace(k, book.value()) {
                Ok(Some(old)) => book.hand_back(old),
                Ok(None) => {}
                Err(rejected) => book.hand_back(rejected.into_inner().1),
            },
            Op::Remove(k) => {
                if let Some(old) = map.remove(&k) {
                    book.hand_back(old);
                }
            }
            Op::Discard(k) => drop(map.discard(&k)),
            Op::Get(k) => drop(map.get(&k)),
            Op::Entry(k) => {
                if let Entry::Vacant(slot) = map.entry(k) {
                    if let Err(rejected) = slot.try_insert(book.value()) {
                        book.hand_back(rejected.into_inner().1);
                    }
                }
            }
            Op::SetMax(_) | Op::Kill(_) => {}
            Op::Retain(seed) => map.retain(|k, _| (k ^ seed) % 3 != 0),
            Op::Clear => map.clear(),
            Op::Drain(n) => {
                for (_, value) in map.drain().take(usize::from(n)) {
                    book.hand_back(value);
                }
            }
            Op::EndScope => drop(map.end_scope(Lifetime::Request)),
            Op::Maintain => drop(map.maintain()),
            Op::Advance(s) => self.1.advance(Duration::from_secs(u64::from(s))),
        }
    }

    single_owner_figures!();
}

struct Weak<M>(M, Pool<Rc<u8>>, MockClock);

impl<S, L, E> Subject for Weak<WeakKeyMap<RcWeak<u8>, Probe, mapguard::policy::Lru, S, L, E>>
where
    S: BuildHasher,
    L: RemovalListener<RcWeak<u8>, Probe>,
    E: Expiry,
{
    fn apply(&mut self, op: Op, book: &Book) {
        let (map, pool) = (&mut self.0, &mut self.1);
        let strong = |k: u8| Rc::clone(&pool.keys[usize::from(k)].0);
        match op {
            Op::Insert(k) | Op::Replace(k) | Op::Entry(k) => map.insert(strong(k), book.value()),
            Op::Remove(k) => {
                if let Some(old) = map.remove(&k) {
                    book.hand_back(old);
                }
            }
            Op::Discard(k) => drop(map.discard(&k)),
            Op::Get(k) => drop(map.get_mut(&k)),
            Op::Clear | Op::Drain(_) => map.clear(),
            Op::EndScope => drop(map.end_scope(Lifetime::Request)),
            Op::Maintain => drop(map.maintain()),
            Op::Advance(s) => self.2.advance(Duration::from_secs(u64::from(s))),
            Op::Kill(k) => pool.kill(k, Rc::new),
            Op::SetMax(_) | Op::Retain(_) => {}
        }
    }

    fn contents(&self) -> Option<Vec<(u8, usize)>> {
        Some(self.0.iter().map(|(k, v)| (*k, v.id)).collect())
    }

    fn live(&self, key: u8, generation: u64) -> bool {
        self.1.keys[usize::from(key)].1 == generation
    }

    fn generation(&self, key: u8) -> u64 {
        self.1.keys[usize::from(key)].1
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    fn bound(&self) -> usize {
        self.0.max()
    }

    fn hook_panics(&self) -> u64 {
        stats_panics(&self.0)
    }
}

// ---- concurrent maps ---------------------------------------------------------------------------

struct Shared<M>(M, MockClock);

impl<P, S, L, E> Subject for Shared<ConcurrentMap<u8, Probe, P, S, L, E>>
where
    P: Policy,
    S: BuildHasher,
    L: ConcurrentListener<u8, Probe>,
    E: Expiry,
    Shared<ConcurrentMap<u8, Probe, P, S, L, E>>: Writes,
{
    fn apply(&mut self, op: Op, book: &Book) {
        match op {
            Op::Insert(k) | Op::Entry(k) => self.write(k, book, false),
            Op::Replace(k) => self.write(k, book, true),
            Op::Remove(k) => {
                if let Some(old) = self.0.remove(&k) {
                    book.hand_back(old);
                }
            }
            Op::Discard(k) => drop(self.0.discard(&k)),
            Op::Get(k) => drop(self.0.update(&k, |_| ())),
            Op::SetMax(n) => self.set_max(usize::from(n)),
            Op::Retain(seed) => self.0.retain(|k, _| (k ^ seed) % 3 != 0),
            Op::Clear | Op::Drain(_) => self.0.clear(),
            Op::EndScope => drop(self.0.end_scope(Lifetime::Request)),
            Op::Maintain => drop(self.0.maintain()),
            Op::Advance(s) => self.1.advance(Duration::from_secs(u64::from(s))),
            Op::Kill(_) => {}
        }
    }

    fn contents(&self) -> Option<Vec<(u8, usize)>> {
        let mut entries = Vec::new();
        self.0.for_each(|k, v| entries.push((*k, v.id)));
        Some(entries)
    }

    fn live(&self, _: u8, _: u64) -> bool {
        true
    }

    fn generation(&self, _: u8) -> u64 {
        0
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    fn bound(&self) -> usize {
        // Each shard holds at most ⌈max / n⌉.
        self.0.max().div_ceil(self.0.shard_count()) * self.0.shard_count()
    }

    fn hook_panics(&self) -> u64 {
        stats_panics(&self.0)
    }
}

/// What a concurrent map's policy writes with.
trait Writes {
    fn write(&mut self, key: u8, book: &Book, hand_back: bool);
    fn set_max(&mut self, max: usize);
}

impl<S: BuildHasher, L: ConcurrentListener<u8, Probe>, E: Expiry> Writes
    for Shared<ConcurrentMap<u8, Probe, mapguard::policy::Lru, S, L, E>>
{
    fn write(&mut self, key: u8, book: &Book, hand_back: bool) {
        if hand_back {
            if let Some(old) = self.0.replace(key, book.value()) {
                book.hand_back(old);
            }
        } else {
            self.0.insert(key, book.value());
        }
    }

    fn set_max(&mut self, max: usize) {
        self.0.set_max(max);
    }
}

impl<S: BuildHasher, L: ConcurrentListener<u8, Probe>, E: Expiry> Writes
    for Shared<ConcurrentMap<u8, Probe, Reject, S, L, E>>
{
    fn write(&mut self, key: u8, book: &Book, hand_back: bool) {
        let result = if hand_back {
            self.0
                .try_replace(key, book.value())
                .map(|old| old.into_iter().for_each(|old| book.hand_back(old)))
        } else {
            self.0.try_insert(key, book.value())
        };
        if let Err(rejected) = result {
            book.hand_back(rejected.into_inner().1);
        }
    }

    fn set_max(&mut self, _: usize) {}
}

struct SharedWeak<M>(M, Pool<Arc<u8>>, MockClock);

impl<S, L, E> Subject
    for SharedWeak<ConcurrentWeakKeyMap<ArcWeak<u8>, Probe, mapguard::policy::Lru, S, L, E>>
where
    S: BuildHasher + Clone,
    L: ConcurrentListener<ArcWeak<u8>, Probe>,
    E: Expiry,
{
    fn apply(&mut self, op: Op, book: &Book) {
        let (map, pool) = (&self.0, &mut self.1);
        match op {
            Op::Insert(k) | Op::Replace(k) | Op::Entry(k) => {
                map.insert(Arc::clone(&pool.keys[usize::from(k)].0), book.value());
            }
            Op::Remove(k) => {
                if let Some(old) = map.remove(&k) {
                    book.hand_back(old);
                }
            }
            Op::Discard(k) => drop(map.discard(&k)),
            Op::Get(k) => drop(map.contains_key(&k)),
            Op::Clear | Op::Drain(_) => map.clear(),
            Op::EndScope => drop(map.end_scope(Lifetime::Request)),
            Op::Maintain => drop(map.maintain()),
            Op::Advance(s) => self.2.advance(Duration::from_secs(u64::from(s))),
            Op::Kill(k) => pool.kill(k, Arc::new),
            Op::SetMax(_) | Op::Retain(_) => {}
        }
    }

    /// No iteration on this kind: only the ledger and the figures are checked.
    fn contents(&self) -> Option<Vec<(u8, usize)>> {
        None
    }

    fn live(&self, key: u8, generation: u64) -> bool {
        self.1.keys[usize::from(key)].1 == generation
    }

    fn generation(&self, key: u8) -> u64 {
        self.1.keys[usize::from(key)].1
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    fn bound(&self) -> usize {
        self.0.max().div_ceil(self.0.shard_count()) * self.0.shard_count()
    }

    fn hook_panics(&self) -> u64 {
        stats_panics(&self.0)
    }
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    Lru,
    Adaptive,
    Bounded,
    Weak,
    ConcurrentLru,
    ConcurrentBounded,
    ConcurrentWeak,
}

fn subject(kind: Kind, max: usize, shards: usize) -> Box<dyn Subject> {
    let clock = MockClock::new();
    match kind {
        Kind::Lru => Box::new(Evict(
            LruMap::builder(max)
                .lifetime(Lifetime::Request)
                .ttl(TTL)
                .clock(clock.clone())
                .cleanup()
                .on_removal(listener)
                .build(),
            clock,
        )),
        Kind::Adaptive => Box::new(Evict(
            AdaptiveMap::builder(max)
                .lifetime(Lifetime::Request)
                .ttl(TTL)
                .clock(clock.clone())
                .cleanup()
                .on_removal(listener)
                .build(),
            clock,
        )),
        Kind::Bounded => Box::new(Bound(
            BoundedMap::builder(max)
                .lifetime(Lifetime::Request)
                .ttl(TTL)
                .clock(clock.clone())
                .cleanup()
                .on_removal(listener)
                .build(),
            clock,
        )),
        Kind::Weak => Box::new(Weak(
            WeakKeyMap::<RcWeak<u8>, Probe>::lru_builder(max)
                .lifetime(Lifetime::Request)
                .ttl(TTL)
                .clock(clock.clone())
                .cleanup()
                .on_removal(listener)
                .build(),
            Pool::new(Rc::new),
            clock,
        )),
        Kind::ConcurrentLru => Box::new(Shared(
            ConcurrentLruMap::builder(max)
                .shards(shards)
                .lifetime(Lifetime::Request)
                .ttl(TTL)
                .clock(clock.clone())
                .cleanup()
                .on_removal(listener)
                .build(),
            clock,
        )),
        Kind::ConcurrentBounded => Box::new(Shared(
            ConcurrentBoundedMap::builder(max)
                .shards(shards)
                .lifetime(Lifetime::Request)
                .ttl(TTL)
                .clock(clock.clone())
                .cleanup()
                .on_removal(listener)
                .build(),
            clock,
        )),
        Kind::ConcurrentWeak => Box::new(SharedWeak(
            ConcurrentWeakKeyMap::<ArcWeak<u8>, Probe>::lru_builder(max)
                .shards(shards)
                .lifetime(Lifetime::Request)
                .ttl(TTL)
                .clock(clock.clone())
                .cleanup()
                .on_removal(listener)
                .build(),
            Pool::new(Arc::new),
            clock,
        )),
    }
}

/// One run: `steps` on a map of `kind`, the final drop with hooks armed as `last`.
fn run(kind: Kind, max: usize, shards: usize, steps: &[(Op, Arm)], last: Arm) {
    let book = Book::new();
    let mut map = subject(kind, max, shards);
    // The model: key -> (value id, key generation).
    let mut model: BTreeMap<u8, (usize, u64)> = BTreeMap::new();
    for (step, &(op, arm)) in steps.iter().enumerate() {
        let (created, panics) = (book.created(), book.panics());
        book.arm(arm);
        let panicked = panic_of(|| map.apply(op, &book));
        book.arm(Arm::Nothing);
        let raised = book.panics() - panics;
        let context = format!("{kind:?}, step {step}: {op:?} armed {arm:?}");
        assert_eq!(
            panicked.is_some(),
            raised > 0,
            "{context}: a hook's panic must reach the caller, and nothing else may panic \
             ({panicked:?})"
        );
        assert_eq!(
            map.hook_panics(),
            book.panics(),
            "{context}: hook panics counted"
        );
        assert!(map.len() <= map.bound(), "{context}: over the bound");

        // What left is gone from the model; the new value, if stored, joins it.
        model.retain(|_, &mut (id, _)| !book.gone(id));
        let Some(contents) = map.contents() else {
            continue;
        };
        for id in created..book.created() {
            match contents.iter().find(|&&(_, stored)| stored == id) {
                Some(&(key, _)) => {
                    model.insert(key, (id, map.generation(key)));
                }
                None => assert!(
                    book.gone(id),
                    "{context}: new value {id} neither stored nor gone"
                ),
            }
        }
        let mut actual = contents;
        actual.sort_unstable();
        let expected: Vec<(u8, usize)> = model
            .iter()
            .filter(|&(&key, &(_, generation))| map.live(key, generation))
            .map(|(&key, &(id, _))| (key, id))
            .collect();
        assert_eq!(actual, expected, "{context}: map and model differ");
    }
    book.arm(last);
    let dropped = panic_of(move || drop(map));
    book.arm(Arm::Nothing);
    assert!(dropped.is_none() || last != Arm::Nothing);
    book.assert_none_lost();
}

fn steps() -> impl Strategy<Value = Vec<(Op, Arm)>> {
    prop::collection::vec((op(), arm()), 1..80)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn lru(max in 1..7usize, steps in steps(), last in arm()) {
        run(Kind::Lru, max, 1, &steps, last);
    }

    #[test]
    fn adaptive(max in 1..7usize, steps in steps(), last in arm()) {
        run(Kind::Adaptive, max, 1, &steps, last);
    }

    #[test]
    fn bounded(max in 1..7usize, steps in steps(), last in arm()) {
        run(Kind::Bounded, max, 1, &steps, last);
    }

    #[test]
    fn weak(max in 1..7usize, steps in steps(), last in arm()) {
        run(Kind::Weak, max, 1, &steps, last);
    }

    #[test]
    fn concurrent_lru(max in 1..9usize, shards in 1..4usize, steps in steps(), last in arm()) {
        run(Kind::ConcurrentLru, max, shards, &steps, last);
    }

    #[test]
    fn concurrent_bounded(max in 1..9usize, shards in 1..4usize, steps in steps(), last in arm()) {
        run(Kind::ConcurrentBounded, max, shards, &steps, last);
    }

    #[test]
    fn concurrent_weak(max in 1..9usize, shards in 1..4usize, steps in steps(), last in arm()) {
        run(Kind::ConcurrentWeak, max, shards, &steps, last);
    }
}
