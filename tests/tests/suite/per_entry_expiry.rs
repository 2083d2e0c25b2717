//! Per-entry expiry on every kind: a model test over deadlines given one entry at a time
//! (`insert_with_ttl`, `set_ttl`) on a mock clock, and the cases: 1 s beside 1 h, a
//! policy that keeps some keys forever, a full map that lets an expired entry go before a
//! live one, tokio's paused clock, and a Redis-style server field.

use std::collections::HashMap;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mapguard::expiry::{ExpireAfter, OnlyWhenSet};
use mapguard::testing::MockClock;
use mapguard::{
    AdaptiveMap, BoundedMap, ConcurrentAdaptiveMap, ConcurrentBoundedMap, ConcurrentLruMap,
    ConcurrentWeakKeyMap, LruMap, RemovalCause, WeakKeyMap,
};
use proptest::prelude::*;

/// Every value that left, by id, with its cause.
type Log = Arc<Mutex<Vec<(u64, RemovalCause)>>>;

const SECOND: Duration = Duration::from_secs(1);

/// One map of any kind, keyed by `u8`, holding value ids.
trait Subject {
    fn insert(&mut self, key: u8, id: u64);
    fn insert_with_ttl(&mut self, key: u8, id: u64, ttl: Duration);
    fn set_ttl(&mut self, key: u8, ttl: Option<Duration>) -> bool;
    fn get(&mut self, key: u8) -> Option<u64>;
    fn ttl_of(&self, key: u8) -> Option<Duration>;
    fn maintain(&mut self);
}

/// A map and the strong keys that keep its weak keys alive.
#[mapguard::unmanaged(reason = "a test's keys: at most the 256 `u8`s")]
struct Held<M, Key> {
    map: M,
    keys: HashMap<u8, Key>,
    make: fn(u8) -> Key,
}

impl<M, Key: Clone> Held<M, Key> {
    fn key(&mut self, key: u8) -> Key {
        let make = self.make;
        self.keys.entry(key).or_insert_with(|| make(key)).clone()
    }
}

macro_rules! subject {
    ($map:ty, $key:ty, $listener:path, insert: $insert:ident, insert_ttl: $insert_ttl:ident $(, $unwrap:ident)?) => {
        impl<L: $listener + 'static> Subject for Held<$map, $key> {
            fn insert(&mut self, key: u8, id: u64) {
                let key = self.key(key);
                let _stored = self.map.$insert(key, id);
                $(_stored.$unwrap();)?
            }
            fn insert_with_ttl(&mut self, key: u8, id: u64, ttl: Duration) {
                let key = self.key(key);
                let _stored = self.map.$insert_ttl(key, id, ttl);
                $(_stored.$unwrap();)?
            }
            fn set_ttl(&mut self, key: u8, ttl: Option<Duration>) -> bool {
                self.map.set_ttl(&key, ttl)
            }
            fn get(&mut self, key: u8) -> Option<u64> {
                #[allow(clippy::clone_on_copy, reason = "some kinds hand back a reference")]
                self.map.get(&key).map(|id| id.clone())
            }
            fn ttl_of(&self, key: u8) -> Option<Duration> {
                self.map.ttl_of(&key)
            }
            fn maintain(&mut self) {
                mapguard::ManagedCache::maintain(&mut self.map);
            }
        }
    };
}

type Expiring = mapguard::expiry::Expiring;
type Hasher = mapguard::DefaultHashBuilder;
use mapguard::hooks::{ConcurrentListener, RemovalListener};
use mapguard::policy::{Lru as LruPolicy, Reject};

