//! The typed model of a `#[mapguard::managed]` struct: each field is managed, unmanaged or
//! plain, with its attribute parsed (attr.rs) and its map type taken apart. Checks across
//! attributes are valid.rs's; code generation is expand.rs's.

use proc_macro2::TokenStream;
use syn::visit_mut::VisitMut;
use syn::{
    Attribute, GenericArgument, ItemStruct, Member, PathArguments, PathSegment, Type, parse_quote,
};

use crate::attr::{MapAttr, UnmanagedAttr};
use crate::ctxt::Errors;

/// Map and set types, by name: one list with the gate and the macros (`mapguard-names`).
pub(crate) use mapguard_names::MAPS;

/// Names that may be a `HashMap` under another name (an alias with another hasher): rewritten
/// by what they are (`MapType`), so the compiler decides.
const HASH_MAP_ALIASES: &[&str] = mapguard_names::REWRITABLE;

/// Types that are certainly not maps: `#[managed_map]` on them is an error by name, before
/// the compiler would say the same about `MapType`.
const NOT_MAPS: &[&str] = &[
    "u8",
    "u16",
    "u32",
    "u64",
    "u128",
    "usize",
    "i8",
    "i16",
    "i32",
    "i64",
    "i128",
    "isize",
    "f32",
    "f64",
    "bool",
    "char",
    "str",
    "String",
    "Vec",
    "VecDeque",
    "LinkedList",
    "BinaryHeap",
    "Option",
    "Result",
    "Box",
    "Rc",
    "Arc",
    "Mutex",
    "RwLock",
    "RefCell",
    "Cell",
    "OnceCell",
    "OnceLock",
    "LazyLock",
    "LazyCell",
    "PhantomData",
    "Duration",
    "Instant",
    "PathBuf",
];

/// Wrappers looked through when searching a field type for a map.
const WRAPPERS: &[&str] = &["Option", "Box", "Rc", "Arc", "Mutex", "RwLock", "RefCell"];

/// The struct, as the macro understands it.
pub(crate) struct Input {
    pub(crate) item: ItemStruct,
    /// Where generated code finds the runtime: `::mapguard`, or `crate = path`.
    pub(crate) krate: syn::Path,
    pub(crate) fields: Vec<Field>,
}

pub(crate) struct Field {
    pub(crate) member: Member,
    /// The type as declared.
    pub(crate) ty: Type,
    pub(crate) vis: syn::Visibility,
    /// `#[cfg(...)]` on the field: repeated on everything generated for it.
    pub(crate) cfgs: Vec<Attribute>,
    /// Every `#[managed_map]`, `#[unmanaged]` and `#[cfg_attr]` naming one, for valid.rs.
    pub(crate) helpers: Vec<Attribute>,
    pub(crate) kind: FieldKind,
}

pub(crate) enum FieldKind {
    /// `#[managed_map(...)]`; `map` is `None` when the type cannot be rewritten.
    Managed(Box<(MapAttr, Option<MapParts>)>),
    /// `#[unmanaged(reason = "...")]`; `reason` is `None` when it is missing or empty.
    Unmanaged(Option<String>),
    Plain,
}

/// A rewritable map type taken apart. `Self` already means the user's struct.
pub(crate) struct MapParts {
    pub(crate) key: Type,
    pub(crate) value: Type,
    /// `None`: the default hasher.
    pub(crate) hasher: Option<Type>,
    /// Spelled `HashMap<K, V>` (so the key's spelling can be read), rather than taken apart
    /// by the compiler through `MapType`.
    pub(crate) spelled: bool,
}

impl Input {
    /// Reads the struct and its attributes, reporting what cannot be read into `errors`.
    pub(crate) fn from_syn(args: &TokenStream, item: ItemStruct, errors: &mut Errors) -> Self {
        let krate = crate_path(args, errors);
        let this = self_type(&item);
        let fields = item
            .fields
            .iter()
            .enumerate()
            .map(|(index, field)| Field::from_syn(index, field, &this, &krate, errors))
            .collect();
        Self {
            item,
            krate,
            fields,
        }
    }
}

