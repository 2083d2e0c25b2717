//! The crate-wide gate behind `cargo mapguard check`: every map in a workspace declares its
//! lifecycle.
//!
//! It parses (never compiles) every `.rs` file of every package with syn, and reports each
//! field of a struct, enum or union, each static (also inside `thread_local!` and
//! `lazy_static!`), and each `type` alias of shared state (`Arc<Mutex<HashMap<K, V>>>`),
//! whose type is or holds a map and carries neither `#[managed_map(...)]` nor
//! `#[unmanaged(reason = "...")]`.
//!
//! What it sees through: crate-local `type` aliases, `use ... as ...` renames, generic
//! containers (`Vec<_>`, `Arc<Mutex<_>>`, `LazyLock<_>`, your own `Wrapper<_>`), tuples and
//! arrays, and a built-in list of map types that `[workspace.metadata.mapguard] maps` extends.
//! What it cannot see: types made by macros, maps behind a trait object or a type parameter
//! filled in elsewhere, and locals inside function bodies, `main` and spawned tasks included
//! (a `let` has no type written to read; the alias it is often built from is reported).
//!
//! ```no_run
//! let outcome = cargo_mapguard::check(&cargo_mapguard::Options::default()).unwrap();
//! for finding in &outcome.findings {
//!     println!("{}:{}: {}", finding.file, finding.line, finding.message);
//! }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod baseline;
mod config;
mod fix;
mod nesting;
mod report;
mod scan;
mod sources;
mod types;
mod workspace;

use std::fmt::{self, Write as _};
use std::path::PathBuf;

pub use baseline::{Baseline, BaselineEntry, BaselineState};
pub use fix::apply_suggestions;
pub use report::Format;

/// What to check.
///
/// ```
/// let options = cargo_mapguard::Options::default(); // the workspace cargo finds from here
/// assert!(options.packages.is_empty());
/// ```
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// `Cargo.toml` to start from (cargo's `--manifest-path`); `None`: cargo's own search.
    pub manifest_path: Option<PathBuf>,
    /// Package names to check (cargo's `-p`); empty: every member of the workspace.
    pub packages: Vec<String>,
}

/// A field or static whose type is or holds a map with no declared lifecycle.
///
/// ```no_run
/// let outcome = cargo_mapguard::check(&cargo_mapguard::Options::default()).unwrap();
/// for finding in &outcome.findings {
///     assert!(finding.message.starts_with(&finding.headline));
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[non_exhaustive]
pub struct Finding {
    /// Path relative to the workspace root, with `/` separators.
    pub file: String,
    /// 1-based line of the type.
    pub line: usize,
    /// 1-based column of the type.
    pub column: usize,
    /// What holds the map.
    pub kind: Kind,
    /// `Struct.field`, `Enum::Variant.0`, `STATIC`, ...
    pub item: String,
    /// The type as written.
    #[serde(rename = "type")]
    pub ty: String,
    /// What is wrong and what to write instead: `headline`, then `help`.
    pub message: String,
    /// What is wrong.
    #[serde(skip)]
    pub headline: String,
    /// What to write instead.
    #[serde(skip)]
    pub help: String,
    /// The source line the type starts on, and the type's length on it, for display.
    #[serde(skip)]
    pub(crate) snippet: (String, usize),
    /// With a baseline applied: whether the baseline accepts it (`unchanged`) or not (`new`).
    #[serde(rename = "baselineState", skip_serializing_if = "Option::is_none")]
    pub baseline_state: Option<BaselineState>,
    /// The one safe edit that declares a lifecycle, when there is one, in rustfix's shape;
    /// `cargo mapguard fix` applies it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<Suggestion>,
}

/// An edit that declares a map's lifecycle, with placeholders (`...`) for the user to fill
/// in: the code does not compile until they do. It adds an attribute, never changes a type.
/// Serialized as rustc's JSON diagnostics carry suggestions (what `rustfix` reads).
///
/// ```no_run
/// let outcome = cargo_mapguard::check(&cargo_mapguard::Options::default()).unwrap();
/// for suggestion in outcome.findings.iter().filter_map(|f| f.suggestion.as_ref()) {
///     println!("{}: insert {:?}", suggestion.message, suggestion.spans[0].suggested_replacement);
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[non_exhaustive]
pub struct Suggestion {
    /// What the edit does.
    pub message: String,
    /// Where, and what to write there.
    pub spans: Vec<SuggestionSpan>,
}

/// One place a [`Suggestion`] edits: the bytes `byte_start..byte_end` of `file_name` (empty:
/// an insertion) become `suggested_replacement`.
///
/// ```
/// let span = cargo_mapguard::SuggestionSpan::insertion("src/lib.rs", 10, 2, "#[x]\n".into());
/// assert_eq!((span.byte_start, span.byte_end), (10, 10));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[non_exhaustive]
pub struct SuggestionSpan {
    /// The file, relative to the workspace root.
    pub file_name: String,
    /// First byte replaced.
    pub byte_start: usize,
    /// Byte after the last one replaced.
    pub byte_end: usize,
    /// 1-based line of `byte_start`.
    pub line_start: usize,
    /// 1-based line of `byte_end`.
    pub line_end: usize,
    /// 1-based column of `byte_start`.
    pub column_start: usize,
    /// 1-based column of `byte_end`.
    pub column_end: usize,
    /// The new text.
    pub suggested_replacement: String,
    /// Always `HasPlaceholders`: the user fills in each `...`.
    pub suggestion_applicability: String,
}

