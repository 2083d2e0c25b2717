//! What weighs a map's entries, for its weight budget (see [`crate::weight`]).

use std::sync::Arc;

/// A builder's weigher closure, shared by a concurrent map's shards.
type WeighFn<K, V> = dyn Fn(&K, &V) -> u64 + Send + Sync;

/// What weighs a map's entries.
pub(crate) enum Weigher<K, V> {
    /// A builder's closure.
    Shared(Arc<WeighFn<K, V>>),
    /// `#[managed_map(max_bytes = ...)]`'s function.
    Function(fn(&K, &V) -> u64),
    /// None given: every entry weighs 1.
    Unit,
}

impl<K, V> Clone for Weigher<K, V> {
    fn clone(&self) -> Self {
        match self {
            Self::Shared(weigher) => Self::Shared(Arc::clone(weigher)),
            Self::Function(weigher) => Self::Function(*weigher),
            Self::Unit => Self::Unit,
        }
    }
}

impl<K, V> Weigher<K, V> {
    #[inline]
    pub(crate) fn weigh(&self, key: &K, value: &V) -> u64 {
        match self {
            Self::Shared(weigher) => weigher(key, value),
            Self::Function(weigher) => weigher(key, value),
            Self::Unit => 1,
        }
    }
}
