// Generated code names only absolute paths: it compiles without the prelude.
#![no_implicit_prelude]

#[::mapguard::managed]
#[derive(Default)]
struct Cache {
    #[managed_map(lifetime = "request", max = 10, ttl = "1s")]
    entries: ::std::collections::HashMap<u64, ::std::string::String>,
}

#[test]
fn expands_and_runs() {
    let cache = <Cache as ::std::default::Default>::default();
    ::std::assert!(cache.entries.is_empty());
}
