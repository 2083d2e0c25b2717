// `#[managed_map]` takes a map by what it is: a crate-local alias, an `FxHashMap`-style alias
// with its own hasher (kept), a renamed import.
use std::collections::HashMap as Map;
use std::hash::BuildHasherDefault;

type Registry = std::collections::HashMap<u64, String>;
type FxHashMap<K, V> = Map<K, V, BuildHasherDefault<std::collections::hash_map::DefaultHasher>>;

#[mapguard::managed]
#[derive(Default)]
struct Aliases {
    #[managed_map(lifetime = "request", max = 2)]
    registry: Registry,
    #[managed_map(lifetime = "request", max = 2, evict = "reject")]
    fx: FxHashMap<u32, u32>,
    #[managed_map(lifetime = "request", max = 2)]
    renamed: Map<u8, u8>,
}

#[test]
fn expands_and_runs() {
    let mut aliases = Aliases::default();
    for id in 0..3 {
        aliases.registry.insert(id, id.to_string()); // LRU: keeps the last two
    }
    assert_eq!(aliases.registry.len(), 2);
    assert!(aliases.fx.try_insert(1, 1).is_ok());
    assert!(aliases.fx.try_insert(2, 2).is_ok());
    assert!(aliases.fx.try_insert(3, 3).is_err()); // bounded: the third is handed back
    aliases.renamed.insert(1, 1);
    assert_eq!(aliases.renamed.peek(&1), Some(&1));
}
