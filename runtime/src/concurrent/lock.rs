//! The lock around each shard: `std::sync::Mutex`, padded to its own cache lines. Built with
//! `--cfg mapguard_shuttle`, it is shuttle's mutex instead, so the project's model test runs
//! the real map under a model checker (`RUSTFLAGS="--cfg mapguard_shuttle"`; see the test
//! `shuttle_model`). Not a type parameter: no user type names it.

#[cfg(mapguard_shuttle)]
use shuttle::sync::Mutex;
#[cfg(not(mapguard_shuttle))]
use std::sync::Mutex;
use std::sync::PoisonError;

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
        // No hook runs under the lock, so a poisoned lock only means a key's `Hash`/`Eq` or a
        // caller's closure panicked; the shard is consistent between operations.
        work(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}
