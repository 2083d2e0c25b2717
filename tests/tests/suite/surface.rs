//! One behaviour suite over every map kind: the shared surface (the README's method table)
//! has the same names, receivers and meaning everywhere, so a new kind or method cannot
//! drift. Each kind is driven through `Surface`, whose impls call the kinds' own inherent
//! methods by those names (no trait imported): a method missing on a kind fails to compile
//! here. Each contract then checks behaviour and the hooks' causes.

use std::rc::{Rc, Weak as RcWeak};
use std::sync::{Arc, Mutex, Weak as ArcWeak};
use std::time::Duration;

use mapguard::testing::MockClock;
use mapguard::{
    AdaptiveMap, BoundedMap, ConcurrentAdaptiveMap, ConcurrentBoundedMap, ConcurrentLruMap,
    ConcurrentWeakKeyMap, DefaultHashBuilder, Lifetime, LruMap, RemovalCause, WeakKeyMap,
};

const TTL: Duration = Duration::from_secs(60);

/// What the listener saw: (key, value, cause).
type Seen = Arc<Mutex<Vec<(u32, u64, RemovalCause)>>>;

/// The shared surface, as each kind spells it.
trait Surface {
    /// Whether a full map makes room by evicting (else it rejects new keys).
    const EVICTS: bool;
    /// Whether reads reorder (LRU): `get` makes an entry the most recent, `peek` does not.
    const READS_PROMOTE: bool;

    /// A map of `max` entries, `Lifetime::Request`, `ttl` on `clock`, reporting to `seen`.
    fn build(max: usize, clock: &MockClock, seen: &Seen) -> Self;
    /// `insert` (evicting kinds) or `try_insert` (bounded): whether the value is stored.
    fn put(&mut self, key: u32, value: u64) -> bool;
    fn get(&mut self, key: u32) -> Option<u64>;
    fn peek(&self, key: u32) -> Option<u64>;
    fn update(&mut self, key: u32, add: u64) -> Option<u64>;
    fn remove(&mut self, key: u32) -> Option<u64>;
    fn discard(&mut self, key: u32) -> bool;
    fn retain_even(&mut self);
    fn set_max(&mut self, max: usize);
    fn end_scope(&mut self, lifetime: Lifetime) -> usize;
    fn maintain(&mut self) -> usize;
    fn contains_key(&self, key: u32) -> bool;
    fn len(&self) -> usize;
    fn max(&self) -> usize;
    /// Every live entry, by iteration (`iter` or `for_each`), sorted.
    fn entries(&self) -> Vec<(u32, u64)>;
}

/// `get_or_insert_with`, where the kind has it (evicting kinds).
trait Loads: Surface {
    fn get_or_insert_with(&mut self, key: u32, make: impl FnOnce() -> u64) -> u64;
}

fn listener(seen: &Seen) -> impl Fn(u32, u64, RemovalCause) + Send + Sync + Clone + 'static {
    let seen = Arc::clone(seen);
    move |key, value, cause| seen.lock().unwrap().push((key, value, cause))
}

macro_rules! single_owner {
    ($name:ident, $map:ident, evicts: $evicts:expr, promotes: $promotes:expr, $put:ident) => {
        struct $name($map<u32, u64, DefaultHashBuilder, Box<dyn FnMut(u32, u64, RemovalCause)>, mapguard::expiry::Expiring>);

        impl Surface for $name {
            const EVICTS: bool = $evicts;
            const READS_PROMOTE: bool = $promotes;

            fn build(max: usize, clock: &MockClock, seen: &Seen) -> Self {
                let record = listener(seen);
                Self(
                    $map::builder(max)
                        .lifetime(Lifetime::Request)
                        .ttl(TTL)
                        .clock(clock.clone())
                        .listener(Box::new(record) as Box<dyn FnMut(u32, u64, RemovalCause)>)
                        .build(),
                )
            }
            fn put(&mut self, key: u32, value: u64) -> bool {
                single_owner!(@put $put, self.0, key, value)
            }
            fn get(&mut self, key: u32) -> Option<u64> {
                self.0.get(&key).copied()
            }
            fn peek(&self, key: u32) -> Option<u64> {
                self.0.peek(&key).copied()
            }
            fn update(&mut self, key: u32, add: u64) -> Option<u64> {
                self.0.update(&key, |value| {
                    *value += add;
                    *value
                })
            }
            fn remove(&mut self, key: u32) -> Option<u64> {
                self.0.remove(&key)
            }
            fn discard(&mut self, key: u32) -> bool {
                self.0.discard(&key)
            }
            fn retain_even(&mut self) {
                self.0.retain(|key, _| key % 2 == 0);
            }
            fn set_max(&mut self, max: usize) {
                self.0.set_max(max);
            }
            fn end_scope(&mut self, lifetime: Lifetime) -> usize {
                self.0.end_scope(lifetime)
            }
            fn maintain(&mut self) -> usize {
                self.0.maintain()
            }
            fn contains_key(&self, key: u32) -> bool {
                self.0.contains_key(&key)
            }
            fn len(&self) -> usize {
                self.0.len()
            }
            fn max(&self) -> usize {
                self.0.max()
            }
            fn entries(&self) -> Vec<(u32, u64)> {
                let mut entries: Vec<_> = self.0.iter().map(|(k, v)| (*k, *v)).collect();
                entries.sort_unstable();
                entries
            }
        }
    };
    (@put insert, $map:expr, $key:expr, $value:expr) => {{
        $map.insert($key, $value);
        true
    }};
    (@put try_insert, $map:expr, $key:expr, $value:expr) => {
        $map.try_insert($key, $value).is_ok()
    };
}

