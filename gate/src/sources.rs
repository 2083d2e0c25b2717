//! A package's source files: its targets' roots, the files their `mod` declarations name,
//! and every other `.rs` file under `src/`, `tests/`, `examples/` and `benches/` (and
//! `build.rs`). Each is read and parsed once, however many links lead to it (files and
//! folders are known by their canonical path, so a link back up the tree is followed once and
//! cannot loop); one that fails, or nests too deeply to parse safely, is recorded and skipped.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::nesting;

use crate::workspace::Package;

pub(crate) struct SourceFile {
    pub(crate) path: PathBuf,
    pub(crate) text: String,
    pub(crate) syntax: syn::File,
}

#[derive(Default)]
pub(crate) struct Sources {
    pub(crate) parsed: Vec<SourceFile>,
    pub(crate) failed: Vec<(PathBuf, String)>,
}

pub(crate) fn collect(package: &Package) -> Sources {
    let mut queue: Vec<PathBuf> = package.roots.clone();
    let mut folders = BTreeSet::new();
    for dir in ["src", "tests", "examples", "benches"] {
        rust_files(&package.dir.join(dir), &mut folders, &mut queue);
    }
    queue.push(package.dir.join("build.rs"));
    // Roots first (the queue pops from the end): a file reached by a link as well is
    // reported under its own path.
    queue.reverse();
    let mut seen = BTreeSet::new();
    let mut sources = Sources::default();
    while let Some(path) = queue.pop() {
        let path = normalize(&path);
        if !path.is_file() {
            continue;
        }
        let canonical = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        if !seen.insert(canonical) {
            continue;
        }
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) => {
                sources
                    .failed
                    .push((path, format!("could not read it: {error}")));
                continue;
            }
        };
        if let Some(why) = too_deep(&text) {
            sources.failed.push((path, why));
            continue;
        }
        match syn::parse_file(&text) {
            Ok(syntax) => {
                let is_root = package.roots.iter().any(|root| normalize(root) == path);
                declared_modules(&path, is_root, &syntax.items, &mut queue);
                sources.parsed.push(SourceFile { path, text, syntax });
            }
            Err(error) => {
                let at = error.span().start();
                sources.failed.push((
                    path,
                    format!(
                        "could not parse it (line {}, column {}): {error}",
                        at.line,
                        at.column + 1
                    ),
                ));
            }
        }
    }
    sources.parsed.sort_by(|a, b| a.path.cmp(&b.path));
    sources
}

/// Why `text` is skipped unparsed: it nests deeper than syn can parse within the gate's
/// stack (see `nesting`). `None`: parse it (a text that does not even tokenize is left for
/// syn to report).
fn too_deep(text: &str) -> Option<String> {
    let tokens: proc_macro2::TokenStream = text.parse().ok()?;
    let depth = nesting::depth(tokens);
    (depth > nesting::MAX_NESTING).then(|| {
        format!(
            "it nests {depth} levels deep (groups, generics, operators), more than the {} the \
             gate parses safely",
            nesting::MAX_NESTING
        )
    })
}

/// Every `.rs` file under `dir`, recursively (a missing folder has none). `folders` holds the
/// canonical paths of the folders already listed: a link to one of them (a loop, or a second
/// way in) is not listed again. Iterative, so a deep tree cannot overflow the stack.
fn rust_files(dir: &Path, folders: &mut BTreeSet<PathBuf>, found: &mut Vec<PathBuf>) {
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(canonical) = std::fs::canonicalize(&dir) else {
            continue;
        };
        if !folders.insert(canonical) {
            continue;
        }
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
        entries.sort();
        let mut inner = Vec::new();
        for path in entries {
            if path.is_dir() {
                // A folder with a manifest of its own is another package (or a test fixture).
                if !path.join("Cargo.toml").is_file() {
                    inner.push(path);
                }
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                found.push(path);
            }
        }
        // Sorted order: the first folder is listed next.
        pending.extend(inner.into_iter().rev());
    }
}

/// Queues the files that `mod name;` declarations in `items` refer to.
fn declared_modules(file: &Path, is_root: bool, items: &[syn::Item], queue: &mut Vec<PathBuf>) {
    let parent = file.parent().unwrap_or(Path::new("."));
    let stem = file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    // `lib.rs`, `main.rs`, `mod.rs` and target roots own their folder; `a.rs` owns `a/`.
    let owns_folder = is_root || matches!(stem, "lib" | "main" | "mod");
    let dir = if owns_folder {
        parent.to_path_buf()
    } else {
        parent.join(stem)
    };
    walk_modules(&dir, parent, items, queue);
}

fn walk_modules(dir: &Path, file_dir: &Path, items: &[syn::Item], queue: &mut Vec<PathBuf>) {
    for item in items {
        let syn::Item::Mod(module) = item else {
            continue;
        };
        let path_attr = module.attrs.iter().find_map(|attr| {
            if !attr.path().is_ident("path") {
                return None;
            }
            match &attr.meta {
                syn::Meta::NameValue(syn::MetaNameValue {
                    value:
                        syn::Expr::Lit(syn::ExprLit {
                            lit: syn::Lit::Str(lit),
                            ..
                        }),
                    ..
                }) => Some(lit.value()),
                _ => None,
            }
        });
        let name = module.ident.to_string();
        let name = name.trim_start_matches("r#");
        match (&module.content, path_attr) {
            (None, Some(path)) => queue.push(file_dir.join(path)),
            (None, None) => {
                queue.push(dir.join(format!("{name}.rs")));
                queue.push(dir.join(name).join("mod.rs"));
            }
            (Some((_, inner)), _) => walk_modules(&dir.join(name), file_dir, inner, queue),
        }
    }
}

/// `a/src/../extra/x.rs` as `a/extra/x.rs`, without touching the file system (a symlink is
/// taken as written).
fn normalize(path: &Path) -> PathBuf {
    let mut normal = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir if normal.file_name().is_some() => {
                normal.pop();
            }
            other => normal.push(other),
        }
    }
    normal
}
