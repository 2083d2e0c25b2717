//! Differential fuzzing of mapguard's maps: arbitrary operation sequences, with hooks and
//! `Hash` that panic on demand, replayed against a reference model.
//!
//! What every run checks, after every operation:
//! - **exactly once**: each value leaves once — handed back, or through both hooks (its
//!   `Cleanup`, then the listener) once each, with the same cause, one the operation allows —
//!   also when hooks panic (the value's own, or its neighbours'): no value is ever dropped
//!   without both hooks, except in an operation whose key `Hash` panicked; nothing is ever
//!   cleaned twice or after it was dropped;
//! - **the model**: the map holds exactly what the model says, in the same recency order
//!   (for concurrent and adaptive maps, the same set), also after a hook panicked — every operation
//!   finishes changing the map before hooks run. After a `Hash` panic the map may legally
//!   lose keys from its table, so from then on only the invariants are checked;
//! - **the bound** and **the figures**: `len <= max` (per shard for concurrent maps),
//!   iteration agrees with `len`, and the registry's `len` equals the map's.
//!
//! At the end the map is dropped and every value ever created must have been dropped once.

#![forbid(unsafe_code)]

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::{Rc, Weak};

use arbitrary::Arbitrary;
use mapguard::map::Entry;
use mapguard::{
    AdaptiveMap, BoundedMap, Cleanup, ConcurrentAdaptiveMap, ConcurrentBoundedMap,
    ConcurrentLruMap, Lifetime, LruMap, RemovalCause, WeakKeyMap,
};

/// Which map a fuzz target drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `LruMap`.
    Lru,
    /// `BoundedMap`.
    Bounded,
    /// `WeakKeyMap` (LRU with a bound).
    Weak,
    /// `ConcurrentLruMap` or `ConcurrentBoundedMap`, driven from one thread.
    Concurrent,
    /// `AdaptiveMap`, or `ConcurrentAdaptiveMap` (each shard adapting alone), driven from
    /// one thread. Which entry is evicted is the policy's: the model follows what left.
    Adaptive,
}

/// One fuzz input.
#[derive(Debug)]
pub struct Run {
    max: u8,
    shards: u8,
    bounded: bool,
    steps: Vec<Step>,
}

/// The most steps one input replays.
const MAX_STEPS: usize = 256;

impl<'a> Arbitrary<'a> for Run {
    /// Steps follow each other until the input runs out: no length prefix, so every byte the
    /// fuzzer adds becomes part of an operation.
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        let (max, shards, bounded) = (u.arbitrary()?, u.arbitrary()?, u.arbitrary()?);
        let mut steps = Vec::new();
        while !u.is_empty() && steps.len() < MAX_STEPS {
            steps.push(Step::arbitrary(u)?);
        }
        Ok(Self {
            max,
            shards,
            bounded,
            steps,
        })
    }
}

/// One operation, and which hooks panic while it runs.
#[derive(Arbitrary, Debug)]
pub struct Step {
    op: Op,
    hooks_panic: HooksPanic,
}

/// Which hooks panic, on every call, while a step runs.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
enum HooksPanic {
    None,
    Listener,
    Cleanup,
    Both,
}

/// Keys are `key % KEYS`.
const KEYS: u8 = 12;

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Op {
    Insert(u8),
    Replace(u8),
    Remove(u8),
    Discard(u8),
    Get(u8),
    Peek(u8),
    SetMax(u8),
    Retain(u8),
    Clear,
    Drain(u8),
    PopLru,
    EntryRemove(u8),
    EntryOrInsert(u8),
    /// The next `Hash` of this key panics.
    ArmHash(u8),
    /// Drops the strong reference to a weak map's key.
    KillKey(u8),
    Maintain,
    EndScope,
}

/// A key whose `Hash` panics once when armed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key(u8);

thread_local! {
    static ARMED: Cell<Option<u8>> = const { Cell::new(None) };
    static HOOKS_PANIC: Cell<HooksPanic> = const { Cell::new(HooksPanic::None) };
    static EVENTS: RefCell<Vec<Event>> = const { RefCell::new(Vec::new()) };
    /// The step being checked, for messages.
    static STEP: Cell<usize> = const { Cell::new(0) };
}

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        if ARMED.with(Cell::get) == Some(self.0) {
            ARMED.with(|armed| armed.set(None));
            panic!("Hash panics on purpose");
        }
        self.0.hash(state);
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Event {
    Cleaned(u64, RemovalCause),
    Listened(u64, RemovalCause),
    /// Handed to the caller by an operation that may still panic afterwards (a drain).
    Yielded(u64),
    Dropped(u64),
}

/// Records `value` as handed to the caller.
fn yielded(value: Val) -> Val {
    record(Event::Yielded(value.0));
    value
}

fn record(event: Event) {
    EVENTS.with(|events| events.borrow_mut().push(event));
}

/// A value that records its cleanup and its drop.
#[derive(Debug)]
pub struct Val(u64);

impl Cleanup for Val {
    fn cleanup(&mut self, cause: RemovalCause) {
        record(Event::Cleaned(self.0, cause));
        assert!(
            !matches!(
                HOOKS_PANIC.with(Cell::get),
                HooksPanic::Cleanup | HooksPanic::Both
            ),
            "cleanup panics on purpose ({cause})"
        );
    }
}

impl Drop for Val {
    fn drop(&mut self) {
        record(Event::Dropped(self.0));
    }
}

fn listener<K>(_key: K, value: Val, cause: RemovalCause) {
    record(Event::Listened(value.0, cause));
    assert!(
        !matches!(
            HOOKS_PANIC.with(Cell::get),
            HooksPanic::Listener | HooksPanic::Both
        ),
        "hook panics on purpose ({cause})"
    );
}

