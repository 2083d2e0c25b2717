// What `cargo mapguard fix` writes, not yet filled in: neither compiles.
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

#[mapguard::unmanaged(reason = "...")]
static NAMES: LazyLock<Mutex<HashMap<u64, String>>> = LazyLock::new(Default::default);

#[mapguard::managed]
struct State {
    #[managed_map(lifetime = "...", max = ...)]
    rows: HashMap<u64, String>,
}

fn main() {}
