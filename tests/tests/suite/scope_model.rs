//! Model-based test of request scopes on a shared concurrent map: random scope begins, ends,
//! inserts (under a scope or none), removals and evictions against a reference model. After
//! every step the map holds exactly the model's entries, every departure carries the cause the
//! model expects (`ScopeEnded` only for entries of an ended scope), and no entry of an ended
//! scope is ever seen again; at the end every value has left exactly once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use mapguard::scope::Scope;
use mapguard::{ConcurrentLruMap, Lifetime, RemovalCause};
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
}

fn op() -> impl Strategy<Value = Op> {
    let key = 0..16u8;
    let scope = prop::option::of(0..SCOPES);
    prop_oneof![
        6 => (key.clone(), scope).prop_map(|(k, s)| Op::Insert(k, s)),
        2 => key.clone().prop_map(Op::Discard),
        2 => (0..SCOPES).prop_map(Op::End),
        2 => key.prop_map(Op::Get),
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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn scoped_entries_leave_with_their_scope_and_only_then(ops in prop::collection::vec(op(), 1..120)) {
        let log: Log = Arc::default();
        let sink = Arc::clone(&log);
        // One shard, so the model knows which entry an insert evicts.
        let map = ConcurrentLruMap::builder(6)
            .shards(1)
            .lifetime(Lifetime::Request)
            .on_removal(move |key: Key, value: u64, cause| sink.lock().unwrap().push((key, value, cause)))
            .build();
        let mut scopes: Vec<(Scope, u64)> = (0..SCOPES).map(|_| (Scope::new(Lifetime::Request), 0)).collect();
        let mut model = Model::default();
        let mut expected: Vec<(Key, u64, RemovalCause)> = Vec::new();
        let mut next_id = 0_u64;
        for op in ops {
            match op {
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
                    let present = map.discard(&key);
                    prop_assert_eq!(present, model.position(key).is_some());
                    if let Some(at) = model.position(key) {
                        let (_, old, _) = model.entries.remove(at);
                        expected.push((key, old, RemovalCause::Explicit));
                    }
                }
                Op::End(i) => {
                    let generation = scopes[i].1;
                    let ours = model.entries.iter().filter(|e| e.2 == Some((i, generation))).count();
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
                    let found = map.get(&key);
                    let at = model.position(key);
                    prop_assert_eq!(found, at.map(|at| model.entries[at].1));
                    if let Some(at) = at {
                        let entry = model.entries.remove(at);
                        model.entries.insert(0, entry);
                    }
                }
            }
            prop_assert_eq!(map.len(), model.entries.len());
            for (key, id, _) in &model.entries {
                prop_assert_eq!(map.peek(key), Some(*id));
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
}