type Lru = LruMap<
    Key,
    Val,
    mapguard::DefaultHashBuilder,
    mapguard::hooks::WithCleanup<fn(Key, Val, RemovalCause)>,
>;

/// The map under test.
enum Subject {
    Lru(Lru),
    Bounded(
        BoundedMap<
            Key,
            Val,
            mapguard::DefaultHashBuilder,
            mapguard::hooks::WithCleanup<fn(Key, Val, RemovalCause)>,
        >,
    ),
    Weak(
        WeakKeyMap<
            Weak<Key>,
            Val,
            mapguard::policy::Lru,
            mapguard::DefaultHashBuilder,
            mapguard::hooks::WithCleanup<fn(Weak<Key>, Val, RemovalCause)>,
        >,
        Pool,
    ),
    ConcurrentLru(
        ConcurrentLruMap<
            Key,
            Val,
            mapguard::DefaultHashBuilder,
            mapguard::hooks::WithCleanup<fn(Key, Val, RemovalCause)>,
        >,
    ),
    ConcurrentBounded(
        ConcurrentBoundedMap<
            Key,
            Val,
            mapguard::DefaultHashBuilder,
            mapguard::hooks::WithCleanup<fn(Key, Val, RemovalCause)>,
        >,
    ),
    Adaptive(
        AdaptiveMap<
            Key,
            Val,
            mapguard::DefaultHashBuilder,
            mapguard::hooks::WithCleanup<fn(Key, Val, RemovalCause)>,
        >,
    ),
    ConcurrentAdaptive(
        ConcurrentAdaptiveMap<
            Key,
            Val,
            mapguard::DefaultHashBuilder,
            mapguard::hooks::WithCleanup<fn(Key, Val, RemovalCause)>,
        >,
    ),
}

const NAME: &str = "fuzz.subject";

/// A weak map's keys: the strong reference of each live key, with the generation of its
/// allocation.
#[derive(Default)]
struct Pool {
    slots: Vec<Option<(Rc<Key>, u64)>>,
    next_generation: u64,
}

impl Pool {
    fn generation(&self, key: u8) -> Option<u64> {
        self.slots.get(usize::from(key))?.as_ref().map(|(_, g)| *g)
    }

    /// The live key `key`, made anew if it died.
    fn strong(&mut self, key: u8) -> Rc<Key> {
        if self.slots.is_empty() {
            self.slots = vec![None; usize::from(KEYS)];
        }
        let next = &mut self.next_generation;
        let (strong, _) = self.slots[usize::from(key)].get_or_insert_with(|| {
            *next += 1;
            (Rc::new(Key(key)), *next)
        });
        Rc::clone(strong)
    }
}

impl Subject {
    fn new(kind: Kind, run: &Run) -> Self {
        let max = usize::from(run.max % 16) + 1;
        let shards = 1 << (run.shards % 3);
        match (kind, run.bounded) {
            (Kind::Lru, _) => Self::Lru(
                LruMap::builder(max)
                    .name(NAME)
                    .lifetime(Lifetime::Request)
                    .cleanup()
                    .on_removal(listener as fn(Key, Val, RemovalCause))
                    .build(),
            ),
            (Kind::Bounded, _) => Self::Bounded(
                BoundedMap::builder(max)
                    .name(NAME)
                    .lifetime(Lifetime::Request)
                    .cleanup()
                    .on_removal(listener as fn(Key, Val, RemovalCause))
                    .build(),
            ),
            (Kind::Weak, _) => Self::Weak(
                WeakKeyMap::lru_builder(max)
                    .name(NAME)
                    .lifetime(Lifetime::Request)
                    .cleanup()
                    .on_removal(listener as fn(Weak<Key>, Val, RemovalCause))
                    .build(),
                Pool::default(),
            ),
            (Kind::Concurrent, false) => Self::ConcurrentLru(
                ConcurrentLruMap::builder(max)
                    .name(NAME)
                    .shards(shards)
                    .lifetime(Lifetime::Request)
                    .cleanup()
                    .on_removal(listener as fn(Key, Val, RemovalCause))
                    .build(),
            ),
            (Kind::Adaptive, false) => Self::Adaptive(
                AdaptiveMap::builder(max)
                    .name(NAME)
                    .lifetime(Lifetime::Request)
                    .cleanup()
                    .on_removal(listener as fn(Key, Val, RemovalCause))
                    .build(),
            ),
            (Kind::Adaptive, true) => Self::ConcurrentAdaptive(
                ConcurrentAdaptiveMap::builder(max)
                    .name(NAME)
                    .shards(shards)
                    .lifetime(Lifetime::Request)
                    .cleanup()
                    .on_removal(listener as fn(Key, Val, RemovalCause))
                    .build(),
            ),
            (Kind::Concurrent, true) => Self::ConcurrentBounded(
                ConcurrentBoundedMap::builder(max)
                    .name(NAME)
                    .shards(shards)
                    .lifetime(Lifetime::Request)
                    .cleanup()
                    .on_removal(listener as fn(Key, Val, RemovalCause))
                    .build(),
            ),
        }
    }

    /// Whether iteration order is the model's recency order.
    fn ordered(&self) -> bool {
        !matches!(
            self,
            Self::ConcurrentLru(_)
                | Self::ConcurrentBounded(_)
                | Self::Adaptive(_)
                | Self::ConcurrentAdaptive(_)
        )
    }

