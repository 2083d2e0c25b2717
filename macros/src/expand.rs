//! Generating the rewritten struct, one config type per managed field, and `ManagedCache`.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::ext::IdentExt as _;
use syn::spanned::Spanned;
use syn::{GenericParam, Ident, Item, ItemStruct, Member, Type};

use crate::ast::{FoundMap, as_hashmap, find_map, is_weak};
use crate::attr::{Evict, MapAttr, Max, Scope, UnmanagedAttr};
use crate::ctxt::Errors;
use crate::fallback;
use crate::lifecycle::Checks;

/// One field to rewrite, with everything validated.
struct Managed {
    member: Member,
    vis: syn::Visibility,
    attr: MapAttr,
    key: Type,
    value: Type,
    hasher: Option<Type>,
    /// The field's type as written.
    declared: Type,
    weak: bool,
    field_span: Span,
}

/// `#[mapguard::managed]`
pub(crate) fn managed(args: &TokenStream, input: TokenStream) -> TokenStream {
    let item: Item = match syn::parse2(input.clone()) {
        Ok(item) => item,
        Err(error) => {
            let mut tokens = input;
            tokens.extend(error.to_compile_error());
            return tokens;
        }
    };
    let message = "#[mapguard::managed] goes on a struct: an enum or union cannot own managed \
                   maps directly; put the maps in a struct (and keep that struct in the variant)";
    let item = match item {
        Item::Struct(item) => item,
        Item::Enum(item) => {
            return with_error(input, &syn::Error::new_spanned(item.enum_token, message));
        }
        Item::Union(item) => {
            return with_error(input, &syn::Error::new_spanned(item.union_token, message));
        }
        other => {
            return with_error(
                input,
                &syn::Error::new_spanned(
                    other,
                    "#[mapguard::managed] goes on a struct with map fields",
                ),
            );
        }
    };
    let mut errors = Errors::default();
    if !args.is_empty() {
        errors.spanned(
            args,
            "#[mapguard::managed] takes no arguments: configure each map field with \
             #[managed_map(lifetime = \"...\", max = N)]",
        );
    }
    let managed = collect_fields(&item, &mut errors);
    // Checked by type on success and on error alike, so one build reports every field.
    let checks = lifecycle_checks(&item, &managed);
    let mut tokens = match errors.finish() {
        Ok(()) => generate(item, &managed),
        Err(error) => fallback::emit(item, &error),
    };
    tokens.extend(checks);
    tokens
}

