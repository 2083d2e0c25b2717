//! Bounds by weight: a budget on what a map's entries weigh (usually their heap bytes), beside
//! the bound on how many there are.
//!
//! A builder's [`weigher`](crate::map::Builder::weigher) says what an entry weighs, and
//! [`max_weight`](crate::map::Builder::max_weight) sets the budget; `#[managed_map(max_bytes =
//! "64MiB")]` does both, weighing values through [`Weigh`] unless `weigher = path` says
//! otherwise. Both bounds apply: a map with `max = 1_000` and `max_weight = 1 << 20` holds at
//! most 1,000 entries weighing at most 1 MiB together.
//!
//! - **Evicting maps** (`LruMap`, `AdaptiveMap` and their concurrent forms) evict, in their
//!   policy's order and each with [`RemovalCause::Evicted`](crate::RemovalCause::Evicted),
//!   until the new entry fits.
//! - **`BoundedMap`**: `try_insert` fails when the entry would take the map over its budget,
//!   and hands key and value back.
//! - **Too heavy**: an entry heavier than the whole budget is never stored by `insert`,
//!   `replace` or `extend`: its value goes straight through the cleanup path with
//!   `RemovalCause::Evicted` (as Caffeine does), and `try_insert` hands it back. The one
//!   exception is [`VacantEntry::insert`](crate::map::VacantEntry::insert) (and `or_insert`),
//!   which must return a reference: the entry then stays, alone, until the next insert.
//! - **Types**: a weighed map's per-entry state is [`Weighed<E>`](Weighed) (its expiry `E`
//!   plus one `u64` weight per entry), which `weigher` and `max_weight` choose; name such a
//!   map [`WeighedLruMap<K, V>`](WeighedLruMap). Maps without a budget keep no weights and
//!   run no weight code.
//! - **Changing weight**: an entry is weighed when it is written by `insert`, `replace`,
//!   `try_insert` or [`update`](crate::ManagedMap::update). Changes made through `get_mut`,
//!   `peek_mut`, `iter_mut`, `values_mut` or an `OccupiedEntry` are not re-weighed: use
//!   `update`, which re-weighs and evicts what no longer fits.
//!
//! ```
//! use mapguard::{LruMap, RemovalCause};
//!
//! let mut evicted = Vec::new();
//! let mut pages = LruMap::builder(1_000)
//!     .weigher(|_url: &&str, body: &Vec<u8>| body.len() as u64)
//!     .max_weight(1_000)
//!     .on_removal(|url, _body, cause| evicted.push((url, cause)))
//!     .build();
//! pages.insert("/a", vec![0; 600]);
//! pages.insert("/b", vec![0; 300]);
//! pages.insert("/c", vec![0; 300]); // 1,200 bytes: "/a", the least recent, leaves
//! assert_eq!(pages.weight(), 600);
//! pages.insert("/huge", vec![0; 5_000]); // heavier than the budget: never stored
//! assert_eq!(pages.len(), 2);
//! drop(pages);
//! assert_eq!(evicted[..2], [("/a", RemovalCause::Evicted), ("/huge", RemovalCause::Evicted)]);
//! ```

use std::sync::Arc;

pub use crate::storage::expiry::{Weighed, Weighs, WithWeights};

state_aliases! { Weighed;
    /// An [`LruMap`](crate::LruMap) built with `weigher` or `max_weight` (and no `ttl`/`idle`):
    /// the name to write for such a map's type. With expiry too, it is
    /// `LruMap<K, V, S, L, Weighed<Expiring>>`.
    ///
    /// ```
    /// use mapguard::weight::WeighedLruMap;
    ///
    /// struct Pages {
    ///     by_url: WeighedLruMap<String, Vec<u8>>,
    /// }
    /// let pages = Pages {
    ///     by_url: mapguard::LruMap::builder(1_000)
    ///         .weigher(|_url: &String, body: &Vec<u8>| body.len() as u64)
    ///         .max_weight(1 << 20)
    ///         .build(),
    /// };
    /// assert_eq!(pages.by_url.max_weight(), Some(1 << 20));
    /// ```
    WeighedLruMap = LruMap;

    /// A [`BoundedMap`](crate::BoundedMap) with a weight budget; see [`WeighedLruMap`].
    ///
    /// ```
    /// let map: mapguard::weight::WeighedBoundedMap<u8, u8> =
    ///     mapguard::BoundedMap::builder(4).max_weight(16).build();
    /// # drop(map);
    /// ```
    WeighedBoundedMap = BoundedMap;

    /// A [`ConcurrentLruMap`](crate::ConcurrentLruMap) with a weight budget; see
    /// [`WeighedLruMap`].
    ///
    /// ```
    /// let map: mapguard::weight::WeighedConcurrentLruMap<u8, u8> =
    ///     mapguard::ConcurrentLruMap::builder(4).max_weight(16).build();
    /// # drop(map);
    /// ```
    WeighedConcurrentLruMap = ConcurrentLruMap;
}

