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

/// Rewrites each `#[managed_map(...)]` `HashMap` field of a struct into a managed map, and
/// rejects map fields without a lifecycle. Implements `mapguard::ManagedCache` for the struct.
///
/// Keys of `#[managed_map(...)]`: `lifetime` (required: `"request"`, `"session"`, `"batch"`,
/// `"process"`), `max` (required unless `weak_keys` or a budget; a number, a constant, or any
/// `usize` expression, read when the struct is built), `evict` (`"lru"` default,
/// `"adaptive"` or `"reject"`), `weak_keys`, `ttl` / `idle` (`"250ms"`, `"30s"`, `"5min"`,
/// `"1h30m"`, `"1d"`), `expire_after = PATH` (a value implementing
/// `mapguard::expiry::ExpireAfter<K, V>`: each entry's own deadline; replaces `ttl`/`idle`),
/// `clock = TYPE` (a `Clock + Default` type, such as `mapguard::expiry::TokioClock`),
/// `max_bytes = "64MiB"` (a weight budget, through the value's `Weigh`; or an expression giving
/// bytes), `max_weight = N` (a budget in the `weigher`'s units), `weigher = path`
/// (`fn(&K, &V) -> u64`, with a budget), `shards = N` (a `concurrent` field's shard count; or an
/// expression), `cleanup`,
/// `on_remove = path` (or a closure that captures nothing), `name = "..."`, `concurrent` (a `ConcurrentMap`: `&self` methods, hooks
/// that are `Fn + Send + Sync`, so the struct can be shared through `Arc` without a lock),
/// `alias = Name` (declares `type Name = <the field's managed map type>`).
/// `#[mapguard::managed(crate = path)]` finds a renamed or re-exported mapguard.
/// A map field that should stay a plain map takes
/// `#[unmanaged(reason = "...")]`. The attribute may stand above or below `#[derive(...)]`;
/// build the struct with `Default` (or `Default::default()` per field).
///
/// ```
/// use mapguard::{Lifetime, ManagedCache};
/// use std::collections::HashMap;
///
/// #[mapguard::managed]
/// #[derive(Default)]
/// struct Service {
///     #[managed_map(lifetime = "request", max = 1000)]
///     per_request: HashMap<u64, String>,
///     #[managed_map(lifetime = "process", max = 10, evict = "reject", ttl = "10m")]
///     config: HashMap<String, String>,
///     #[unmanaged(reason = "fixed table filled once at start-up")]
///     codes: HashMap<u16, &'static str>,
/// }
///
/// let mut service = Service::default();
/// service.per_request.insert(1, String::from("trace"));
/// service.config.try_insert(String::from("mode"), String::from("fast")).unwrap();
/// service.codes.insert(404, "not found");
/// assert_eq!(service.end_scope(Lifetime::Request), 1);
/// assert_eq!(service.config.len(), 1);
/// ```
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
