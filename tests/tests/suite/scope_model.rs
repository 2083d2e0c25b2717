//! Model-based test of request scopes, on a shared concurrent map and on a single-threaded
//! one: random scope begins, ends, inserts (under a scope or none), removals and evictions
//! against a reference model. After every step the map holds exactly the model's entries
//! (a single-threaded map after its next `&mut` operation; its lookups skip an ended scope's
//! entries at once), every departure carries the cause the model expects (`ScopeEnded` only
//! for entries of an ended scope), and no entry of an ended scope is ever seen again; at the
//! end every value has left exactly once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use mapguard::expiry::Expiry;
use mapguard::hooks::{ConcurrentListener, RemovalListener};
use mapguard::scope::Scope;
use mapguard::{
    ConcurrentLruMap, DefaultHashBuilder, Lifetime, LruMap, ManagedCache, RemovalCause,
};
use proptest::prelude::*;

type Key = u8;
type Log = Arc<Mutex<Vec<(Key, u64, RemovalCause)>>>;

const SCOPES: usize = 3;

#[derive(Clone, Debug)]
enum Op {
    /// Insert under scope `Some(i)` (begun anew if it had ended) or none.
    Insert(Key, Option<usize>),
    Discard(Key),
    End(usize),
    Get(Key),
    /// Checks the map's length (a single-threaded map's next `&mut` operation first).
    Len,
}

fn op() -> impl Strategy<Value = Op> {
    let key = 0..16u8;
    let scope = prop::option::of(0..SCOPES);
    prop_oneof![
        6 => (key.clone(), scope).prop_map(|(k, s)| Op::Insert(k, s)),
        2 => key.clone().prop_map(Op::Discard),
        2 => (0..SCOPES).prop_map(Op::End),
        2 => key.prop_map(Op::Get),
        1 => Just(Op::Len),
    ]
}

/// A scope as the model knows it: its slot in the test and its generation there.
type ScopeSlot = (usize, u64);

/// Keys in recency order (front = most recent), each with its value id and scope.
#[derive(Default)]
struct Model {
    entries: Vec<(Key, u64, Option<ScopeSlot>)>,
}

impl Model {
    fn position(&self, key: Key) -> Option<usize> {
        self.entries.iter().position(|e| e.0 == key)
    }
}

/// The map kinds under test, as the model drives them.
trait Subject {
    fn insert(&mut self, key: Key, value: u64);
    fn discard(&mut self, key: Key) -> bool;
    fn get(&mut self, key: Key) -> Option<u64>;
    fn peek(&self, key: Key) -> Option<u64>;
    /// Whether `len` drops an ended scope's entries at once (else at the next `&mut`
    /// operation, as `settled_len` does).
    const LEN_AT_ONCE: bool;
    /// The entries, after whatever a single-threaded map does at its next `&mut` operation.
    fn settled_len(&mut self) -> usize;
    fn maintain(&mut self);
}

impl<L: ConcurrentListener<Key, u64>> Subject
    for ConcurrentLruMap<Key, u64, DefaultHashBuilder, L>
{
    const LEN_AT_ONCE: bool = true;
    fn insert(&mut self, key: Key, value: u64) {
        ConcurrentLruMap::insert(self, key, value);
    }
    fn discard(&mut self, key: Key) -> bool {
        ConcurrentLruMap::discard(self, &key)
    }
    fn get(&mut self, key: Key) -> Option<u64> {
        ConcurrentLruMap::get(self, &key)
    }
    fn peek(&self, key: Key) -> Option<u64> {
        ConcurrentLruMap::peek(self, &key)
    }
    fn settled_len(&mut self) -> usize {
        // Gone from every figure at once.
        self.len()
    }
    fn maintain(&mut self) {
        ConcurrentLruMap::maintain(self);
    }
}

impl<L: RemovalListener<Key, u64>, E: Expiry, C> Subject
    for LruMap<Key, u64, DefaultHashBuilder, L, E, C>
{
    const LEN_AT_ONCE: bool = false;
    fn insert(&mut self, key: Key, value: u64) {
        LruMap::insert(self, key, value);
    }
    fn discard(&mut self, key: Key) -> bool {
        LruMap::discard(self, &key)
    }
    fn get(&mut self, key: Key) -> Option<u64> {
        LruMap::get(self, &key).copied()
    }
    fn peek(&self, key: Key) -> Option<u64> {
        LruMap::peek(self, &key).copied()
    }
    fn settled_len(&mut self) -> usize {
        // A `&mut` operation that changes nothing else: the ended scopes' entries leave.
        self.retain(|_, _| true);
        self.len()
    }
    fn maintain(&mut self) {
        ManagedCache::maintain(self);
    }
}

