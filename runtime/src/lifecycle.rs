//! The compile-time check behind `#[mapguard::managed]` and `#[derive(ManagedCache)]`: a field
//! whose type is, or holds, a map must declare its lifecycle.
//!
//! The macros cannot resolve types, so they ask the compiler: every unannotated field type
//! `T` becomes a call `(&Probe::<T>::new()).lifecycle()`. If `T: HoldsMap` the method of
//! [`MapProbe`] is found first (autoref specialization) and returns a [`MapWithoutLifecycle`],
//! which [`require_lifecycle`] rejects with a message naming `T`; otherwise [`PlainProbe`]'s
//! method returns [`NoMap`] and nothing happens. In a generic context the compiler only
//! knows the bounds, so a field of type `T` (a type parameter) passes: what `T` becomes is
//! checked where it is named concretely, by the gate (`cargo mapguard check`).

use core::marker::PhantomData;

/// Types that are maps or sets, or own one: std's and hashbrown's hash and B-tree maps and
/// sets, and the containers, smart pointers, cells and lazy cells of such types. Aliases
/// (`FxHashMap`, `AHashMap`, `type Registry = HashMap<..>`) are the same types, so they are
/// covered too. Managed maps are not `HoldsMap`.
pub trait HoldsMap {}

impl<K, V, S> HoldsMap for std::collections::HashMap<K, V, S> {}
impl<K, S> HoldsMap for std::collections::HashSet<K, S> {}
impl<K, V> HoldsMap for std::collections::BTreeMap<K, V> {}
impl<K> HoldsMap for std::collections::BTreeSet<K> {}
// This crate's hashbrown version; other versions are found by name (the macros, the gate).
impl<K, V, S> HoldsMap for hashbrown::HashMap<K, V, S> {}
impl<K, S> HoldsMap for hashbrown::HashSet<K, S> {}

/// Containers and pointers that own what they hold: a map inside is still a map.
macro_rules! holds_what_it_owns {
    ($($ty:ident)::+ <T $(, $extra:ident)*>) => {
        impl<T: HoldsMap + ?Sized $(, $extra)*> HoldsMap for $($ty)::+<T $(, $extra)*> {}
    };
}

holds_what_it_owns!(std::boxed::Box<T>);
holds_what_it_owns!(std::rc::Rc<T>);
holds_what_it_owns!(std::sync::Arc<T>);
holds_what_it_owns!(std::sync::Mutex<T>);
holds_what_it_owns!(std::sync::RwLock<T>);
holds_what_it_owns!(std::cell::RefCell<T>);
holds_what_it_owns!(std::cell::UnsafeCell<T>);
holds_what_it_owns!(core::mem::ManuallyDrop<T>);

impl<T: HoldsMap> HoldsMap for [T] {}
impl<T: HoldsMap, const N: usize> HoldsMap for [T; N] {}
impl<T: HoldsMap> HoldsMap for Vec<T> {}
impl<T: HoldsMap> HoldsMap for std::collections::VecDeque<T> {}
impl<T: HoldsMap> HoldsMap for std::collections::LinkedList<T> {}
impl<T: HoldsMap> HoldsMap for Option<T> {}
impl<T: HoldsMap> HoldsMap for std::cell::Cell<T> {}
impl<T: HoldsMap> HoldsMap for std::cell::OnceCell<T> {}
impl<T: HoldsMap> HoldsMap for std::sync::OnceLock<T> {}
impl<T: HoldsMap, F> HoldsMap for std::cell::LazyCell<T, F> {}
impl<T: HoldsMap, F> HoldsMap for std::sync::LazyLock<T, F> {}

/// Asks whether `T` holds a map; see the module docs.
#[derive(Debug)]
pub struct Probe<T: ?Sized>(PhantomData<fn() -> PhantomData<T>>);

impl<T: ?Sized> Probe<T> {
    /// A probe for `T`.
    #[must_use]
    pub const fn new() -> Self {
        Self(PhantomData)
    }
}

