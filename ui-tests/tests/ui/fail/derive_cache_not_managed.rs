// derive(ManagedCache) on a field that is not a managed map: one error, at the field's type,
// saying what to use instead.
use mapguard::ManagedCache;
use std::collections::HashMap;

#[derive(ManagedCache)]
struct State {
    #[managed_map(lifetime = "request")]
    scratch: HashMap<u64, String>,
}

fn main() {}
