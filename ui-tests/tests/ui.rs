//! Compile-fail cases (with the exact error text a user sees, in `.stderr` files) and
//! compile-pass cases. Regenerate the snapshots after a reviewed change with
//! `TRYBUILD=overwrite cargo test -p mapguard-ui-tests`; the toolchain is pinned in
//! `rust-toolchain.toml` so the text is stable.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/fail/*.rs");
    cases.pass("tests/ui/pass/*.rs");
}
