//! Checks across attributes and between an attribute and its field's type: what must be there,
//! what cannot go together, and maps without a lifecycle found by name.

use crate::ast::{Field, FieldKind, FoundMap, Input, find_map, is_helper, is_weak};
use crate::attr::MapAttr;
use crate::ctxt::Errors;

pub(crate) fn check(input: &mut Input, errors: &mut Errors) {
    for field in &input.fields {
        check_field(field, errors);
    }
    let (ident, attrs) = (&input.item.ident, &mut input.item.attrs);
    check_derived_clone(ident, attrs, &input.fields, errors);
}

/// `#[derive(Clone)]` with a concurrent or weak-keyed managed map: those maps are not
/// `Clone`, and rustc's own error would name the generated field type. One error, at
/// `Clone`, naming the fields and what to write instead; `Clone` is then taken out of the
/// derive, so rustc adds no second error about the generated type.
fn check_derived_clone(
    ident: &syn::Ident,
    attrs: &mut [syn::Attribute],
    fields: &[Field],
    errors: &mut Errors,
) {
    let shared: Vec<String> = fields
        .iter()
        .filter(|field| match &field.kind {
            FieldKind::Managed(managed) => {
                managed.0.concurrent.is_some() || managed.0.weak_keys.is_some()
            }
            _ => false,
        })
        .map(describe)
        .collect();
    if shared.is_empty() {
        return;
    }
    let is_clone = |path: &syn::Path| {
        path.segments
            .last()
            .is_some_and(|last| last.ident == "Clone")
    };
    for attr in attrs
        .iter_mut()
        .filter(|attr| attr.path().is_ident("derive"))
    {
        let Ok(derived) = attr.parse_args_with(
            syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated,
        ) else {
            continue;
        };
        let Some(clone) = derived.iter().find(|path| is_clone(path)) else {
            continue;
        };
        errors.spanned(
            clone,
            format!(
                "`#[derive(Clone)]` cannot copy {}: `concurrent` and `weak_keys` managed maps \
                 are not `Clone` (a copy would split one map into two, each closing its own \
                 values); share the struct instead, as `Arc<{ident}>`, or drop `Clone`",
                shared.join(", ")
            ),
        );
        let kept = derived.iter().filter(|path| !is_clone(path));
        *attr = syn::parse_quote!(#[derive(#(#kept),*)]);
    }
}

fn describe(field: &Field) -> String {
    match &field.member {
        syn::Member::Named(ident) => format!("`{ident}`"),
        syn::Member::Unnamed(index) => format!("{}", index.index),
    }
}

fn check_field(field: &Field, errors: &mut Errors) {
    let mut managed = 0;
    let mut unmanaged = 0;
    for attr in &field.helpers {
        if !is_helper(attr) {
            errors.spanned(
                attr,
                "#[managed_map] and #[unmanaged] cannot go in #[cfg_attr]: they decide the \
                 field's type, which a build configuration cannot change afterwards. Write the \
                 field twice, under #[cfg(pred)] with the attribute and #[cfg(not(pred))] \
                 without it, or put the attribute on the field directly",
            );
            continue;
        }
        let (count, other) = if attr.path().is_ident("managed_map") {
            (&mut managed, unmanaged)
        } else {
            (&mut unmanaged, managed)
        };
        *count += 1;
        if *count > 1 {
            errors.spanned(
                attr,
                "this attribute is repeated: keep one and merge its keys",
            );
        } else if other > 0 {
            errors.spanned(
                attr,
                "a field is either #[managed_map] or #[unmanaged], not both: remove one",
            );
        }
    }
    let in_cfg_attr = field.helpers.iter().any(|attr| !is_helper(attr));
    match &field.kind {
        FieldKind::Managed(managed) => {
            let (attr, map) = &**managed;
            check_map_attr(attr, errors);
            match map {
                Some(map) => {
                    if attr.weak_keys.is_some() && map.spelled && !is_weak(&map.key) {
                        errors.spanned(
                            &map.key,
                            "`weak_keys` needs a weak key type: declare the key as \
                             `std::rc::Weak<T>` or `std::sync::Weak<T>` (inserts then take the \
                             `Rc<T>`/`Arc<T>`)",
                        );
                    }
                }
                None => not_rewritable(field, errors),
            }
        }
        FieldKind::Plain if !in_cfg_attr => {
            if let Some(found) = find_map(&field.ty) {
                errors.spanned(&field.ty, no_lifecycle(field, &found));
            }
        }
        FieldKind::Unmanaged(_) | FieldKind::Plain => {}
    }
}

/// What to write for a map found by name without a lifecycle: the attribute it can take, or
/// what it could become.
fn no_lifecycle(field: &Field, found: &FoundMap) -> String {
    let name = &found.name;
    let what = describe(field);
    let otherwise = "or #[unmanaged(reason = \"...\")] to say why it may grow";
    match (name.as_str(), found.wrapper.as_deref()) {
        ("HashMap" | "FxHashMap" | "FnvHashMap" | "AHashMap", None) => format!(
            "map field {what} has no lifecycle: this `{name}` can grow without bound. Add \
             #[managed_map(lifetime = \"request\", max = 10_000)] to bound it, {otherwise}"
        ),
        (_, Some("Arc" | "Mutex" | "RwLock")) => format!(
            "map field {what} has no lifecycle: this `{name}` shared through `{}` can grow \
             without bound. Declare it as a plain `HashMap<K, V>` with \
             #[managed_map(lifetime = \"process\", max = 10_000, concurrent)]: a concurrent \
             managed map is shared through `&self`, with no lock around it; {otherwise}",
            found.wrapper.as_deref().unwrap_or_default()
        ),
        (_, Some(wrapper)) => format!(
            "map field {what} has no lifecycle: this `{name}` inside `{wrapper}` can grow \
             without bound. Declare the field as a `HashMap<K, V>` with \
             #[managed_map(lifetime = \"request\", max = 10_000)], {otherwise}"
        ),
        ("HashSet" | "FxHashSet" | "AHashSet" | "IndexSet" | "DashSet" | "BTreeSet", None) => {
            format!(
                "set field {what} has no lifecycle: this `{name}` can grow without bound. A \
                 managed set is a map to `()`: declare it as `HashMap<T, ()>` with \
                 #[managed_map(lifetime = \"request\", max = 10_000)], {otherwise}"
            )
        }
        ("DashMap", None) => format!(
            "map field {what} has no lifecycle: this `DashMap` can grow without bound. Declare \
             it as a `HashMap<K, V>` with #[managed_map(lifetime = \"process\", max = 10_000, \
             concurrent)]: a concurrent managed map, sharded like DashMap; {otherwise}"
        ),
        _ => format!(
            "map field {what} has no lifecycle: this `{name}` can grow without bound. \
             #[managed_map] rewrites hash maps: declare it as a `HashMap<K, V>` with \
             #[managed_map(lifetime = \"request\", max = 10_000)] (entries then have no \
             order), {otherwise}"
        ),
    }
}

/// `#[managed_map]` on a type it cannot rewrite: what to do instead.
fn not_rewritable(field: &Field, errors: &mut Errors) {
    let hint = match find_map(&field.ty) {
        Some(FoundMap {
            name,
            wrapper: Some(wrapper),
        }) => format!(
            "#[managed_map] rewrites a bare `HashMap<K, V>`, but this `{name}` is inside \
             `{wrapper}`: declare the field as the map itself (add `concurrent` to share it \
             between threads without a lock), or mark it #[unmanaged(reason = \"...\")]"
        ),
        Some(FoundMap {
            name,
            wrapper: None,
        }) => format!(
            "#[managed_map] rewrites `HashMap<K, V>` (or `HashMap<K, V, S>`, under any name); \
             a `{name}` cannot be rewritten: use a HashMap, or mark the field \
             #[unmanaged(reason = \"...\")]"
        ),
        None => "#[managed_map] goes on a `HashMap<K, V>` field; this type is not a map".to_owned(),
    };
    errors.spanned(&field.ty, hint);
}

/// Keys that must be present, and keys that cannot go together.
fn check_map_attr(attr: &MapAttr, errors: &mut Errors) {
    if attr.lifetime.is_none() && !attr.keys.contains("lifetime") {
        errors.spanned(
            &attr.attr,
            "#[managed_map] needs a `lifetime`: add `lifetime = \"request\"` (or \"session\", \
             \"batch\", \"process\") so the map's entries have an owner that ends",
        );
    }
    let has_budget = attr.keys.contains("max_bytes") || attr.keys.contains("max_weight");
    if attr.max.is_none() && attr.weak_keys.is_none() && !attr.keys.contains("max") && !has_budget {
        errors.spanned(
            &attr.attr,
            "#[managed_map] needs `max = N` or `max_bytes = \"64MiB\"`: an unbounded map is \
             the leak this attribute prevents (only `weak_keys` maps may leave both out)",
        );
    }
    if let Some(weigher) = &attr.weigher {
        if !has_budget {
            errors.spanned(
                weigher,
                "`weigher` needs a budget: add `max_bytes = \"64MiB\"` (bytes) or \
                 `max_weight = N` (the weigher's units), or remove `weigher`",
            );
        }
    }
    if attr.keys.contains("max_bytes") {
        if let Some(span) = attr.keys.span_of("max_weight") {
            errors.at(
                span,
                "`max_weight` and `max_bytes` set the same budget: keep `max_bytes` for bytes \
                 (the value's `Weigh`), or `max_weight` for a `weigher`'s own units",
            );
        }
    }
    if attr.concurrent.is_none() {
        if let Some(span) = attr.keys.span_of("shards") {
            errors.at(
                span,
                "`shards` splits a `concurrent` map's lock: add `concurrent`, or remove \
                 `shards` (a map that is not shared has no shards)",
            );
        }
    }
    if let Some(policy) = &attr.expire_after {
        for key in ["ttl", "idle"]
            .into_iter()
            .filter(|key| attr.keys.contains(key))
        {
            errors.spanned(
                policy,
                format!(
                    "`expire_after` replaces `{key}`: remove `{key}`, or answer it from the \
                     policy (`after_create` returning the ttl)"
                ),
            );
        }
    }
    if let Some(span) = attr.evict_key {
        if !attr.keys.contains("max") {
            errors.at(
                span,
                "`evict` needs `max`: add `max = N`, or remove `evict` (an unbounded map \
                 evicts nothing)",
            );
        }
    }
}
