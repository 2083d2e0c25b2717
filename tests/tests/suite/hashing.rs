//! Every keyed operation hashes the caller's key once: a concurrent map hashes to choose the
//! shard and hands that hash to the shard (and a load's flight keeps it for storing), so a
//! `String` key is not hashed twice under the lock; the single-threaded maps hash once too. Counted with a key whose `Hash` counts its calls on this thread; the keys already
//! stored do not count, so what a table growth or an eviction hashes of them is left out.

use std::cell::Cell;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Weak};

use std::rc::Rc;

use mapguard::{
    AdaptiveMap, BoundedMap, ConcurrentAdaptiveMap, ConcurrentBoundedMap, ConcurrentLruMap,
    ConcurrentWeakKeyMap, LruMap, WeakKeyMap,
};

thread_local! {
    static HASHES: Cell<usize> = const { Cell::new(0) };
}

/// A key equal and hashing alike whether it counts or not; only a counting key's `Hash`
/// calls are counted.
#[derive(Clone, Debug)]
struct Key {
    id: u32,
    counts: bool,
}

impl Key {
    /// A key the map already holds (its hashing is not the operation's).
    fn stored(id: u32) -> Self {
        Self { id, counts: false }
    }

    /// The caller's key.
    fn probe(id: u32) -> Self {
        Self { id, counts: true }
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for Key {}

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        if self.counts {
            HASHES.with(|hashes| hashes.set(hashes.get() + 1));
        }
        self.id.hash(state);
    }
}

/// How many times `op` hashed a counting key.
fn hashes<R>(op: impl FnOnce() -> R) -> usize {
    let before = HASHES.with(Cell::get);
    drop(op());
    HASHES.with(Cell::get) - before
}

const MAX: u32 = 16;
/// Held by every map below; `ABSENT` never is.
const PRESENT: u32 = 3;
const ABSENT: u32 = 99;

/// The map `$make` builds, of `MAX` entries, filled with non-counting keys.
macro_rules! filled {
    ($make:expr) => {{
        #[allow(unused_mut, reason = "a concurrent map inserts through `&self`")]
        let mut map = $make;
        for id in 0..MAX {
            map.insert(Key::stored(id), id);
        }
        map
    }};
}

/// An evicting concurrent map (one shard), full.
macro_rules! full {
    ($map:ident) => {
        filled!($map::<Key, u32>::builder(MAX as usize).shards(1).build())
    };
}

macro_rules! evicting_map_hashes_once {
    ($test:ident, $map:ident) => {
        #[test]
        fn $test() {
            for id in [PRESENT, ABSENT] {
                let key = || Key::probe(id);
                let cases: [(&str, usize); 12] = [
                    ("get", hashes(|| full!($map).get(&key()))),
                    ("peek", hashes(|| full!($map).peek(&key()))),
                    ("contains_key", hashes(|| full!($map).contains_key(&key()))),
                    ("update", hashes(|| full!($map).update(&key(), |v| *v += 1))),
                    ("discard", hashes(|| full!($map).discard(&key()))),
                    ("remove", hashes(|| full!($map).remove(&key()))),
                    ("remove_entry", hashes(|| full!($map).remove_entry(&key()))),
                    ("insert", hashes(|| full!($map).insert(key(), 7))),
                    ("replace", hashes(|| full!($map).replace(key(), 7))),
                    (
                        "get_or_insert_with",
                        hashes(|| full!($map).get_or_insert_with(key(), || 7)),
                    ),
                    (
                        "try_get_or_insert_with",
                        hashes(|| full!($map).try_get_or_insert_with(key(), || Ok::<_, ()>(7))),
                    ),
                    (
                        "get_or_insert_async",
                        hashes(|| {
                            mapguard::testing::block_on(
                                full!($map).get_or_insert_async(key(), async { 7 }),
                            )
                        }),
                    ),
                ];
                assert_each_once(&cases, id);
            }
        }
    };
}

