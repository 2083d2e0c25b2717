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
mod lifecycle;
mod valid;

use proc_macro::TokenStream;

#[doc = include_str!("../docs/attribute.md")]
#[proc_macro_attribute]
pub fn managed(args: TokenStream, input: TokenStream) -> TokenStream {
    expand::managed(&args.into(), input.into()).into()
}

/// Declares why an item may hold a map that grows without bound:
/// `#[mapguard::unmanaged(reason = "...")]` on a `static`, a struct, an enum or a union (all
/// of its fields). It changes nothing but the lint level the clippy layer reads
/// (`clippy::disallowed_types`, with the reason), and fails to compile without a reason.
/// `cargo mapguard check` accepts the item. Inside a `#[mapguard::managed]` struct (or one
/// deriving `ManagedCache`), fields take `#[unmanaged(reason = "...")]` without the path.
///
/// ```
/// use std::collections::HashMap;
/// use std::sync::{LazyLock, Mutex};
///
/// #[mapguard::unmanaged(reason = "the 50 US states, filled once at start-up")]
/// static STATES: LazyLock<Mutex<HashMap<&'static str, u32>>> =
///     LazyLock::new(|| Mutex::new(HashMap::from([("WA", 53)])));
///
/// assert_eq!(STATES.lock().unwrap()["WA"], 53);
/// ```
#[proc_macro_attribute]
pub fn unmanaged(args: TokenStream, input: TokenStream) -> TokenStream {
    expand::unmanaged(&args.into(), input.into()).into()
}

/// Implements `mapguard::ManagedCache` for a struct whose `#[managed_map]` fields are already
/// managed maps (built by hand). Each map's own lifetime, set where it is built, decides
/// which scope clears it; the attribute may restate it (`#[managed_map(lifetime = "...")]`),
/// which is checked for spelling only.
///
/// ```
/// use mapguard::{Lifetime, LruMap, ManagedCache};
///
/// #[derive(ManagedCache)]
/// struct State {
///     #[managed_map(lifetime = "request")]
///     scratch: LruMap<u64, String>,
///     hits: u64,
/// }
///
/// let mut state = State {
///     scratch: LruMap::builder(64).lifetime(Lifetime::Request).build(),
///     hits: 0,
/// };
/// state.scratch.insert(1, String::from("x"));
/// state.hits += 1;
/// assert_eq!(state.end_scope(Lifetime::Request), 1);
/// ```
#[proc_macro_derive(ManagedCache, attributes(managed_map, unmanaged))]
pub fn derive_managed_cache(input: TokenStream) -> TokenStream {
    match syn::parse(input) {
        Ok(input) => derive_cache::derive(input).into(),
        Err(error) => error.to_compile_error().into(),
    }
}

/// Implements `mapguard::Cleanup` by cleaning every field in declaration order (each must
/// implement `Cleanup`); fields take `#[cleanup(skip)]` or `#[cleanup(with = path)]` (a
/// `fn(&mut Field, RemovalCause)`). Enums clean the fields of the live variant.
///
/// ```
/// use mapguard::{Cleanup, RemovalCause};
/// use std::sync::mpsc::Sender;
///
/// fn close(sender: &mut Option<Sender<u32>>, _cause: RemovalCause) {
///     *sender = None; // this end of the channel is closed now
/// }
///
/// #[derive(Cleanup)]
/// struct Worker {
///     #[cleanup(with = close)]
///     jobs: Option<Sender<u32>>,
///     #[cleanup(skip)]
///     name: String,
/// }
///
/// let (tx, rx) = std::sync::mpsc::channel();
/// let mut worker = Worker { jobs: Some(tx), name: String::from("w1") };
/// worker.cleanup(RemovalCause::Evicted);
/// assert!(rx.recv().is_err());
/// assert_eq!(worker.name, "w1");
/// ```
#[proc_macro_derive(Cleanup, attributes(cleanup))]
pub fn derive_cleanup(input: TokenStream) -> TokenStream {
    match syn::parse(input) {
        Ok(input) => cleanup::derive(&input).into(),
        Err(error) => error.to_compile_error().into(),
    }
}