    /// Whether a full map evicts (rather than rejects).
    fn evicts(&self) -> bool {
        matches!(
            self,
            Self::Lru(_)
                | Self::Weak(..)
                | Self::ConcurrentLru(_)
                | Self::Adaptive(_)
                | Self::ConcurrentAdaptive(_)
        )
    }

    /// Whether reads make an entry the most recent.
    fn reads_promote(&self) -> bool {
        matches!(self, Self::Lru(_) | Self::Weak(..))
    }

    /// (key, value id) from most to least recent; live keys only for a weak map.
    fn contents(&self) -> Vec<(u8, u64)> {
        match self {
            Self::Lru(map) => map.iter().map(|(k, v)| (k.0, v.0)).collect(),
            Self::Bounded(map) => map.iter().map(|(k, v)| (k.0, v.0)).collect(),
            Self::Weak(map, _) => map.iter().map(|(k, v)| (k.0, v.0)).collect(),
            Self::ConcurrentLru(map) => shard_contents(map),
            Self::ConcurrentBounded(map) => shard_contents(map),
            Self::Adaptive(map) => map.iter().map(|(k, v)| (k.0, v.0)).collect(),
            Self::ConcurrentAdaptive(map) => shard_contents(map),
        }
    }

    fn len(&self) -> usize {
        match self {
            Self::Lru(map) => map.len(),
            Self::Bounded(map) => map.len(),
            Self::Weak(map, _) => map.len(),
            Self::ConcurrentLru(map) => map.len(),
            Self::ConcurrentBounded(map) => map.len(),
            Self::Adaptive(map) => map.len(),
            Self::ConcurrentAdaptive(map) => map.len(),
        }
    }

    /// The most entries the map may hold now.
    fn bound(&self) -> usize {
        match self {
            Self::Lru(map) => map.max(),
            Self::Bounded(map) => map.max(),
            Self::Weak(map, _) => map.max(),
            Self::ConcurrentLru(map) => map.max().div_ceil(map.shard_count()) * map.shard_count(),
            Self::ConcurrentBounded(map) => {
                map.max().div_ceil(map.shard_count()) * map.shard_count()
            }
            Self::Adaptive(map) => map.max(),
            Self::ConcurrentAdaptive(map) => {
                map.max().div_ceil(map.shard_count()) * map.shard_count()
            }
        }
    }

    fn max(&self) -> usize {
        match self {
            Self::Lru(map) => map.max(),
            Self::Bounded(map) => map.max(),
            Self::Weak(map, _) => map.max(),
            Self::ConcurrentLru(map) => map.max(),
            Self::ConcurrentBounded(map) => map.max(),
            Self::Adaptive(map) => map.max(),
            Self::ConcurrentAdaptive(map) => map.max(),
        }
    }

    fn is_weak(&self) -> bool {
        matches!(self, Self::Weak(..))
    }

    /// Whether an entry of `key` made in `generation` is alive (always, but for weak keys).
    fn is_live(&self, key: u8, generation: u64) -> bool {
        match self {
            Self::Weak(_, pool) => pool.generation(key) == Some(generation),
            _ => true,
        }
    }

    /// The generation a new entry of `key` gets.
    fn generation(&self, key: u8) -> u64 {
        match self {
            Self::Weak(_, pool) => pool.generation(key).unwrap_or(0),
            _ => 0,
        }
    }

    fn has_set_max(&self) -> bool {
        matches!(
            self,
            Self::Lru(_) | Self::ConcurrentLru(_) | Self::Adaptive(_) | Self::ConcurrentAdaptive(_)
        )
    }

    fn has_retain(&self) -> bool {
        !self.is_weak()
    }

    fn has_drain(&self) -> bool {
        matches!(self, Self::Lru(_) | Self::Bounded(_) | Self::Adaptive(_))
    }

    fn has_pop_lru(&self) -> bool {
        matches!(self, Self::Lru(_))
    }

