//! Per-map figures: what a registry report or a test reads about one managed map.

use crate::scope::Lifetime;

/// A snapshot of one managed map, from [`ManagedCache::stats`](crate::ManagedCache::stats).
///
/// Marked `#[non_exhaustive]`: figures will be added (counters of inserts, hits and removals
/// by cause) without breaking code that reads these.
///
/// ```
/// use mapguard::{Lifetime, LruMap, ManagedCache};
///
/// let mut map = LruMap::builder(100).name("Cache.users").lifetime(Lifetime::Session).build();
/// map.insert(1, "ada");
/// let stats = &map.stats()[0];
/// assert_eq!((stats.name.as_str(), stats.len, stats.max), ("Cache.users", 1, 100));
/// assert_eq!((stats.lifetime, stats.policy), (Lifetime::Session, "lru"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MapStats {
    /// `Type.field` for maps of a `#[mapguard::managed]` struct, the builder's `name`, or
    /// the call site that created the map.
    pub name: String,
    /// The lifetime whose scope end clears the map.
    pub lifetime: Lifetime,
    /// The policy: `"lru"`, `"adaptive"` or `"reject"`.
    pub policy: &'static str,
    /// Entries now (including expired or dead-key ones not yet purged).
    pub len: usize,
    /// The bound.
    pub max: usize,
    /// Entries storable without reallocating.
    pub capacity: usize,
    /// Estimated heap bytes of the map's own storage.
    pub heap_bytes: usize,
    /// Hooks of this map that panicked (each contained or resumed to its caller; every other
    /// hook still ran). Counted by the registry's figures: 0 without the `tracking` feature.
    pub hook_panics: u64,
    /// Entries written while no scope of the map's lifetime was current (a request-,
    /// session- or batch-lifetime concurrent map; 0 for every other map). See
    /// [`MapReport::unscoped`](crate::registry::MapReport::unscoped) for finding the writer.
    pub unscoped: usize,
}

impl MapStats {
    /// Every map kind builds its `MapStats` here, from `[len, max, capacity, heap_bytes]`
    /// and its hook panics.
    pub(crate) fn new(
        name: &str,
        lifetime: Lifetime,
        policy: &'static str,
        [len, max, capacity, heap_bytes]: [usize; 4],
        hook_panics: u64,
    ) -> Self {
        Self {
            name: name.to_owned(),
            lifetime,
            policy,
            len,
            max,
            capacity,
            heap_bytes,
            hook_panics,
            unscoped: 0,
        }
    }
}
