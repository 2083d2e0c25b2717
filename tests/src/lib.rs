//! Integration, model-based and memory tests for mapguard live in `tests/`; this crate has no
//! code of its own beyond the README doctest.

/// The README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
