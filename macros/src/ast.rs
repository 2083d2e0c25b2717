//! Reading field types: which are maps, which can be rewritten, which keys are weak.

use syn::{GenericArgument, PathArguments, PathSegment, Type};

/// Map and set types that must carry a lifecycle attribute, by last path segment: the ones
/// the compiler's check cannot name (other crates' types: indexmap, dashmap, ahash, ...) are
/// found here by name. The same list as the gate's (`gate/src/types.rs`).
pub(crate) const MAPS: &[&str] = &[
    "HashMap",
    "HashSet",
    "BTreeMap",
    "BTreeSet",
    "HashTable",
    "IndexMap",
    "IndexSet",
    "DashMap",
    "DashSet",
    "FxHashMap",
    "FxHashSet",
    "AHashMap",
    "AHashSet",
    "FnvHashMap",
    "FnvHashSet",
    "SkipMap",
    "SkipSet",
    "LinkedHashMap",
    "LinkedHashSet",
    "BiMap",
    "BiHashMap",
    "BiBTreeMap",
];

/// Wrappers looked through when searching a field type for a map.
const WRAPPERS: &[&str] = &["Option", "Box", "Rc", "Arc", "Mutex", "RwLock", "RefCell"];

fn last_segment(ty: &Type) -> Option<&PathSegment> {
    match ty {
        Type::Path(path) if path.qself.is_none() => path.path.segments.last(),
        Type::Group(group) => last_segment(&group.elem),
        Type::Paren(paren) => last_segment(&paren.elem),
        _ => None,
    }
}

fn type_args(segment: &PathSegment) -> Vec<&Type> {
    match &segment.arguments {
        PathArguments::AngleBracketed(args) => args
            .args
            .iter()
            .filter_map(|arg| match arg {
                GenericArgument::Type(ty) => Some(ty),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// A map somewhere in the field type: its name, and the wrapper it sits in, if any.
pub(crate) struct FoundMap {
    pub(crate) name: String,
    pub(crate) wrapper: Option<String>,
}

pub(crate) fn find_map(ty: &Type) -> Option<FoundMap> {
    let segment = last_segment(ty)?;
    let name = segment.ident.to_string();
    if MAPS.contains(&name.as_str()) {
        return Some(FoundMap {
            name,
            wrapper: None,
        });
    }
    if WRAPPERS.contains(&name.as_str()) {
        let inner = type_args(segment).into_iter().next()?;
        let found = find_map(inner)?;
        return Some(FoundMap {
            name: found.name,
            wrapper: Some(found.wrapper.unwrap_or(name)),
        });
    }
    None
}

/// `HashMap<K, V>` or `HashMap<K, V, S>`, under any path.
pub(crate) struct HashMapType<'a> {
    pub(crate) key: &'a Type,
    pub(crate) value: &'a Type,
    pub(crate) hasher: Option<&'a Type>,
}

pub(crate) fn as_hashmap(ty: &Type) -> Option<HashMapType<'_>> {
    let segment = last_segment(ty)?;
    if segment.ident != "HashMap" {
        return None;
    }
    match type_args(segment).as_slice() {
        [key, value] => Some(HashMapType {
            key,
            value,
            hasher: None,
        }),
        [key, value, hasher] => Some(HashMapType {
            key,
            value,
            hasher: Some(hasher),
        }),
        _ => None,
    }
}

/// Whether the key type is a weak pointer (`Weak<T>` under any path).
pub(crate) fn is_weak(ty: &Type) -> bool {
    last_segment(ty).is_some_and(|segment| segment.ident == "Weak")
}
