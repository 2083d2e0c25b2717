//! The clippy layer on a fixture crate that compiles (`tests/clippy-fixture`): with the
//! clippy.toml that `cargo mapguard clippy-config` prints, a fully managed crate passes
//! `cargo clippy -- -D warnings`, and one plain map (feature `leak`) fails it, at that map.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/clippy-fixture")
}

fn clippy(dir: &Path, features: &[&str]) -> Output {
    let target = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/clippy-fixture");
    Command::new("cargo")
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .env_remove("RUSTFLAGS")
        .args(["clippy", "--quiet"])
        .args(features)
        .args(["--", "-D", "warnings"])
        .output()
        .expect("cargo clippy runs")
}

#[test]
fn the_fixture_uses_the_printed_config() {
    let written = std::fs::read_to_string(fixture().join("clippy.toml")).unwrap();
    assert_eq!(written, cargo_mapguard::clippy_config());
}

#[test]
fn a_fully_managed_crate_passes_and_a_plain_map_fails() {
    let clean = clippy(&fixture(), &[]);
    assert!(
        clean.status.success(),
        "the managed crate passes: {}",
        String::from_utf8_lossy(&clean.stderr)
    );
    let leak = clippy(&fixture(), &["--features", "leak"]);
    let stderr = String::from_utf8_lossy(&leak.stderr);
    assert!(!leak.status.success(), "the plain map fails the layer");
    assert!(
        stderr.contains("use of a disallowed type `std::collections::HashMap`")
            && stderr.contains("src/lib.rs:38:21"),
        "{stderr}"
    );
    assert_eq!(stderr.matches("disallowed type").count(), 1, "{stderr}");
}
