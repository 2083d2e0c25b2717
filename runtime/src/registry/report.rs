//! Reading the registry: one report per live map, and the human table.

use std::fmt::Write as _;
use std::panic::Location;
use std::time::Duration;

use super::{registry, suspects, sweep_dropped};
use crate::RemovalCause;
use crate::scope::Lifetime;
use crate::storage::ages::Ages;

/// Quantiles of the lifetimes recorded in all of `histograms` (a concurrent map has
/// one per shard), each the upper bound of its bucket (so within a factor of two
/// above the true value); `None` before any key has left.
pub(super) fn key_lifetimes<'a>(
    histograms: impl IntoIterator<Item = &'a Ages>,
) -> Option<KeyLifetimes> {
    let mut counts = [0_u64; 64];
    for ages in histograms {
        for (count, bucket) in counts.iter_mut().zip(ages.counts()) {
            *count += bucket;
        }
    }
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return None;
    }
    let quantile = |per_mille: u64| {
        let rank = u64::try_from((u128::from(total) * u128::from(per_mille)).div_ceil(1000))
            .unwrap_or(u64::MAX)
            .max(1);
        let mut seen = 0;
        for (bucket, count) in counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return Duration::from_nanos(
                    1_u64.checked_shl(bucket as u32 + 1).unwrap_or(u64::MAX),
                );
            }
        }
        Duration::MAX
    };
    Some(KeyLifetimes {
        departed: total,
        p50: quantile(500),
        p95: quantile(950),
        p99: quantile(990),
    })
}

/// How long keys lived in a map before leaving (by any path), for maps built with
/// [`Builder::key_lifetimes`](crate::map::Builder::key_lifetimes).
///
/// Each quantile is the upper bound of a power-of-two bucket: at most twice the true value.
///
/// ```
/// # #[cfg(feature = "tracking")] { // figures need `tracking`
/// use mapguard::{testing::MockClock, registry, LruMap};
/// use std::time::Duration;
///
/// let clock = MockClock::new();
/// let mut map = LruMap::builder(8).key_lifetimes().clock(clock.clone()).name("Docs.ages").build();
/// map.insert(1, ());
/// clock.advance(Duration::from_millis(3));
/// map.remove(&1);
/// let report = registry::snapshot().into_iter().find(|m| m.name == "Docs.ages").unwrap();
/// let ages = report.key_lifetimes.unwrap();
/// assert_eq!(ages.departed, 1);
/// assert!(ages.p50 >= Duration::from_millis(3) && ages.p50 <= Duration::from_millis(6));
/// # }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyLifetimes {
    /// Keys that have left so far.
    pub departed: u64,
    /// Median lifetime.
    pub p50: Duration,
    /// 95th percentile.
    pub p95: Duration,
    /// 99th percentile.
    pub p99: Duration,
}

/// One live map's figures, from [`snapshot`].
///
/// ```
/// # #[cfg(feature = "tracking")] { // figures need `tracking`
/// let map = mapguard::LruMap::<u8, u8>::builder(4).name("Docs.report").build();
/// let report = mapguard::registry::snapshot()
///     .into_iter()
///     .find(|m| m.name == "Docs.report")
///     .unwrap();
/// assert_eq!(report.removed(mapguard::RemovalCause::Evicted), 0);
/// # drop(map);
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MapReport {
    /// Unique among the maps of this process, for its whole life (names may repeat).
    pub id: u64,
    /// `Type.field`, the builder's name, or the creation site.
    pub name: String,
    /// The map's lifetime.
    pub lifetime: Lifetime,
    /// `"lru"`, `"adaptive"` or `"reject"`.
    pub policy: &'static str,
    /// Entries now (inserted and not yet left).
    pub len: u64,
    /// The most entries it has held (for a concurrent map, the sum of its shards' peaks: an
    /// upper bound, since shards peak at different times).
    pub peak_len: u64,
    /// The bound.
    pub max: u64,
    /// Estimated heap bytes of its storage, refreshed when its slab grows and on `clear`,
    /// `maintain`, scope ends and `set_max` (not after the automatic shrink during removals,
    /// nor when only its hash table grew).
    pub heap_bytes: u64,
    /// What the entries weigh (usually heap bytes; see [`crate::weight`]), as of the last
    /// weighed write; 0 for a map without a weight budget.
    pub weight: u64,
    /// The weight budget; 0 for a map without one.
    pub max_weight: u64,
    /// Keys inserted (new keys only).
    pub inserts: u64,
    /// Lookups that found their key.
    pub hits: u64,
    /// Lookups that did not.
    pub misses: u64,
    /// Values handed back to the caller (`remove`, `replace`, `drain`, ...).
    pub handed_back: u64,
    /// Values that left through the cleanup path, by [`RemovalCause::index`].
    pub removals: [u64; 8],
    /// Hooks (a value's `Cleanup`, the listener) that panicked: each panic was contained or
    /// resumed to the caller, and every other hook still ran. Not 0 means a hook has a bug.
    pub hook_panics: u64,
    /// Entries of a request-, session- or batch-lifetime concurrent map written while no
    /// scope of its lifetime was current: they leave only by eviction, removal or a
    /// whole-lifetime `end_scope`. Growing, they are a leak; find the writer by running the
    /// map's callers under [`Scope::run`](crate::scope::Scope::run) (or behind the `tower`
    /// feature's `RequestScopeLayer`) and watching which path still adds; the map's `site`
    /// and name say where it lives. 0 for other maps.
    pub unscoped: u64,
    /// Scopes of this map's lifetime ended elsewhere since this map was last cleared by one.
    pub scope_ends_since_cleared: u64,
    /// Where the map was created.
    pub site: &'static Location<'static>,
    /// The creating thread's name, if it had one.
    pub thread: Option<String>,
    /// Time since creation, on the registry's clock ([`set_clock`](super::set_clock)).
    pub age: Duration,
    /// How long keys lived before leaving, if the map records it
    /// ([`Builder::key_lifetimes`](crate::map::Builder::key_lifetimes)).
    pub key_lifetimes: Option<KeyLifetimes>,
}