single_owner!(Lru, LruMap, evicts: true, promotes: true, insert);
single_owner!(Adaptive, AdaptiveMap, evicts: true, promotes: false, insert);
single_owner!(Bounded, BoundedMap, evicts: false, promotes: false, try_insert);

impl Loads for Lru {
    fn get_or_insert_with(&mut self, key: u32, make: impl FnOnce() -> u64) -> u64 {
        *self.0.get_or_insert_with(key, make)
    }
}

impl Loads for Adaptive {
    fn get_or_insert_with(&mut self, key: u32, make: impl FnOnce() -> u64) -> u64 {
        *self.0.get_or_insert_with(key, make)
    }
}

macro_rules! concurrent {
    ($name:ident, $map:ident, evicts: $evicts:expr, promotes: $promotes:expr, $put:ident) => {
        struct $name(
            $map<
                u32,
                u64,
                DefaultHashBuilder,
                Box<dyn Fn(u32, u64, RemovalCause) + Send + Sync>,
                mapguard::expiry::Expiring,
            >,
        );

        impl Surface for $name {
            const EVICTS: bool = $evicts;
            const READS_PROMOTE: bool = $promotes;

            fn build(max: usize, clock: &MockClock, seen: &Seen) -> Self {
                let record = listener(seen);
                Self(
                    $map::builder(max)
                        .shards(1)
                        .lifetime(Lifetime::Request)
                        .ttl(TTL)
                        .clock(clock.clone())
                        .listener(
                            Box::new(record) as Box<dyn Fn(u32, u64, RemovalCause) + Send + Sync>
                        )
                        .build(),
                )
            }
            fn put(&mut self, key: u32, value: u64) -> bool {
                concurrent!(@put $put, self.0, key, value)
            }
            fn get(&mut self, key: u32) -> Option<u64> {
                self.0.get(&key)
            }
            fn peek(&self, key: u32) -> Option<u64> {
                self.0.peek(&key)
            }
            fn update(&mut self, key: u32, add: u64) -> Option<u64> {
                self.0.update(&key, |value| {
                    *value += add;
                    *value
                })
            }
            fn remove(&mut self, key: u32) -> Option<u64> {
                self.0.remove(&key)
            }
            fn discard(&mut self, key: u32) -> bool {
                self.0.discard(&key)
            }
            fn retain_even(&mut self) {
                self.0.retain(|key, _| key % 2 == 0);
            }
            fn set_max(&mut self, max: usize) {
                self.0.set_max(max);
            }
            fn end_scope(&mut self, lifetime: Lifetime) -> usize {
                self.0.end_scope(lifetime)
            }
            fn maintain(&mut self) -> usize {
                self.0.maintain()
            }
            fn contains_key(&self, key: u32) -> bool {
                self.0.contains_key(&key)
            }
            fn len(&self) -> usize {
                self.0.len()
            }
            fn max(&self) -> usize {
                self.0.max()
            }
            fn entries(&self) -> Vec<(u32, u64)> {
                let mut entries = Vec::new();
                self.0.for_each(|k, v| entries.push((*k, *v)));
                entries.sort_unstable();
                entries
            }
        }
    };
    (@put insert, $map:expr, $key:expr, $value:expr) => {{
        $map.insert($key, $value);
        true
    }};
    (@put try_insert, $map:expr, $key:expr, $value:expr) => {
        $map.try_insert($key, $value).is_ok()
    };
}