fn logging(log: &Log) -> impl Fn(Key, u64, RemovalCause) + Send + Sync + Clone + 'static {
    let sink = Arc::clone(log);
    move |key, value, cause| sink.lock().unwrap().push((key, value, cause))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn scoped_entries_leave_with_their_scope_and_only_then(ops in prop::collection::vec(op(), 1..120)) {
        let log: Log = Arc::default();
        // One shard, so the model knows which entry an insert evicts.
        let map = ConcurrentLruMap::builder(6)
            .shards(1)
            .lifetime(Lifetime::Request)
            .on_removal(logging(&log))
            .build();
        run(map, &log, ops)?;
    }

    #[test]
    fn single_threaded_scoped_entries_leave_with_their_scope_and_only_then(ops in prop::collection::vec(op(), 1..120)) {
        let log: Log = Arc::default();
        SINGLE_LOG.with(|sink| *sink.borrow_mut() = Some(Arc::clone(&log)));
        run(Rows::default().rows, &log, ops)?;
    }
}

thread_local! {
    /// Where `log_removal` writes: the current case's log.
    static SINGLE_LOG: std::cell::RefCell<Option<Log>> = const { std::cell::RefCell::new(None) };
}

fn log_removal(key: Key, value: u64, cause: RemovalCause) {
    SINGLE_LOG.with(|log| {
        if let Some(log) = log.borrow().as_ref() {
            log.lock().unwrap().push((key, value, cause));
        }
    });
}

/// A single-threaded request map, as a service writes it (its entries carry their scope).
#[mapguard::managed]
#[derive(Default)]
struct Rows {
    #[managed_map(lifetime = "request", max = 6, on_remove = log_removal)]
    rows: std::collections::HashMap<Key, u64>,
}

fn run<M: Subject>(mut map: M, log: &Log, ops: Vec<Op>) -> Result<(), TestCaseError> {
    {
        let mut scopes: Vec<(Scope, u64)> = (0..SCOPES)
            .map(|_| (Scope::new(Lifetime::Request), 0))
            .collect();
        let mut model = Model::default();
        let mut expected: Vec<(Key, u64, RemovalCause)> = Vec::new();
        let mut next_id = 0_u64;
        for op in ops {
            match op.clone() {
                Op::Insert(key, scope) => {
                    let id = next_id;
                    next_id += 1;
                    let tag = scope.map(|i| {
                        if scopes[i].0.has_ended() {
                            scopes[i] = (Scope::new(Lifetime::Request), scopes[i].1 + 1);
                        }
                        (i, scopes[i].1)
                    });
                    {
                        let _current = scope.map(|i| scopes[i].0.enter());
                        map.insert(key, id);
                    }
                    if let Some(at) = model.position(key) {
                        let (_, old, _) = model.entries.remove(at);
                        expected.push((key, old, RemovalCause::Replaced));
                    } else if model.entries.len() == 6 {
                        let (k, old, _) = model.entries.pop().unwrap();
                        expected.push((k, old, RemovalCause::Evicted));
                    }
                    model.entries.insert(0, (key, id, tag));
                }
                Op::Discard(key) => {
                    let present = map.discard(key);
                    prop_assert_eq!(present, model.position(key).is_some());
                    if let Some(at) = model.position(key) {
                        let (_, old, _) = model.entries.remove(at);
                        expected.push((key, old, RemovalCause::Explicit));
                    }
                }
                Op::End(i) => {
                    let generation = scopes[i].1;
                    let ours = model
                        .entries
                        .iter()
                        .filter(|e| e.2 == Some((i, generation)))
                        .count();
                    let ended = scopes[i].0.end();
                    if !scopes[i].0.has_ended() || ended != 0 {
                        prop_assert_eq!(ended, ours);
                    }
                    let mut kept = Vec::new();
                    for entry in model.entries.drain(..) {
                        if entry.2 == Some((i, generation)) {
                            expected.push((entry.0, entry.1, RemovalCause::ScopeEnded));
                        } else {
                            kept.push(entry);
                        }
                    }
                    model.entries = kept;
                }
                Op::Get(key) => {
                    let found = map.get(key);
                    let at = model.position(key);
                    prop_assert_eq!(found, at.map(|at| model.entries[at].1));
                    if let Some(at) = at {
                        let entry = model.entries.remove(at);
                        model.entries.insert(0, entry);
                    }
                }
                Op::Len => {}
            }
            for key in 0..16 {
                let expected = model.position(key).map(|at| model.entries[at].1);
                prop_assert_eq!(map.peek(key), expected, "key {}", key);
            }
            if M::LEN_AT_ONCE || matches!(op, Op::Len) {
                prop_assert_eq!(map.settled_len(), model.entries.len());
            }
        }
        map.maintain();
        let mut seen = log.lock().unwrap().clone();
        // Ended scopes' entries leave at the map's next operation, so the order of the log
        // and of the model may differ: compare as sets, by value id (each appears once).
        seen.sort_by_key(|e| e.1);
        expected.sort_by_key(|e| e.1);
        prop_assert_eq!(&seen, &expected);
        let left: HashMap<u64, usize> = seen.iter().fold(HashMap::new(), |mut m, e| {
            *m.entry(e.1).or_default() += 1;
            m
        });
        prop_assert!(left.values().all(|&n| n == 1));
    }
    Ok(())
}
