//! Most integration tests, in one binary: each file was a test crate of its own, and linking
//! thirty of them was most of the time a fresh `cargo test --workspace` took. Tests that need
//! a process of their own stay outside: dhat's allocator (`memory`, `weight_heap`), the
//! registry's process-wide figures (`registry`, `leak_detection*`, `metrics_export`, ...),
//! the maintenance list, which reaches every map of the process (`maintenance`),
//! shuttle's build (`shuttle_model`), and the subset Miri runs (`model`, `causes`, `scopes`, `weak`).

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
