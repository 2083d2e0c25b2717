//! A logout written `sessions.remove(&token)` hands the session back and drops it without its
//! hooks: the compiler says so, and names `discard`.
#![deny(unused_must_use)]

use mapguard::{Cleanup, ConcurrentLruMap, LruMap, RemovalCause};

struct Session;

impl Cleanup for Session {
    fn cleanup(&mut self, _cause: RemovalCause) {}
}

fn main() {
    let mut sessions = LruMap::builder(8).cleanup().build();
    sessions.insert(1_u64, Session);
    sessions.remove(&1);
    sessions.replace(2, Session);
    let shared = ConcurrentLruMap::builder(8).cleanup().build();
    shared.insert(1_u64, Session);
    shared.remove(&1);
}
