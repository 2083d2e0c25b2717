// One typo in an attribute is one error: the fields are still rewritten and the struct still
// implements `ManagedCache`, so the code that uses them reports nothing more.
use mapguard::{Lifetime, ManagedCache};
use std::collections::HashMap;

#[mapguard::managed]
#[derive(Default)]
struct Service {
    #[managed_map(lifetime = "request", max = 10, evict = "reject", tll = "30s")]
    sessions: HashMap<u64, String>,
    #[managed_map(lifetime = "request", max = 10)]
    scratch: HashMap<u64, String>,
}

fn main() {
    let mut service = Service::default();
    service.sessions.try_insert(1, String::from("s")).unwrap();
    service.scratch.insert(2, String::from("x"));
    service.end_scope(Lifetime::Request);
}