impl Field {
    fn from_syn(
        index: usize,
        field: &syn::Field,
        this: &Type,
        krate: &syn::Path,
        errors: &mut Errors,
    ) -> Self {
        let helpers: Vec<Attribute> = field
            .attrs
            .iter()
            .filter(|attr| is_helper(attr) || names_helper_in_cfg_attr(attr))
            .cloned()
            .collect();
        let cfgs = field
            .attrs
            .iter()
            .filter(|attr| attr.path().is_ident("cfg"))
            .cloned()
            .collect();
        let first = |name: &str| field.attrs.iter().find(|a| a.path().is_ident(name));
        let kind = if let Some(attr) = first("managed_map") {
            let mut parsed = MapAttr::parse(attr, errors);
            if let Some(syn::Expr::Path(path)) = &mut parsed.on_remove {
                replace_self_in_path(path, this);
            }
            FieldKind::Managed(Box::new((parsed, map_parts(&field.ty, this, krate))))
        } else if let Some(attr) = first("unmanaged") {
            FieldKind::Unmanaged(UnmanagedAttr::parse(attr, errors).reason)
        } else {
            FieldKind::Plain
        };
        Self {
            member: member(index, field),
            ty: field.ty.clone(),
            vis: field.vis.clone(),
            cfgs,
            helpers,
            kind,
        }
    }
}

pub(crate) fn member(index: usize, field: &syn::Field) -> Member {
    use syn::spanned::Spanned;
    field.ident.clone().map_or_else(
        || {
            Member::Unnamed(syn::Index {
                index: index as u32,
                span: field.ty.span(),
            })
        },
        Member::Named,
    )
}

pub(crate) fn is_helper(attr: &Attribute) -> bool {
    attr.path().is_ident("managed_map") || attr.path().is_ident("unmanaged")
}

/// `#[cfg_attr(pred, managed_map(...))]`: the helper a build configuration would add.
pub(crate) fn names_helper_in_cfg_attr(attr: &Attribute) -> bool {
    if !attr.path().is_ident("cfg_attr") {
        return false;
    }
    let mut names = false;
    let _ = attr.parse_nested_meta(|meta| {
        names |= meta.path.is_ident("managed_map") || meta.path.is_ident("unmanaged");
        // Skip whatever follows (a predicate's arguments, an attribute's).
        if meta.input.peek(syn::token::Paren) {
            let _: proc_macro2::TokenTree = meta.input.parse()?;
        } else if meta.input.peek(syn::Token![=]) {
            let _: syn::Expr = meta.value()?.parse()?;
        }
        Ok(())
    });
    names
}

/// `crate = path` from `#[mapguard::managed(...)]`, or `::mapguard`.
fn crate_path(args: &TokenStream, errors: &mut Errors) -> syn::Path {
    let default: syn::Path = parse_quote!(::mapguard);
    if args.is_empty() {
        return default;
    }
    let mut krate = None;
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("crate") {
            if krate.is_some() {
                errors.spanned(&meta.path, "duplicate key `crate`: it is already set above");
            }
            krate = Some(meta.value()?.parse::<syn::Path>()?);
            Ok(())
        } else {
            Err(meta.error(
                "#[mapguard::managed] takes only `crate = path` (for a renamed or re-exported \
                 mapguard, like `crate = my_facade::mapguard`); configure each map field with \
                 #[managed_map(lifetime = \"...\", max = N)]",
            ))
        }
    });
    if let Err(error) = syn::parse::Parser::parse2(parser, args.clone()) {
        errors.push(error);
    }
    krate.unwrap_or(default)
}

