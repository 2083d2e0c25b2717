//! A managed struct whose maps are all single-owner derives `Clone`: each copy owns its maps.
use std::collections::HashMap;

#[mapguard::managed]
#[derive(Default, Clone)]
struct Page {
    #[managed_map(lifetime = "request", max = 8)]
    parts: HashMap<u64, String>,
}

#[test]
fn expands_and_runs() {
    let mut page = Page::default();
    page.parts.insert(1, String::from("header"));
    let copy = page.clone();
    assert_eq!(copy.parts.peek(&1).map(String::as_str), Some("header"));
}
