//! `Serialize` and `Deserialize` (feature `serde`).
//!
//! A map serializes as a map, its entries oldest first: least recently used first for an
//! `LruMap`, least recently written first for a `BoundedMap` (the reverse of `iter`), shard
//! by shard, each oldest first, for the concurrent ones. It deserializes into the map its
//! type configures — the field types `#[mapguard::managed]` writes carry their bound,
//! lifetime and hooks, so a struct deriving `Deserialize` gets configured maps.
//!
//! Reading replays the writer's history: entries go in as inserts, in the order written, so
//! a map comes back in the recency order it was written in, and its next eviction is the
//! one the writer's map would have made (exactly, for `LruMap` and `BoundedMap`; an
//! `AdaptiveMap` keeps its entries and learns which of them are used often anew). Of a key written twice, the
//! later entry wins, and the earlier value leaves with
//! [`RemovalCause::Replaced`](crate::RemovalCause::Replaced). Input longer than the bound
//! keeps the newest entries: each older one is evicted on the way in, through the cleanup path
//! with [`RemovalCause::Evicted`](crate::RemovalCause::Evicted). A bounded map refuses
//! instead: such input is an error, not a silent cut, and the value it refused goes through
//! its hooks with `Evicted` (the map's other entries leave with it, `Dropped`). Reading streams:
//! nothing but the map holds entries on the way.
//!
//! Maps built by hand (`LruMap::new(max)`) have no configured default: deserialize a
//! `HashMap` and `extend` them. Weak-keyed maps do not serialize: a weak key cannot be written,
//! and would be dead on arrival.

use core::fmt;
use core::hash::{BuildHasher, Hash};
use core::marker::PhantomData;

use serde::de::{Deserialize, Deserializer, Error as _, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::RemovalCause;
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
        // Oldest first: reading replays the inserts in this order.
        for (key, value) in self.iter().rev() {
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
        self.for_each_oldest_first(|key, value| {
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
    /// Stores an entry as an insert does. A value the map refuses goes through its hooks,
    /// and the message says why.
    fn admit(&mut self, key: K, value: V) -> Result<(), String>;
}

/// `Admit` for one map type: an evicting policy inserts; a bounded one refuses when full.
macro_rules! admit {
    ($map:ident: $listener:ident, $($hasher:tt)*) => {
        impl<K: Hash + Eq, V, P: Evicting, S: $($hasher)*, L: $listener<K, V>, E: Expiry, C>
            Admit<K, V> for $map<K, V, P, S, L, E, C>
        {
            fn admit(&mut self, key: K, value: V) -> Result<(), String> {
                self.insert(key, value);
                Ok(())
            }
        }

        impl<K: Hash + Eq, V, S: $($hasher)*, L: $listener<K, V>, E: Expiry, C> Admit<K, V>
            for $map<K, V, Reject, S, L, E, C>
        {
            fn admit(&mut self, key: K, value: V) -> Result<(), String> {
                self.try_insert(key, value).map_err(|refused| {
                    let (key, value) = refused.into_inner();
                    self.release_unstored(key, value, RemovalCause::Evicted);
                    over_bound(self.max())
                })
            }
        }
    };
}

admit!(ManagedMap: RemovalListener, BuildHasher);
admit!(ConcurrentMap: ConcurrentListener, BuildHasher + Clone);

fn over_bound(max: usize) -> String {
    format!(
        "more entries than the bounded map's `max` of {max} (or than its weight budget): a \
         `BoundedMap` refuses new keys when full, so the input does not fit"
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
