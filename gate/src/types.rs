//! Whether a type, as written, is or holds a map: by name, through the package's own `type`
//! aliases and `use ... as` renames, and into every generic argument, tuple element and array
//! element (containers own what they hold).

use std::collections::{BTreeMap, BTreeSet};

use syn::visit::Visit;
use syn::{GenericArgument, PathArguments, Type};

use crate::config::Config;
use crate::sources::Sources;

/// Map and set types, by name: one list with the gate and the macros (`mapguard-names`).
pub(crate) use mapguard_names::MAPS;

/// mapguard's own maps: bounded, so not findings, but what they hold is looked into.
const MANAGED: &[&str] = &[
    "ManagedMap",
    "LruMap",
    "BoundedMap",
    "AdaptiveMap",
    "WeakKeyMap",
    "ConcurrentMap",
    "ConcurrentLruMap",
    "ConcurrentBoundedMap",
    "ConcurrentAdaptiveMap",
    "ConcurrentWeakKeyMap",
];

/// Types that do not own what their parameter names.
const NOT_OWNING: &[&str] = &["PhantomData", "Weak", "PhantomPinned"];

/// What `cargo mapguard clippy-config` disallows.
pub(crate) const CLIPPY_DISALLOWED: &[&str] = &[
    "std::collections::HashMap",
    "std::collections::HashSet",
    "std::collections::BTreeMap",
    "std::collections::BTreeSet",
    "hashbrown::HashMap",
    "hashbrown::HashSet",
];

/// The names a package's types are read with.
#[derive(Default)]
pub(crate) struct Names {
    maps: BTreeSet<String>,
    /// `type Name<..> = Target;` anywhere in the package, by name.
    aliases: BTreeMap<String, Vec<Type>>,
    /// `use path::Original as Name;`: `Name` -> `Original`.
    renames: BTreeMap<String, String>,
}

impl Names {
    pub(crate) fn gather(sources: &Sources, workspace: &Config, package: &Config) -> Self {
        let mut names = Self {
            maps: MAPS.iter().map(|&m| m.to_owned()).collect(),
            ..Self::default()
        };
        names.maps.extend(workspace.maps.iter().cloned());
        names.maps.extend(package.maps.iter().cloned());
        let mut collector = Collector { names: &mut names };
        for file in &sources.parsed {
            collector.visit_file(&file.syntax);
        }
        names
    }

    /// `name` as `use ... as` renames it back (itself if it is no rename).
    pub(crate) fn renamed(&self, name: &str) -> String {
        self.renames
            .get(name)
            .cloned()
            .unwrap_or_else(|| name.to_owned())
    }

    /// Whether `#[managed_map]` can rewrite a field of type `ty`: its outermost type is,
    /// after renames and aliases, a `HashMap` under one of the names the attribute rewrites
    /// (`mapguard_names::REWRITABLE`), not a set, a tree map or a map inside a container.
    pub(crate) fn rewritable(&self, ty: &Type) -> bool {
        self.rewritable_guarded(ty, &mut Vec::new())
    }

    fn rewritable_guarded(&self, ty: &Type, resolving: &mut Vec<String>) -> bool {
        let Type::Path(path) = ty else {
            return false;
        };
        let Some(last) = path.path.segments.last() else {
            return false;
        };
        let written = unraw(&last.ident);
        let name = self.renames.get(&written).cloned().unwrap_or(written);
        if mapguard_names::REWRITABLE.contains(&name.as_str()) {
            return true;
        }
        if resolving.contains(&name) {
            return false;
        }
        let Some(targets) = self.aliases.get(&name) else {
            return false;
        };
        resolving.push(name);
        let rewritable = !targets.is_empty()
            && targets
                .iter()
                .all(|target| self.rewritable_guarded(target, resolving));
        resolving.pop();
        rewritable
    }

    /// The name of a map that `ty` is or holds, if any.
    pub(crate) fn map_in(&self, ty: &Type) -> Option<String> {
        self.map_in_guarded(ty, &mut Vec::new())
    }