subject!(LruMap<u8, u64, Hasher, L, Expiring>, u8, RemovalListener<u8, u64>, insert: insert, insert_ttl: insert_with_ttl);
subject!(AdaptiveMap<u8, u64, Hasher, L, Expiring>, u8, RemovalListener<u8, u64>, insert: insert, insert_ttl: insert_with_ttl);
subject!(BoundedMap<u8, u64, Hasher, L, Expiring>, u8, RemovalListener<u8, u64>, insert: try_insert, insert_ttl: try_insert_with_ttl, unwrap);
subject!(WeakKeyMap<std::rc::Weak<u8>, u64, LruPolicy, Hasher, L, Expiring>, Rc<u8>, RemovalListener<std::rc::Weak<u8>, u64>, insert: insert, insert_ttl: insert_with_ttl);
subject!(WeakKeyMap<std::rc::Weak<u8>, u64, Reject, Hasher, L, Expiring>, Rc<u8>, RemovalListener<std::rc::Weak<u8>, u64>, insert: try_insert, insert_ttl: try_insert_with_ttl, unwrap);
subject!(ConcurrentLruMap<u8, u64, Hasher, L, Expiring>, u8, ConcurrentListener<u8, u64>, insert: insert, insert_ttl: insert_with_ttl);
subject!(ConcurrentAdaptiveMap<u8, u64, Hasher, L, Expiring>, u8, ConcurrentListener<u8, u64>, insert: insert, insert_ttl: insert_with_ttl);
subject!(ConcurrentBoundedMap<u8, u64, Hasher, L, Expiring>, u8, ConcurrentListener<u8, u64>, insert: try_insert, insert_ttl: try_insert_with_ttl, unwrap);
subject!(ConcurrentWeakKeyMap<std::sync::Weak<u8>, u64, LruPolicy, Hasher, L, Expiring>, Arc<u8>, ConcurrentListener<std::sync::Weak<u8>, u64>, insert: insert, insert_ttl: insert_with_ttl);

fn logger<K>(log: &Log) -> impl Fn(K, u64, RemovalCause) + Send + Sync + 'static {
    let log = Arc::clone(log);
    move |_, id, cause| log.lock().unwrap().push((id, cause))
}

fn held<M, Key>(map: M, make: fn(u8) -> Key) -> Held<M, Key> {
    Held {
        map,
        keys: HashMap::new(),
        make,
    }
}

/// One map of each kind on `clock`, logging into `log`; concurrent ones with four shards, or
/// one for a small `max` (where a full shard is then a full map).
fn every_kind<C: mapguard::expiry::Clock + Clone + 'static>(
    log: &Log,
    clock: &C,
    max: usize,
) -> Vec<(&'static str, Box<dyn Subject>)> {
    let shards = if max < 16 { 1 } else { 4 };
    macro_rules! kind {
        ($name:literal, $builder:expr, $make:expr) => {
            (
                $name,
                Box::new(held(
                    $builder
                        .expire_after(OnlyWhenSet)
                        .clock(clock.clone())
                        .on_removal(logger(log))
                        .build(),
                    $make,
                )) as Box<dyn Subject>,
            )
        };
    }
    vec![
        kind!("LruMap", LruMap::builder(max), |k| k),
        kind!("AdaptiveMap", AdaptiveMap::builder(max), |k| k),
        kind!("BoundedMap", BoundedMap::builder(max), |k| k),
        kind!("WeakKeyMap", WeakKeyMap::lru_builder(max), Rc::new),
        kind!(
            "bounded WeakKeyMap",
            WeakKeyMap::bounded_builder(max),
            Rc::new
        ),
        kind!(
            "ConcurrentLruMap",
            ConcurrentLruMap::builder(max).shards(shards),
            |k| k
        ),
        kind!(
            "ConcurrentAdaptiveMap",
            ConcurrentAdaptiveMap::builder(max).shards(shards),
            |k| k
        ),
        kind!(
            "ConcurrentBoundedMap",
            ConcurrentBoundedMap::builder(max).shards(shards),
            |k| k
        ),
        kind!(
            "ConcurrentWeakKeyMap",
            ConcurrentWeakKeyMap::lru_builder(max).shards(shards),
            Arc::new
        ),
    ]
}