    /// Runs `op`, creating values with ids from `next_id`; returns the values handed back.
    fn apply(&mut self, op: Op, next_id: &mut u64) -> Vec<Val> {
        let mut fresh = || {
            *next_id += 1;
            Val(*next_id - 1)
        };
        let mut handed = Vec::new();
        let keep = |seed: u8| move |key: &Key| (key.0 ^ seed) % 3 != 0;
        match (self, op) {
            (Self::Lru(map), Op::Insert(k)) => map.insert(Key(k % KEYS), fresh()),
            (Self::Lru(map), Op::Replace(k)) => handed.extend(map.replace(Key(k % KEYS), fresh())),
            (Self::Lru(map), Op::Remove(k)) => handed.extend(map.remove(&Key(k % KEYS))),
            (Self::Lru(map), Op::Discard(k)) => drop(map.discard(&Key(k % KEYS))),
            (Self::Lru(map), Op::Get(k)) => drop(map.get(&Key(k % KEYS))),
            (Self::Lru(map), Op::Peek(k)) => drop(map.peek(&Key(k % KEYS))),
            (Self::Lru(map), Op::SetMax(n)) => map.set_max(usize::from(n % 16) + 1),
            (Self::Lru(map), Op::Retain(seed)) => map.retain(|k, _| keep(seed)(k)),
            (Self::Lru(map), Op::Clear) => map.clear(),
            (Self::Lru(map), Op::Drain(n)) => {
                // Recorded as they are yielded: the drain's drop may then panic in a hook.
                handed.extend(
                    map.drain()
                        .take(usize::from(n % 4))
                        .map(|(_, v)| yielded(v)),
                );
            }
            (Self::Lru(map), Op::PopLru) => handed.extend(map.pop_lru().map(|(_, v)| v)),
            (Self::Lru(map), Op::EntryRemove(k)) => {
                if let Entry::Occupied(slot) = map.entry(Key(k % KEYS)) {
                    handed.push(slot.remove());
                }
            }
            (Self::Lru(map), Op::EntryOrInsert(k)) => {
                let _ = map.entry(Key(k % KEYS)).or_insert_with(fresh);
            }
            (Self::Lru(map), Op::Maintain) => drop(map.maintain()),
            (Self::Lru(map), Op::EndScope) => drop(map.end_scope(Lifetime::Request)),

            (Self::Bounded(map), Op::Insert(k)) => {
                if let Err(rejected) = map.try_insert(Key(k % KEYS), fresh()) {
                    handed.push(rejected.into_inner().1);
                }
            }
            (Self::Bounded(map), Op::Replace(k)) => match map.try_replace(Key(k % KEYS), fresh()) {
                Ok(old) => handed.extend(old),
                Err(rejected) => handed.push(rejected.into_inner().1),
            },
            (Self::Bounded(map), Op::Remove(k)) => handed.extend(map.remove(&Key(k % KEYS))),
            (Self::Bounded(map), Op::Discard(k)) => drop(map.discard(&Key(k % KEYS))),
            (Self::Bounded(map), Op::Get(k)) => drop(map.get(&Key(k % KEYS))),
            (Self::Bounded(map), Op::Peek(k)) => drop(map.peek(&Key(k % KEYS))),
            (Self::Bounded(map), Op::Retain(seed)) => map.retain(|k, _| keep(seed)(k)),
            (Self::Bounded(map), Op::Clear) => map.clear(),
            (Self::Bounded(map), Op::Drain(n)) => {
                // Recorded as they are yielded: the drain's drop may then panic in a hook.
                handed.extend(
                    map.drain()
                        .take(usize::from(n % 4))
                        .map(|(_, v)| yielded(v)),
                );
            }
            (Self::Bounded(map), Op::EntryRemove(k)) => {
                if let Entry::Occupied(slot) = map.entry(Key(k % KEYS)) {
                    handed.push(slot.remove_entry().1);
                }
            }
            (Self::Bounded(map), Op::EntryOrInsert(k)) => match map.entry(Key(k % KEYS)) {
                Entry::Occupied(_) => {}
                Entry::Vacant(slot) => {
                    if let Err(rejected) = slot.try_insert(fresh()) {
                        handed.push(rejected.into_inner().1);
                    }
                }
            },
            (Self::Bounded(map), Op::Maintain) => drop(map.maintain()),
            (Self::Bounded(map), Op::EndScope) => drop(map.end_scope(Lifetime::Request)),

            (Self::Weak(map, pool), Op::Insert(k) | Op::Replace(k) | Op::EntryOrInsert(k)) => {
                map.insert(pool.strong(k % KEYS), fresh());
            }
            (Self::Weak(map, _), Op::Remove(k) | Op::EntryRemove(k)) => {
                handed.extend(map.remove(&Key(k % KEYS)));
            }
            (Self::Weak(map, _), Op::Discard(k)) => drop(map.discard(&Key(k % KEYS))),
            (Self::Weak(map, _), Op::Get(k)) => drop(map.get(&Key(k % KEYS))),
            (Self::Weak(map, _), Op::Peek(k)) => drop(map.peek(&Key(k % KEYS))),
            (Self::Weak(map, _), Op::Clear | Op::Drain(_)) => map.clear(),
            (Self::Weak(_, pool), Op::KillKey(k)) => pool.slots[usize::from(k % KEYS)] = None,
            (Self::Weak(map, _), Op::Maintain) => drop(map.maintain()),
            (Self::Weak(map, _), Op::EndScope) => drop(map.end_scope(Lifetime::Request)),

            (Self::ConcurrentLru(map), Op::Insert(k) | Op::EntryOrInsert(k)) => {
                map.insert(Key(k % KEYS), fresh());
            }
            (Self::ConcurrentLru(map), Op::SetMax(n)) => map.set_max(usize::from(n % 16) + 1),
            (Self::ConcurrentLru(map), Op::Replace(k)) => {
                handed.extend(map.replace(Key(k % KEYS), fresh()));
            }
            (Self::ConcurrentBounded(map), Op::Insert(k) | Op::EntryOrInsert(k)) => {
                if let Err(rejected) = map.try_insert(Key(k % KEYS), fresh()) {
                    handed.push(rejected.into_inner().1);
                }
            }
            (Self::ConcurrentBounded(map), Op::Replace(k)) => {
                match map.try_replace(Key(k % KEYS), fresh()) {
                    Ok(old) => handed.extend(old),
                    Err(rejected) => handed.push(rejected.into_inner().1),
                }
            }
            (Self::Adaptive(map), Op::Insert(k)) => map.insert(Key(k % KEYS), fresh()),
            (Self::Adaptive(map), Op::Replace(k)) => {
                handed.extend(map.replace(Key(k % KEYS), fresh()));
            }
            (Self::Adaptive(map), Op::Remove(k)) => handed.extend(map.remove(&Key(k % KEYS))),
            (Self::Adaptive(map), Op::Discard(k)) => drop(map.discard(&Key(k % KEYS))),
            (Self::Adaptive(map), Op::Get(k)) => drop(map.get(&Key(k % KEYS))),
            (Self::Adaptive(map), Op::Peek(k)) => drop(map.peek(&Key(k % KEYS))),
            (Self::Adaptive(map), Op::SetMax(n)) => map.set_max(usize::from(n % 16) + 1),
            (Self::Adaptive(map), Op::Retain(seed)) => map.retain(|k, _| keep(seed)(k)),
            (Self::Adaptive(map), Op::Clear) => map.clear(),
            (Self::Adaptive(map), Op::Drain(n)) => {
                // Recorded as they are yielded: the drain's drop may then panic in a hook.
                handed.extend(
                    map.drain()
                        .take(usize::from(n % 4))
                        .map(|(_, v)| yielded(v)),
                );
            }
            (Self::Adaptive(map), Op::EntryRemove(k)) => {
                if let Entry::Occupied(slot) = map.entry(Key(k % KEYS)) {
                    handed.push(slot.remove());
                }
            }
            (Self::Adaptive(map), Op::EntryOrInsert(k)) => {
                let _ = map.entry(Key(k % KEYS)).or_insert_with(fresh);
            }
            (Self::Adaptive(map), Op::Maintain) => drop(map.maintain()),
            (Self::Adaptive(map), Op::EndScope) => drop(map.end_scope(Lifetime::Request)),

            (Self::ConcurrentAdaptive(map), Op::Insert(k) | Op::EntryOrInsert(k)) => {
                map.insert(Key(k % KEYS), fresh());
            }
            (Self::ConcurrentAdaptive(map), Op::SetMax(n)) => {
                map.set_max(usize::from(n % 16) + 1);
            }
            (Self::ConcurrentAdaptive(map), Op::Replace(k)) => {
                handed.extend(map.replace(Key(k % KEYS), fresh()));
            }
            (Self::ConcurrentAdaptive(map), op) => concurrent_common(map, op, &mut handed),
            (Self::ConcurrentLru(map), op) => concurrent_common(map, op, &mut handed),
            (Self::ConcurrentBounded(map), op) => concurrent_common(map, op, &mut handed),
            _ => {}
        }
        handed
    }
}

