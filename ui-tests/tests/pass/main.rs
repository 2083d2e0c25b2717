//! Compile-pass cases: each module is one use of the macros that must expand, compile and
//! run. They are modules of one test crate, not trybuild cases, so the newcomer's
//! `cargo test --workspace` builds them once with the rest (trybuild built and ran each alone).
//! A case that needs a crate of its own (crate-level attributes, a separate program) belongs
//! in trybuild (`tests/ui.rs`).
//!
//! Each case was a program of its own, where a `pub` item is reachable and needs no docs. These
//! allows keep those conditions, so a case that denies warnings checks only what the macros add.
#![allow(
    unreachable_pub,
    reason = "cases write `pub` items as a user's crate would"
)]
#![allow(
    missing_docs,
    reason = "the cases' own items are the user's code, not ours"
)]
#![allow(
    missing_debug_implementations,
    reason = "the cases' own items are the user's code, not ours"
)]

mod derive_cleanup;
mod derive_managed_cache_alone;
mod hooks_and_hashers;
mod managed_adaptive;
mod managed_below_derive;
mod managed_cfg_field;
mod managed_concurrent;
mod managed_concurrent_weak_keys;
mod managed_crate_path;
mod managed_derive_clone;
mod managed_durations;
mod managed_every_key;
mod managed_field_alias;
mod managed_index_eq;
mod managed_map_aliases;
mod managed_map_values_managed;
mod managed_max_bytes;
mod managed_max_const;
mod managed_name_collisions;
mod managed_no_implicit_prelude;
mod managed_raw_identifiers;
mod managed_self_types;
mod managed_unsized_param;
mod managed_weak_key_generic;
mod serde_weak_keys_skipped;
mod unmanaged_attribute;