concurrent!(ConcurrentLru, ConcurrentLruMap, evicts: true, promotes: true, insert);
concurrent!(ConcurrentAdaptive, ConcurrentAdaptiveMap, evicts: true, promotes: false, insert);
concurrent!(ConcurrentBounded, ConcurrentBoundedMap, evicts: false, promotes: false, try_insert);

impl Loads for ConcurrentLru {
    fn get_or_insert_with(&mut self, key: u32, make: impl FnOnce() -> u64) -> u64 {
        self.0.get_or_insert_with(key, make)
    }
}

type WeakHook = Box<dyn FnMut(RcWeak<u32>, u64, RemovalCause)>;
type SharedWeakHook = Box<dyn Fn(ArcWeak<u32>, u64, RemovalCause) + Send + Sync>;
/// A weak-keyed map keeps its keys alive in a pool: key `k` is `keys[k]`.
struct Weak {
    map: WeakKeyMap<
        RcWeak<u32>,
        u64,
        mapguard::policy::Lru,
        DefaultHashBuilder,
        WeakHook,
        mapguard::expiry::Expiring,
    >,
    keys: Vec<Rc<u32>>,
}

impl Surface for Weak {
    const EVICTS: bool = true;
    const READS_PROMOTE: bool = true;

    fn build(max: usize, clock: &MockClock, seen: &Seen) -> Self {
        let record = listener(seen);
        let forward: WeakHook = Box::new(move |key: RcWeak<u32>, value, cause| {
            record(key.upgrade().map_or(u32::MAX, |k| *k), value, cause);
        });
        Self {
            map: WeakKeyMap::lru_builder(max)
                .lifetime(Lifetime::Request)
                .ttl(TTL)
                .clock(clock.clone())
                .listener(forward)
                .build(),
            keys: (0..64).map(Rc::new).collect(),
        }
    }
    fn put(&mut self, key: u32, value: u64) -> bool {
        self.map.insert(Rc::clone(&self.keys[key as usize]), value);
        true
    }
    fn get(&mut self, key: u32) -> Option<u64> {
        self.map.get(&key).copied()
    }
    fn peek(&self, key: u32) -> Option<u64> {
        self.map.peek(&key).copied()
    }
    fn update(&mut self, key: u32, add: u64) -> Option<u64> {
        self.map.update(&key, |value| {
            *value += add;
            *value
        })
    }
    fn remove(&mut self, key: u32) -> Option<u64> {
        self.map.remove(&key)
    }
    fn discard(&mut self, key: u32) -> bool {
        self.map.discard(&key)
    }
    fn retain_even(&mut self) {
        self.map.retain(|key, _| **key % 2 == 0);
    }
    fn set_max(&mut self, max: usize) {
        self.map.set_max(max);
    }
    fn end_scope(&mut self, lifetime: Lifetime) -> usize {
        self.map.end_scope(lifetime)
    }
    fn maintain(&mut self) -> usize {
        self.map.maintain()
    }
    fn contains_key(&self, key: u32) -> bool {
        self.map.contains_key(&key)
    }
    fn len(&self) -> usize {
        self.map.len()
    }
    fn max(&self) -> usize {
        self.map.max()
    }
    fn entries(&self) -> Vec<(u32, u64)> {
        let mut entries: Vec<_> = self.map.iter().map(|(k, v)| (*k, *v)).collect();
        entries.sort_unstable();
        entries
    }
}

impl Loads for Weak {
    fn get_or_insert_with(&mut self, key: u32, make: impl FnOnce() -> u64) -> u64 {
        *self
            .map
            .get_or_insert_with(Rc::clone(&self.keys[key as usize]), make)
    }
}

/// The shared concurrent weak-keyed map, keys in a pool as for `Weak`.
struct SharedWeak {
    map: ConcurrentWeakKeyMap<
        ArcWeak<u32>,
        u64,
        mapguard::policy::Lru,
        DefaultHashBuilder,
        SharedWeakHook,
        mapguard::expiry::Expiring,
    >,
    keys: Vec<Arc<u32>>,
}

impl Surface for SharedWeak {
    const EVICTS: bool = true;
    const READS_PROMOTE: bool = true;

