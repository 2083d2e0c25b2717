//! `Serialize` and `Deserialize` (feature `serde`).
//!
//! A map serializes as a map, its entries in the map's own order (most recent first for the
//! single-owner maps; shard by shard for the concurrent ones). It deserializes into the map its
//! type configures — the field types `#[mapguard::managed]` writes carry their bound, lifetime
//! and hooks, so a struct deriving `Deserialize` gets configured maps. Entries go in as inserts
//! do: an LRU map over its bound evicts, each value leaving through the cleanup path with
//! [`RemovalCause::Evicted`](crate::RemovalCause::Evicted); a bounded map over its bound is an
//! error, not a silent cut. Maps built by hand (`LruMap::new(max)`) have no configured
//! default: deserialize a `HashMap` and `extend` them. Weak-keyed maps do not serialize: a weak
//! key cannot be written, and would be dead on arrival.

use core::fmt;
use core::hash::{BuildHasher, Hash};
use core::marker::PhantomData;

use serde::de::{Deserialize, Deserializer, Error as _, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::concurrent::{ConcurrentMap, ConcurrentWeakKeyMap};
use crate::hooks::{ConcurrentListener, RemovalListener};
use crate::map::ManagedMap;
use crate::policy::{Evicting, Policy, Reject};
use crate::storage::expiry::Expiry;
use crate::weak::WeakKeyMap;

impl<K: Serialize, V: Serialize, P: Policy, S, L: RemovalListener<K, V>, E: Expiry, C> Serialize
    for ManagedMap<K, V, P, S, L, E, C>
{
    fn serialize<Z: Serializer>(&self, serializer: Z) -> Result<Z::Ok, Z::Error> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for (key, value) in self {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl<
    K: Serialize + Hash + Eq,
    V: Serialize,
    P: Policy,
    S: BuildHasher + Clone,
    L: ConcurrentListener<K, V>,
    E: Expiry,
    C,
> Serialize for ConcurrentMap<K, V, P, S, L, E, C>
{
    fn serialize<Z: Serializer>(&self, serializer: Z) -> Result<Z::Ok, Z::Error> {
        // Shard by shard, each under its lock: entries that move between shards meanwhile may
        // be missed or seen twice, as with any concurrent iteration.
        let mut map = serializer.serialize_map(None)?;
        let mut result = Ok(());
        self.for_each(|key, value| {
            if result.is_ok() {
                result = map.serialize_entry(key, value);
            }
        });
        result?;
        map.end()
    }
}

/// How a policy takes a deserialized entry.
trait Admit<K, V> {
    /// `Err` with a message when the entry cannot go in.
    fn admit(&mut self, key: K, value: V) -> Result<(), String>;
}

impl<K: Hash + Eq, V, P: Evicting, S: BuildHasher, L: RemovalListener<K, V>, E: Expiry, C>
    Admit<K, V> for ManagedMap<K, V, P, S, L, E, C>
{
    fn admit(&mut self, key: K, value: V) -> Result<(), String> {
        self.insert(key, value);
        Ok(())
    }
}

impl<K: Hash + Eq, V, S: BuildHasher, L: RemovalListener<K, V>, E: Expiry, C> Admit<K, V>
    for ManagedMap<K, V, Reject, S, L, E, C>
{
    fn admit(&mut self, key: K, value: V) -> Result<(), String> {
        self.try_insert(key, value)
            .map_err(|_| over_bound(self.max()))
    }
}

impl<
    K: Hash + Eq,
    V,
    P: Evicting,
    S: BuildHasher + Clone,
    L: ConcurrentListener<K, V>,
    E: Expiry,
    C,
> Admit<K, V> for ConcurrentMap<K, V, P, S, L, E, C>
{
    fn admit(&mut self, key: K, value: V) -> Result<(), String> {
        self.insert(key, value);
        Ok(())
    }
}

impl<K: Hash + Eq, V, S: BuildHasher + Clone, L: ConcurrentListener<K, V>, E: Expiry, C> Admit<K, V>
    for ConcurrentMap<K, V, Reject, S, L, E, C>
{
    fn admit(&mut self, key: K, value: V) -> Result<(), String> {
        self.try_insert(key, value)
            .map_err(|_| over_bound(self.max()))
    }
}

fn over_bound(max: usize) -> String {
    format!(
        "more entries than the bounded map's `max` of {max}: a `BoundedMap` refuses new keys \
         when full, so the input does not fit"
    )
}

/// Reads entries into `M::default()`.
struct Entries<M, K, V>(PhantomData<fn() -> M>, PhantomData<fn() -> (K, V)>);

impl<'de, M: Default + Admit<K, V>, K: Deserialize<'de>, V: Deserialize<'de>> Visitor<'de>
    for Entries<M, K, V>
{
    type Value = M;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<M, A::Error> {
        let mut map = M::default();
        while let Some((key, value)) = access.next_entry::<K, V>()? {
            map.admit(key, value).map_err(A::Error::custom)?;
        }
        Ok(map)
    }
}

/// `Deserialize` into the map its type configures (a `#[mapguard::managed]` field type), for
/// a map kind and the listener trait it takes.
macro_rules! deserialize_configured {
    ($($map:ident: $listener:ident),*) => {$(
        /// Into the map its type configures (a `#[mapguard::managed]` field type); see the
        /// module docs for what happens past the bound.
        impl<'de, K, V, P: Policy, S, L, E, C> Deserialize<'de> for $map<K, V, P, S, L, E, C>
        where
            K: Deserialize<'de>,
            V: Deserialize<'de>,
            L: $listener<K, V>,
            E: Expiry,
            Self: Default + Admit<K, V>,
        {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserializer.deserialize_map(Entries::<Self, K, V>(PhantomData, PhantomData))
            }
        }
    )*};
}

deserialize_configured!(ManagedMap: RemovalListener, ConcurrentMap: ConcurrentListener);

/// Never implemented: a bound that turns "`WeakKeyMap` does not implement `Serialize`" into
/// an error that says why.
#[diagnostic::on_unimplemented(
    message = "a weak-keyed map cannot be serialized or deserialized",
    label = "its keys are `Weak` pointers",
    note = "a weak key cannot be written, and read back it would have no strong owner and be dead \
            at once; skip the field (`#[serde(skip)]`, rebuilt empty by `Default`) or serialize \
            the values under ids of their own"
)]
pub trait SerializableWeakKeys {}

