//! On error, still emit the item (without our helper attributes), so IDEs keep working and
//! later errors stay about the user's code rather than a missing struct.

use proc_macro2::TokenStream;
use quote::ToTokens;

pub(crate) fn emit(mut item: syn::ItemStruct, error: &syn::Error) -> TokenStream {
    for field in &mut item.fields {
        field.attrs.retain(|attr| !is_helper(attr));
    }
    let mut tokens = item.into_token_stream();
    tokens.extend(error.to_compile_error());
    tokens
}

pub(crate) fn is_helper(attr: &syn::Attribute) -> bool {
    attr.path().is_ident("managed_map") || attr.path().is_ident("unmanaged")
}
