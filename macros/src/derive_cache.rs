//! `#[derive(ManagedCache)]` on a struct whose fields are already managed maps.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Attribute, Data, DeriveInput, ItemStruct, Member, Type};

use crate::ast::member;
use crate::attr::{UnmanagedAttr, lifetime_name};
use crate::ctxt::{Errors, Keys};
use crate::expand::{CacheField, managed_cache};
use crate::lifecycle::Checks;

/// What one field declares.
enum Mark {
    Managed,
    Unmanaged,
    Plain,
}

fn mark(field: &syn::Field, errors: &mut Errors) -> Mark {
    let mut mark = Mark::Plain;
    for attr in &field.attrs {
        let name = if attr.path().is_ident("managed_map") {
            "managed_map"
        } else if attr.path().is_ident("unmanaged") {
            "unmanaged"
        } else {
            continue;
        };
        // The one rule for repeats: the first mark stands, a second is an error there.
        if !matches!(mark, Mark::Plain) {
            errors.spanned(
                attr,
                "this field is already marked above: a field is #[managed_map] or \
                 #[unmanaged], once",
            );
            continue;
        }
        if name == "unmanaged" {
            UnmanagedAttr::parse(attr, errors);
            mark = Mark::Unmanaged;
            continue;
        }
        mark = Mark::Managed;
        if let syn::Meta::List(_) = &attr.meta {
            let mut given = Keys::default();
            let result = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("lifetime") {
                    let lit: syn::LitStr = meta.value()?.parse()?;
                    if given.first("lifetime", &meta.path, errors) {
                        lifetime_name(&lit, errors);
                    }
                } else {
                    errors.spanned(
                        &meta.path,
                        "in #[derive(ManagedCache)], #[managed_map] marks a field that is \
                         already a managed map and may only restate its `lifetime`; configure \
                         the map where you build it, or use #[mapguard::managed] on the struct",
                    );
                    if meta.input.peek(syn::Token![=]) {
                        let _: syn::Expr = meta.value()?.parse()?;
                    }
                }
                Ok(())
            });
            if let Err(error) = result {
                errors.push(error);
            }
        }
    }
    mark
}

pub(crate) fn derive(input: DeriveInput) -> TokenStream {
    let Data::Struct(data) = &input.data else {
        return syn::Error::new_spanned(
            &input.ident,
            "#[derive(ManagedCache)] goes on a struct whose fields are managed maps",
        )
        .to_compile_error();
    };
    let mut errors = Errors::default();
    let krate: syn::Path = syn::parse_quote!(::mapguard);
    let mut members: Vec<(Member, Vec<Attribute>, Type)> = Vec::new();
    let mut plain: Vec<(&Type, Vec<Attribute>)> = Vec::new();
    for (index, field) in data.fields.iter().enumerate() {
        let cfgs: Vec<Attribute> = field
            .attrs
            .iter()
            .filter(|attr| attr.path().is_ident("cfg"))
            .cloned()
            .collect();
        match mark(field, &mut errors) {
            Mark::Managed => members.push((member(index, field), cfgs, field.ty.clone())),
            // A plain map next to the managed ones would escape the derive: checked by type.
            Mark::Plain => plain.push((&field.ty, cfgs)),
            Mark::Unmanaged => {}
        }
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
    let refs: Vec<(&Member, &[Attribute], CacheField<'_>)> = members
        .iter()
        .map(|(member, cfgs, ty)| (member, cfgs.as_slice(), CacheField::Declared(ty)))
        .collect();
    let mut tokens = managed_cache(&krate, &item, &refs);
    let mut checks = Checks::new(&krate);
    for (ty, cfgs) in &plain {
        checks.add_plain(ty, cfgs);
    }
    tokens.extend(checks.expand(&item.generics));
    if let Err(error) = errors.finish() {
        tokens.extend(error.to_compile_error());
    }
    quote!(#tokens)
}
