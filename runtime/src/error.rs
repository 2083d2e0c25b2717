//! Errors that hand the rejected entry back.

use core::fmt;

/// A [`BoundedMap`](crate::BoundedMap) was full and refused a new key. Nothing is lost: the
/// key and value come back to you.
///
/// # Examples
///
/// ```
/// use mapguard::BoundedMap;
///
/// let mut map = BoundedMap::new(1);
/// map.try_insert("a", 1).unwrap();
/// let err = map.try_insert("b", 2).unwrap_err();
/// assert_eq!(err.max(), 1);
/// assert_eq!(err.into_inner(), ("b", 2));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct CapacityError<K, V> {
    key: K,
    value: V,
    max: usize,
}

impl<K, V> CapacityError<K, V> {
    pub(crate) fn new(key: K, value: V, max: usize) -> Self {
        Self { key, value, max }
    }

    /// The same rejection, reporting the bound of the whole map rather than of one shard.
    pub(crate) fn with_max(self, max: usize) -> Self {
        Self { max, ..self }
    }

    /// The rejected key.
    ///
    /// ```
    /// # let mut map = mapguard::BoundedMap::new(1);
    /// # map.try_insert(1, ()).unwrap();
    /// assert_eq!(*map.try_insert(2, ()).unwrap_err().key(), 2);
    /// ```
    pub fn key(&self) -> &K {
        &self.key
    }

    /// The rejected value.
    ///
    /// ```
    /// # let mut map = mapguard::BoundedMap::new(1);
    /// # map.try_insert(1, "x").unwrap();
    /// assert_eq!(*map.try_insert(2, "y").unwrap_err().value(), "y");
    /// ```
    pub fn value(&self) -> &V {
        &self.value
    }

    /// The bound the map enforces.
    ///
    /// ```
    /// # let mut map = mapguard::BoundedMap::new(1);
    /// # map.try_insert(1, ()).unwrap();
    /// assert_eq!(map.try_insert(2, ()).unwrap_err().max(), 1);
    /// ```
    pub fn max(&self) -> usize {
        self.max
    }

    /// Takes back the rejected key and value.
    ///
    /// ```
    /// # let mut map = mapguard::BoundedMap::new(1);
    /// # map.try_insert(1, 'a').unwrap();
    /// let (key, value) = map.try_insert(2, 'b').unwrap_err().into_inner();
    /// assert_eq!((key, value), (2, 'b'));
    /// ```
    pub fn into_inner(self) -> (K, V) {
        (self.key, self.value)
    }
}

impl<K, V> fmt::Debug for CapacityError<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CapacityError")
            .field("max", &self.max)
            .finish_non_exhaustive()
    }
}

impl<K, V> fmt::Display for CapacityError<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the map is full (max = {} entries); the rejected entry is handed back",
            self.max
        )
    }
}

impl<K, V> std::error::Error for CapacityError<K, V> {}