/// (key, value id) of every entry, shard by shard.
fn shard_contents<P: mapguard::policy::Policy>(
    map: &mapguard::ConcurrentMap<
        Key,
        Val,
        P,
        mapguard::DefaultHashBuilder,
        mapguard::hooks::WithCleanup<fn(Key, Val, RemovalCause)>,
    >,
) -> Vec<(u8, u64)> {
    let mut all = Vec::new();
    map.for_each(|k, v| all.push((k.0, v.0)));
    all
}

fn concurrent_common<P: mapguard::policy::Policy>(
    map: &mapguard::ConcurrentMap<
        Key,
        Val,
        P,
        mapguard::DefaultHashBuilder,
        mapguard::hooks::WithCleanup<fn(Key, Val, RemovalCause)>,
    >,
    op: Op,
    handed: &mut Vec<Val>,
) {
    match op {
        Op::Remove(k) | Op::EntryRemove(k) => handed.extend(map.remove(&Key(k % KEYS))),
        Op::Discard(k) => drop(map.discard(&Key(k % KEYS))),
        Op::Get(k) => drop(map.update(&Key(k % KEYS), |_| ())),
        Op::Peek(k) => drop(map.contains_key(&Key(k % KEYS))),
        Op::Retain(seed) => map.retain(|k, _| (k.0 ^ seed) % 3 != 0),
        Op::Clear | Op::Drain(_) => map.clear(),
        Op::Maintain => drop(map.maintain()),
        Op::EndScope => drop(map.end_scope(Lifetime::Request)),
        _ => {}
    }
}

/// The reference model: entries most recent first. `generation` tells apart the allocations
/// of one weak key (an entry of a dead allocation stays until collected).
#[derive(Clone, Debug, Default)]
struct Model {
    entries: Vec<ModelEntry>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct ModelEntry {
    key: u8,
    id: u64,
    generation: u64,
}

/// How a value is expected to leave in one operation.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Fate {
    Cleaned(RemovalCause),
    HandedBack,
    /// A drain yields some and clears the rest.
    HandedBackOrCleared,
}

/// What the model expects of one operation.
#[derive(Debug, Default)]
struct Prediction {
    leaving: Vec<(u64, Fate)>,
    /// The key whose new value (the operation's fresh one) goes to the front.
    stored: Option<u8>,
    /// A new value handed straight back (a rejected insert).
    rejected: bool,
    /// A bulk operation (clear, retain, drain, scope end, maintenance).
    bulk: bool,
}

impl Model {
    fn live(&self, subject: &Subject) -> impl Iterator<Item = &ModelEntry> {
        self.entries
            .iter()
            .filter(move |entry| subject.is_live(entry.key, entry.generation))
    }

    fn position(&self, subject: &Subject, key: u8) -> Option<usize> {
        self.entries
            .iter()
            .position(|entry| entry.key == key && subject.is_live(entry.key, entry.generation))
    }

    fn touch(&mut self, at: usize) {
        let entry = self.entries.remove(at);
        self.entries.insert(0, entry);
    }

