//! Borrowing iterators over a core map (the owning ones, which run hooks, are the owner's:
//! `map::owning`).

use core::fmt;
use core::iter::FusedIterator;

use crate::storage::store::{Recency, SlabMut};

/// Entries from most to least recent; from [`ManagedMap::iter`](crate::ManagedMap::iter).
///
/// ```
/// let mut map = mapguard::LruMap::new(3);
/// map.extend([(1, 'a'), (2, 'b')]);
/// let mut iter = map.iter();
/// assert_eq!(iter.len(), 2);
/// assert_eq!(iter.next_back(), Some((&1, &'a'))); // least recent from the back
/// ```
pub struct Iter<'a, K, V> {
    cursor: Recency<'a, K, V>,
}

impl<'a, K, V> Iter<'a, K, V> {
    pub(crate) fn new(cursor: Recency<'a, K, V>) -> Self {
        Self { cursor }
    }
}

impl<'a, K, V> Iterator for Iter<'a, K, V> {
    type Item = (&'a K, &'a V);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        self.cursor.next_front()
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.cursor.len(), Some(self.cursor.len()))
    }
}

impl<K, V> DoubleEndedIterator for Iter<'_, K, V> {
    #[inline]
    fn next_back(&mut self) -> Option<Self::Item> {
        self.cursor.next_back()
    }
}

impl<K, V> ExactSizeIterator for Iter<'_, K, V> {}
impl<K, V> FusedIterator for Iter<'_, K, V> {}

impl<K, V> Clone for Iter<'_, K, V> {
    fn clone(&self) -> Self {
        Self {
            cursor: self.cursor.clone(),
        }
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for Iter<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

/// Entries with mutable values, in arbitrary order; from [`ManagedMap::iter_mut`](crate::ManagedMap::iter_mut).
///
/// ```
/// let mut map = mapguard::LruMap::new(3);
/// map.extend([(1, 1), (2, 2)]);
/// for (_, v) in &mut map {
///     *v *= 10;
/// }
/// assert_eq!(map.peek(&2), Some(&20));
/// ```
pub struct IterMut<'a, K, V> {
    inner: SlabMut<'a, K, V>,
}

impl<'a, K, V> IterMut<'a, K, V> {
    pub(crate) fn new(inner: SlabMut<'a, K, V>) -> Self {
        Self { inner }
    }
}

impl<'a, K, V> Iterator for IterMut<'a, K, V> {
    type Item = (&'a K, &'a mut V);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next()
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.inner.len(), Some(self.inner.len()))
    }
}

impl<K, V> DoubleEndedIterator for IterMut<'_, K, V> {
    #[inline]
    fn next_back(&mut self) -> Option<Self::Item> {
        self.inner.next_back()
    }
}

impl<K, V> ExactSizeIterator for IterMut<'_, K, V> {}
impl<K, V> FusedIterator for IterMut<'_, K, V> {}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for IterMut<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.inner.as_slab().pairs())
            .finish()
    }
}

/// Keys from most to least recent; from [`ManagedMap::keys`](crate::ManagedMap::keys).
///
/// ```
/// let mut map = mapguard::LruMap::new(3);
/// map.extend([(1, ()), (2, ())]);
/// assert_eq!(map.keys().rev().copied().collect::<Vec<_>>(), [1, 2]);
/// ```
pub struct Keys<'a, K, V> {
    pub(crate) inner: Iter<'a, K, V>,
}

/// Values from most to least recent; from [`ManagedMap::values`](crate::ManagedMap::values).
///
/// ```
/// let mut map = mapguard::LruMap::new(3);
/// map.extend([(1, 'a'), (2, 'b')]);
/// assert_eq!(map.values().copied().collect::<String>(), "ba");
/// ```
pub struct Values<'a, K, V> {
    pub(crate) inner: Iter<'a, K, V>,
}

/// Mutable values in arbitrary order; from [`ManagedMap::values_mut`](crate::ManagedMap::values_mut).
///
/// ```
/// let mut map = mapguard::LruMap::new(3);
/// map.extend([(1, 1), (2, 2)]);
/// assert_eq!(map.values_mut().len(), 2);
/// ```
pub struct ValuesMut<'a, K, V> {
    pub(crate) inner: IterMut<'a, K, V>,
}

macro_rules! projection_iterator {
    ($name:ident, $item:ty, |$pair:pat_param| $project:expr) => {
        impl<'a, K, V> Iterator for $name<'a, K, V> {
            type Item = $item;

            #[inline]
            fn next(&mut self) -> Option<Self::Item> {
                self.inner.next().map(|$pair| $project)
            }

            #[inline]
            fn size_hint(&self) -> (usize, Option<usize>) {
                self.inner.size_hint()
            }
        }

        impl<K, V> DoubleEndedIterator for $name<'_, K, V> {
            #[inline]
            fn next_back(&mut self) -> Option<Self::Item> {
                self.inner.next_back().map(|$pair| $project)
            }
        }

        impl<K, V> ExactSizeIterator for $name<'_, K, V> {}
        impl<K, V> FusedIterator for $name<'_, K, V> {}

        impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for $name<'_, K, V> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple(stringify!($name)).field(&self.inner).finish()
            }
        }
    };
}

projection_iterator!(Keys, &'a K, |(key, _)| key);
projection_iterator!(Values, &'a V, |(_, value)| value);
projection_iterator!(ValuesMut, &'a mut V, |(_, value)| value);

impl<K, V> Clone for Keys<'_, K, V> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<K, V> Clone for Values<'_, K, V> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}