    fn map_in_guarded(&self, ty: &Type, resolving: &mut Vec<String>) -> Option<String> {
        match ty {
            Type::Path(path) => {
                if path.qself.is_some() {
                    return None; // `<T as Trait>::Assoc`: unknowable from syntax
                }
                let last = path.path.segments.last()?;
                let written = unraw(&last.ident);
                let name = self.renames.get(&written).cloned().unwrap_or(written);
                if self.maps.contains(&name) && !MANAGED.contains(&name.as_str()) {
                    return Some(name);
                }
                if NOT_OWNING.contains(&name.as_str()) {
                    return None;
                }
                if !resolving.contains(&name) {
                    if let Some(targets) = self.aliases.get(&name) {
                        resolving.push(name.clone());
                        let found = targets
                            .iter()
                            .find_map(|target| self.map_in_guarded(target, resolving));
                        resolving.pop();
                        if found.is_some() {
                            return found;
                        }
                    }
                }
                // Containers own what they hold: `Vec<_>`, `Arc<Mutex<_>>`, `LazyLock<_>`, ...
                path.path
                    .segments
                    .iter()
                    .filter_map(|segment| match &segment.arguments {
                        PathArguments::AngleBracketed(args) => Some(args),
                        _ => None,
                    })
                    .flat_map(|args| &args.args)
                    .find_map(|arg| match arg {
                        GenericArgument::Type(inner) => self.map_in_guarded(inner, resolving),
                        _ => None,
                    })
            }
            Type::Tuple(tuple) => tuple
                .elems
                .iter()
                .find_map(|elem| self.map_in_guarded(elem, resolving)),
            Type::Array(array) => self.map_in_guarded(&array.elem, resolving),
            Type::Slice(slice) => self.map_in_guarded(&slice.elem, resolving),
            Type::Paren(paren) => self.map_in_guarded(&paren.elem, resolving),
            Type::Group(group) => self.map_in_guarded(&group.elem, resolving),
            // Borrowed, pointed to, or behind a trait: owned elsewhere, or not knowable here.
            _ => None,
        }
    }

    /// Whether `ty`'s outermost type is a map (after renames and aliases): `#[managed_map]`
    /// rewrites such a field, so only its key and value are looked into.
    pub(crate) fn map_arguments<'t>(&self, ty: &'t Type) -> Option<Vec<&'t Type>> {
        let Type::Path(path) = ty else {
            return None;
        };
        let last = path.path.segments.last()?;
        let written = unraw(&last.ident);
        let name = self.renames.get(&written).cloned().unwrap_or(written);
        if !self.maps.contains(&name) && !MANAGED.contains(&name.as_str()) {
            return None;
        }
        let PathArguments::AngleBracketed(args) = &last.arguments else {
            return Some(Vec::new());
        };
        Some(
            args.args
                .iter()
                .filter_map(|arg| match arg {
                    GenericArgument::Type(inner) => Some(inner),
                    _ => None,
                })
                .collect(),
        )
    }
}

pub(crate) fn unraw(ident: &syn::Ident) -> String {
    let text = ident.to_string();
    text.strip_prefix("r#").map_or(text.clone(), str::to_owned)
}

/// Reads every `type` alias and `use ... as ...` rename of a file, at any depth.
struct Collector<'a> {
    names: &'a mut Names,
}

impl<'ast> Visit<'ast> for Collector<'_> {
    fn visit_item_type(&mut self, item: &'ast syn::ItemType) {
        self.names
            .aliases
            .entry(unraw(&item.ident))
            .or_default()
            .push((*item.ty).clone());
        syn::visit::visit_item_type(self, item);
    }

    fn visit_use_rename(&mut self, rename: &'ast syn::UseRename) {
        let original = unraw(&rename.ident);
        let new = unraw(&rename.rename);
        if original != new {
            self.names.renames.insert(new, original);
        }
    }
}