/// Fails naming every operation that did not hash once.
fn assert_each_once(cases: &[(&str, usize)], id: u32) {
    let presence = if id == PRESENT { "present" } else { "absent" };
    let wrong: Vec<String> = cases
        .iter()
        .filter(|(_, count)| *count != 1)
        .map(|(op, count)| format!("{op}: {count}"))
        .collect();
    assert!(
        wrong.is_empty(),
        "hashes of a {presence} key, where each should be 1: {wrong:?}"
    );
}

evicting_map_hashes_once!(a_concurrent_lru_map_hashes_each_key_once, ConcurrentLruMap);
evicting_map_hashes_once!(
    a_concurrent_adaptive_map_hashes_each_key_once,
    ConcurrentAdaptiveMap
);

#[test]
fn a_concurrent_bounded_map_hashes_each_key_once() {
    // Room for one more, so an absent key is stored rather than refused.
    let filled = || {
        let map = ConcurrentBoundedMap::<Key, u32>::builder(MAX as usize + 1)
            .shards(1)
            .build();
        for id in 0..MAX {
            map.try_insert(Key::stored(id), id).expect("room");
        }
        map
    };
    for id in [PRESENT, ABSENT] {
        let key = || Key::probe(id);
        let cases: [(&str, usize); 8] = [
            ("get", hashes(|| filled().get(&key()))),
            ("contains_key", hashes(|| filled().contains_key(&key()))),
            ("discard", hashes(|| filled().discard(&key()))),
            ("remove_entry", hashes(|| filled().remove_entry(&key()))),
            ("try_insert", hashes(|| filled().try_insert(key(), 7))),
            ("try_replace", hashes(|| filled().try_replace(key(), 7))),
            (
                "get_or_insert_with",
                hashes(|| filled().get_or_insert_with(key(), || 7)),
            ),
            ("update", hashes(|| filled().update(&key(), |v| *v += 1))),
        ];
        assert_each_once(&cases, id);
    }
}

#[test]
fn a_concurrent_weak_key_map_hashes_each_key_once() {
    // The map holds weak keys: the strong ones live here for the test's length.
    let stored: Vec<Arc<Key>> = (0..MAX).map(|id| Arc::new(Key::stored(id))).collect();
    let filled = || {
        let map = ConcurrentWeakKeyMap::<Weak<Key>, u32>::lru_builder(MAX as usize)
            .shards(1)
            .build();
        for key in &stored {
            map.insert(Arc::clone(key), key.id);
        }
        map
    };
    for id in [PRESENT, ABSENT] {
        let key = || Key::probe(id);
        let cases: [(&str, usize); 8] = [
            ("get", hashes(|| filled().get(&key()))),
            ("peek", hashes(|| filled().peek(&key()))),
            ("contains_key", hashes(|| filled().contains_key(&key()))),
            ("discard", hashes(|| filled().discard(&key()))),
            ("remove", hashes(|| filled().remove(&key()))),
            ("insert", hashes(|| filled().insert(Arc::new(key()), 7))),
            (
                "get_or_insert_with",
                hashes(|| filled().get_or_insert_with(Arc::new(key()), || 7)),
            ),
            ("update", hashes(|| filled().update(&key(), |v| *v += 1))),
        ];
        assert_each_once(&cases, id);
    }
}

/// A single-threaded evicting map, full.
macro_rules! full_single {
    ($map:ident) => {
        filled!($map::<Key, u32>::new(MAX as usize))
    };
}

