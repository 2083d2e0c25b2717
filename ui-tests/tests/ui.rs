//! Compile-fail cases, with the exact error text a user sees in `.stderr` files. Regenerate the
//! snapshots after a reviewed change with `TRYBUILD=overwrite cargo test -p mapguard-ui-tests`;
//! the toolchain is pinned in `rust-toolchain.toml` so the text is stable.
//!
//! The compile-pass cases are modules of the `pass` test crate (`tests/pass/`). With no pass case
//! here, trybuild only type-checks (`cargo check`): it neither builds nor links a program per case.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/fail/*.rs");
}
