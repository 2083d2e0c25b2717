// mapguard reached through a facade crate that re-exports it (and itself depends on it under
// another name): `crate = path` says where generated code finds it.
use mapguard_facade::guard::{Lifetime, ManagedCache};
use std::collections::HashMap;

#[mapguard_facade::guard::managed(crate = mapguard_facade::guard)]
#[derive(Default)]
struct ThroughFacade {
    #[managed_map(lifetime = "request", max = 4, concurrent)]
    shared: HashMap<u64, u64>,
    #[managed_map(lifetime = "request", max = 4)]
    scratch: HashMap<u64, u64>,
}

#[test]
fn expands_and_runs() {
    let mut facade = ThroughFacade::default();
    facade.shared.insert(1, 1);
    facade.scratch.insert(2, 2);
    assert_eq!(facade.end_scope(Lifetime::Request), 2);
    let mut renamed = mapguard_facade::Renamed::default();
    renamed.scratch.insert(1, 1);
    assert_eq!(renamed.stats()[0].name, "Renamed.scratch");
}
