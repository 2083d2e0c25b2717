//! Most integration tests, in one binary: linking a test crate per file would be most of the
//! time a fresh `cargo test --workspace` takes. Tests that need
//! a process of their own stay outside: dhat's allocator (`memory`, `weight_heap`), the
//! registry's process-wide figures (`registry`, `leak_detection*`, `metrics_export`, ...),
//! the maintenance list, which reaches every map of the process (`maintenance`),
//! shuttle's build (`shuttle_model`), and the subset Miri runs (`model`, `causes`, `scopes`, `weak`).
//!
//! Index, by behaviour:
//!
//! - `adaptive_model`: Model-based tests for `AdaptiveMap`
//! - `architecture`: The runtime's module layering, checked on its source
//! - `compute`: `compute` and `remove_if`
//! - `concurrent`: Concurrent maps under many threads
//! - `concurrent_model`: Model-based tests of the concurrent maps
//! - `expiry`: Expiry with an injected clock
//! - `expiry_model`: Model test for expiry
//! - `hashing`: Every keyed operation hashes the caller's key once
//! - `hook_panics`: Exactly once, even when hooks panic
//! - `hook_panics_model`: Model-based test of the exactly-once rule under panicking hooks, over every map kind
//! - `loading`: Loading into a shared map: one load per absent key
//! - `loading_settles`: Loading always settles, whatever panics or is dropped
//! - `managed`: `#[mapguard::managed]` end to end
//! - `managed_concurrent`: `#[managed_map(..., concurrent)]` end to end
//! - `named_listeners`: Listeners with state in named types
//! - `operator_page`: What an operator sees
//! - `per_entry_expiry`: Per-entry expiry on every kind
//! - `request_scopes`: Scopes as values (`mapguard::scope::Scope`) on shared concurrent maps
//! - `runtime_limits`: `#[managed_map]` limits given as expressions
//! - `scope_counts`: A scope's counts are exact under concurrency
//! - `scope_model`: Model-based test of request scopes, on a shared concurrent map and on a single-threaded one
//! - `serde_maps`: `Serialize`/`Deserialize` (feature `serde`)
//! - `single_threaded_scopes`: Scopes as values on single-threaded maps of every kind
//! - `std_methods`: The methods std's maps and peers have, with the cleanup rule kept
//! - `surface`: One behaviour suite over every map kind
//! - `tower_layer`: `mapguard::tower::RequestScopeLayer` on a real axum server (127.0.0.1, an ephemeral port)
//! - `tracing_events`: The `tracing` feature
//! - `weak_model`: Model test for `WeakKeyMap`
//! - `weight_model`: Model-based tests for weight budgets
//! - `whole_map_limits`: A concurrent map's bound and weight budget hold for the whole map, whatever its shard count

mod adaptive_model;
mod architecture;
mod compute;
mod concurrent;
mod concurrent_model;
mod expiry;
mod expiry_model;
mod hashing;
mod hook_panics;
mod hook_panics_model;
mod loading;
mod loading_settles;
mod managed;
mod managed_concurrent;
mod named_listeners;
mod operator_page;
mod per_entry_expiry;
mod request_scopes;
mod runtime_limits;
mod scope_counts;
mod scope_model;
mod serde_maps;
mod single_threaded_scopes;
mod std_methods;
mod surface;
mod tower_layer;
mod tracing_events;
mod weak_model;
mod weight_model;
mod whole_map_limits;
