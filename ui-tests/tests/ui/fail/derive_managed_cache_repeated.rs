// A field marked twice in a `#[derive(ManagedCache)]` struct: one error, at the second mark.
use mapguard::{LruMap, ManagedCache};

#[derive(ManagedCache)]
struct Caches {
    #[managed_map]
    #[managed_map(lifetime = "request")]
    hot: LruMap<u64, String>,
}

fn main() {}
