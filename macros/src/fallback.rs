//! When the input cannot be modelled at all (not a struct, not parseable), still emit it
//! unchanged beside the error, so IDEs keep working and later errors stay about the user's
//! code rather than a missing item. (A struct with wrong attributes is not this case: it is
//! generated field by field, see expand.rs.)

use proc_macro2::TokenStream;

pub(crate) fn emit(mut tokens: TokenStream, error: &syn::Error) -> TokenStream {
    tokens.extend(error.to_compile_error());
    tokens
}
