//! `#[derive(Cleanup)]`: cleans fields in declaration order.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields};

use crate::ctxt::Errors;

/// What `#[cleanup(...)]` says about one field.
enum Mode {
    Clean,
    Skip,
    With(syn::Path),
}

fn mode(field: &syn::Field, errors: &mut Errors) -> Mode {
    let mut mode = Mode::Clean;
    // `skip` and `with` each decide the field: the one rule for repeats applies to the
    // decision (the first stands; a second is an error there).
    let mut decided = false;
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("cleanup")) {
        let result = attr.parse_nested_meta(|meta| {
            let is_key = meta.path.is_ident("skip") || meta.path.is_ident("with");
            if is_key && decided {
                errors.spanned(
                    &meta.path,
                    "this field's cleanup is already decided by an earlier `skip` or `with`: \
                     keep one of them",
                );
                if meta.input.peek(syn::Token![=]) {
                    let _: syn::Expr = meta.value()?.parse()?;
                }
                return Ok(());
            }
            decided |= is_key;
            if meta.path.is_ident("skip") {
                mode = Mode::Skip;
            } else if meta.path.is_ident("with") {
                mode = Mode::With(meta.value()?.parse()?);
            } else {
                errors.spanned(
                    &meta.path,
                    "unknown key in #[cleanup]: expected `skip` or `with = path::to::fn` \
                     (a `fn(&mut Field, RemovalCause)`)",
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
    mode
}

/// Statements cleaning `fields`, bound to the names `bindings`.
fn clean_fields(fields: &Fields, bindings: &[syn::Ident], errors: &mut Errors) -> TokenStream {
    let statements = fields.iter().zip(bindings).map(|(field, binding)| match mode(field, errors) {
        Mode::Skip => quote!(let _ = #binding;),
        Mode::With(path) => quote_spanned! {path.span()=> #path(#binding, cause);},
        // Spanned on the field type: a missing impl names the type, at the type.
        Mode::Clean => {
            let ty = &field.ty;
            quote_spanned! {ty.span()=> <#ty as ::mapguard::__private::Cleanup>::cleanup(#binding, cause);}
        }
    });
    quote!(#(#statements)*)
}

fn bindings(fields: &Fields) -> Vec<syn::Ident> {
    (0..fields.len())
        .map(|i| format_ident!("__field{}", i))
        .collect()
}

/// `Struct { a: __field0, .. }` / `Variant(__field0, ..)`
fn pattern(path: &TokenStream, fields: &Fields, bindings: &[syn::Ident]) -> TokenStream {
    match fields {
        Fields::Named(named) => {
            let field_names = named.named.iter().map(|f| &f.ident);
            quote!(#path { #(#field_names: #bindings),* })
        }
        Fields::Unnamed(_) => quote!(#path ( #(#bindings),* )),
        Fields::Unit => quote!(#path),
    }
}

pub(crate) fn derive(input: &DeriveInput) -> TokenStream {
    let mut errors = Errors::default();
    let ident = &input.ident;
    let body = match &input.data {
        Data::Struct(data) => {
            let bindings = bindings(&data.fields);
            let pattern = pattern(&quote!(Self), &data.fields, &bindings);
            let clean = clean_fields(&data.fields, &bindings, &mut errors);
            quote! {
                let #pattern = self;
                #clean
            }
        }
        Data::Enum(data) => {
            let arms = data.variants.iter().map(|variant| {
                let name = &variant.ident;
                let bindings = bindings(&variant.fields);
                let pattern = pattern(&quote!(Self::#name), &variant.fields, &bindings);
                let clean = clean_fields(&variant.fields, &bindings, &mut errors);
                quote!(#pattern => { #clean })
            });
            let arms: Vec<_> = arms.collect();
            if arms.is_empty() {
                quote!(match *self {})
            } else {
                quote!(match self { #(#arms)* })
            }
        }
        Data::Union(data) => {
            errors.spanned(
                data.union_token,
                "#[derive(Cleanup)] cannot know which field of a union is live: implement \
                 `mapguard::Cleanup` by hand",
            );
            TokenStream::new()
        }
    };
    if let Err(error) = errors.finish() {
        return error.to_compile_error();
    }
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    quote! {
        #[automatically_derived]
        impl #impl_generics ::mapguard::__private::Cleanup for #ident #ty_generics #where_clause {
            #[allow(unused_variables)]
            fn cleanup(&mut self, cause: ::mapguard::__private::RemovalCause) {
                #body
            }
        }
    }
}