    /// Predicts `op` on an ordered map (LRU, bounded, weak), reordering for reads.
    fn predict(&mut self, subject: &Subject, op: Op) -> Prediction {
        use RemovalCause as C;
        let mut p = Prediction::default();
        let max = subject.max();
        let evicts = subject.evicts();
        let write = |model: &mut Self, p: &mut Prediction, key: u8, hand_back_old: bool| {
            if let Some(at) = model.position(subject, key) {
                let old = model.entries[at].id;
                p.leaving.push((
                    old,
                    if hand_back_old {
                        Fate::HandedBack
                    } else {
                        Fate::Cleaned(C::Replaced)
                    },
                ));
                p.stored = Some(key);
            } else if model.entries.len() >= max {
                if evicts {
                    let victim = model.entries.last().unwrap().id;
                    p.leaving.push((victim, Fate::Cleaned(C::Evicted)));
                    p.stored = Some(key);
                } else {
                    p.rejected = true;
                }
            } else {
                p.stored = Some(key);
            }
        };
        match op {
            Op::Insert(k) => write(self, &mut p, k % KEYS, false),
            // A weak map has no `replace`: the harness inserts, and the old value is cleaned.
            Op::Replace(k) => write(self, &mut p, k % KEYS, !subject.is_weak()),
            Op::EntryOrInsert(k) => {
                let key = k % KEYS;
                match self.position(subject, key) {
                    Some(at) if subject.is_weak() => {
                        // A weak map's "entry" is an insert.
                        let old = self.entries[at].id;
                        p.leaving.push((old, Fate::Cleaned(C::Replaced)));
                        p.stored = Some(key);
                    }
                    Some(at) => {
                        if subject.reads_promote() {
                            self.touch(at);
                        }
                    }
                    None => write(self, &mut p, key, false),
                }
            }
            Op::Remove(k) | Op::EntryRemove(k) => {
                if let Some(at) = self.position(subject, k % KEYS) {
                    p.leaving.push((self.entries[at].id, Fate::HandedBack));
                }
            }
            Op::Discard(k) => {
                if let Some(at) = self.position(subject, k % KEYS) {
                    p.leaving
                        .push((self.entries[at].id, Fate::Cleaned(C::Explicit)));
                }
            }
            Op::Get(k) => {
                if let Some(at) = self
                    .position(subject, k % KEYS)
                    .filter(|_| subject.reads_promote())
                {
                    self.touch(at);
                }
            }
            Op::SetMax(n) if subject.has_set_max() => {
                let new_max = usize::from(n % 16) + 1;
                let excess = self.entries.len().saturating_sub(new_max);
                for entry in self.entries.iter().rev().take(excess) {
                    p.leaving.push((entry.id, Fate::Cleaned(C::Evicted)));
                }
            }
            Op::Retain(seed) if subject.has_retain() => {
                p.bulk = true;
                for entry in &self.entries {
                    if (entry.key ^ seed) % 3 == 0 {
                        p.leaving.push((entry.id, Fate::Cleaned(C::Explicit)));
                    }
                }
            }
            Op::Clear | Op::EndScope | Op::Drain(_) => {
                p.bulk = true;
                let fate = match op {
                    Op::EndScope => Fate::Cleaned(C::ScopeEnded),
                    Op::Drain(_) if subject.has_drain() => Fate::HandedBackOrCleared,
                    _ => Fate::Cleaned(C::Cleared),
                };
                for entry in &self.entries {
                    let fate = if subject.is_weak() && !subject.is_live(entry.key, entry.generation)
                    {
                        Fate::Cleaned(C::Collected)
                    } else {
                        fate
                    };
                    p.leaving.push((entry.id, fate));
                }
            }
            Op::PopLru if subject.has_pop_lru() => {
                if let Some(entry) = self.entries.last() {
                    p.leaving.push((entry.id, Fate::HandedBack));
                }
            }
            Op::Maintain if subject.is_weak() => {
                p.bulk = true;
                for entry in &self.entries {
                    if !subject.is_live(entry.key, entry.generation) {
                        p.leaving.push((entry.id, Fate::Cleaned(C::Collected)));
                    }
                }
            }
            _ => {}
        }
        p
    }
}

/// Replays `run` on a map of `kind`, panicking (for the fuzzer) on the first broken promise.
pub fn replay(kind: Kind, run: &Run) {
    let quiet_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let outcome = catch_unwind(AssertUnwindSafe(|| check(kind, run)));
    std::panic::set_hook(quiet_hook);
    ARMED.with(|armed| armed.set(None));
    HOOKS_PANIC.with(|flag| flag.set(HooksPanic::None));
    EVENTS.with(|events| events.borrow_mut().clear());
    if let Err(payload) = outcome {
        if let Some(Broken(message)) = payload.downcast_ref::<Broken>() {
            panic!("broken promise: {message}");
        }
        std::panic::resume_unwind(payload);
    }
}

/// A broken promise, told apart from the panics the run provokes on purpose.
#[derive(Debug)]
struct Broken(String);

macro_rules! ensure {
    ($cond:expr, $($msg:tt)*) => {
        if !$cond {
            let step = STEP.with(Cell::get);
            std::panic::resume_unwind(Box::new(Broken(format!("step {step}: {}", format!($($msg)*)))));
        }
    };
}

/// What happened to each value so far.
#[derive(Default)]
struct Ledger {
    cleaned: HashMap<u64, RemovalCause>,
    listened: HashMap<u64, RemovalCause>,
    dropped: HashSet<u64>,
    handed_back: HashSet<u64>,
}

