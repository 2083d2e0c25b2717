//! Keeping idle maps clean: `maintain()` for every enrolled concurrent map, on a schedule.
//!
//! A concurrent map drops expired entries, entries of ended [`Scope`](crate::scope::Scope)s
//! and entries of dead weak keys as it is used; a map nobody touches keeps them (and whatever
//! their values hold open) until its next operation. Maps on the maintenance list are
//! reached without being touched:
//!
//! - A `#[managed_map(concurrent, ...)]` field enrols itself when it has something to clean
//!   on its own (a `ttl` or `idle`, a `request`, `session` or `batch` lifetime, or weak keys)
//!   and its keys and values can cross threads (`Send + 'static`). A field of a generic
//!   struct does not (the attribute cannot see its types): enrol it by hand.
//! - A map you build enrols with `enrol_for_maintenance()` (on
//!   [`ConcurrentMap`](crate::ConcurrentMap) and
//!   [`ConcurrentWeakKeyMap`](crate::ConcurrentWeakKeyMap)).
//!
//! [`maintain_all`] runs `maintain()` on every live enrolled map; with the `tokio` feature,
//! `maintenance::spawn` runs it on a schedule until the returned `MaintenanceTask` is dropped. The
//! list holds each map weakly: a dropped map leaves it, and its entries leave through their
//! hooks on the thread that dropped it, as always.
//!
//! ```
//! use mapguard::{ConcurrentLruMap, Lifetime, RemovalCause};
//! use mapguard::expiry::Expiring;
//! use mapguard::testing::MockClock;
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use std::sync::Arc;
//! use std::time::Duration;
//!
//! let clock = MockClock::new();
//! let expired = Arc::new(AtomicUsize::new(0));
//! let seen = Arc::clone(&expired);
//! let sessions: ConcurrentLruMap<u64, String, _, _, Expiring> = ConcurrentLruMap::builder(100)
//!     .ttl(Duration::from_secs(60))
//!     .clock(clock.clone())
//!     .listener(move |_id, _name, cause| {
//!         assert_eq!(cause, RemovalCause::Expired);
//!         seen.fetch_add(1, Ordering::Relaxed);
//!     })
//!     .build();
//! sessions.enrol_for_maintenance();
//! sessions.insert(1, "ada".to_owned());
//!
//! clock.advance(Duration::from_secs(61));
//! mapguard::maintenance::maintain_all(); // what the scheduled task runs
//! assert_eq!(expired.load(Ordering::Relaxed), 1); // the map itself was never touched
//! ```

use core::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use crate::lifecycle::Probe;
use crate::panics::EachField;

/// A map the maintenance list can reach: its `maintain()`, through `&self`, from any thread.
pub(crate) trait Maintain: Send + Sync {
    /// The map's `maintain()`: how many entries left.
    fn maintain(&self) -> usize;
}

/// Every enrolled map, weakly; dead ones are pruned as the list grows and on every run.
static ENROLLED: Mutex<Vec<Weak<dyn Maintain>>> = Mutex::new(Vec::new());

fn enrolled_maps() -> MutexGuard<'static, Vec<Weak<dyn Maintain>>> {
    // Nothing panics while the list is locked (no hook runs under it); a poisoned lock still
    // holds a whole list.
    ENROLLED.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Puts a map on the list. Amortized O(1): dead entries go when the list would reallocate.
pub(crate) fn enrol(map: Weak<dyn Maintain>) {
    let mut maps = enrolled_maps();
    if maps.len() == maps.capacity() {
        maps.retain(|map| map.strong_count() > 0);
    }
    maps.push(map);
}

/// Runs `maintain()` on every live enrolled map, one at a time, and returns how many entries
/// left (expired, of ended scopes, or of dead weak keys), each through its map's hooks with
/// its cause. No lock of the list is held while a map is maintained, so a hook may build,
/// enrol or drop maps. If a hook panics, every other map is still maintained, and then the
/// first panic reaches the caller. O(entries of the enrolled maps).
///
/// ```
/// // With no map enrolled, nothing leaves.
/// assert_eq!(mapguard::maintenance::maintain_all(), 0);
/// ```
pub fn maintain_all() -> usize {
    let live: Vec<Arc<dyn Maintain>> = {
        let mut maps = enrolled_maps();
        maps.retain(|map| map.strong_count() > 0);
        maps.iter().filter_map(Weak::upgrade).collect()
    };
    // Every map is maintained even if a hook of an earlier one panics (each map has counted
    // its own); the first panic resumes once all have been.
    let mut each = EachField::new();
    for map in live {
        each.run(|| map.maintain());
    }
    each.finish()
}

/// How many live maps are on the maintenance list. O(enrolled maps).
///
/// ```
/// use mapguard::ConcurrentLruMap;
///
/// let before = mapguard::maintenance::enrolled();
/// let map: ConcurrentLruMap<u64, u64> = ConcurrentLruMap::new(64);
/// map.enrol_for_maintenance();
/// assert!(map.is_enrolled_for_maintenance());
/// assert!(mapguard::maintenance::enrolled() >= before + 1); // other threads may enrol too
/// ```
#[must_use]
pub fn enrolled() -> usize {
    enrolled_maps()
        .iter()
        .filter(|map| map.strong_count() > 0)
        .count()
}

