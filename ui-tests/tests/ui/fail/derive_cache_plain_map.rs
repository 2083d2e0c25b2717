// derive(ManagedCache) checks the fields it does not manage: a plain map beside the managed
// ones is an error at its type.
use mapguard::{LruMap, ManagedCache};
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(ManagedCache)]
struct State {
    #[managed_map(lifetime = "request")]
    scratch: LruMap<u64, String>,
    forgotten: Mutex<HashMap<u64, String>>,
    #[unmanaged(reason = "eight fixed slots")]
    slots: HashMap<u8, u8>,
}

fn main() {}