fn causes_of(log: &Log, id: u64) -> Vec<RemovalCause> {
    log.lock()
        .unwrap()
        .iter()
        .filter(|(left, _)| *left == id)
        .map(|(_, cause)| *cause)
        .collect()
}

#[test]
fn on_every_kind_a_1s_entry_expires_beside_a_1h_one() {
    for max in [64, 2] {
        let (log, clock) = (Log::default(), MockClock::new());
        for (kind, mut map) in every_kind(&log, &clock, max) {
            log.lock().unwrap().clear();
            map.insert_with_ttl(1, 10, SECOND);
            map.insert_with_ttl(2, 20, Duration::from_secs(3600));
            assert_eq!(map.ttl_of(1), Some(SECOND), "{kind}");
            clock.advance(2 * SECOND);
            assert_eq!(map.get(1), None, "{kind}");
            assert_eq!(map.get(2), Some(20), "{kind}");
            map.maintain();
            assert_eq!(causes_of(&log, 10), [RemovalCause::Expired], "{kind}");
            assert!(causes_of(&log, 20).is_empty(), "{kind}");
            drop(map);
            assert_eq!(causes_of(&log, 20), [RemovalCause::Dropped], "{kind}");
        }
    }
}

#[test]
fn on_every_kind_an_entry_given_no_deadline_stays_and_set_ttl_moves_one() {
    let (log, clock) = (Log::default(), MockClock::new());
    for (kind, mut map) in every_kind(&log, &clock, 64) {
        map.insert(1, 1);
        map.insert_with_ttl(2, 2, SECOND);
        map.insert_with_ttl(3, 3, SECOND);
        assert!(map.set_ttl(2, None), "{kind}");
        assert!(map.set_ttl(1, Some(3 * SECOND)), "{kind}");
        assert!(!map.set_ttl(9, None), "{kind}");
        clock.advance(2 * SECOND);
        assert_eq!(
            [map.get(1), map.get(2), map.get(3)],
            [Some(1), Some(2), None],
            "{kind}"
        );
        clock.advance(2 * SECOND);
        assert_eq!(map.get(1), None, "{kind}");
        assert_eq!(map.ttl_of(2), None, "{kind}");
        clock.advance(Duration::from_secs(365 * 24 * 3600));
        assert_eq!(map.get(2), Some(2), "{kind}");
    }
}

/// Only guests expire.
struct GuestsExpire;

impl ExpireAfter<u8, u64> for GuestsExpire {
    fn after_create(&self, key: &u8, _: &u64, _: Duration) -> Option<Duration> {
        (*key >= 100).then_some(SECOND)
    }
}

#[test]
fn a_policy_that_gives_some_keys_no_deadline_keeps_them() {
    let clock = MockClock::new();
    let mut lru = LruMap::builder(8)
        .expire_after(GuestsExpire)
        .clock(clock.clone())
        .build();
    let shared = ConcurrentLruMap::builder(8)
        .expire_after(GuestsExpire)
        .clock(clock.clone())
        .build();
    for key in [1, 100] {
        lru.insert(key, u64::from(key));
        shared.insert(key, u64::from(key));
    }
    clock.advance(2 * SECOND);
    assert_eq!(lru.get(&1), Some(&1));
    assert_eq!(lru.get(&100), None);
    assert_eq!((shared.get(&1), shared.get(&100)), (Some(1), None));
}

/// Entries live one second; a read would give them an hour, but the policy says reads move
/// no deadline, so `after_read` must never be asked.
struct ReadsIgnored;

impl ExpireAfter<u8, u64> for ReadsIgnored {
    fn after_create(&self, _: &u8, _: &u64, _: Duration) -> Option<Duration> {
        Some(SECOND)
    }
    fn after_read(&self, _: &u8, _: &u64, _: Duration, _: Option<Duration>) -> Option<Duration> {
        Some(3600 * SECOND)
    }
    fn reads_move_deadlines(&self) -> bool {
        false
    }
}