impl<T: ?Sized> Default for Probe<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// The answer for a type that holds a map.
#[derive(Debug)]
pub struct MapWithoutLifecycle<T: ?Sized>(PhantomData<fn() -> PhantomData<T>>);

/// The answer for any other type.
#[derive(Debug)]
pub struct NoMap;

/// Found first (on `Probe<T>` itself) when `T: HoldsMap`.
pub trait MapProbe<T: ?Sized> {
    /// A `MapWithoutLifecycle`: the type holds a map.
    fn lifecycle(&self) -> MapWithoutLifecycle<T>;
}

impl<T: HoldsMap + ?Sized> MapProbe<T> for Probe<T> {
    fn lifecycle(&self) -> MapWithoutLifecycle<T> {
        MapWithoutLifecycle(PhantomData)
    }
}

/// Found after one autoref (on `&Probe<T>`) for every `T`.
pub trait PlainProbe {
    /// `NoMap`: the type holds none.
    fn lifecycle(&self) -> NoMap;
}

impl<T: ?Sized> PlainProbe for &Probe<T> {
    fn lifecycle(&self) -> NoMap {
        NoMap
    }
}

/// What a field of type `T` with no lifecycle attribute may hold: anything but a map.
#[diagnostic::on_unimplemented(
    message = "this field holds a map with no lifecycle: `{T}` can grow without bound",
    label = "a map (or a container of maps) without #[managed_map] or #[unmanaged]",
    note = "bound it: declare the field as `HashMap<K, V>` with #[managed_map(lifetime = \"request\", max = 10_000)], \
            or hold a managed map instead (`mapguard::LruMap<K, V>`, `mapguard::ConcurrentLruMap<K, V>`)",
    note = "or say why it may grow: #[unmanaged(reason = \"...\")]"
)]
pub trait LifecycleDeclared<T: ?Sized> {}

#[diagnostic::do_not_recommend]
impl<T: ?Sized> LifecycleDeclared<T> for NoMap {}

/// What the values of a managed map may hold: anything but an unmanaged map.
#[diagnostic::on_unimplemented(
    message = "the values of this managed map hold a map with no lifecycle: `{T}` can grow without bound",
    label = "a value type that is or holds a map",
    note = "each value's inner map needs a bound too: use a managed map as the value type \
            (`mapguard::LruMap<K2, V2>` or `mapguard::BoundedMap<K2, V2>`, built with a `max`), \
            or a #[mapguard::managed] struct"
)]
pub trait ValuesDeclared<T: ?Sized> {}

#[diagnostic::do_not_recommend]
impl<T: ?Sized> ValuesDeclared<T> for NoMap {}

/// Rejects a field type that holds a map (see the module docs).
#[inline]
pub const fn require_lifecycle<T: ?Sized, Answer: LifecycleDeclared<T>>(_: &Answer) {}

/// Rejects a managed map's value type that holds a map.
#[inline]
pub const fn require_managed_values<T: ?Sized, Answer: ValuesDeclared<T>>(_: &Answer) {}

/// What `#[managed_map]` rewrites, taken apart by the compiler: a field declared through an
/// alias (`type Sessions = HashMap<u64, Session>`, `FxHashMap<K, V>`, `use HashMap as Map`)
/// becomes `ManagedMap<<T as MapType>::Key, <T as MapType>::Value, ..>`.
#[diagnostic::on_unimplemented(
    message = "#[managed_map] goes on a hash map, and `{Self}` is not one",
    label = "not a `HashMap<K, V>`",
    note = "#[managed_map] rewrites std's and hashbrown's `HashMap<K, V, S>`, under any name (an alias, \
            an `FxHashMap`, a renamed import); put it on such a field, or remove it and mark the field \
            #[unmanaged(reason = \"...\")] if it holds a map"
)]
pub trait MapType {
    /// The key type.
    type Key;
    /// The value type.
    type Value;
    /// The hasher (`BuildHasher`), kept by the managed map.
    type Hasher;
}

