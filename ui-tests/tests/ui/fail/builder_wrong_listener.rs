// A listener for other key or value types: the error names the map the listener was meant
// for (`ManagedMap<u32, String, Lru>` is what `LruMap<u32, String>` stands for), not a
// builder's type parameters.
use mapguard::hooks::RemovalListener;
use mapguard::{ConcurrentLruMap, LruMap, RemovalCause, WeakKeyMap};
use std::rc::Weak;

struct Log;

impl RemovalListener<u64, String> for Log {
    fn on_removal(&mut self, _key: u64, _value: String, _cause: RemovalCause) {}
}

fn main() {
    let _lru = LruMap::<u32, String>::builder(4).listener(Log).build();
    let _weak = WeakKeyMap::<Weak<u32>, String>::builder().listener(Log).build();
    // A single-owner listener is not a concurrent one (it may not run on several threads).
    let _shared = ConcurrentLruMap::<u64, String>::builder(4).listener(Log).build();
}
