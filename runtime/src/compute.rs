//! [`Compute`]: what a `compute` closure decides for a key.

/// What `compute(key, |current| ...)` does with the key: the closure sees the value it holds
/// (`None`: absent) and answers with one of these, all under one lock (a concurrent map's
/// shard's) so no other thread's write comes between.
///
/// ```
/// use mapguard::{Compute, ConcurrentLruMap};
///
/// let hits = ConcurrentLruMap::<&str, u32>::new(100);
/// let count = |current: Option<&u32>| Compute::Put(current.map_or(1, |n| n + 1));
/// assert_eq!(hits.compute("/", count), Some(1));
/// assert_eq!(hits.compute("/", count), Some(2));
/// // Remove only if still zero: the check and the removal are one step.
/// let zero_only = |current: Option<&u32>| match current {
///     Some(0) => Compute::Discard,
///     _ => Compute::Keep,
/// };
/// assert_eq!(hits.compute("/", zero_only), Some(2));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[must_use = "a `Compute` does nothing unless a `compute` closure returns it"]
pub enum Compute<V> {
    /// Leave the key as it is (absent stays absent).
    Keep,
    /// Store this value under the key; a value it replaces goes through the cleanup path with
    /// [`RemovalCause::Replaced`](crate::RemovalCause::Replaced), and a new key may evict as
    /// `insert` does.
    Put(V),
    /// Remove the key's value through the cleanup path with
    /// [`RemovalCause::Explicit`](crate::RemovalCause::Explicit) (nothing if absent).
    Discard,
}