macro_rules! single_map_hashes_once {
    ($test:ident, $map:ident) => {
        #[test]
        fn $test() {
            for id in [PRESENT, ABSENT] {
                let key = || Key::probe(id);
                let cases: [(&str, usize); 14] = [
                    ("get", hashes(|| full_single!($map).get(&key()).copied())),
                    (
                        "get_mut",
                        hashes(|| full_single!($map).get_mut(&key()).copied()),
                    ),
                    ("peek", hashes(|| full_single!($map).peek(&key()).copied())),
                    (
                        "peek_mut",
                        hashes(|| full_single!($map).peek_mut(&key()).copied()),
                    ),
                    (
                        "contains_key",
                        hashes(|| full_single!($map).contains_key(&key())),
                    ),
                    (
                        "update",
                        hashes(|| full_single!($map).update(&key(), |v| *v += 1)),
                    ),
                    ("discard", hashes(|| full_single!($map).discard(&key()))),
                    ("remove", hashes(|| full_single!($map).remove(&key()))),
                    (
                        "remove_entry",
                        hashes(|| full_single!($map).remove_entry(&key())),
                    ),
                    ("insert", hashes(|| full_single!($map).insert(key(), 7))),
                    ("replace", hashes(|| full_single!($map).replace(key(), 7))),
                    (
                        "get_or_insert_with",
                        hashes(|| *full_single!($map).get_or_insert_with(key(), || 7)),
                    ),
                    (
                        "entry",
                        hashes(|| *full_single!($map).entry(key()).or_insert(7)),
                    ),
                    (
                        "peek_key_value",
                        hashes(|| full_single!($map).peek_key_value(&key()).map(|(_, v)| *v)),
                    ),
                ];
                assert_each_once(&cases, id);
            }
        }
    };
}

single_map_hashes_once!(an_lru_map_hashes_each_key_once, LruMap);
single_map_hashes_once!(an_adaptive_map_hashes_each_key_once, AdaptiveMap);

#[test]
fn a_bounded_map_hashes_each_key_once() {
    let filled = || {
        let mut map = BoundedMap::<Key, u32>::new(MAX as usize + 1);
        for id in 0..MAX {
            map.try_insert(Key::stored(id), id).expect("room");
        }
        map
    };
    for id in [PRESENT, ABSENT] {
        let key = || Key::probe(id);
        let cases: [(&str, usize); 8] = [
            ("get", hashes(|| filled().get(&key()).copied())),
            ("peek", hashes(|| filled().peek(&key()).copied())),
            ("contains_key", hashes(|| filled().contains_key(&key()))),
            ("update", hashes(|| filled().update(&key(), |v| *v += 1))),
            ("discard", hashes(|| filled().discard(&key()))),
            ("remove_entry", hashes(|| filled().remove_entry(&key()))),
            ("try_insert", hashes(|| filled().try_insert(key(), 7))),
            ("try_replace", hashes(|| filled().try_replace(key(), 7))),
        ];
        assert_each_once(&cases, id);
    }
}

#[test]
fn a_weak_key_map_hashes_each_key_once() {
    let stored: Vec<Rc<Key>> = (0..MAX).map(|id| Rc::new(Key::stored(id))).collect();
    let filled = || {
        let mut map = WeakKeyMap::<std::rc::Weak<Key>, u32>::lru_builder(MAX as usize).build();
        for key in &stored {
            map.insert(Rc::clone(key), key.id);
        }
        map
    };
    for id in [PRESENT, ABSENT] {
        let key = || Key::probe(id);
        let cases: [(&str, usize); 9] = [
            ("get", hashes(|| filled().get(&key()).copied())),
            ("get_mut", hashes(|| filled().get_mut(&key()).copied())),
            ("peek", hashes(|| filled().peek(&key()).copied())),
            ("contains_key", hashes(|| filled().contains_key(&key()))),
            ("update", hashes(|| filled().update(&key(), |v| *v += 1))),
            ("discard", hashes(|| filled().discard(&key()))),
            ("remove", hashes(|| filled().remove(&key()))),
            ("insert", hashes(|| filled().insert(Rc::new(key()), 7))),
            (
                "get_or_insert_with",
                hashes(|| *filled().get_or_insert_with(Rc::new(key()), || 7)),
            ),
        ];
        assert_each_once(&cases, id);
    }
}
