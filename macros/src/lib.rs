//! Procedural macros for [mapguard](https://docs.rs/mapguard): `#[managed]`,
//! `#[derive(ManagedCache)]` and `#[derive(Cleanup)]`. Use them through the `mapguard` crate,
//! which documents them; generated code names only `::mapguard::__private`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod ast;
mod attr;
mod cleanup;
mod ctxt;
mod derive_cache;
mod expand;
mod fallback;

use proc_macro::TokenStream;

/// Rewrites each `#[managed_map(...)]` `HashMap` field of a struct into a managed map and
/// rejects map fields without a lifecycle. See the `mapguard` crate docs.
#[proc_macro_attribute]
pub fn managed(args: TokenStream, input: TokenStream) -> TokenStream {
    expand::managed(&args.into(), input.into()).into()
}

/// Implements `mapguard::ManagedCache` for a struct whose `#[managed_map]` fields are already
/// managed maps.
#[proc_macro_derive(ManagedCache, attributes(managed_map))]
pub fn derive_managed_cache(input: TokenStream) -> TokenStream {
    match syn::parse(input) {
        Ok(input) => derive_cache::derive(input).into(),
        Err(error) => error.to_compile_error().into(),
    }
}

/// Implements `mapguard::Cleanup` by cleaning every field in declaration order; fields take
/// `#[cleanup(skip)]` or `#[cleanup(with = path)]`.
#[proc_macro_derive(Cleanup, attributes(cleanup))]
pub fn derive_cleanup(input: TokenStream) -> TokenStream {
    match syn::parse(input) {
        Ok(input) => cleanup::derive(&input).into(),
        Err(error) => error.to_compile_error().into(),
    }
}
