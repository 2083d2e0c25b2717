//! `#[mapguard::managed]` may stand below `#[derive(...)]`: the compiler expands attribute
//! macros before derives, so the derives see the rewritten fields either way.
use std::collections::HashMap;

#[derive(Default, Debug)]
#[mapguard::managed]
struct Cache {
    #[managed_map(lifetime = "request", max = 4)]
    hot: HashMap<u64, String>,
}

#[test]
fn expands_and_runs() {
    let mut cache = Cache::default();
    cache.hot.insert(1, String::from("a"));
    assert_eq!(cache.hot.len(), 1);
    assert_eq!(cache.hot.name(), "Cache.hot");
    assert!(format!("{cache:?}").contains("LruMap"));
}