/// A value that knows its weight: by convention, the heap bytes it owns (the map's own
/// per-entry cost is not counted). `#[managed_map(max_bytes = ...)]` weighs values through it
/// unless given a `weigher`.
///
/// Implemented for strings, byte and other vectors, boxed slices and the smart pointers
/// around them. A type of yours implements it by summing its fields' weights:
///
/// ```
/// use mapguard::weight::Weigh;
///
/// struct Page {
///     url: String,
///     body: Vec<u8>,
/// }
///
/// impl Weigh for Page {
///     fn weight(&self) -> u64 {
///         self.url.weight() + self.body.weight()
///     }
/// }
///
/// let page = Page { url: String::from("/"), body: vec![0; 100] };
/// assert!(page.weight() >= 101);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not implement `Weigh`, which weighs values for a weight budget",
    label = "`max_bytes` weighs values through `Weigh`",
    note = "implement `mapguard::weight::Weigh` for `{Self}` (the heap bytes it owns), or give a weigher: `weigher = path::to::fn(&K, &V) -> u64`"
)]
pub trait Weigh {
    /// The value's weight (heap bytes it owns, by convention).
    fn weight(&self) -> u64;
}

impl Weigh for String {
    /// Its capacity in bytes.
    fn weight(&self) -> u64 {
        self.capacity() as u64
    }
}

impl Weigh for str {
    /// 0: a `str` owns nothing beyond its bytes; the `Box`, `Rc` or `Arc` holding it counts
    /// them.
    fn weight(&self) -> u64 {
        0
    }
}

impl<T> Weigh for Vec<T> {
    /// Its capacity times the element size (what the elements own themselves is not counted:
    /// weigh such values with a weigher of your own).
    fn weight(&self) -> u64 {
        (self.capacity() * size_of::<T>()) as u64
    }
}

impl<T> Weigh for [T] {
    /// 0: a slice owns nothing beyond its elements; the `Box`, `Rc` or `Arc` holding it
    /// counts them.
    fn weight(&self) -> u64 {
        0
    }
}

impl<T: Weigh + ?Sized> Weigh for Box<T> {
    /// The box's allocation plus what the boxed value owns.
    fn weight(&self) -> u64 {
        size_of_val::<T>(self) as u64 + (**self).weight()
    }
}

impl<T: Weigh + ?Sized> Weigh for Arc<T> {
    /// The shared value and what it owns (its counts not included): every holder counts it.
    fn weight(&self) -> u64 {
        size_of_val::<T>(self) as u64 + (**self).weight()
    }
}

impl<T: Weigh + ?Sized> Weigh for std::rc::Rc<T> {
    /// The shared value and what it owns (its counts not included): every holder counts it.
    fn weight(&self) -> u64 {
        size_of_val::<T>(self) as u64 + (**self).weight()
    }
}

impl<T: Weigh> Weigh for Option<T> {
    /// The held value's weight, or 0.
    fn weight(&self) -> u64 {
        self.as_ref().map_or(0, Weigh::weight)
    }
}

/// A weigher that weighs values by their [`Weigh`] impl and ignores keys: what
/// `#[managed_map(max_bytes = ...)]` uses without a `weigher`.
///
/// ```
/// use mapguard::weight::by_value;
///
/// let map = mapguard::LruMap::builder(100)
///     .weigher(by_value::<u32, String>)
///     .max_weight(1 << 20)
///     .build();
/// assert_eq!(map.max_weight(), Some(1 << 20));
/// ```
pub fn by_value<K, V: Weigh>(_key: &K, value: &V) -> u64 {
    value.weight()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn std_types_weigh_their_heap_bytes() {
        assert_eq!(String::with_capacity(40).weight(), 40);
        assert_eq!(Vec::<u32>::with_capacity(10).weight(), 40);
        assert_eq!(vec![0u8; 7].into_boxed_slice().weight(), 7);
        let boxed: Box<str> = "abc".into();
        assert_eq!(boxed.weight(), 3);
        assert_eq!(Some(String::with_capacity(3)).weight(), 3);
        assert_eq!(None::<String>.weight(), 0);
        assert_eq!(
            Arc::new(String::with_capacity(5)).weight(),
            size_of::<String>() as u64 + 5
        );
    }
}