    fn build(max: usize, clock: &MockClock, seen: &Seen) -> Self {
        let record = listener(seen);
        let forward: SharedWeakHook = Box::new(move |key: ArcWeak<u32>, value, cause| {
            record(key.upgrade().map_or(u32::MAX, |k| *k), value, cause);
        });
        Self {
            map: ConcurrentWeakKeyMap::lru_builder(max)
                .shards(1)
                .lifetime(Lifetime::Request)
                .ttl(TTL)
                .clock(clock.clone())
                .listener(forward)
                .build(),
            keys: (0..64).map(Arc::new).collect(),
        }
    }
    fn put(&mut self, key: u32, value: u64) -> bool {
        self.map.insert(Arc::clone(&self.keys[key as usize]), value);
        true
    }
    fn get(&mut self, key: u32) -> Option<u64> {
        self.map.get(&key)
    }
    fn peek(&self, key: u32) -> Option<u64> {
        self.map.peek(&key)
    }
    fn update(&mut self, key: u32, add: u64) -> Option<u64> {
        self.map.update(&key, |value| {
            *value += add;
            *value
        })
    }
    fn remove(&mut self, key: u32) -> Option<u64> {
        self.map.remove(&key)
    }
    fn discard(&mut self, key: u32) -> bool {
        self.map.discard(&key)
    }
    fn retain_even(&mut self) {
        self.map.retain(|key, _| **key % 2 == 0);
    }
    fn set_max(&mut self, max: usize) {
        self.map.set_max(max);
    }
    fn end_scope(&mut self, lifetime: Lifetime) -> usize {
        self.map.end_scope(lifetime)
    }
    fn maintain(&mut self) -> usize {
        self.map.maintain()
    }
    fn contains_key(&self, key: u32) -> bool {
        self.map.contains_key(&key)
    }
    fn len(&self) -> usize {
        self.map.len()
    }
    fn max(&self) -> usize {
        self.map.max()
    }
    fn entries(&self) -> Vec<(u32, u64)> {
        let mut entries = Vec::new();
        self.map.for_each(|k, v| entries.push((**k, *v)));
        entries.sort_unstable();
        entries
    }
}

impl Loads for SharedWeak {
    fn get_or_insert_with(&mut self, key: u32, make: impl FnOnce() -> u64) -> u64 {
        self.map
            .get_or_insert_with(Arc::clone(&self.keys[key as usize]), make)
    }
}

// ---- the contract ------------------------------------------------------------------------------

fn setup<S: Surface>(max: usize) -> (S, MockClock, Seen) {
    let (clock, seen) = (MockClock::new(), Seen::default());
    (S::build(max, &clock, &seen), clock, seen)
}

fn causes(seen: &Seen) -> Vec<(u32, RemovalCause)> {
    let mut causes: Vec<_> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|&(k, _, c)| (k, c))
        .collect();
    causes.sort_unstable();
    causes
}

fn reads_and_writes<S: Surface>() {
    let (mut map, _clock, seen) = setup::<S>(8);
    assert!(map.put(1, 10) && map.put(2, 20));
    assert_eq!(
        (map.len(), map.get(1), map.peek(2)),
        (2, Some(10), Some(20))
    );
    assert_eq!(map.get(9), None);
    assert!(map.contains_key(1) && !map.contains_key(9));
    assert_eq!(map.update(1, 5), Some(15));
    assert_eq!(map.update(9, 5), None);
    assert_eq!(map.peek(1), Some(15));
    assert!(
        map.put(2, 21),
        "a present key is updated even by a bounded map"
    );
    assert_eq!(causes(&seen), [(2, RemovalCause::Replaced)]);
    assert_eq!(map.entries(), [(1, 15), (2, 21)]);
}

fn remove_hands_back_and_discard_cleans<S: Surface>() {
    let (mut map, _clock, seen) = setup::<S>(8);
    map.put(1, 10);
    map.put(2, 20);
    assert_eq!(map.remove(1), Some(10));
    assert_eq!(map.remove(1), None);
    assert!(causes(&seen).is_empty(), "remove runs no hook");
    assert!(map.discard(2));
    assert!(!map.discard(2));
    assert_eq!(causes(&seen), [(2, RemovalCause::Explicit)]);
    assert_eq!(map.len(), 0);
}

fn retain_keeps_and_cleans<S: Surface>() {
    let (mut map, _clock, seen) = setup::<S>(8);
    (0..6).for_each(|k| assert!(map.put(k, u64::from(k))));
    map.retain_even();
    assert_eq!(map.entries(), [(0, 0), (2, 2), (4, 4)]);
    assert_eq!(
        causes(&seen),
        [
            (1, RemovalCause::Explicit),
            (3, RemovalCause::Explicit),
            (5, RemovalCause::Explicit)
        ]
    );
}

