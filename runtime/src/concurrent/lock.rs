//! The lock around each shard: `parking_lot::Mutex`, padded to its own cache lines. Built with
//! `--cfg mapguard_shuttle`, it is shuttle's mutex instead, so the project's model test runs
//! the real map under a model checker (`RUSTFLAGS="--cfg mapguard_shuttle"`; see the test
//! `shuttle_model`). Not a type parameter: no user type names it.
//!
//! Not `std::sync::Mutex`: its poisoning reads the global panic count at every lock and
//! unlock, 13 instructions of a concurrent `get`'s 140 and about 3% of its time (`loading`
//! benchmark), and a poisoned shard would tell us nothing. No hook runs under the lock,
//! so a panic there only means a key's `Hash`/`Eq` or a caller's closure panicked, and the
//! shard is consistent between operations.

#[cfg(all(mapguard_shuttle, not(feature = "shuttle")))]
compile_error!(
    "`--cfg mapguard_shuttle` swaps in shuttle's locks: build with `--features mapguard/shuttle` too"
);

#[cfg(not(mapguard_shuttle))]
use parking_lot::Mutex;
#[cfg(mapguard_shuttle)]
use shuttle::sync::Mutex;

/// A value behind a mutex, on cache lines of its own (128 bytes: two lines on x86, where the
/// adjacent-line prefetcher pairs them), so neighbouring shards' locks do not contend.
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct ShardLock<T>(Mutex<T>);

impl<T> ShardLock<T> {
    pub(crate) fn new(value: T) -> Self {
        Self(Mutex::new(value))
    }

    /// Runs `work` with the value locked.
    #[inline]
    pub(crate) fn with<R>(&self, work: impl FnOnce(&mut T) -> R) -> R {
        #[cfg(not(mapguard_shuttle))]
        let mut guard = self.0.lock();
        // Shuttle's mutex poisons as std's does; see above why that can be ignored.
        #[cfg(mapguard_shuttle)]
        let mut guard = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        work(&mut guard)
    }
}
