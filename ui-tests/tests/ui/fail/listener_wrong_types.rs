// A listener for `u64` keys on a map of `u32` keys.
use mapguard::hooks::RemovalListener;
use mapguard::{LruMap, RemovalCause};

struct Log;
impl RemovalListener<u64, String> for Log {
    fn on_removal(&mut self, _: u64, _: String, _: RemovalCause) {}
}

fn main() {
    let map = LruMap::<u32, String>::builder(8).listener(Log).build();
    drop(map);
}