/// A concurrent map that can go on the maintenance list once its key, value and listener
/// types are known to cross threads (what `#[managed_map(concurrent, ...)]` checks where the
/// types are concrete, through `lifecycle::Probe`). Never implement it yourself.
#[doc(hidden)]
pub trait EnrolMap<K, V, L> {
    /// Puts the map on the list.
    fn enrol(&self)
    where
        K: Hash + Eq + Send + 'static,
        V: Send + 'static,
        L: 'static;
}

/// [`EnrolMap`] for a weak-keyed map (its keys are not `Hash`). Never implement it yourself.
#[doc(hidden)]
pub trait EnrolWeakMap<K, V, L> {
    /// Puts the map on the list.
    fn enrol(&self)
    where
        K: Send + 'static,
        V: Send + 'static,
        L: 'static;
}

// Whether `K`, `V` and `L` can cross threads is decided where they are concrete, by the
// crate's autoref probe (`lifecycle::Probe`) over `(K, V, L)`: method lookup on `&Probe`
// takes [`CrossingProbe`]'s (or [`CrossingWeakProbe`]'s) impl on `Probe` when its bounds hold,
// and [`LocalProbe`]'s on `&Probe` (which does nothing) when they do not. Only where no
// lifetime is generic: lookup does not see lifetime bounds.

/// The types of a hashed-key map cross threads: enrol.
#[doc(hidden)]
pub trait CrossingProbe<K, V, L> {
    /// Enrols the map.
    fn enrol_map<M: EnrolMap<K, V, L>>(&self, map: &M);
}

impl<K: Hash + Eq + Send + 'static, V: Send + 'static, L: 'static> CrossingProbe<K, V, L>
    for Probe<(K, V, L)>
{
    fn enrol_map<M: EnrolMap<K, V, L>>(&self, map: &M) {
        map.enrol();
    }
}

/// The types of a weak-keyed map cross threads: enrol.
#[doc(hidden)]
pub trait CrossingWeakProbe<K, V, L> {
    /// Enrols the map.
    fn enrol_weak_map<M: EnrolWeakMap<K, V, L>>(&self, map: &M);
}

impl<K: Send + 'static, V: Send + 'static, L: 'static> CrossingWeakProbe<K, V, L>
    for Probe<(K, V, L)>
{
    fn enrol_weak_map<M: EnrolWeakMap<K, V, L>>(&self, map: &M) {
        map.enrol();
    }
}

/// The types may not cross threads: nothing to do.
#[doc(hidden)]
pub trait LocalProbe<K, V, L> {
    /// Does nothing.
    fn enrol_map<M: EnrolMap<K, V, L>>(&self, _map: &M) {}
    /// Does nothing.
    fn enrol_weak_map<M: EnrolWeakMap<K, V, L>>(&self, _map: &M) {}
}

impl<K, V, L> LocalProbe<K, V, L> for &Probe<(K, V, L)> {}

#[cfg(feature = "tokio")]
pub use scheduled::{MaintenanceTask, spawn};

#[cfg(feature = "tokio")]
mod scheduled {
    use std::time::Duration;

    /// The scheduled maintenance started by [`spawn`]: it runs until this is dropped (or
    /// [`stop`](Self::stop)ped).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let task = mapguard::maintenance::spawn(std::time::Duration::from_secs(1));
    /// assert!(task.is_running());
    /// drop(task); // stops the schedule
    /// # }
    /// ```
    #[must_use = "the schedule stops when the task is dropped"]
    #[derive(Debug)]
    pub struct MaintenanceTask {
        task: tokio::task::JoinHandle<()>,
    }

    impl MaintenanceTask {
        /// Whether the schedule still runs.
        ///
        /// ```
        /// # #[tokio::main(flavor = "current_thread")]
        /// # async fn main() {
        /// let task = mapguard::maintenance::spawn(std::time::Duration::from_secs(1));
        /// assert!(task.is_running());
        /// # }
        /// ```
        #[must_use]
        pub fn is_running(&self) -> bool {
            !self.task.is_finished()
        }

        /// Stops the schedule (as dropping the task does).
        ///
        /// ```
        /// # #[tokio::main(flavor = "current_thread")]
        /// # async fn main() {
        /// mapguard::maintenance::spawn(std::time::Duration::from_secs(1)).stop();
        /// # }
        /// ```
        pub fn stop(self) {}
    }

    impl Drop for MaintenanceTask {
        fn drop(&mut self) {
            self.task.abort();
        }
    }

    /// Spawns a tokio task that runs [`maintain_all`](super::maintain_all) every `every`
    /// (the first run one period from now; a run that falls behind delays the next rather
    /// than bursting), until the returned [`MaintenanceTask`] is dropped. The hooks of what
    /// leaves run on the task. A hook's panic is counted on its map (`hook_panics`) and the
    /// schedule goes on.
    ///
    /// Call it once, at startup, inside the runtime:
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::time::Duration;
    ///
    /// let _maintenance = mapguard::maintenance::spawn(Duration::from_secs(5));
    /// // ... serve; expired sessions now leave within 5 s even when nobody asks for them.
    /// # }
    /// ```
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime (as [`tokio::spawn`] does), or if `every` is zero.
    #[track_caller]
    pub fn spawn(every: Duration) -> MaintenanceTask {
        assert!(
            !every.is_zero(),
            "mapguard::maintenance::spawn needs a period above zero"
        );
        let task = tokio::spawn(async move {
            let start = tokio::time::Instant::now() + every;
            let mut ticks = tokio::time::interval_at(start, every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                // The panic was counted on its map, and reported by the panic hook.
                let _ = std::panic::catch_unwind(super::maintain_all);
            }
        });
        MaintenanceTask { task }
    }
}