fn the_bound_and_set_max<S: Surface>() {
    let (mut map, _clock, seen) = setup::<S>(4);
    (0..4).for_each(|k| assert!(map.put(k, u64::from(k))));
    assert_eq!(map.put(9, 9), S::EVICTS, "full: evict or reject");
    assert_eq!(map.len(), 4);
    seen.lock().unwrap().clear();
    map.set_max(2);
    assert_eq!(map.max(), 2);
    if S::EVICTS {
        assert_eq!(map.len(), 2, "an evicting map evicts down to the new bound");
        let evicted = causes(&seen);
        assert_eq!(evicted.len(), 2);
        assert!(
            evicted
                .iter()
                .all(|&(_, cause)| cause == RemovalCause::Evicted)
        );
    } else {
        assert_eq!(map.len(), 4, "a bounded map keeps every entry");
        assert!(causes(&seen).is_empty());
        assert!(
            !map.put(10, 10),
            "and rejects new keys while over the bound"
        );
        assert!(map.discard(0) && map.discard(1) && map.discard(2));
        assert!(map.put(10, 10), "under the bound again");
    }
    map.set_max(8);
    assert!(map.put(20, 20) && map.put(21, 21));
}

fn get_promotes_only_where_reads_reorder<S: Surface>() {
    let (mut map, _clock, _seen) = setup::<S>(2);
    map.put(1, 1);
    map.put(2, 2);
    assert_eq!(map.peek(1), Some(1));
    assert_eq!(map.get(1), Some(1));
    map.put(3, 3);
    if S::READS_PROMOTE {
        assert!(map.contains_key(1), "get made 1 the most recent");
        assert!(!map.contains_key(2), "so 2 was the least recently used");
    }
}

fn peek_does_not_promote<S: Surface>() {
    let (mut map, _clock, _seen) = setup::<S>(2);
    map.put(1, 1);
    map.put(2, 2);
    assert_eq!(map.peek(1), Some(1));
    map.put(3, 3);
    if S::READS_PROMOTE {
        assert!(!map.contains_key(1), "peek left 1 the least recently used");
    }
}

fn scopes_and_maintenance<S: Surface>() {
    let (mut map, clock, seen) = setup::<S>(8);
    map.put(1, 1);
    map.put(2, 2);
    assert_eq!(map.end_scope(Lifetime::Session), 0, "another lifetime");
    assert_eq!(map.end_scope(Lifetime::Request), 2);
    assert_eq!(
        causes(&seen),
        [(1, RemovalCause::ScopeEnded), (2, RemovalCause::ScopeEnded)]
    );
    seen.lock().unwrap().clear();
    map.put(3, 3);
    clock.advance(TTL + Duration::from_secs(1));
    assert_eq!(map.maintain(), 1);
    assert_eq!(causes(&seen), [(3, RemovalCause::Expired)]);
    assert_eq!(map.len(), 0);
}

fn get_or_insert_with_loads_once<S: Loads>() {
    let (mut map, _clock, _seen) = setup::<S>(8);
    let mut loads = 0;
    for _ in 0..3 {
        let value = map.get_or_insert_with(7, || {
            loads += 1;
            70
        });
        assert_eq!(value, 70);
    }
    assert_eq!(loads, 1);
    assert_eq!(map.entries(), [(7, 70)]);
}

macro_rules! suite {
    ($($module:ident: $kind:ty;)*) => {$(
        mod $module {
            use super::*;

            #[test]
            fn reads_and_writes() {
                super::reads_and_writes::<$kind>();
            }
            #[test]
            fn remove_hands_back_and_discard_cleans() {
                super::remove_hands_back_and_discard_cleans::<$kind>();
            }
            #[test]
            fn retain_keeps_and_cleans() {
                super::retain_keeps_and_cleans::<$kind>();
            }
            #[test]
            fn the_bound_and_set_max() {
                super::the_bound_and_set_max::<$kind>();
            }
            #[test]
            fn get_promotes_only_where_reads_reorder() {
                super::get_promotes_only_where_reads_reorder::<$kind>();
            }
            #[test]
            fn peek_does_not_promote() {
                super::peek_does_not_promote::<$kind>();
            }
            #[test]
            fn scopes_and_maintenance() {
                super::scopes_and_maintenance::<$kind>();
            }
        }
    )*};
}

suite! {
    lru: Lru;
    adaptive: Adaptive;
    bounded: Bounded;
    weak: Weak;
    concurrent_lru: ConcurrentLru;
    concurrent_adaptive: ConcurrentAdaptive;
    concurrent_bounded: ConcurrentBounded;
    concurrent_weak: SharedWeak;
}

#[test]
fn get_or_insert_with_on_every_evicting_kind() {
    get_or_insert_with_loads_once::<Lru>();
    get_or_insert_with_loads_once::<Adaptive>();
    get_or_insert_with_loads_once::<Weak>();
    get_or_insert_with_loads_once::<ConcurrentLru>();
    get_or_insert_with_loads_once::<SharedWeak>();
}
