//! Compile-fail and compile-pass cases for mapguard, run with trybuild from `tests/ui.rs`.
