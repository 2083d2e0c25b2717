//! How long `cargo mapguard check` takes on a 100,000-line workspace (the goal: under 2 s on
//! a 2-core machine). Run with `cargo bench -p cargo-mapguard --bench speed`; it writes the
//! workspace to a temporary folder, checks it five times, and prints the median.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

/// Lines per file, roughly; files per package; packages.
const FILES: usize = 100;
const PACKAGES: usize = 5;

fn module(package: usize, file: usize) -> String {
    let mut text = String::from("use std::collections::HashMap;\nuse std::sync::{Arc, Mutex};\n\n");
    for n in 0..8 {
        let _ = write!(
            text,
            "/// A record of the synthetic workspace.\n\
             #[derive(Debug, Clone, Default)]\n\
             pub struct Record{n} {{\n    pub id: u64,\n    pub name: String,\n    pub tags: Vec<String>,\n    \
             pub parent: Option<Box<Record{n}>>,\n    pub shared: Arc<Mutex<Vec<u8>>>,\n}}\n\n\
             impl Record{n} {{\n    /// Sums the tag lengths, the long way.\n    \
             pub fn weight(&self, scale: u64) -> u64 {{\n        let mut total = 0u64;\n        \
             for tag in &self.tags {{\n            let len = tag.len() as u64;\n            \
             total = total.wrapping_add(len * scale);\n            if total > 1_000_000 {{\n                \
             return total;\n            }}\n        }}\n        let local: HashMap<u64, u64> = HashMap::new();\n        \
             match self.parent.as_deref() {{\n            Some(parent) => total + parent.weight(scale) + local.len() as u64,\n            \
             None => total,\n        }}\n    }}\n}}\n\n"
        );
    }
    let _ = write!(
        text,
        "pub enum Event{package}x{file} {{\n    Loaded {{ id: u64 }},\n    Index(HashMap<u64, String>),\n}}\n\n\
         pub static COUNTER_{package}_{file}: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);\n"
    );
    text
}

fn write_workspace(root: &Path) -> usize {
    let mut lines = 0;
    let members: Vec<String> = (0..PACKAGES).map(|p| format!("\"p{p}\"")).collect();
    std::fs::write(
        root.join("Cargo.toml"),
        format!(
            "[workspace]\nresolver = \"3\"\nmembers = [{}]\n",
            members.join(", ")
        ),
    )
    .unwrap();
    for package in 0..PACKAGES {
        let dir = root.join(format!("p{package}"));
        std::fs::create_dir_all(dir.join("src")).unwrap();
        std::fs::write(
            dir.join("Cargo.toml"),
            format!("[package]\nname = \"p{package}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n"),
        )
        .unwrap();
        let mut lib = String::new();
        for file in 0..FILES {
            let _ = writeln!(lib, "pub mod m{file};");
            let text = module(package, file);
            lines += text.lines().count();
            std::fs::write(dir.join("src").join(format!("m{file}.rs")), text).unwrap();
        }
        lines += lib.lines().count();
        std::fs::write(dir.join("src/lib.rs"), lib).unwrap();
    }
    lines
}

fn main() {
    let root = std::env::temp_dir().join(format!("mapguard-gate-speed-{}", std::process::id()));
    std::fs::create_dir_all(&root).unwrap();
    let lines = write_workspace(&root);
    let options = cargo_mapguard::Options {
        manifest_path: Some(root.join("Cargo.toml")),
        packages: Vec::new(),
    };
    let mut times: Vec<Duration> = Vec::new();
    let mut findings = 0;
    for _ in 0..5 {
        let start = Instant::now();
        let outcome = cargo_mapguard::check(&options).expect("the synthetic workspace checks");
        times.push(start.elapsed());
        findings = outcome.findings.len();
        assert_eq!(outcome.lines, lines, "every line was read");
    }
    times.sort();
    let median = times[times.len() / 2];
    println!(
        "cargo mapguard check: {lines} lines in {} files, {findings} findings: median {:.0} ms \
         of 5 runs (min {:.0} ms, max {:.0} ms); {:.0} lines/s",
        PACKAGES * (FILES + 1),
        median.as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3,
        times[times.len() - 1].as_secs_f64() * 1e3,
        lines as f64 / median.as_secs_f64(),
    );
    let _ = std::fs::remove_dir_all(&root);
}