#[test]
fn a_policy_whose_reads_move_no_deadline_is_not_asked_on_reads() {
    let clock = MockClock::new();
    let mut lru = LruMap::builder(8)
        .expire_after(ReadsIgnored)
        .clock(clock.clone())
        .build();
    let shared = ConcurrentLruMap::builder(8)
        .expire_after(ReadsIgnored)
        .clock(clock.clone())
        .build();
    lru.insert(1, 1);
    shared.insert(1, 1);
    // Every read path: `get`, `get_mut`, an occupied entry, and the shared map's `get`.
    assert_eq!(lru.get(&1), Some(&1));
    assert_eq!(lru.get_mut(&1).copied(), Some(1));
    assert!(matches!(lru.entry(1), mapguard::map::Entry::Occupied(_)));
    assert_eq!(shared.get(&1), Some(1));
    assert_eq!(lru.ttl_of(&1), Some(SECOND));
    assert_eq!(shared.ttl_of(&1), Some(SECOND));
    clock.advance(2 * SECOND);
    assert_eq!((lru.get(&1), shared.get(&1)), (None, None));
}

#[test]
fn a_full_map_lets_an_expired_entry_go_before_a_live_one() {
    let (log, clock) = (Log::default(), MockClock::new());
    let kinds = every_kind(&log, &clock, 2);
    for (kind, mut map) in kinds {
        log.lock().unwrap().clear();
        map.insert(1, 1); // least recent, never expires
        map.insert_with_ttl(2, 2, SECOND); // most recent, expires
        map.get(2);
        clock.advance(2 * SECOND);
        map.insert(3, 3); // needs room
        assert_eq!(causes_of(&log, 2), [RemovalCause::Expired], "{kind}");
        assert!(
            causes_of(&log, 1).is_empty(),
            "{kind}: a live entry was evicted"
        );
        assert_eq!((map.get(1), map.get(3)), (Some(1), Some(3)), "{kind}");
    }
}

#[test]
fn an_expired_entry_gives_its_weight_back_to_the_next_insert_that_needs_room() {
    let clock = MockClock::new();
    let mut left = Vec::new();
    let mut pages = LruMap::builder(100)
        .expire_after(OnlyWhenSet)
        .clock(clock.clone())
        .weigher(|_: &u8, page: &Vec<u8>| page.len() as u64)
        .max_weight(100)
        .on_removal(|key, _, cause| left.push((key, cause)))
        .build();
    pages.insert(1, vec![0; 40]);
    pages.insert_with_ttl(2, vec![0; 50], SECOND);
    pages.get(&2);
    clock.advance(2 * SECOND);
    pages.insert(3, vec![0; 50]);
    assert_eq!(pages.weight(), 90);
    drop(pages);
    assert_eq!(left[0], (2, RemovalCause::Expired));
    assert!(
        left.iter()
            .all(|&(key, cause)| key != 1 || cause == RemovalCause::Dropped)
    );
}

#[tokio::test(start_paused = true)]
async fn tokio_paused_time_expires_entries_of_every_kind() {
    use mapguard::expiry::TokioClock;
    let (log, clock) = (Log::default(), TokioClock::default());
    for (kind, mut map) in every_kind(&log, &clock, 64) {
        log.lock().unwrap().clear();
        map.insert_with_ttl(1, 10, SECOND);
        map.insert_with_ttl(2, 20, Duration::from_secs(3600));
        tokio::time::advance(2 * SECOND).await;
        assert_eq!(map.get(1), None, "{kind}");
        assert_eq!(map.get(2), Some(20), "{kind}");
        map.maintain();
        assert_eq!(causes_of(&log, 10), [RemovalCause::Expired], "{kind}");
    }
    // A map-wide `ttl` on tokio's clock too.
    let mut lru = LruMap::builder(8)
        .ttl(SECOND)
        .clock(TokioClock::default())
        .build();
    lru.insert("a", 1);
    tokio::time::advance(2 * SECOND).await;
    assert_eq!(lru.get("a"), None);
}