impl<K, V, S> MapType for std::collections::HashMap<K, V, S> {
    type Key = K;
    type Value = V;
    type Hasher = S;
}

impl<K, V, S> MapType for hashbrown::HashMap<K, V, S> {
    type Key = K;
    type Value = V;
    type Hasher = S;
}

/// Asks whether `K` can be a weak key: a `Weak<T>` whose `T` has `Hash` and `Eq`.
///
/// `WeakKeyMap<K, ..>` is a well-formed type for any `Weak<T>`, so a field declared with a
/// pointee that cannot be hashed still compiles everywhere the macros use it; this check
/// is its one error. `(&&WeakKeyProbe::<K>::new()).weak_key()` finds [`HashedWeakKey`]'s
/// method when `K: WeakKey`, else [`AnyWeakKey`]'s, whose answer [`require_weak_key`]
/// rejects with a message naming `K`.
#[derive(Debug)]
pub struct WeakKeyProbe<K: ?Sized>(PhantomData<fn() -> PhantomData<K>>);

impl<K: ?Sized> WeakKeyProbe<K> {
    /// A probe for `K`.
    #[must_use]
    pub const fn new() -> Self {
        Self(PhantomData)
    }
}

impl<K: ?Sized> Default for WeakKeyProbe<K> {
    fn default() -> Self {
        Self::new()
    }
}

/// The answer for a key whose pointee hashes and compares.
#[derive(Debug)]
pub struct WeakKeyHashes;

/// The answer for any other key.
#[derive(Debug)]
pub struct WeakKeyCannotHash;

/// Found first (on `&WeakKeyProbe<K>`) when `K: WeakKey`.
pub trait HashedWeakKey {
    /// `WeakKeyHashes`.
    fn weak_key(&self) -> WeakKeyHashes;
}

impl<K: weak_table::traits::WeakKey> HashedWeakKey for &WeakKeyProbe<K> {
    fn weak_key(&self) -> WeakKeyHashes {
        WeakKeyHashes
    }
}

/// Found after one dereference, for every `K`.
pub trait AnyWeakKey {
    /// `WeakKeyCannotHash`.
    fn weak_key(&self) -> WeakKeyCannotHash;
}

impl<K: ?Sized> AnyWeakKey for WeakKeyProbe<K> {
    fn weak_key(&self) -> WeakKeyCannotHash {
        WeakKeyCannotHash
    }
}

/// What a `#[managed_map(weak_keys)]` key must be: implemented for every key with the
/// answer [`WeakKeyHashes`], so a key whose probe answered otherwise is reported by name.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a weak key: the map hashes and compares keys by what they point to, \
               and what this one points to lacks `Hash` or `Eq`",
    label = "the pointee of this `Weak` needs `Hash` and `Eq`",
    note = "derive them on the pointed-to type: #[derive(PartialEq, Eq, Hash)]; \
            for a type parameter `T` in `Weak<T>`, bound it: `T: Hash + Eq`"
)]
pub trait WeakKeyChecked<Answer> {}

#[diagnostic::do_not_recommend]
impl<K: ?Sized> WeakKeyChecked<WeakKeyHashes> for K {}

/// A second answer nothing gives: with one impl only, rustc would infer the answer from it
/// and report a type mismatch instead of the message above.
#[derive(Debug)]
pub enum NeverAnswered {}

#[diagnostic::do_not_recommend]
impl<K: ?Sized> WeakKeyChecked<NeverAnswered> for K {}

/// Rejects a weak key whose pointee has no `Hash` or `Eq` (see [`WeakKeyProbe`]).
#[inline]
pub const fn require_weak_key<K: ?Sized + WeakKeyChecked<Answer>, Answer>(_: &Answer) {}
