//! Code generation only: the rewritten struct, one config type per managed field, the
//! `ManagedCache` impl and the lifecycle checks, from the model ast.rs built and valid.rs
//! checked. On errors the same is generated for every field that can be rewritten, so one
//! mistake gives one error (not "no method `try_insert`" on a field left a `HashMap`).

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::ext::IdentExt as _;
use syn::spanned::Spanned;
use syn::{Attribute, GenericParam, Ident, Item, ItemStruct, Member, Type};

use crate::ast::{
    Field, FieldKind, Input, MapParts, find_map, is_helper, is_weak, names_helper_in_cfg_attr,
};
use crate::attr::{Evict, Limit, MapAttr, Max, Scope, UnmanagedAttr};
use crate::ctxt::Errors;
use crate::lifecycle::Checks;
use crate::{fallback, valid};

/// `#[mapguard::managed]`
pub(crate) fn managed(args: &TokenStream, input: TokenStream) -> TokenStream {
    let item: Item = match syn::parse2(input.clone()) {
        Ok(item) => item,
        Err(error) => {
            return fallback::emit(input, &error);
        }
    };
    let message = "#[mapguard::managed] goes on a struct: an enum or union cannot own managed \
                   maps directly; put the maps in a struct (and keep that struct in the variant)";
    let item = match item {
        Item::Struct(item) => item,
        Item::Enum(item) => {
            return fallback::emit(input, &syn::Error::new_spanned(item.enum_token, message));
        }
        Item::Union(item) => {
            return fallback::emit(input, &syn::Error::new_spanned(item.union_token, message));
        }
        other => {
            return fallback::emit(
                input,
                &syn::Error::new_spanned(
                    other,
                    "#[mapguard::managed] goes on a struct with map fields",
                ),
            );
        }
    };
    let mut errors = Errors::default();
    let mut input = Input::from_syn(args, item, &mut errors);
    valid::check(&mut input, &mut errors);
    let mut tokens = generate(&input);
    if let Err(error) = errors.finish() {
        tokens.extend(error.to_compile_error());
    }
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

/// The name of a type generated for a field: `__Mapguard{role}_...`. The struct's name is
/// length-prefixed, so `Foo_bar.baz` and `Foo.bar_baz` in one module get different names
/// (`..._7Foo_bar_baz`, `..._3Foo_bar_baz`).
fn generated_ident(role: &str, item: &ItemStruct, member: &Member) -> Ident {
    let owner = item.ident.unraw();
    let owner_len = owner.to_string().len();
    match member {
        Member::Named(ident) => {
            format_ident!(
                "__Mapguard{}_{}{}_{}",
                role,
                owner_len,
                owner,
                ident.unraw()
            )
        }
        Member::Unnamed(index) => {
            format_ident!("__Mapguard{}_{}{}_{}", role, owner_len, owner, index.index)
        }
    }
}

/// `PhantomData<fn() -> (&'a (), PhantomData<T>, ..., Declared)>`: ties the config type to
/// the struct's generics, and names the field's declared type so its imports (`HashMap`) stay
/// used. Each type parameter sits in a `PhantomData` of its own, which accepts `T: ?Sized`
/// (a tuple element would not).
fn phantom(krate: &syn::Path, generics: &syn::Generics, declared: &Type) -> TokenStream {
    let parts = generics.params.iter().filter_map(|param| match param {
        GenericParam::Lifetime(lt) => {
            let lt = &lt.lifetime;
            Some(quote!(&#lt ()))
        }
        GenericParam::Type(ty) => {
            let ident = &ty.ident;
            Some(quote!(#krate::__private::PhantomData<#ident>))
        }
        GenericParam::Const(_) => None,
    });
    quote!(#krate::__private::PhantomData<fn() -> (#(#parts,)* #declared)>)
}

fn lifetime_variant(scope: Scope) -> Ident {
    Ident::new(scope.variant(), Span::call_site())
}

fn duration(krate: &syn::Path, millis: Option<u64>) -> TokenStream {
    millis.map_or_else(
        || quote!(#krate::__private::Option::None),
        |ms| {
            quote!(#krate::__private::Option::Some(
                #krate::__private::Duration::from_millis(#ms)
            ))
        },
    )
}

/// The map's name in stats: `name = "..."`, or `Type.field`.
fn map_name(item: &ItemStruct, field: &Field, attr: &MapAttr) -> String {
    attr.name.as_ref().map_or_else(
        || match &field.member {
            // `r#type` is the field `type`: names are for people, not for the parser.
            Member::Named(ident) => format!("{}.{}", item.ident.unraw(), ident.unraw()),
            Member::Unnamed(index) => format!("{}.{}", item.ident.unraw(), index.index),
        },
        syn::LitStr::value,
    )
}

/// Which map a field becomes. Where the attribute is wrong (its error is reported already),
/// the choice that keeps other errors away: a `weak_keys` map whose key is not a `Weak` is a
/// plain one.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Weak,
    ConcurrentWeak,
    Concurrent,
    Plain,
}

fn kind(attr: &MapAttr, map: &MapParts) -> Kind {
    let weak = attr.weak_keys.is_some() && (!map.spelled || is_weak(&map.key));
    match (weak, attr.concurrent.is_some()) {
        (true, true) => Kind::ConcurrentWeak,
        (true, false) => Kind::Weak,
        (false, true) => Kind::Concurrent,
        (false, false) => Kind::Plain,
    }
}

/// `path`'s tokens, all spanned at `span`: for generated code whose errors belong there.
fn respanned(path: &syn::Path, span: Span) -> TokenStream {
    respan(path.to_token_stream(), span)
}

/// The spans of the first and last tokens of `tokens`. Stable proc macros cannot join
/// spans, so generated code that is to be reported at the whole of a user's type starts at
/// the first and ends at the last ([`respan_across`]).
fn outer_spans(tokens: TokenStream) -> (Span, Span) {
    let mut tokens = tokens.into_iter();
    let first = tokens
        .next()
        .map_or_else(Span::call_site, |token| token.span());
    let last = tokens.last().map_or(first, |token| match token {
        proc_macro2::TokenTree::Group(group) => group.span_close(),
        token => token.span(),
    });
    (first, last)
}

/// `tokens` spanned from `first` (the first one) to `last` (every other one), so that rustc
/// reports what they form at the source range those two spans delimit.
fn respan_across(tokens: TokenStream, (first, last): (Span, Span)) -> TokenStream {
    let mut tokens: Vec<proc_macro2::TokenTree> = respan(tokens, last).into_iter().collect();
    if let Some(token) = tokens.first_mut() {
        token.set_span(first);
    }
    tokens.into_iter().collect()
}

/// Every token of `tokens`, inside groups too, spanned at `span`.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|token| match token {
            proc_macro2::TokenTree::Group(group) => {
                let mut inner =
                    proc_macro2::Group::new(group.delimiter(), respan(group.stream(), span));
                inner.set_span(span);
                proc_macro2::TokenTree::Group(inner)
            }
            mut token => {
                token.set_span(span);
                token
            }
        })
        .collect()
}

/// The config type and its impls for one field; returns them and the field's new type.
#[allow(
    clippy::too_many_lines,
    reason = "one quote! of five small impls reads best whole"
)]
fn config(
    input: &Input,
    field: &Field,
    attr: &MapAttr,
    map: &MapParts,
) -> (TokenStream, TokenStream) {
    let krate = &input.krate;
    let item = &input.item;
    let ident = generated_ident("Config", item, &field.member);
    let hooks_ident = generated_ident("Hooks", item, &field.member);
    let generics = &item.generics;
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let phantom = phantom(krate, generics, &field.ty);
    let vis = &field.vis;
    let cfgs = &field.cfgs;
    let (key, value) = (&map.key, &map.value);
    let name = map_name(item, field, attr);
    let hooks_name = format!("{name} hooks");
    let max = match &attr.max {
        // Unbounded, or read when the struct is built (`__max`; the constant is not used then).
        None | Some(Max::Runtime(_)) => quote!(#krate::__private::usize::MAX),
        Some(Max::Literal(max)) => {
            let max = *max as usize;
            quote!(#max)
        }
        // Type-checked as `usize` and asserted at compile time, both reported at the expression.
        Some(Max::Const(expr)) => {
            let krate = respanned(krate, expr.span());
            quote_spanned! {expr.span()=>
            {
                const MAX: #krate::__private::usize = #expr;
                // An item of its own, not generic, so `cargo check` evaluates it too.
                const _: () = #krate::__private::assert!(
                    MAX >= 1,
                    "`max` must be at least 1: a map that holds nothing would clean every value as it arrives"
                );
                MAX
            }
            }
        }
    };
    // Spanned on the expression: one of the wrong type is an error there.
    let runtime_max = match &attr.max {
        Some(Max::Runtime(expr)) => {
            let krate = respanned(krate, expr.span());
            Some(quote_spanned! {expr.span()=>
                fn __max() -> #krate::__private::usize {
                    let max: #krate::__private::usize = #expr;
                    #krate::__private::checked_max(max, #name)
                }
            })
        }
        _ => None,
    };
    let runtime_budget = match &attr.budget {
        Some((Limit::Runtime(expr), _)) => {
            let krate = respanned(krate, expr.span());
            let key = if attr.keys.contains("max_bytes") {
                "max_bytes"
            } else {
                "max_weight"
            };
            Some(quote_spanned! {expr.span()=>
                fn __max_weight() -> #krate::__private::Option<#krate::__private::u64> {
                    let budget: #krate::__private::u64 = #expr;
                    #krate::__private::Option::Some(#krate::__private::checked_budget(budget, #key, #name))
                }
            })
        }
        _ => None,
    };
    let shards = attr.shards.as_ref().map(|shards| match shards {
        Limit::Literal(count) => {
            let count = *count as usize;
            quote! {
                fn __shards() -> #krate::__private::Option<#krate::__private::usize> {
                    #krate::__private::Option::Some(#count)
                }
            }
        }
        Limit::Runtime(expr) => {
            let krate = respanned(krate, expr.span());
            quote_spanned! {expr.span()=>
                fn __shards() -> #krate::__private::Option<#krate::__private::usize> {
                    let shards: #krate::__private::usize = #expr;
                    #krate::__private::Option::Some(#krate::__private::checked_shards(shards, #name))
                }
            }
        }
    });
    // A missing or unknown `lifetime` got its error already; `Process` keeps the output sane.
    let lifetime = lifetime_variant(attr.lifetime.unwrap_or(Scope::Process));
    let (ttl, idle) = (duration(krate, attr.ttl), duration(krate, attr.idle));
    let max_weight = if let Some((Limit::Literal(budget), _)) = &attr.budget {
        quote!(#krate::__private::Option::Some(#budget))
    } else {
        quote!(#krate::__private::Option::None)
    };
    // The weigher, typed as the listener trait's `WEIGHER`: a path of the wrong shape is an
    // error at the path; values without `Weigh` are an error at `max_bytes`.
    // Without `max_bytes` a `weigher` has its one error already (valid.rs); nothing is emitted.
    let weigher = match (&attr.weigher, &attr.budget) {
        (Some(path), Some(_)) => Some(quote_spanned! {path.span()=>
            const WEIGHER: #krate::__private::Option<fn(&#key, &#value) -> #krate::__private::u64> =
                #krate::__private::Option::Some(#path);
        }),
        (None, Some((_, span))) => Some(quote_spanned! {*span=>
            const WEIGHER: #krate::__private::Option<fn(&#key, &#value) -> #krate::__private::u64> =
                #krate::__private::Option::Some(#krate::__private::by_value::<#key, #value>);
        }),
        (_, None) => None,
    };
    // Spanned on the paths: a value without `ExpireAfter`, or a type without `Clock` or
    // `Default`, is one error there.
    let expire_after = attr.expire_after.as_ref().map(|path| {
        quote_spanned! {path.span()=>
            fn __expire_after<M: #krate::__private::StorePolicy<#key, #value>>()
                -> #krate::__private::Option<M::Shared>
            {
                #krate::__private::Option::Some(M::share(#path))
            }
        }
    });
    let clock = attr.clock.as_ref().map(|path| {
        quote_spanned! {path.span()=>
            fn __clock() -> #krate::__private::Option<#krate::__private::TimeSource> {
                #krate::__private::Option::Some(#krate::__private::clock_of::<#path>())
            }
        }
    });
    let cleanup = attr.cleanup.map(|_| {
        // Spanned on the value type: a missing `Cleanup` impl is reported there, by name.
        quote_spanned! {value.span()=>
            <#value as #krate::__private::Cleanup>::cleanup(&mut value, cause);
        }
    });
    let notify = attr.on_remove.as_ref().map_or_else(
        || quote!(let _ = (key, value, cause);),
        // Through a typed fn pointer, so a hook of the wrong shape is one error at the path
        // that names the signature to write, not rustc's errors at the generated call.
        |path| {
            quote_spanned! {path.span()=>
                let hook: fn(#key, #value, #krate::__private::RemovalCause) = #path;
                hook(key, value, cause);
            }
        },
    );
    let has_hooks = attr.cleanup.is_some() || attr.on_remove.is_some();
    let mutable = cleanup.as_ref().map(|_| quote!(mut));
    // A concurrent map's hook runs through `&self`, possibly on several threads at once.
    let concurrent = matches!(kind(attr, map), Kind::Concurrent | Kind::ConcurrentWeak);
    let (listener_trait, receiver) = if concurrent {
        (quote!(ConcurrentListener), quote!(&self))
    } else {
        (quote!(RemovalListener), quote!(&mut self))
    };
    // Two hooks: each runs under the map's panic rule, so a panicking `cleanup` still lets
    // `on_remove` receive the value (and the reverse cannot happen: `cleanup` runs first).
    let contained = match (&cleanup, attr.on_remove.is_some()) {
        (Some(cleanup), true) => Some(quote! {
            fn on_removal_contained(
                #receiver,
                key: #key,
                mut value: #value,
                cause: #krate::__private::RemovalCause,
                panics: &mut #krate::__private::HookPanics,
            ) {
                panics.run(|| { #cleanup });
                panics.run(|| { #notify });
            }
        }),
        _ => None,
    };
    // The field's listener: a type of its own when it has hooks, else none at all (so bulk
    // removals skip visiting entries).
    let listener = if has_hooks {
        quote!(#hooks_ident #ty_generics)
    } else {
        quote!(#krate::__private::NoListener)
    };

    // Put on the maintenance list when its types cross threads; decided here, where they are
    // concrete (a generic struct's maps are not enrolled: lookup cannot see lifetime bounds).
    let enrol = (concurrent && generics.params.is_empty()).then(|| {
        let (method, map_trait, crossing, probe) =
            if matches!(kind(attr, map), Kind::ConcurrentWeak) {
                (
                    quote!(__enrol_weak_map),
                    quote!(EnrolWeakMap),
                    quote!(CrossingWeakProbe),
                    quote!(enrol_weak_map),
                )
            } else {
                (
                    quote!(__enrol_map),
                    quote!(EnrolMap),
                    quote!(CrossingProbe),
                    quote!(enrol_map),
                )
            };
        quote! {
            fn #method<M: #krate::__private::#map_trait<#key, #value, #listener>>(map: &M) {
                use #krate::__private::{#crossing as _, LocalProbe as _};
                (&#krate::__private::Probe::<(#key, #value, #listener)>::new()).#probe(map);
            }
        }
    });

    // A zero-sized type for the field, tied to the struct's generics and its declared type.
    let generated = |ident: &Ident| {
        quote! {
            #(#cfgs)*
            #[doc(hidden)]
            #[allow(
                non_camel_case_types,
                clippy::disallowed_types,
                reason = "names the field's declared map type, which #[mapguard::managed] replaced"
            )]
            #vis struct #ident #generics (#phantom) #where_clause;
        }
    };
    let hooks_struct = generated(&hooks_ident);
    let hooks = has_hooks.then(|| {
        quote! {
            #hooks_struct

            #(#cfgs)*
            #[automatically_derived]
            impl #impl_generics #krate::__private::Default for #hooks_ident #ty_generics #where_clause {
                fn default() -> Self {
                    Self(#krate::__private::PhantomData)
                }
            }

            #(#cfgs)*
            #[automatically_derived]
            impl #impl_generics #krate::__private::Clone for #hooks_ident #ty_generics #where_clause {
                fn clone(&self) -> Self {
                    Self(#krate::__private::PhantomData)
                }
            }

            #(#cfgs)*
            #[automatically_derived]
            impl #impl_generics #krate::__private::fmt::Debug for #hooks_ident #ty_generics #where_clause {
                fn fmt(
                    &self,
                    f: &mut #krate::__private::fmt::Formatter<'_>,
                ) -> #krate::__private::fmt::Result {
                    f.write_str(#hooks_name)
                }
            }

            #(#cfgs)*
            #[automatically_derived]
            impl #impl_generics #krate::__private::#listener_trait<#key, #value>
                for #hooks_ident #ty_generics #where_clause
            {
                fn on_removal(
                    #receiver,
                    key: #key,
                    #mutable value: #value,
                    cause: #krate::__private::RemovalCause,
                ) {
                    #cleanup
                    #notify
                }

                #contained
            }
        }
    });

    let config_struct = generated(&ident);
    let definition = quote! {
        #config_struct

        #(#cfgs)*
        #[automatically_derived]
        impl #impl_generics #krate::__private::FieldConfig<#key, #value, #listener>
            for #ident #ty_generics #where_clause
        {
            const MAX: #krate::__private::usize = #max;
            const LIFETIME: #krate::__private::Lifetime =
                #krate::__private::Lifetime::#lifetime;
            const NAME: &'static str = #name;
            const TTL: #krate::__private::Option<#krate::__private::Duration> = #ttl;
            const IDLE: #krate::__private::Option<#krate::__private::Duration> = #idle;
            const MAX_WEIGHT: #krate::__private::Option<#krate::__private::u64> = #max_weight;
            #weigher
            #runtime_max
            #runtime_budget
            #shards
            #expire_after
            #clock
            #enrol
        }

        #hooks
    };

    let ty = field_type(input, field, attr, map, &ident, &listener);
    let alias = attr.alias.as_ref().map(|alias| {
        let docs =
            format!("The type of `{name}`: the managed map `#[mapguard::managed]` made of it.");
        // The struct's parameters without their bounds (bounds on an alias are not enforced).
        let params = generics.params.iter().map(|param| match param {
            GenericParam::Lifetime(lt) => {
                let lt = &lt.lifetime;
                quote!(#lt)
            }
            GenericParam::Type(ty) => {
                let ident = &ty.ident;
                quote!(#ident)
            }
            GenericParam::Const(konst) => {
                let (ident, ty) = (&konst.ident, &konst.ty);
                quote!(const #ident: #ty)
            }
        });
        quote! {
            #(#cfgs)*
            #[doc = #docs]
            #vis type #alias<#(#params),*> = #ty;
        }
    });
    (quote!(#definition #alias), ty)
}

/// The managed map type that replaces the field's `HashMap`.
fn field_type(
    input: &Input,
    field: &Field,
    attr: &MapAttr,
    map: &MapParts,
    config: &Ident,
    listener: &TokenStream,
) -> TokenStream {
    let krate = &input.krate;
    let (_, ty_generics, _) = input.item.generics.split_for_impl();
    let (key, value) = (&map.key, &map.value);
    let policy = match attr.evict {
        Some((Evict::Reject, _)) => quote!(#krate::__private::Reject),
        Some((Evict::Adaptive, _)) => quote!(#krate::__private::Adaptive),
        Some((Evict::Lru, _)) | None => quote!(#krate::__private::Lru),
    };
    let hasher = map.hasher.as_ref().map_or_else(
        || quote!(#krate::__private::DefaultHashBuilder),
        ToTokens::to_token_stream,
    );
    // The per-entry state: a timer with `ttl`/`idle`, weights with a byte budget.
    let expiry = if attr.ttl.is_some()
        || attr.idle.is_some()
        || attr.expire_after.is_some()
        || attr.clock.is_some()
    {
        quote!(#krate::__private::Expiring)
    } else {
        quote!(#krate::__private::NoExpiry)
    };
    let expiry = if attr.budget.is_some() {
        quote!(#krate::__private::Weighed<#expiry>)
    } else {
        expiry
    };
    let kind = kind(attr, map);
    // A single-threaded map of a request, session or batch lifetime tags each entry with the
    // scope that wrote it (a concurrent map's shards always can).
    let scoped = !matches!(attr.lifetime, None | Some(Scope::Process))
        && matches!(kind, Kind::Plain | Kind::Weak);
    let expiry = if scoped {
        quote!(#krate::__private::Scoped<#expiry>)
    } else {
        expiry
    };
    let wrapper = match kind {
        Kind::Weak => quote!(WeakKeyMap),
        Kind::ConcurrentWeak => quote!(ConcurrentWeakKeyMap),
        Kind::Concurrent => quote!(ConcurrentMap),
        Kind::Plain => quote!(ManagedMap),
    };
    let span = field.ty.span();
    quote_spanned! {span=>
        #krate::__private::#wrapper<
            #key,
            #value,
            #policy,
            #hasher,
            #listener,
            #expiry,
            #krate::__private::Configured<#config #ty_generics>,
        >
    }
}

/// How the `ManagedCache` impl names a field's type.
pub(crate) enum CacheField<'a> {
    /// `derive(ManagedCache)`: the field's own type, named in each call.
    Declared(&'a Type),
    /// `#[mapguard::managed]`: the type the macro wrote (if it parsed), spanned at the
    /// declared type (the written one starts with our tokens).
    Rewritten(Option<&'a Type>, (Span, Span)),
}

/// `ManagedCache` for a struct: each managed field in declaration order, each under its
/// field's `#[cfg]`.
pub(crate) fn managed_cache(
    krate: &syn::Path,
    item: &ItemStruct,
    members: &[(&Member, &[Attribute], CacheField<'_>)],
) -> TokenStream {
    let ident = &item.ident;
    let (impl_generics, ty_generics, where_clause) = item.generics.split_for_impl();
    // Reported at the field's type: a field that is not a managed map (or whose key does
    // not hash). A rewritten type mixes our tokens with the user's, so it is respanned
    // across the declared type; a span mixing the two would be reported at the attribute.
    let call = |field: &CacheField<'_>, method: &str, args: TokenStream| match *field {
        CacheField::Declared(ty) => {
            let span = ty.span();
            let method = Ident::new(method, span);
            quote_spanned!(span=> <#ty as #krate::__private::ManagedCache>::#method(#args))
        }
        CacheField::Rewritten(ty, spans) => {
            let span = spans.0;
            let (krate, args) = (respanned(krate, span), respan(args, span));
            let method = Ident::new(method, span);
            let trait_path = quote_spanned!(span=> #krate::__private::ManagedCache);
            let callee = ty.map_or_else(
                || quote_spanned!(span=> #trait_path::#method),
                |ty| {
                    let ty = respan_across(ty.to_token_stream(), spans);
                    quote_spanned!(span=> <#ty as #trait_path>::#method)
                },
            );
            quote_spanned!(span=> #callee(#args))
        }
    };
    let ends = members.iter().map(|(m, cfgs, field)| {
        let call = call(field, "end_scope", quote!(&mut self.#m, lifetime));
        quote!(#(#cfgs)* { fields.run(|| #call); })
    });
    let maintains = members.iter().map(|(m, cfgs, field)| {
        let call = call(field, "maintain", quote!(&mut self.#m));
        quote!(#(#cfgs)* { fields.run(|| #call); })
    });
    let stats = members.iter().map(|(m, cfgs, field)| {
        let call = call(field, "stats", quote!(&self.#m));
        quote!(#(#cfgs)* { #krate::__private::Extend::extend(&mut stats, #call); })
    });
    let lifetime = if members.is_empty() {
        quote!(_lifetime)
    } else {
        quote!(lifetime)
    };
    quote! {
        #[automatically_derived]
        impl #impl_generics #krate::__private::ManagedCache for #ident #ty_generics #where_clause {
            // Every field's maps, even if a hook of an earlier one panics; the first panic
            // resumes afterwards.
            #[allow(unused_mut)]
            fn end_scope(&mut self, #lifetime: #krate::__private::Lifetime) -> #krate::__private::usize {
                let mut fields = #krate::__private::EachField::new();
                #(#ends)*
                fields.finish()
            }

            #[allow(unused_mut)]
            fn maintain(&mut self) -> #krate::__private::usize {
                let mut fields = #krate::__private::EachField::new();
                #(#maintains)*
                fields.finish()
            }

            #[allow(unused_mut)]
            fn stats(&self) -> #krate::__private::Vec<#krate::__private::MapStats> {
                let mut stats = #krate::__private::Vec::new();
                #(#stats)*
                stats
            }
        }
    }
}

/// The compiler's checks: unannotated fields hold no map, managed maps' values hold none.
fn lifecycle_checks(input: &Input) -> TokenStream {
    let mut checks = Checks::new(&input.krate);
    for field in &input.fields {
        match &field.kind {
            // A map found by name has its own error already (valid.rs).
            FieldKind::Plain if field.helpers.is_empty() && find_map(&field.ty).is_none() => {
                checks.add_plain(&field.ty, &field.cfgs);
            }
            FieldKind::Managed(managed) => {
                if let (attr, Some(map)) = &**managed {
                    checks.add_value(&map.value, &field.cfgs);
                    if matches!(kind(attr, map), Kind::Weak | Kind::ConcurrentWeak) {
                        // An alias's key is `<Alias as MapType>::Key`, our tokens: reported
                        // across the alias instead.
                        let key = if map.spelled {
                            map.key.to_token_stream()
                        } else {
                            respan_across(
                                map.key.to_token_stream(),
                                outer_spans(field.ty.to_token_stream()),
                            )
                        };
                        checks.add_weak_key(key, &field.cfgs);
                    }
                }
            }
            _ => {}
        }
    }
    checks.expand(&input.item.generics)
}

fn generate(input: &Input) -> TokenStream {
    let krate = &input.krate;
    let mut item = input.item.clone();
    let mut definitions = TokenStream::new();
    // Each managed field, with its new type if that parsed.
    let mut managed: Vec<(&Field, Option<Type>)> = Vec::new();
    for (field, model) in item.fields.iter_mut().zip(&input.fields) {
        // A helper inside `cfg_attr` has its error already; left in, it would add a second.
        field
            .attrs
            .retain(|attr| !is_helper(attr) && !names_helper_in_cfg_attr(attr));
        match &model.kind {
            FieldKind::Managed(parts) => {
                let (attr, Some(map)) = &**parts else {
                    continue;
                };
                let (definition, ty) = config(input, model, attr, map);
                definitions.extend(definition);
                match syn::parse2::<Type>(ty) {
                    Ok(ty) => {
                        field.ty = ty.clone();
                        managed.push((model, Some(ty)));
                    }
                    Err(error) => {
                        definitions.extend(error.to_compile_error());
                        managed.push((model, None));
                    }
                }
            }
            FieldKind::Unmanaged(Some(reason)) => {
                // What the field declared, as the lint attribute the clippy layer reads
                // (clippy.toml `disallowed-types`, from `cargo mapguard clippy-config`).
                field.attrs.push(syn::parse_quote!(
                    #[allow(clippy::disallowed_types, reason = #reason)]
                ));
            }
            _ => {}
        }
    }
    // The impl names each new type, spanned at the declared one: a map whose key does not
    // hash is reported at the field, not at the attribute.
    let members: Vec<(&Member, &[Attribute], CacheField<'_>)> = managed
        .iter()
        .map(|(model, ty)| {
            let spans = outer_spans(model.ty.to_token_stream());
            let field = CacheField::Rewritten(ty.as_ref(), spans);
            (&model.member, model.cfgs.as_slice(), field)
        })
        .collect();
    let cache = managed_cache(krate, &item, &members);
    let checks = lifecycle_checks(input);
    quote! {
        #item
        #definitions
        #cache
        #checks
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