/// The shape of a Redis-like server: `SET key value EX n` on a shared field, with no sweep.
#[mapguard::managed]
#[derive(Default)]
struct KeyValueServer {
    #[managed_map(
        lifetime = "process",
        max = 10_000,
        concurrent,
        expire_after = mapguard::expiry::OnlyWhenSet,
        clock = mapguard::expiry::TokioClock,
        on_remove = count_expired
    )]
    keys: HashMap<String, String>,
}

static EXPIRED_KEYS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

#[allow(
    clippy::needless_pass_by_value,
    reason = "on_remove hooks receive values by value"
)]
fn count_expired(_key: String, _value: String, cause: RemovalCause) {
    if cause == RemovalCause::Expired {
        EXPIRED_KEYS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

#[tokio::test(start_paused = true)]
async fn a_redis_style_server_needs_no_sweep_of_its_own() {
    let server = KeyValueServer::default();
    for i in 0..1_000 {
        // SET k v EX 10 for half the keys; the rest never expire.
        if i % 2 == 0 {
            server
                .keys
                .insert_with_ttl(format!("k{i}"), format!("v{i}"), 10 * SECOND);
        } else {
            server.keys.insert(format!("k{i}"), format!("v{i}"));
        }
    }
    tokio::time::advance(11 * SECOND).await;
    assert_eq!(server.keys.get("k0"), None);
    assert_eq!(server.keys.get("k1").as_deref(), Some("v1"));
    // Writes take the expired keys out as they go; no full-map pass.
    for i in 0..1_000 {
        server.keys.insert(format!("new{i}"), String::new());
    }
    // The 500 keys without a deadline and the 1,000 new ones.
    assert_eq!(server.keys.len(), 1_500);
    assert_eq!(EXPIRED_KEYS.load(std::sync::atomic::Ordering::Relaxed), 500);
}

#[derive(Clone, Debug)]
enum Op {
    Insert(u8),
    InsertWithTtl(u8, u64),
    SetTtl(u8, Option<u64>),
    Get(u8),
    TtlOf(u8),
    Advance(u64),
    Maintain,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..8u8).prop_map(Op::Insert),
        4 => (0..8u8, 1..20u64).prop_map(|(key, ttl)| Op::InsertWithTtl(key, ttl)),
        2 => (0..8u8, proptest::option::of(1..20u64)).prop_map(|(key, ttl)| Op::SetTtl(key, ttl)),
        4 => (0..8u8).prop_map(Op::Get),
        1 => (0..8u8).prop_map(Op::TtlOf),
        3 => (1..10u64).prop_map(Op::Advance),
        1 => Just(Op::Maintain),
    ]
}

/// What the map should hold, in whole seconds: key -> value id, and each id's deadline.
#[derive(Default)]
#[mapguard::unmanaged(reason = "a test's model: one entry per value inserted, bounded by the case")]
struct Model {
    now: u64,
    held: HashMap<u8, u64>,
    deadlines: HashMap<u64, Option<u64>>,
}

impl Model {
    fn expired(&self, id: u64) -> bool {
        self.deadlines[&id].is_some_and(|at| at <= self.now)
    }

    fn live(&self, key: u8) -> Option<u64> {
        self.held.get(&key).copied().filter(|&id| !self.expired(id))
    }
}