impl MapReport {
    /// Values that left with `cause`.
    ///
    /// ```
    /// # #[cfg(feature = "tracking")] { // figures need `tracking`
    /// let mut map = mapguard::LruMap::builder(1).name("Docs.removed").build();
    /// map.insert(1, ());
    /// map.insert(2, ());
    /// let report = mapguard::registry::snapshot().into_iter().find(|m| m.name == "Docs.removed").unwrap();
    /// assert_eq!(report.removed(mapguard::RemovalCause::Evicted), 1);
    /// # }
    /// ```
    #[must_use]
    pub fn removed(&self, cause: RemovalCause) -> u64 {
        self.removals[cause.index()]
    }
}

/// Every live managed map's figures, largest first.
///
/// ```
/// # #[cfg(feature = "tracking")] { // figures need `tracking`
/// let map = mapguard::LruMap::<u8, u8>::new(4);
/// assert!(!mapguard::registry::snapshot().is_empty());
/// # drop(map);
/// # }
/// ```
#[must_use]
pub fn snapshot() -> Vec<MapReport> {
    let mut entries = registry();
    sweep_dropped(&mut entries);
    let mut reports: Vec<MapReport> = entries
        .iter()
        .filter_map(|entry| entry.metrics.upgrade())
        .map(|metrics| metrics.snapshot())
        .collect();
    drop(entries);
    reports.sort_by(|a, b| b.len.cmp(&a.len).then_with(|| a.name.cmp(&b.name)));
    // Every read is a sample for the leak detectors: a service that is only scraped still
    // builds the history that growth is judged on.
    suspects::observe(&reports);
    reports
}

pub(super) fn human_bytes(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 => format!("{:.1} GiB", b as f64 / f64::from(1u32 << 30)),
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / f64::from(1u32 << 20)),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

/// A human table of every live map, largest first: name, lifetime, len/max, bytes,
/// weight/budget (for maps with a weight budget), evictions, unscoped entries (scoped
/// concurrent maps), hook panics, age and creation site.
///
/// ```
/// # #[cfg(feature = "tracking")] { // figures need `tracking`
/// let mut map = mapguard::LruMap::builder(8).name("Docs.table").build();
/// map.insert(1, 1);
/// let table = mapguard::registry::report();
/// assert!(table.lines().any(|line| line.contains("Docs.table") && line.contains("1/8")));
/// # }
/// ```
#[must_use]
pub fn report() -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<32} {:<8} {:>17} {:>10} {:>21} {:>10} {:>9} {:>11} {:>8}  site",
        "map",
        "lifetime",
        "len/max",
        "bytes",
        "weight/budget",
        "evictions",
        "unscoped",
        "hook panics",
        "age"
    );
    for map in snapshot() {
        let max = if map.max >= u64::from(u32::MAX - 1) {
            String::from("∞")
        } else {
            map.max.to_string()
        };
        let weight = if map.max_weight == 0 {
            String::from("-")
        } else {
            format!(
                "{}/{}",
                human_bytes(map.weight),
                human_bytes(map.max_weight)
            )
        };
        let _ = writeln!(
            out,
            "{:<32} {:<8} {:>17} {:>10} {:>21} {:>10} {:>9} {:>11} {:>7.0}s  {}",
            map.name,
            map.lifetime,
            format!("{}/{}", map.len, max),
            human_bytes(map.heap_bytes),
            weight,
            map.removed(RemovalCause::Evicted),
            map.unscoped,
            map.hook_panics,
            map.age.as_secs_f64(),
            map.site
        );
    }
    out
}