/// `#[mapguard::unmanaged(reason = "...")]` on an item: checks the reason, then emits the item
/// with the lint level the clippy layer reads.
pub(crate) fn unmanaged(args: &TokenStream, input: TokenStream) -> TokenStream {
    let attr: syn::Attribute = syn::parse_quote!(#[unmanaged(#args)]);
    let mut errors = Errors::default();
    let parsed = if args.is_empty() {
        errors.at(
            Span::call_site(),
            "#[mapguard::unmanaged] needs a reason, so reviewers know why this map may grow: \
             #[mapguard::unmanaged(reason = \"filled once at start-up\")]",
        );
        UnmanagedAttr { reason: None }
    } else {
        UnmanagedAttr::parse(&attr, &mut errors)
    };
    let mut tokens = match parsed.reason {
        Some(reason) => quote!(#[allow(clippy::disallowed_types, reason = #reason)]),
        None => TokenStream::new(),
    };
    tokens.extend(input);
    if let Err(error) = errors.finish() {
        tokens.extend(error.to_compile_error());
    }
    tokens
}

fn with_error(mut tokens: TokenStream, error: &syn::Error) -> TokenStream {
    tokens.extend(error.to_compile_error());
    tokens
}

pub(crate) fn member(index: usize, field: &syn::Field) -> Member {
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

fn describe(member: &Member) -> String {
    match member {
        Member::Named(ident) => format!("`{ident}`"),
        Member::Unnamed(index) => format!("{}", index.index),
    }
}

/// The compiler's checks: unannotated fields hold no map, managed maps' values hold none.
fn lifecycle_checks(item: &ItemStruct, managed: &[Managed]) -> TokenStream {
    let mut checks = Checks::default();
    for field in &item.fields {
        // A map found by name has its own error already (see `collect_fields`).
        if !field.attrs.iter().any(fallback::is_helper) && find_map(&field.ty).is_none() {
            checks.add_plain(&field.ty);
        }
    }
    checks.managed_values = managed.iter().map(|field| &field.value).collect();
    checks.expand(&item.generics)
}

/// Validates every field's attributes and type, reporting all problems.
fn collect_fields(item: &ItemStruct, errors: &mut Errors) -> Vec<Managed> {
    let mut managed = Vec::new();
    for (index, field) in item.fields.iter().enumerate() {
        let member = member(index, field);
        let maps: Vec<_> = field
            .attrs
            .iter()
            .filter(|a| a.path().is_ident("managed_map"))
            .collect();
        let unmanaged: Vec<_> = field
            .attrs
            .iter()
            .filter(|a| a.path().is_ident("unmanaged"))
            .collect();
        for extra in maps.iter().skip(1).chain(unmanaged.iter().skip(1)) {
            errors.spanned(
                extra,
                "this attribute is repeated: keep one and merge its keys",
            );
        }
        if let (Some(_), Some(second)) = (maps.first(), unmanaged.first()) {
            errors.spanned(
                second,
                "a field is either #[managed_map] or #[unmanaged], not both: remove one",
            );
        }
        if let Some(attr) = unmanaged.first() {
            UnmanagedAttr::parse(attr, errors);
        }
        let Some(attr) = maps.first() else {
            if unmanaged.is_empty() {
                if let Some(FoundMap { name, wrapper }) = find_map(&field.ty) {
                    let within = wrapper
                        .map(|w| format!(" (inside `{w}`)"))
                        .unwrap_or_default();
                    errors.spanned(
                        &field.ty,
                        format!(
                            "map field {} has no lifecycle: this `{name}`{within} can grow \
                             without bound. Add #[managed_map(lifetime = \"request\", max = 10_000)] \
                             to bound it, or #[unmanaged(reason = \"...\")] to say why it may grow",
                            describe(&member)
                        ),
                    );
                }
            }
            continue;
        };
        let parsed = MapAttr::parse(attr, errors);
        let Some(map) = as_hashmap(&field.ty) else {
            let hint = match find_map(&field.ty) {
                Some(FoundMap {
                    name,
                    wrapper: Some(wrapper),
                }) => format!(
                    "#[managed_map] rewrites a bare `HashMap<K, V>`, but this `{name}` is inside \
                     `{wrapper}`: put the managed map in a struct of its own, or mark this field \
                     #[unmanaged(reason = \"...\")]"
                ),
                Some(FoundMap {
                    name,
                    wrapper: None,
                }) => format!(
                    "#[managed_map] rewrites `HashMap<K, V>` (or `HashMap<K, V, S>`); a `{name}` \
                     cannot be rewritten: use a HashMap, or mark the field \
                     #[unmanaged(reason = \"...\")]"
                ),
                None => "#[managed_map] goes on a `HashMap<K, V>` field; this type is not a map"
                    .to_owned(),
            };
            errors.spanned(&field.ty, hint);
            continue;
        };
        let weak = parsed.weak_keys.is_some();
        if weak && !is_weak(map.key) {
            errors.spanned(
                map.key,
                "`weak_keys` needs a weak key type: declare the key as `std::rc::Weak<T>` or \
                 `std::sync::Weak<T>` (inserts then take the `Rc<T>`/`Arc<T>`)",
            );
        }
        managed.push(Managed {
            member,
            vis: field.vis.clone(),
            key: map.key.clone(),
            value: map.value.clone(),
            hasher: map.hasher.cloned(),
            declared: field.ty.clone(),
            weak,
            field_span: field.ty.span(),
            attr: parsed,
        });
    }
    managed
}

/// The generated config type's name. The struct's name is length-prefixed, so `Foo_bar.baz`
/// and `Foo.bar_baz` in one module get different names (`..._7Foo_bar_baz`, `..._3Foo_bar_baz`).
fn config_ident(item: &ItemStruct, member: &Member) -> Ident {
    let owner = item.ident.unraw();
    let owner_len = owner.to_string().len();
    match member {
        Member::Named(ident) => {
            format_ident!("__MapguardConfig_{}{}_{}", owner_len, owner, ident.unraw())
        }
        Member::Unnamed(index) => {
            format_ident!("__MapguardConfig_{}{}_{}", owner_len, owner, index.index)
        }
    }
}

/// `PhantomData<fn() -> (&'a (), PhantomData<T>, ..., Declared)>`: ties the config type to
/// the struct's generics, and names the field's declared type so its imports (`HashMap`) stay
/// used. Each type parameter sits in a `PhantomData` of its own, which accepts `T: ?Sized`
/// (a tuple element would not).
fn phantom(generics: &syn::Generics, declared: &Type) -> TokenStream {
    let parts = generics.params.iter().filter_map(|param| match param {
        GenericParam::Lifetime(lt) => {
            let lt = &lt.lifetime;
            Some(quote!(&#lt ()))
        }
        GenericParam::Type(ty) => {
            let ident = &ty.ident;
            Some(quote!(::mapguard::__private::PhantomData<#ident>))
        }
        GenericParam::Const(_) => None,
    });
    quote!(::mapguard::__private::PhantomData<fn() -> (#(#parts,)* #declared)>)
}

fn lifetime_variant(scope: Scope) -> Ident {
    Ident::new(scope.variant(), Span::call_site())
}

fn duration(millis: Option<u64>) -> TokenStream {
    millis.map_or_else(
        || quote!(::mapguard::__private::Option::None),
        |ms| {
            quote!(::mapguard::__private::Option::Some(
                ::mapguard::__private::Duration::from_millis(#ms)
            ))
        },
    )
}

/// The config type and its impls for one field; returns them and the field's new type.
#[allow(
    clippy::too_many_lines,
    reason = "one quote! of five small impls reads best whole"
)]
fn config(item: &ItemStruct, field: &Managed) -> (TokenStream, TokenStream) {
    let ident = config_ident(item, &field.member);
    let generics = &item.generics;
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let phantom = phantom(generics, &field.declared);
    let vis = &field.vis;
    let (key, value) = (&field.key, &field.value);
    let attr = &field.attr;
    let name = attr.name.as_ref().map_or_else(
        || match &field.member {
            // `r#type` is the field `type`: names are for people, not for the parser.
            Member::Named(ident) => format!("{}.{}", item.ident.unraw(), ident.unraw()),
            Member::Unnamed(index) => format!("{}.{}", item.ident.unraw(), index.index),
        },
        syn::LitStr::value,
    );
    let max = match &attr.max {
        None => quote!(::mapguard::__private::usize::MAX),
        Some(Max::Literal(max)) => {
            let max = *max as usize;
            quote!(#max)
        }
        // Type-checked as `usize` and asserted at compile time, both reported at the expression.
        Some(Max::Const(expr)) => quote_spanned! {expr.span()=>
            {
                const MAX: ::mapguard::__private::usize = #expr;
                ::mapguard::__private::assert!(
                    MAX >= 1,
                    "`max` must be at least 1: a map that holds nothing would clean every value as it arrives"
                );
                MAX
            }
        },
    };
    // A missing or unknown `lifetime` got its error already; `Process` keeps the output sane.
    let lifetime = lifetime_variant(attr.lifetime.unwrap_or(Scope::Process));
    let (ttl, idle) = (duration(attr.ttl), duration(attr.idle));
    let cleanup = attr.cleanup.map(|_| {
        // Spanned on the value type: a missing `Cleanup` impl is reported there, by name.
        quote_spanned! {value.span()=>
            <#value as ::mapguard::__private::Cleanup>::cleanup(&mut value, cause);
        }
    });
    let notify = attr.on_remove.as_ref().map_or_else(
        || quote!(let _ = (key, value, cause);),
        // Through a typed fn pointer, so a hook of the wrong shape is one error at the path
        // that names the signature to write, not rustc's errors at the generated call.
        |path| {
            quote_spanned! {path.span()=>
                let hook: fn(#key, #value, ::mapguard::__private::RemovalCause) = #path;
                hook(key, value, cause);
            }
        },
    );
    let observes = attr.cleanup.is_some() || attr.on_remove.is_some();
    let mutable = cleanup.as_ref().map(|_| quote!(mut));
    // A concurrent map's hook runs through `&self`, possibly on several threads at once.
    let (listener_trait, receiver, observes_const) = if attr.concurrent.is_some() {
        (quote!(ConcurrentListener), quote!(&self), None)
    } else {
        (
            quote!(RemovalListener),
            quote!(&mut self),
            Some(quote!(const OBSERVES_REMOVALS: bool = #observes;)),
        )
    };
    let listener = quote! {
        #[automatically_derived]
        impl #impl_generics ::mapguard::__private::#listener_trait<#key, #value>
            for #ident #ty_generics #where_clause
        {
            fn on_removal(
                #receiver,
                key: #key,
                #mutable value: #value,
                cause: ::mapguard::__private::RemovalCause,
            ) {
                #cleanup
                #notify
            }

            #observes_const
        }
    };

    let definition = quote! {
        #[doc(hidden)]
        #[allow(
            non_camel_case_types,
            clippy::disallowed_types,
            reason = "names the field's declared map type, which #[mapguard::managed] replaced"
        )]
        #vis struct #ident #generics (#phantom) #where_clause;

        #[automatically_derived]
        impl #impl_generics ::mapguard::__private::Default for #ident #ty_generics #where_clause {
            fn default() -> Self {
                Self(::mapguard::__private::PhantomData)
            }
        }

        #[automatically_derived]
        impl #impl_generics ::mapguard::__private::Clone for #ident #ty_generics #where_clause {
            fn clone(&self) -> Self {
                Self(::mapguard::__private::PhantomData)
            }
        }

        #[automatically_derived]
        impl #impl_generics ::mapguard::__private::fmt::Debug for #ident #ty_generics #where_clause {
            fn fmt(
                &self,
                f: &mut ::mapguard::__private::fmt::Formatter<'_>,
            ) -> ::mapguard::__private::fmt::Result {
                f.write_str(#name)
            }
        }

        #[automatically_derived]
        impl #impl_generics ::mapguard::__private::FieldConfig for #ident #ty_generics #where_clause {
            const MAX: ::mapguard::__private::usize = #max;
            const LIFETIME: ::mapguard::__private::Lifetime =
                ::mapguard::__private::Lifetime::#lifetime;
            const NAME: &'static str = #name;
            const TTL: ::mapguard::__private::Option<::mapguard::__private::Duration> = #ttl;
            const IDLE: ::mapguard::__private::Option<::mapguard::__private::Duration> = #idle;
        }

        #listener
    };

    (definition, field_type(field, &ident, &ty_generics))
}

/// The managed map type that replaces the field's `HashMap`.
fn field_type(field: &Managed, config: &Ident, ty_generics: &syn::TypeGenerics<'_>) -> TokenStream {
    let attr = &field.attr;
    let (key, value) = (&field.key, &field.value);
    let policy = if let Some((Evict::Reject, _)) = attr.evict {
        quote!(::mapguard::__private::Reject)
    } else {
        quote!(::mapguard::__private::Lru)
    };
    let hasher = field.hasher.as_ref().map_or_else(
        || quote!(::mapguard::__private::DefaultHashBuilder),
        ToTokens::to_token_stream,
    );
    let expiry = if attr.ttl.is_some() || attr.idle.is_some() {
        quote!(::mapguard::__private::Expiring)
    } else {
        quote!(::mapguard::__private::NoExpiry)
    };
    let wrapper = if field.weak {
        quote!(WeakKeyMap)
    } else if attr.concurrent.is_some() {
        quote!(ConcurrentMap)
    } else {
        quote!(ManagedMap)
    };
    quote_spanned! {field.field_span=>
        ::mapguard::__private::#wrapper<#key, #value, #policy, #hasher, #config #ty_generics, #expiry>
    }
}

/// `ManagedCache` for the struct: each managed field in declaration order.
pub(crate) fn managed_cache(item: &ItemStruct, members: &[&Member]) -> TokenStream {
    let ident = &item.ident;
    let (impl_generics, ty_generics, where_clause) = item.generics.split_for_impl();
    let (lifetime, end, maintain) = if members.is_empty() {
        (quote!(_lifetime), quote!(0), quote!(0))
    } else {
        let ends = members.iter().map(
            |m| quote!(::mapguard::__private::ManagedCache::end_scope(&mut self.#m, lifetime)),
        );
        let maintains = members
            .iter()
            .map(|m| quote!(::mapguard::__private::ManagedCache::maintain(&mut self.#m)));
        (
            quote!(lifetime),
            quote!(#(#ends)+*),
            quote!(#(#maintains)+*),
        )
    };
    let stats = members.iter().map(|m| {
        quote!(::mapguard::__private::Extend::extend(
            &mut stats,
            ::mapguard::__private::ManagedCache::stats(&self.#m),
        );)
    });
    quote! {
        #[automatically_derived]
        impl #impl_generics ::mapguard::__private::ManagedCache for #ident #ty_generics #where_clause {
            fn end_scope(&mut self, #lifetime: ::mapguard::__private::Lifetime) -> ::mapguard::__private::usize {
                #end
            }

            fn maintain(&mut self) -> ::mapguard::__private::usize {
                #maintain
            }

            fn stats(&self) -> ::mapguard::__private::Vec<::mapguard::__private::MapStats> {
                let mut stats = ::mapguard::__private::Vec::new();
                #(#stats)*
                stats
            }
        }
    }
}

fn generate(mut item: ItemStruct, managed: &[Managed]) -> TokenStream {
    let mut definitions = TokenStream::new();
    let mut new_types = Vec::new();
    for field in managed {
        let (definition, ty) = config(&item, field);
        definitions.extend(definition);
        new_types.push((field.member.clone(), ty));
    }
    for (index, field) in item.fields.iter_mut().enumerate() {
        // What the field declared, as the lint attribute the clippy layer reads (clippy.toml
        // `disallowed-types`, from `cargo mapguard clippy-config`).
        let reason = field
            .attrs
            .iter()
            .find(|attr| attr.path().is_ident("unmanaged"))
            .and_then(|attr| UnmanagedAttr::parse(attr, &mut Errors::default()).reason);
        field.attrs.retain(|attr| !fallback::is_helper(attr));
        if let Some(reason) = reason {
            field.attrs.push(syn::parse_quote!(
                #[allow(clippy::disallowed_types, reason = #reason)]
            ));
        }
        let member = member(index, field);
        if let Some((_, ty)) = new_types.iter().find(|(m, _)| *m == member) {
            field.ty = syn::parse2(ty.clone()).unwrap_or_else(|_| field.ty.clone());
        }
    }
    let members: Vec<&Member> = managed.iter().map(|m| &m.member).collect();
    let cache = managed_cache(&item, &members);
    quote! {
        #item
        #definitions
        #cache
    }
}

#[cfg(test)]
mod snapshots {
    //! What the macro generates, pretty-printed, for a reviewer to read. After an intended
    //! change, regenerate with `UPDATE_EXPECT=1 cargo test -p mapguard-macros`.

    use quote::quote;

    fn expand(input: &proc_macro2::TokenStream) -> String {
        let output = super::managed(&proc_macro2::TokenStream::new(), input.clone());
        let file: syn::File = syn::parse2(output).expect("the expansion parses as items");
        prettyplease::unparse(&file)
    }

    #[test]
    fn sessions() {
        let input = quote! {
            #[derive(Default)]
            struct Sessions {
                #[managed_map(lifetime = "request", max = 5000)]
                by_id: HashMap<u64, Conn>,
                #[managed_map(lifetime = "session", max = 100, evict = "reject", cleanup)]
                open: HashMap<String, Channel>,
                #[managed_map(lifetime = "process", weak_keys, ttl = "10m", on_remove = log_removal)]
                meta: HashMap<Weak<Node>, Meta>,
                #[unmanaged(reason = "fixed table filled once at start-up")]
                codes: HashMap<u16, &'static str>,
                name: String,
            }
        };
        expect_test::expect_file!["../tests/expand/sessions.rs"].assert_eq(&expand(&input));
    }

    #[test]
    fn generic_tuple_struct() {
        let input = quote! {
            pub struct Pair<'a, T: Clone>(
                #[managed_map(lifetime = "batch", max = 2, idle = "250ms")]
                pub HashMap<&'a str, T, RandomState>,
            ) where T: Default;
        };
        expect_test::expect_file!["../tests/expand/generic_tuple_struct.rs"]
            .assert_eq(&expand(&input));
    }

    #[test]
    fn concurrent_fields() {
        let input = quote! {
            #[derive(Default)]
            pub struct RuleCache {
                #[managed_map(lifetime = "process", max = 10_000, concurrent, on_remove = log)]
                compiled: HashMap<String, Arc<Rule>>,
                #[managed_map(lifetime = "request", max = 64, evict = "reject", concurrent, cleanup)]
                scratch: HashMap<u64, Conn>,
            }
        };
        expect_test::expect_file!["../tests/expand/concurrent.rs"].assert_eq(&expand(&input));
    }

    #[test]
    fn errors_keep_the_struct() {
        let input = quote! {
            struct Cache {
                #[managed_map(max = 0)]
                a: HashMap<u64, String>,
            }
        };
        let output = super::managed(&proc_macro2::TokenStream::new(), input).to_string();
        assert!(
            output.contains("struct Cache"),
            "the struct is still emitted: {output}"
        );
        let item = output.split("compile_error").next().unwrap_or_default();
        assert!(
            !item.contains("managed_map"),
            "helper attributes are stripped: {item}"
        );
        assert_eq!(output.matches("compile_error").count(), 2, "{output}");
    }
}