fn run(kind: &str, map: &mut dyn Subject, log: &Log, clock: &MockClock, ops: &[Op]) -> u64 {
    let mut model = Model::default();
    let mut next_id = 0;
    let mut seen = 0;
    for op in ops {
        match *op {
            Op::Insert(key) => {
                next_id += 1;
                // A plain write keeps a live entry's deadline; a new entry has none.
                let deadline = model.live(key).and_then(|id| model.deadlines[&id]);
                map.insert(key, next_id);
                model.held.insert(key, next_id);
                model.deadlines.insert(next_id, deadline);
            }
            Op::InsertWithTtl(key, ttl) => {
                next_id += 1;
                map.insert_with_ttl(key, next_id, Duration::from_secs(ttl));
                model.held.insert(key, next_id);
                model.deadlines.insert(next_id, Some(model.now + ttl));
            }
            Op::SetTtl(key, ttl) => {
                let live = model.live(key);
                assert_eq!(
                    map.set_ttl(key, ttl.map(Duration::from_secs)),
                    live.is_some(),
                    "{kind}"
                );
                if let Some(id) = live {
                    model.deadlines.insert(id, ttl.map(|ttl| model.now + ttl));
                }
            }
            Op::Get(key) => {
                assert_eq!(map.get(key), model.live(key), "{kind}: get {key}");
            }
            Op::TtlOf(key) => {
                let left = model
                    .live(key)
                    .and_then(|id| model.deadlines[&id])
                    .map(|at| Duration::from_secs(at - model.now));
                assert_eq!(map.ttl_of(key), left, "{kind}: ttl_of {key}");
            }
            Op::Advance(seconds) => {
                clock.advance(Duration::from_secs(seconds));
                model.now += seconds;
            }
            Op::Maintain => map.maintain(),
        }
        // What left since the last step left rightly: an expired value as `Expired`, a live
        // one only as `Replaced`; nothing is evicted (the map has room).
        let log = log.lock().unwrap();
        for &(id, cause) in &log[seen..] {
            match cause {
                RemovalCause::Expired => assert!(model.expired(id), "{kind}: {id} expired early"),
                RemovalCause::Replaced => {
                    assert!(!model.expired(id), "{kind}: {id} replaced after expiring");
                }
                other => panic!("{kind}: {id} left with {other:?}"),
            }
        }
        seen = log.len();
        for id in model.held.keys().filter_map(|&key| model.live(key)) {
            assert!(
                log.iter().all(|&(left, _)| left != id),
                "{kind}: live {id} left"
            );
        }
    }
    next_id
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_kind_follows_a_model_of_per_entry_deadlines(ops in prop::collection::vec(op(), 1..80)) {
        let clock = MockClock::new();
        let log = Log::default();
        for (kind, mut map) in every_kind(&log, &clock, 64) {
            log.lock().unwrap().clear();
            let inserted = run(kind, &mut *map, &log, &clock, &ops);
            drop(map);
            // Every value left exactly once by the end.
            let log = log.lock().unwrap();
            let mut ids: Vec<u64> = log.iter().map(|&(id, _)| id).collect();
            ids.sort_unstable();
            prop_assert_eq!(ids, (1..=inserted).collect::<Vec<_>>(), "{}", kind);
        }
    }
}

/// Each value carries its own deadline, which the policy gives back: the test knows exactly
/// when each entry expires, while the clock moves under it.
struct CarriedDeadline;

impl ExpireAfter<u64, (u64, Duration)> for CarriedDeadline {
    fn after_create(&self, _: &u64, value: &(u64, Duration), now: Duration) -> Option<Duration> {
        Some(value.1.saturating_sub(now))
    }
    fn after_update(
        &self,
        key: &u64,
        value: &(u64, Duration),
        now: Duration,
        _left: Option<Duration>,
    ) -> Option<Duration> {
        self.after_create(key, value, now)
    }
}

