// Naming a rewritten field's type, for a helper that takes the field: `alias = Name` declares
// `type Name = <the managed map type>` beside the struct.
use mapguard::ManagedCache;
use std::collections::HashMap;

#[mapguard::managed]
#[derive(Default)]
pub struct Service {
    #[managed_map(lifetime = "request", max = 100, alias = Sessions)]
    pub sessions: HashMap<u64, String>,
    #[managed_map(lifetime = "process", max = 8, concurrent, alias = SharedNames)]
    pub names: HashMap<u64, String>,
}

#[mapguard::managed]
#[derive(Default)]
pub struct Generic<T: Clone + Default> {
    #[managed_map(lifetime = "batch", max = 4, alias = PerBatch)]
    pub per_batch: HashMap<u64, T>,
}

fn remember(sessions: &mut Sessions, id: u64, user: &str) {
    sessions.insert(id, user.to_owned());
}

fn lookup(names: &SharedNames, id: u64) -> Option<String> {
    names.get(&id)
}

fn first<T: Clone + Default>(per_batch: &PerBatch<T>) -> Option<T> {
    per_batch.peek(&0).cloned()
}

#[test]
fn expands_and_runs() {
    let mut service = Service::default();
    remember(&mut service.sessions, 1, "ada");
    service.names.insert(1, String::from("ada"));
    assert_eq!(lookup(&service.names, 1).as_deref(), Some("ada"));
    let mut generic = Generic::<u8>::default();
    generic.per_batch.insert(0, 5);
    assert_eq!(first(&generic.per_batch), Some(5));
    assert_eq!(service.stats().len(), 2);
}
