//! The runtime's module layering, checked on its source: each module imports only modules of
//! its own layer or below, storage (`storage/`) never imports hooks or observability, and the
//! core (`raw/`) never imports hooks or their panics: it records what leaves, and the owners
//! run the hooks.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Layers, lowest first. A module may use its own layer and those below.
const LAYERS: &[&[&str]] = &[
    &[
        "storage",
        "cause",
        "compute",
        "error",
        "lifecycle",
        "policy",
    ],
    &["departures"],
    &["hooks", "panics", "maintenance"],
    &["scope", "stats"],
    &["builder", "config"],
    &["registry"],
    &["raw"],
    &["map"],
    &["weak"],
    &["concurrent"],
    &["serde_support", "tower", "weight"],
    &["testing"],
    &["guide"],
    &["lib"],
];

/// Where the crate root's re-exports live.
const ROOT_NAMES: &[(&str, &str)] = &[
    ("RemovalCause", "cause"),
    ("Compute", "compute"),
    ("CapacityError", "error"),
    ("Cleanup", "hooks"),
    ("Lifetime", "scope"),
    ("ManagedCache", "scope"),
    ("ManagedMap", "map"),
    ("LruMap", "map"),
    ("AdaptiveMap", "map"),
    ("BoundedMap", "map"),
    ("WeakKeyMap", "weak"),
    ("ConcurrentWeakKeyMap", "concurrent"),
    ("ConcurrentMap", "concurrent"),
    ("ConcurrentLruMap", "concurrent"),
    ("ConcurrentBoundedMap", "concurrent"),
    ("ConcurrentAdaptiveMap", "concurrent"),
    ("DefaultHashBuilder", "storage"),
    ("expiry", "storage"),
];

fn layer_of(module: &str) -> usize {
    LAYERS
        .iter()
        .position(|layer| layer.contains(&module))
        .unwrap_or_else(|| panic!("module `{module}` is in no layer: add it to LAYERS"))
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The top-level module a file belongs to (`lib` for the crate root).
fn module_of(src: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(src).unwrap();
    let first = relative
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_owned()
}

/// The modules a file names through `crate::`, outside comments (docs may link anywhere).
fn imports(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap();
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let module = ROOT_NAMES
                .iter()
                .find(|(root, _)| *root == name)
                .map_or(name.clone(), |(_, module)| (*module).to_owned());
            if !module.is_empty() {
                found.insert(module);
            }
        }
        // `use crate::{A, b::C}` groups name several.
        if let Some(group) = code.split("crate::{").nth(1) {
            for item in group.split([',', '}']) {
                let name = item.trim().split("::").next().unwrap_or("").trim();
                if let Some((_, module)) = ROOT_NAMES.iter().find(|(root, _)| *root == name) {
                    found.insert((*module).to_owned());
                } else if !name.is_empty() && name.chars().next().unwrap().is_lowercase() {
                    found.insert(name.to_owned());
                }
            }
        }
    }
    found
}

#[test]
fn imports_go_down_the_layers_and_storage_never_imports_observability() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../runtime/src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut violations = Vec::new();
    for file in &files {
        let module = module_of(&src, file);
        let text = std::fs::read_to_string(file).unwrap();
        for imported in imports(&text) {
            if imported == module || imported == "self" || imported == "super" {
                continue;
            }
            if module == "storage"
                && ["hooks", "panics", "departures", "registry", "scope"]
                    .contains(&imported.as_str())
            {
                violations.push(format!("{}: storage imports `{imported}`", file.display()));
            }
            // The core records what leaves; its owners run the hooks (one place for them).
            if module == "raw" && ["hooks", "panics"].contains(&imported.as_str()) {
                violations.push(format!("{}: the core imports `{imported}`", file.display()));
            }
            if layer_of(&imported) > layer_of(&module) {
                violations.push(format!(
                    "{}: `{module}` imports `{imported}`, a layer above it",
                    file.display()
                ));
            }
        }
    }
    assert!(violations.is_empty(), "{violations:#?}");
}