/// `Name<'a, T, N>`: the struct's own type, what `Self` means in its fields.
fn self_type(item: &ItemStruct) -> Type {
    let ident = &item.ident;
    let (_, ty_generics, _) = item.generics.split_for_impl();
    parse_quote!(#ident #ty_generics)
}

/// Replaces `Self` in a type with the struct's type.
struct ReplaceSelf<'a>(&'a Type);

impl VisitMut for ReplaceSelf<'_> {
    fn visit_type_mut(&mut self, ty: &mut Type) {
        if let Type::Path(path) = ty {
            if path.qself.is_none() && path.path.is_ident("Self") {
                *ty = self.0.clone();
                return;
            }
            // `Self::Assoc`: `<Name<T>>::Assoc`.
            if path.qself.is_none()
                && path.path.segments.len() > 1
                && path.path.segments[0].ident == "Self"
            {
                let rest: Vec<_> = path.path.segments.iter().skip(1).cloned().collect();
                let this = self.0;
                *ty = parse_quote!(<#this>::#(#rest)::*);
                return;
            }
        }
        syn::visit_mut::visit_type_mut(self, ty);
    }
}

fn replace_self(ty: &Type, this: &Type) -> Type {
    let mut ty = ty.clone();
    ReplaceSelf(this).visit_type_mut(&mut ty);
    ty
}

/// `Self::closed` in `on_remove`: `<Name<T>>::closed`; `Self` in its generic arguments too.
fn replace_self_in_path(path: &mut syn::ExprPath, this: &Type) {
    if path.qself.is_none() && path.path.segments.len() > 1 && path.path.segments[0].ident == "Self"
    {
        let rest: Vec<_> = path.path.segments.iter().skip(1).cloned().collect();
        *path = parse_quote!(<#this>::#(#rest)::*);
    }
    ReplaceSelf(this).visit_expr_path_mut(path);
}

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

/// A map somewhere in the field type, by name: its name, and the wrapper it sits in, if any.
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

/// The parts of a field type `#[managed_map]` can rewrite: `HashMap<K, V>` or
/// `HashMap<K, V, S>` as spelled; otherwise any type that is not a known unrewritable map
/// (a `BTreeMap`, a wrapped map), taken apart by the compiler through `MapType` (an alias, an
/// `FxHashMap`, a renamed import). `None`: valid.rs says why not.
fn map_parts(ty: &Type, this: &Type, krate: &syn::Path) -> Option<MapParts> {
    if let Some(segment) = last_segment(ty).filter(|s| s.ident == "HashMap") {
        let spelled = |key: &Type, value: &Type, hasher: Option<&Type>| MapParts {
            key: replace_self(key, this),
            value: replace_self(value, this),
            hasher: hasher.map(|h| replace_self(h, this)),
            spelled: true,
        };
        match type_args(segment).as_slice() {
            [key, value] => return Some(spelled(key, value, None)),
            [key, value, hasher] => return Some(spelled(key, value, Some(hasher))),
            _ => {}
        }
    }
    let rewritable_by_type = match find_map(ty) {
        None => last_segment(ty).is_some_and(|segment| {
            !NOT_MAPS.contains(&segment.ident.to_string().as_str()) && segment.ident != "Self"
        }),
        Some(FoundMap {
            name,
            wrapper: None,
        }) => HASH_MAP_ALIASES.contains(&name.as_str()),
        Some(_) => false,
    };
    if !rewritable_by_type || !matches!(ty, Type::Path(_)) {
        return None;
    }
    let ty = replace_self(ty, this);
    let part = |name: &str| -> Type {
        let name = syn::Ident::new(name, proc_macro2::Span::call_site());
        parse_quote!(<#ty as #krate::__private::MapType>::#name)
    };
    Some(MapParts {
        key: part("Key"),
        value: part("Value"),
        hasher: Some(part("Hasher")),
        spelled: false,
    })
}

/// Whether the key type is a weak pointer (`Weak<T>` under any path).
pub(crate) fn is_weak(ty: &Type) -> bool {
    last_segment(ty).is_some_and(|segment| segment.ident == "Weak")
}
