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
use syn::{Generics, Type};

/// What to check: field types that must hold no map, and managed maps' value types.
#[derive(Default)]
pub(crate) struct Checks<'a> {
    pub(crate) plain_fields: Vec<&'a Type>,
    pub(crate) managed_values: Vec<&'a Type>,
}

impl<'a> Checks<'a> {
    /// A field type to check; a tuple is checked element by element (the compiler's check
    /// sees through named containers, not through tuples).
    pub(crate) fn add_plain(&mut self, ty: &'a Type) {
        match ty {
            Type::Tuple(tuple) => tuple.elems.iter().for_each(|elem| self.add_plain(elem)),
            Type::Paren(paren) => self.add_plain(&paren.elem),
            Type::Group(group) => self.add_plain(&group.elem),
            _ => self.plain_fields.push(ty),
        }
    }

    /// A never-called function, generic like the struct, whose body holds the checks.
    pub(crate) fn expand(&self, generics: &Generics) -> TokenStream {
        if self.plain_fields.is_empty() && self.managed_values.is_empty() {
            return TokenStream::new();
        }
        let (impl_generics, _, where_clause) = generics.split_for_impl();
        let fields = self.plain_fields.iter().map(|ty| {
            quote_spanned! {ty.span()=>
                ::mapguard::__private::require_lifecycle::<#ty, _>(
                    &(&::mapguard::__private::Probe::<#ty>::new()).lifecycle(),
                );
            }
        });
        let values = self.managed_values.iter().map(|ty| {
            quote_spanned! {ty.span()=>
                ::mapguard::__private::require_managed_values::<#ty, _>(
                    &(&::mapguard::__private::Probe::<#ty>::new()).lifecycle(),
                );
            }
        });
        quote! {
            const _: () = {
                #[allow(dead_code, clippy::all, clippy::pedantic)]
                fn __mapguard_lifecycle_checks #impl_generics () #where_clause {
                    use ::mapguard::__private::{MapProbe as _, PlainProbe as _};
                    #(#fields)*
                    #(#values)*
                }
            };
        }
    }
}
