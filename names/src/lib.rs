//! The map and set types mapguard looks for by name: the macros (`#[mapguard::managed]`
//! requires a lifecycle on a field spelled with one of them) and the gate (`cargo mapguard
//! check` reports one without a lifecycle) read this one list, so they cannot disagree.
//!
//! ```
//! assert!(mapguard_names::is_map("HashMap"));
//! assert!(mapguard_names::is_map("DashMap"));
//! assert!(!mapguard_names::is_map("Vec"));
//! ```

#![forbid(unsafe_code)]

/// Map and set types, by the last segment of their path: std, hashbrown (`HashTable`),
/// indexmap, dashmap, rustc-hash, ahash, fnv, crossbeam-skiplist, linked-hash-map and bimap
/// (scc's and papaya's maps are named `HashMap` too).
///
/// ```
/// assert!(mapguard_names::MAPS.contains(&"BTreeMap"));
/// ```
pub const MAPS: &[&str] = &[
    "HashMap",
    "HashSet",
    "BTreeMap",
    "BTreeSet",
    "HashTable",
    "IndexMap",
    "IndexSet",
    "DashMap",
    "DashSet",
    "FxHashMap",
    "FxHashSet",
    "AHashMap",
    "AHashSet",
    "FnvHashMap",
    "FnvHashSet",
    "SkipMap",
    "SkipSet",
    "LinkedHashMap",
    "LinkedHashSet",
    "BiMap",
    "BiHashMap",
    "BiBTreeMap",
];

/// The maps `#[managed_map]` rewrites, by the last segment of their path: `HashMap` under
/// the names of the crates that alias it with another hasher. Every other map of [`MAPS`]
/// (a `BTreeMap`, a set, a `DashMap`) cannot be rewritten; a field holding one is declared
/// `#[unmanaged(reason = "...")]` or changed to a `HashMap`.
///
/// ```
/// assert!(mapguard_names::REWRITABLE.contains(&"FxHashMap"));
/// assert!(!mapguard_names::REWRITABLE.contains(&"BTreeSet"));
/// ```
pub const REWRITABLE: &[&str] = &["HashMap", "FxHashMap", "FnvHashMap", "AHashMap"];

/// Whether `name` (a path's last segment) is one of [`MAPS`].
///
/// ```
/// assert!(mapguard_names::is_map("IndexMap"));
/// assert!(!mapguard_names::is_map("LruMap")); // mapguard's own maps are managed
/// ```
#[must_use]
pub fn is_map(name: &str) -> bool {
    MAPS.contains(&name)
}