/// `Serialize` and `Deserialize` for a weak-keyed map kind, bounded by
/// [`SerializableWeakKeys`] so that using them reports why they cannot work.
macro_rules! never_serialized {
    ($($map:ident: $listener:ident),*) => {$(
        impl<K, V, P: Policy, S, L, E> Serialize for $map<K, V, P, S, L, E>
        where
            K: weak_table::traits::WeakKey + SerializableWeakKeys,
            L: $listener<K, V>,
            E: Expiry,
        {
            fn serialize<Z: Serializer>(&self, _serializer: Z) -> Result<Z::Ok, Z::Error> {
                unreachable!("`SerializableWeakKeys` has no implementations")
            }
        }

        impl<'de, K, V, P: Policy, S, L, E, C> Deserialize<'de> for $map<K, V, P, S, L, E, C>
        where
            K: weak_table::traits::WeakKey + SerializableWeakKeys,
            L: $listener<K, V>,
            E: Expiry,
        {
            fn deserialize<D: Deserializer<'de>>(_deserializer: D) -> Result<Self, D::Error> {
                unreachable!("`SerializableWeakKeys` has no implementations")
            }
        }
    )*};
}

never_serialized!(WeakKeyMap: RemovalListener, ConcurrentWeakKeyMap: ConcurrentListener);
