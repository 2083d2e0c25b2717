//! Errors that hand the rejected entry back.

use core::fmt;

/// A map refused an entry: a [`BoundedMap`](crate::BoundedMap) (or its concurrent kind) was
/// full, or the entry did not fit the map's weight budget ([`max_weight`](Self::max_weight)
/// says which). Nothing is lost: the key and value come back to you.
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
    /// The weight budget, when the entry was refused for its weight.
    max_weight: Option<u64>,
}

impl<K, V> CapacityError<K, V> {
    pub(crate) fn new(key: K, value: V, max: usize) -> Self {
        Self {
            key,
            value,
            max,
            max_weight: None,
        }
    }

    /// The entry did not fit the weight budget `max_weight`.
    pub(crate) fn over_budget(self, max_weight: u64) -> Self {
        Self {
            max_weight: Some(max_weight),
            ..self
        }
    }

    /// The weight budget the entry did not fit, when that is why it was refused (`None`: the
    /// map was full).
    ///
    /// ```
    /// let map = mapguard::ConcurrentLruMap::builder(8)
    ///     .weigher(|_: &u8, v: &String| v.len() as u64)
    ///     .max_weight(4)
    ///     .build();
    /// let refused = map.try_insert(1, String::from("too long")).unwrap_err();
    /// assert_eq!(refused.max_weight(), Some(4));
    /// assert_eq!(refused.into_inner(), (1, String::from("too long")));
    /// ```
    #[must_use]
    pub fn max_weight(&self) -> Option<u64> {
        self.max_weight
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
            .field("max_weight", &self.max_weight)
            .finish_non_exhaustive()
    }
}

impl<K, V> fmt::Display for CapacityError<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.max_weight {
            Some(max_weight) => write!(
                f,
                "the entry does not fit the map's weight budget (max_weight = {max_weight}); \
                 it is handed back"
            ),
            None => write!(
                f,
                "the map is full (max = {} entries); the rejected entry is handed back",
                self.max
            ),
        }
    }
}

impl<K, V> std::error::Error for CapacityError<K, V> {}
