//! The compile-time half of "every map declares its lifecycle": a check per field, by type.
//!
//! The attribute's own test is by spelling (`HashMap`, `BTreeMap`, ...), which gives the most
//! specific message but misses aliases and containers. So every field without a lifecycle
//! attribute is also checked by the compiler, through `::mapguard::__private::HoldsMap` (see
//! `runtime/src/lifecycle.rs`): a field whose type is or holds a map fails to compile, with
//! the error at the field's type.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Attribute, Generics, Type};

/// What to check: field types that must hold no map, and managed maps' value types, each
/// under its field's `#[cfg]`.
pub(crate) struct Checks<'a> {
    krate: &'a syn::Path,
    plain_fields: Vec<(&'a Type, &'a [Attribute])>,
    managed_values: Vec<(&'a Type, &'a [Attribute])>,
    weak_keys: Vec<(TokenStream, &'a [Attribute])>,
}

impl<'a> Checks<'a> {
    pub(crate) fn new(krate: &'a syn::Path) -> Self {
        Self {
            krate,
            plain_fields: Vec::new(),
            managed_values: Vec::new(),
            weak_keys: Vec::new(),
        }
    }

    /// A field type to check; a tuple is checked element by element (the compiler's check
    /// sees through named containers, not through tuples).
    pub(crate) fn add_plain(&mut self, ty: &'a Type, cfgs: &'a [Attribute]) {
        match ty {
            Type::Tuple(tuple) => tuple
                .elems
                .iter()
                .for_each(|elem| self.add_plain(elem, cfgs)),
            Type::Paren(paren) => self.add_plain(&paren.elem, cfgs),
            Type::Group(group) => self.add_plain(&group.elem, cfgs),
            _ => self.plain_fields.push((ty, cfgs)),
        }
    }

    pub(crate) fn add_value(&mut self, ty: &'a Type, cfgs: &'a [Attribute]) {
        self.managed_values.push((ty, cfgs));
    }

    /// A weak-keyed map's key: its pointee must hash and compare. The map type itself
    /// accepts any `Weak`, so this is the one error for a pointee without `Hash`/`Eq`,
    /// reported where `key`'s tokens are spanned.
    pub(crate) fn add_weak_key(&mut self, key: TokenStream, cfgs: &'a [Attribute]) {
        self.weak_keys.push((key, cfgs));
    }

    /// A never-called function, generic like the struct, whose body holds the checks.
    pub(crate) fn expand(&self, generics: &Generics) -> TokenStream {
        if self.plain_fields.is_empty()
            && self.managed_values.is_empty()
            && self.weak_keys.is_empty()
        {
            return TokenStream::new();
        }
        let krate = self.krate;
        let (impl_generics, _, where_clause) = generics.split_for_impl();
        let check = |(ty, cfgs): &(&Type, &[Attribute]), require: TokenStream| {
            quote_spanned! {ty.span()=>
                #(#cfgs)*
                #krate::__private::#require::<#ty, _>(
                    &(&#krate::__private::Probe::<#ty>::new()).lifecycle(),
                );
            }
        };
        let fields = self
            .plain_fields
            .iter()
            .map(|f| check(f, quote!(require_lifecycle)));
        let values = self
            .managed_values
            .iter()
            .map(|v| check(v, quote!(require_managed_values)));
        // Reported at the key in the turbofish (the bound is on it).
        let weak_keys = self.weak_keys.iter().map(|(key, cfgs)| {
            quote! {
                #(#cfgs)*
                #krate::__private::require_weak_key::<#key, _>(
                    &(&&#krate::__private::WeakKeyProbe::<#key>::new()).weak_key(),
                );
            }
        });
        let weak_probes = (!self.weak_keys.is_empty())
            .then(|| quote!(use #krate::__private::{AnyWeakKey as _, HashedWeakKey as _};));
        quote! {
            const _: () = {
                #[allow(dead_code, clippy::all, clippy::pedantic)]
                fn __mapguard_lifecycle_checks #impl_generics () #where_clause {
                    use #krate::__private::{MapProbe as _, PlainProbe as _};
                    #weak_probes
                    #(#fields)*
                    #(#values)*
                    #(#weak_keys)*
                }
            };
        }
    }
}
