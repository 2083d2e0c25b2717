//! `#[derive(ManagedCache)]` on a struct whose fields are already managed maps.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Data, DeriveInput, ItemStruct, Member};

use crate::attr::{UnmanagedAttr, lifetime_name};
use crate::ctxt::Errors;
use crate::expand::{managed_cache, member};
use crate::lifecycle::Checks;

pub(crate) fn derive(input: DeriveInput) -> TokenStream {
    let mut errors = Errors::default();
    let Data::Struct(data) = &input.data else {
        return syn::Error::new_spanned(
            &input.ident,
            "#[derive(ManagedCache)] goes on a struct whose fields are managed maps",
        )
        .to_compile_error();
    };
    let mut members: Vec<Member> = Vec::new();
    let mut checks = Checks::default();
    for (index, field) in data.fields.iter().enumerate() {
        let unmanaged = field
            .attrs
            .iter()
            .filter(|a| a.path().is_ident("unmanaged"));
        let mut marked = false;
        for attr in unmanaged {
            UnmanagedAttr::parse(attr, &mut errors);
            marked = true;
        }
        if !marked && !field.attrs.iter().any(|a| a.path().is_ident("managed_map")) {
            // A plain map next to the managed ones would escape the derive: checked by type.
            checks.add_plain(&field.ty);
        }
        let marks = field
            .attrs
            .iter()
            .filter(|a| a.path().is_ident("managed_map"));
        for (nth, attr) in marks.enumerate() {
            if nth == 0 {
                members.push(member(index, field));
            } else {
                // Counted once whatever happens, but a repeated mark is a mistake to point at.
                errors.spanned(
                    attr,
                    "duplicate #[managed_map] on this field: mark each managed map once",
                );
            }
            if let syn::Meta::List(_) = &attr.meta {
                let result = attr.parse_nested_meta(|meta| {
                    if meta.path.is_ident("lifetime") {
                        let lit: syn::LitStr = meta.value()?.parse()?;
                        lifetime_name(&lit, &mut errors);
                    } else {
                        errors.spanned(
                            &meta.path,
                            "in #[derive(ManagedCache)], #[managed_map] marks a field that is \
                             already a managed map and may only restate its `lifetime`; configure \
                             the map where you build it, or use #[mapguard::managed] on the struct",
                        );
                    }
                    Ok(())
                });
                if let Err(error) = result {
                    errors.push(error);
                }
            }
        }
    }
    if let Err(error) = errors.finish() {
        return error.to_compile_error();
    }
    let item = ItemStruct {
        attrs: Vec::new(),
        vis: input.vis,
        struct_token: syn::Token![struct](input.ident.span()),
        ident: input.ident,
        generics: input.generics,
        fields: data.fields.clone(),
        semi_token: None,
    };
    let members: Vec<&Member> = members.iter().collect();
    let tokens = managed_cache(&item, &members);
    let checks = checks.expand(&item.generics);
    quote!(#tokens #checks)
}
