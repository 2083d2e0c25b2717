//! Every live managed map, with its figures: which map holds how much, where it was created,
//! what leaves it and why, and which maps look like leaks.
//!
//! Maps register when created and leave when dropped. Each map writes its own counters (one
//! writer, so plain relaxed load + store, no locked read-modify-write); the registry reads
//! them from any thread. Without the default `tracking` feature, maps keep no figures and
//! every function here reports no maps.
//!
//! ```
//! # #[cfg(feature = "tracking")] { // figures need `tracking`
//! use mapguard::{registry, Lifetime, LruMap};
//!
//! let mut cache = LruMap::builder(100).name("Docs.cache").lifetime(Lifetime::Session).build();
//! cache.insert(1, "a");
//! let ours = registry::snapshot().into_iter().find(|m| m.name == "Docs.cache").unwrap();
//! assert_eq!((ours.len, ours.max, ours.inserts), (1, 100, 1));
//! println!("{}", registry::report()); // a table of every live map
//! # }
//! ```

use std::sync::RwLock;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use crate::scope::Lifetime;
use crate::storage::expiry::{Clock, SystemClock};

use metrics::Metrics;

#[cfg(feature = "metrics")]
mod export;
mod html;
mod metrics;
mod prometheus;
mod report;
mod series;
mod suspects;

#[cfg(feature = "metrics")]
#[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
pub use export::export_metrics;
pub use html::render_html;
pub(crate) use metrics::{Identity, MapMetrics, register, register_sharded, shard_metrics};
pub use prometheus::render_prometheus;
pub use report::{KeyLifetimes, MapReport, report, snapshot};

pub use suspects::{
    FORGOTTEN_SCOPE_ENDS, GROWTH_CHECKS, LeakDetector, LeakSuspect, Suspicion, Thresholds, Watch,
    leak_suspects, watch,
};

/// Ids for [`MapReport::id`].
static NEXT_MAP_ID: AtomicU64 = AtomicU64::new(0);

/// The registry's clock: map ages, and the samples of the process-wide detector.
static CLOCK: RwLock<Option<Arc<dyn Clock>>> = RwLock::new(None);

/// The registry's clock ([`SystemClock`] unless [`set_clock`] replaced it).
fn clock() -> Arc<dyn Clock> {
    if let Some(clock) = CLOCK
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .as_ref()
    {
        return Arc::clone(clock);
    }
    let mut slot = CLOCK.write().unwrap_or_else(PoisonError::into_inner);
    Arc::clone(slot.get_or_insert_with(|| Arc::new(SystemClock::default())))
}

/// Replaces the registry's clock: what map ages ([`MapReport::age`]) and the process-wide
/// detector behind [`leak_suspects`] measure time with. For simulations and tests that drive
/// a whole process on a [`MockClock`](crate::testing::MockClock); set it first thing, since
/// maps created before keep their creation time on the old clock's scale.
///
/// ```
/// # #[cfg(feature = "tracking")] { // figures need `tracking`
/// use mapguard::{registry, testing::MockClock};
/// use std::time::Duration;
///
/// let clock = MockClock::new();
/// registry::set_clock(clock.clone());
/// let map = mapguard::LruMap::<u8, u8>::builder(4).name("Docs.clock").build();
/// clock.advance(Duration::from_secs(90));
/// let report = registry::snapshot().into_iter().find(|m| m.name == "Docs.clock").unwrap();
/// assert_eq!(report.age, Duration::from_secs(90));
/// # drop(map);
/// # }
/// ```
pub fn set_clock(clock: impl Clock + 'static) {
    *CLOCK.write().unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(clock));
}

/// Scope ends seen per lifetime, process-wide: how many scopes have ended since a map of that
/// lifetime was last cleared tells whether someone forgot to end its scope.
static SCOPE_EPOCHS: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];

fn lifetime_index(lifetime: Lifetime) -> usize {
    match lifetime {
        Lifetime::Request => 0,
        Lifetime::Session => 1,
        Lifetime::Batch => 2,
        Lifetime::Process => 3,
    }
}

struct Entry {
    metrics: Weak<Metrics>,
}

static REGISTRY: Mutex<Vec<Entry>> = Mutex::new(Vec::new());

/// Forgets dropped maps, and gives the registry's memory back once it is mostly unused (as
/// the maps themselves do), so creating and dropping many maps leaves nothing behind.
fn sweep_dropped(entries: &mut Vec<Entry>) {
    entries.retain(|entry| entry.metrics.strong_count() > 0);
    if entries.capacity() > 16 && entries.len() <= entries.capacity() / 4 {
        entries.shrink_to(entries.len() * 2);
    }
}

fn registry() -> MutexGuard<'static, Vec<Entry>> {
    REGISTRY.lock().unwrap_or_else(PoisonError::into_inner)
}
