// `#[cfg]` on managed fields: the generated config type, `ManagedCache` impl and checks
// follow the field, so a configured-out field leaves nothing behind.
use mapguard::{Lifetime, ManagedCache};
use std::collections::HashMap;

#[mapguard::managed]
#[derive(Default)]
struct Service {
    #[cfg(any())] // never compiled
    #[managed_map(lifetime = "request", max = 10)]
    traced: HashMap<u64, String>,
    #[allow(
        clippy::non_minimal_cfg,
        reason = "a cfg that always holds, on purpose"
    )]
    #[cfg(all())] // always compiled
    #[managed_map(lifetime = "request", max = 10)]
    scratch: HashMap<u64, String>,
    #[cfg(any())]
    #[unmanaged(reason = "a debugging aid, compiled out")]
    unmanaged_and_gone: HashMap<u64, String>,
}

#[test]
fn expands_and_runs() {
    let mut service = Service::default();
    service.scratch.insert(1, String::from("x"));
    assert_eq!(service.stats().len(), 1);
    assert_eq!(service.end_scope(Lifetime::Request), 1);
}