impl Ledger {
    /// Takes in the events of one operation; `handed` are the ids it handed back;
    /// `hash_panicked` says a key's `Hash` panicked in it (the only excuse for a value
    /// dropped without its hooks).
    fn record(&mut self, op: Op, handed: &[u64], hash_panicked: bool, first_new: u64) {
        let events = EVENTS.with(|events| std::mem::take(&mut *events.borrow_mut()));
        self.handed_back.extend(handed);
        for event in events {
            match event {
                Event::Cleaned(id, cause) => {
                    ensure!(
                        !self.dropped.contains(&id),
                        "value {id} cleaned after it was dropped ({op:?})"
                    );
                    ensure!(
                        !self.handed_back.contains(&id),
                        "value {id} cleaned after it was handed back ({op:?})"
                    );
                    ensure!(
                        self.cleaned.insert(id, cause).is_none(),
                        "value {id} cleaned twice ({op:?})"
                    );
                    ensure!(
                        id < first_new,
                        "{op:?} cleaned its own new value {id} ({cause})"
                    );
                }
                Event::Listened(id, cause) => {
                    ensure!(
                        !self.dropped.contains(&id) && !self.handed_back.contains(&id),
                        "value {id} reached the listener after it left ({op:?})"
                    );
                    ensure!(
                        self.cleaned.get(&id) == Some(&cause),
                        "value {id} reached the listener with {cause} but was cleaned with \
                         {:?} ({op:?})",
                        self.cleaned.get(&id)
                    );
                    ensure!(
                        self.listened.insert(id, cause).is_none(),
                        "value {id} reached the listener twice ({op:?})"
                    );
                }
                Event::Yielded(id) => {
                    self.handed_back.insert(id);
                }
                Event::Dropped(id) => {
                    ensure!(self.dropped.insert(id), "value {id} dropped twice ({op:?})");
                    ensure!(
                        hash_panicked
                            || (self.cleaned.contains_key(&id) && self.listened.contains_key(&id))
                            || self.handed_back.contains(&id),
                        "value {id} dropped without both hooks in {op:?} (cleaned: {:?}, \
                         listened: {:?})",
                        self.cleaned.get(&id),
                        self.listened.get(&id)
                    );
                }
            }
        }
    }

    fn gone(&self, id: u64) -> bool {
        self.dropped.contains(&id)
            || self.cleaned.contains_key(&id)
            || self.handed_back.contains(&id)
    }
}

fn check(kind: Kind, run: &Run) {
    let mut subject = Subject::new(kind, run);
    let mut model = Model::default();
    let mut ledger = Ledger::default();
    let mut next_id = 0_u64;
    let mut degraded = false;
    for (step_no, step) in run.steps.iter().enumerate() {
        STEP.with(|current| current.set(step_no));
        let op = step.op;
        let first_new = next_id;
        HOOKS_PANIC.with(|flag| flag.set(step.hooks_panic));
        if let Op::ArmHash(k) = op {
            ARMED.with(|armed| armed.set(Some(k % KEYS)));
        }
        let result = catch_unwind(AssertUnwindSafe(|| subject.apply(op, &mut next_id)));
        HOOKS_PANIC.with(|flag| flag.set(HooksPanic::None));
        if let Err(payload) = &result {
            ensure!(payload.downcast_ref::<Broken>().is_none(), "unreachable");
        }
        let panicked = result.is_err();
        let hash_panicked = panicked && payload_is(&result, "Hash panics on purpose");
        let handed: Vec<u64> = match &result {
            Ok(values) => values.iter().map(|v| v.0).collect(),
            Err(_) => Vec::new(),
        };
        drop(result);
        ledger.record(op, &handed, hash_panicked, first_new);
        degraded |= hash_panicked;
        let before = model.entries.clone();
        // A weak map collects dead keys first thing in an insert; the operation's own effect
        // follows on what is left, so predict from there.
        if subject.is_weak() {
            model
                .entries
                .retain(|entry| ledger.cleaned.get(&entry.id) != Some(&RemovalCause::Collected));
        }
        let prediction = (!degraded && subject.ordered()).then(|| model.predict(&subject, op));

        // Invariants, whatever happened.
        let contents = subject.contents();
        ensure!(
            subject.len() <= subject.bound(),
            "{} entries over the bound {} after {op:?}",
            subject.len(),
            subject.bound()
        );
        if !subject.is_weak() {
            ensure!(
                contents.len() == subject.len(),
                "iteration shows {} entries, len says {} after {op:?}",
                contents.len(),
                subject.len()
            );
        }
        let registry_len = mapguard::registry::snapshot()
            .into_iter()
            .find(|m| m.name == NAME)
            .map(|m| m.len);
        ensure!(
            registry_len == Some(subject.len() as u64),
            "registry len {registry_len:?}, map len {} after {op:?}",
            subject.len()
        );
        for &(_, id) in &contents {
            ensure!(
                !ledger.gone(id),
                "value {id} still stored after it left ({op:?})"
            );
        }
        if degraded {
            continue;
        }

        // The model.
        let stored_new = (first_new..next_id).find(|id| contents.iter().any(|&(_, c)| c == *id));
        match prediction {
            Some(p) => {
                // Bulk operations finish even when a hook panics.
                let bulk_partial = false;
                for &(id, fate) in &p.leaving {
                    let outcome = ledger.cleaned.get(&id).copied();
                    match fate {
                        Fate::Cleaned(cause) => match outcome {
                            Some(actual) => ensure!(
                                actual == cause,
                                "{op:?}: value {id} left with {actual}, expected {cause}"
                            ),
                            None => ensure!(
                                bulk_partial,
                                "{op:?}: value {id} should have left with {cause}"
                            ),
                        },
                        // A value the caller could not receive (a hook panicked) went
                        // through the hooks instead.
                        Fate::HandedBack => ensure!(
                            handed.contains(&id) || (panicked && ledger.cleaned.contains_key(&id)),
                            "{op:?}: value {id} should have been handed back"
                        ),
                        Fate::HandedBackOrCleared => ensure!(
                            ledger.handed_back.contains(&id)
                                || outcome == Some(RemovalCause::Cleared)
                                || bulk_partial,
                            "{op:?}: value {id} neither yielded nor cleared"
                        ),
                    }
                }
                // Nothing else left, but dead weak entries collected on the way.
                for entry in &before {
                    let expected = p.leaving.iter().any(|&(id, _)| id == entry.id);
                    if !expected && ledger.gone(entry.id) {
                        ensure!(
                            subject.is_weak()
                                && !subject.is_live(entry.key, entry.generation)
                                && matches!(
                                    ledger.cleaned.get(&entry.id),
                                    Some(RemovalCause::Collected | RemovalCause::Evicted) | None
                                ),
                            "{op:?}: value {} left unexpectedly",
                            entry.id
                        );
                    }
                }
                model.entries.retain(|entry| !ledger.gone(entry.id));
                if let Some(key) = p.stored.filter(|_| !p.rejected) {
                    // Stored even when a hook panicked: hooks run only after the map is updated.
                    let id = stored_new;
                    ensure!(
                        id.is_some(),
                        "{op:?}: the new value for {key} is not stored"
                    );
                    if let Some(at) = model.position(&subject, key) {
                        model.entries.remove(at);
                    }
                    model.entries.insert(
                        0,
                        ModelEntry {
                            key,
                            id: id.unwrap(),
                            generation: subject.generation(key),
                        },
                    );
                } else {
                    ensure!(
                        stored_new.is_none(),
                        "{op:?}: a value was stored that the model rejects"
                    );
                }
                if p.rejected {
                    ensure!(
                        handed.len() == 1 && handed[0] >= first_new,
                        "{op:?}: the rejected value was not handed back"
                    );
                }
                let expected: Vec<(u8, u64)> =
                    model.live(&subject).map(|e| (e.key, e.id)).collect();
                if bulk_partial {
                    ensure!(
                        contents.iter().all(|entry| expected.contains(entry)),
                        "after a panicking {op:?}: map {contents:?} is not within {expected:?}"
                    );
                    // Dead weak entries are not iterated, but stay until collected.
                    model.entries.retain(|entry| {
                        contents.iter().any(|&(_, id)| id == entry.id)
                            || (!ledger.gone(entry.id)
                                && !subject.is_live(entry.key, entry.generation))
                    });
                } else {
                    ensure!(
                        contents == expected,
                        "after {op:?}: map {contents:?}, model {expected:?}"
                    );
                }
            }
            None => {
                // Concurrent maps: order is per shard, so follow what left and compare sets.
                for entry in &before {
                    if let Some(cause) = ledger.cleaned.get(&entry.id) {
                        ensure!(
                            allowed(op, *cause),
                            "{op:?} cleaned value {} with {cause}",
                            entry.id
                        );
                    }
                }
                model.entries.retain(|entry| !ledger.gone(entry.id));
                if let Some(id) = stored_new {
                    let key = contents.iter().find(|&&(_, c)| c == id).unwrap().0;
                    model.entries.retain(|entry| entry.key != key);
                    model.entries.insert(
                        0,
                        ModelEntry {
                            key,
                            id,
                            generation: 0,
                        },
                    );
                }
                let mut actual = contents.clone();
                actual.sort_unstable();
                let mut expected: Vec<(u8, u64)> =
                    model.entries.iter().map(|e| (e.key, e.id)).collect();
                expected.sort_unstable();
                // Also after a panicking hook: every shard's work finished first.
                ensure!(
                    actual == expected,
                    "after {op:?} (a hook panicked: {panicked}): map {actual:?}, model \
                     {expected:?}"
                );
            }
        }
    }
    drop(subject);
    ledger.record(Op::Clear, &[], false, next_id);
    ensure!(
        ledger.dropped.len() as u64 == next_id,
        "{} of {next_id} values were never dropped",
        next_id - ledger.dropped.len() as u64
    );
}