impl SuggestionSpan {
    /// An insertion of `text` at byte `at` of `file`, at the start of 1-based `line`.
    #[must_use]
    pub fn insertion(file: &str, at: usize, line: usize, text: String) -> Self {
        Self {
            file_name: file.to_owned(),
            byte_start: at,
            byte_end: at,
            line_start: line,
            line_end: line,
            column_start: 1,
            column_end: 1,
            suggested_replacement: text,
            suggestion_applicability: String::from("HasPlaceholders"),
        }
    }
}

/// What holds the map of a [`Finding`].
///
/// ```
/// assert_eq!(cargo_mapguard::Kind::Static.as_str(), "static");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A field of a struct, enum variant or union.
    Field,
    /// A `static` or `static mut` (through `LazyLock`, `OnceLock`, once_cell, ...).
    Static,
    /// A `static` inside `thread_local!`.
    ThreadLocal,
    /// A `static ref` inside `lazy_static!`.
    LazyStatic,
    /// The value (or key) type of a `#[managed_map]` field holds an unmanaged map.
    MapValue,
    /// A `type` alias of shared state (`Arc`, `Rc`, `Mutex`, `RwLock`, `RefCell`, a lazy or
    /// once cell) that holds a map: axum's `type Db = Arc<Mutex<HashMap<K, V>>>`, built once
    /// in `main` and handed to the router, lives as long as the process.
    Alias,
}

impl Kind {
    /// The name used in JSON and SARIF.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Field => "field",
            Kind::Static => "static",
            Kind::ThreadLocal => "thread_local",
            Kind::LazyStatic => "lazy_static",
            Kind::MapValue => "map_value",
            Kind::Alias => "alias",
        }
    }
}

/// The result of a check: findings, sorted by file and position, and the files that could
/// not be parsed (each skipped).
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    /// Every finding.
    pub findings: Vec<Finding>,
    /// One line per file that failed to parse or to be read.
    pub unparsed: Vec<String>,
    /// How many files were parsed.
    pub files: usize,
    /// How many lines they hold.
    pub lines: usize,
    /// With a baseline applied: its entries that match no finding any more (their maps were
    /// managed or removed: take them out of the file).
    pub stale: Vec<BaselineEntry>,
    /// The workspace root the findings' paths are relative to.
    pub root: PathBuf,
}

/// Why a check could not run (exit code 2).
///
/// ```
/// let error = cargo_mapguard::check(&cargo_mapguard::Options {
///     manifest_path: Some("/nonexistent/Cargo.toml".into()),
///     ..Default::default()
/// })
/// .unwrap_err();
/// assert!(error.to_string().contains("cargo metadata"));
/// ```
#[derive(Debug)]
pub struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

/// Checks a workspace; see the crate docs.
///
/// # Errors
///
/// When `cargo metadata` fails (no manifest, a broken one), a `-p` names no package, or the
/// `mapguard` metadata is malformed.
pub fn check(options: &Options) -> Result<Outcome, Error> {
    // syn parses by recursion: on a stack of its own, sized for the deepest file the gate
    // parses (`nesting`), whatever stack the caller's thread has.
    std::thread::scope(|scope| {
        let checking = std::thread::Builder::new()
            .name(String::from("mapguard-check"))
            .stack_size(nesting::STACK_BYTES)
            .spawn_scoped(scope, || check_here(options))
            .map_err(|error| Error(format!("could not start the checking thread: {error}")))?;
        checking
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// [`check`], on the calling thread.
fn check_here(options: &Options) -> Result<Outcome, Error> {
    let workspace = workspace::load(options)?;
    let mut outcome = Outcome {
        root: workspace.root.clone(),
        ..Outcome::default()
    };
    for package in &workspace.packages {
        let files = sources::collect(package);
        let names = types::Names::gather(&files, &workspace.config, &package.config);
        for file in &files.parsed {
            outcome.lines += file.text.lines().count();
            let relative = workspace.relative(&file.path);
            let mut findings = scan::file(file, &relative, &names);
            findings.retain(|finding| {
                !workspace.config.allows(finding) && !package.config.allows(finding)
            });
            outcome.findings.extend(findings);
        }
        outcome.files += files.parsed.len();
        outcome.unparsed.extend(
            files
                .failed
                .iter()
                .map(|(path, why)| format!("{}: skipped: {why}", workspace.relative(path))),
        );
    }
    outcome.findings.sort();
    outcome.findings.dedup();
    Ok(outcome)
}

/// A `clippy.toml` whose `disallowed-types` lists the std and hashbrown map types: with it,
/// `cargo clippy -- -D warnings` fails on a map type the gate could not see (one made by a
/// macro, say). `#[mapguard::managed]` and `#[unmanaged(reason)]` allow the lint where they
/// apply.
///
/// ```
/// assert!(cargo_mapguard::clippy_config().contains("std::collections::HashMap"));
/// ```
#[must_use]
pub fn clippy_config() -> String {
    let mut text = String::from(
        "# Written by `cargo mapguard clippy-config`: every map declares its lifecycle.\n\
         # #[mapguard::managed] fields and #[unmanaged(reason = \"...\")] allow these where they apply.\n\
         disallowed-types = [\n",
    );
    for path in types::CLIPPY_DISALLOWED {
        let _ = writeln!(
            text,
            "    {{ path = \"{path}\", reason = \"a map must declare its lifecycle: #[managed_map(...)] or #[unmanaged(reason = \\\"...\\\")]\" }},"
        );
    }
    text.push_str("]\n");
    text
}