/// Eight threads write entries with deadlines of their own and read them back while a ninth
/// moves the clock: no read returns an entry past its deadline, and every value leaves
/// exactly once, expired ones as `Expired` and only once past their deadline.
macro_rules! stress {
    ($map:ident, $insert:ident $(, $unwrap:ident)?) => {{
    const THREADS: u64 = 8;
    const WRITES: u64 = 2_000;
    let clock = MockClock::new();
    let left: Arc<Mutex<Vec<(u64, RemovalCause, bool)>>> = Arc::default();
    let map = {
        let (left, clock) = (Arc::clone(&left), clock.clone());
        let at = clock.clone();
        $map::builder(4_096)
            .shards(8)
            .expire_after(CarriedDeadline)
            .clock(clock)
            .on_removal(move |_: u64, (id, deadline): (u64, Duration), cause| {
                let past = deadline <= mapguard::expiry::Clock::now(&at);
                left.lock().unwrap().push((id, cause, past));
            })
            .build()
    };
    let map = Arc::new(map);
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let ticker = {
        let (clock, done) = (clock.clone(), Arc::clone(&done));
        std::thread::spawn(move || {
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                clock.advance(Duration::from_millis(3));
                std::thread::yield_now();
            }
        })
    };
    let writers: Vec<_> = (0..THREADS)
        .map(|thread| {
            let (map, clock) = (Arc::clone(&map), clock.clone());
            std::thread::spawn(move || {
                for i in 0..WRITES {
                    let id = thread * WRITES + i;
                    let ttl = Duration::from_millis(1 + id % 50);
                    let deadline = mapguard::expiry::Clock::now(&clock) + ttl;
                    let _stored = map.$insert(id % 3_000, (id, deadline));
                    $(_stored.$unwrap();)?
                    let before = mapguard::expiry::Clock::now(&clock);
                    if let Some((_, deadline)) = map.get(&((id + 7) % 3_000)) {
                        assert!(deadline > before, "a read returned an expired entry");
                    }
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    ticker.join().unwrap();
    drop(Arc::into_inner(map).unwrap());
    let left = left.lock().unwrap();
    let mut ids: Vec<u64> = left.iter().map(|&(id, ..)| id).collect();
    ids.sort_unstable();
    assert_eq!(ids, (0..THREADS * WRITES).collect::<Vec<_>>());
    assert!(left.iter().any(|&(_, cause, _)| cause == RemovalCause::Expired));
    assert!(
        left.iter()
            .all(|&(_, cause, past)| cause != RemovalCause::Expired || past),
        "an entry left as expired before its deadline"
    );
}};
}

#[test]
fn concurrent_kinds_never_show_an_expired_entry_under_contention() {
    stress!(ConcurrentLruMap, insert);
    stress!(ConcurrentAdaptiveMap, insert);
    stress!(ConcurrentBoundedMap, try_insert, unwrap);
}

/// Lives as many seconds as its value says, from its last write.
struct ValueSeconds;

impl ExpireAfter<u8, u64> for ValueSeconds {
    fn after_create(&self, _: &u8, seconds: &u64, _: Duration) -> Option<Duration> {
        Some(Duration::from_secs(*seconds))
    }
    fn after_update(
        &self,
        key: &u8,
        seconds: &u64,
        now: Duration,
        _: Option<Duration>,
    ) -> Option<Duration> {
        self.after_create(key, seconds, now)
    }
}

#[test]
fn every_write_path_dates_the_deadline_from_the_new_value() {
    let clock = MockClock::new();
    let mut map = LruMap::builder(8)
        .expire_after(ValueSeconds)
        .clock(clock.clone())
        .build();
    map.insert(1, 5);
    map.insert(2, 5);
    map.insert(3, 5);
    clock.advance(4 * SECOND);
    map.insert(1, 100); // insert
    let _ = map.replace(2, 100); // replace
    if let mapguard::map::Entry::Occupied(mut slot) = map.entry(3) {
        slot.insert(100); // an occupied entry
    }
    clock.advance(4 * SECOND);
    for key in 1..=3 {
        assert_eq!(map.ttl_of(&key), Some(Duration::from_secs(96)), "key {key}");
        assert_eq!(map.get(&key), Some(&100));
    }
    let shared = ConcurrentLruMap::builder(8)
        .expire_after(ValueSeconds)
        .clock(clock.clone())
        .build();
    shared.insert(1, 5);
    clock.advance(4 * SECOND);
    shared.insert(1, 100);
    let _ = shared.replace(1, 100);
    clock.advance(4 * SECOND);
    assert_eq!(shared.get(&1), Some(100));
}