fn payload_is<T>(result: &std::thread::Result<T>, message: &str) -> bool {
    match result {
        Err(payload) => {
            payload
                .downcast_ref::<&str>()
                .is_some_and(|m| *m == message)
                || payload
                    .downcast_ref::<String>()
                    .is_some_and(|m| m == message)
        }
        Ok(_) => false,
    }
}

/// The causes a concurrent map's operation may clean values with.
fn allowed(op: Op, cause: RemovalCause) -> bool {
    use RemovalCause as C;
    match op {
        Op::Insert(_) | Op::Replace(_) | Op::EntryOrInsert(_) => {
            matches!(cause, C::Replaced | C::Evicted)
        }
        Op::Discard(_) | Op::Retain(_) => cause == C::Explicit,
        Op::SetMax(_) => cause == C::Evicted,
        // A drain yields values (handed back) and clears the rest.
        Op::Clear | Op::Drain(_) => cause == C::Cleared,
        Op::EndScope => cause == C::ScopeEnded,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::{Kind, Run, replay};
    use arbitrary::{Arbitrary, Unstructured};

    /// Random inputs, without the fuzzer: a quick check that the harness itself holds.
    #[test]
    fn random_runs_keep_every_promise() {
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut steps = 0;
        for kind in [
            Kind::Lru,
            Kind::Bounded,
            Kind::Weak,
            Kind::Concurrent,
            Kind::Adaptive,
        ] {
            for _ in 0..2_000 {
                let bytes: Vec<u8> = (0..512)
                    .map(|_| {
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        state as u8
                    })
                    .collect();
                let run = Run::arbitrary(&mut Unstructured::new(&bytes)).unwrap();
                steps += run.steps.len();
                let outcome = std::panic::catch_unwind(|| replay(kind, &run));
                if let Err(payload) = outcome {
                    eprintln!("{kind:?} failed on {run:#?}");
                    std::panic::resume_unwind(payload);
                }
            }
        }
        assert!(
            steps > 10_000 * 50,
            "{steps} steps: the inputs are too short to test much"
        );
    }
}
