// The way out the error for map-valued managed maps gives: each value is a managed map too.
use mapguard::LruMap;
use std::collections::HashMap;

#[mapguard::managed]
#[derive(Default)]
struct Index {
    #[managed_map(lifetime = "process", max = 100)]
    by_tenant: HashMap<u64, LruMap<String, u64>>,
}

// A field of a type parameter passes: what it becomes is named, and checked, elsewhere.
#[mapguard::managed]
#[derive(Default)]
struct Generic<T> {
    #[managed_map(lifetime = "request", max = 4)]
    seen: HashMap<u64, u64>,
    extra: T,
}

#[test]
fn expands_and_runs() {
    let mut index = Index::default();
    index.by_tenant.insert(1, LruMap::new(10));
    index
        .by_tenant
        .get_mut(&1)
        .unwrap()
        .insert(String::from("k"), 2);
    assert_eq!(index.by_tenant.peek(&1).unwrap().len(), 1);
    let generic = Generic::<u8>::default();
    assert!(generic.seen.is_empty());
    assert_eq!(generic.extra, 0);
}
