//! The gate on its fixture workspace (`tests/fixture`: parsed, never built), through the
//! binary as users and CI run it.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Command, Output};

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixture/Cargo.toml")
}

fn gate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cargo-mapguard"))
        .args(args)
        .output()
        .expect("the gate runs")
}

/// `check` on the fixture, with `extra` arguments.
fn check_fixture(extra: &[&str]) -> Output {
    let manifest = fixture();
    let mut args = vec!["check", "--manifest-path", manifest.to_str().unwrap()];
    args.extend_from_slice(extra);
    gate(&args)
}

fn json_findings(output: &Output) -> Vec<serde_json::Value> {
    serde_json::from_slice::<Vec<serde_json::Value>>(&output.stdout).expect("a JSON array")
}

/// Every escape in the fixture, as (file, kind, item): exactly these, nothing else.
const EXPECTED: &[(&str, &str, &str)] = &[
    ("app/benches/load.rs", "field", "Bench.results"),
    ("app/build.rs", "field", "BuildState.generated"),
    ("app/examples/demo.rs", "static", "DEMO"),
    ("app/extra/generated.rs", "field", "Generated.symbols"),
    ("app/src/aliases.rs", "field", "UsesAliases.index"),
    ("app/src/aliases.rs", "field", "UsesAliases.sharded"),
    ("app/src/shared_state.rs", "alias", "Db"),
    ("app/src/shared_state.rs", "alias", "Sessions"),
    ("app/src/lib.rs", "field", "Spellings.by_alias"),
    ("app/src/lib.rs", "field", "Spellings.renamed"),
    ("app/src/lib.rs", "field", "Spellings.fx"),
    ("app/src/lib.rs", "field", "Spellings.fx_set"),
    ("app/src/lib.rs", "field", "Spellings.ahash"),
    ("app/src/lib.rs", "field", "Spellings.index"),
    ("app/src/lib.rs", "field", "Spellings.custom"),
    ("app/src/lib.rs", "field", "Containers.list"),
    ("app/src/lib.rs", "field", "Containers.array"),
    ("app/src/lib.rs", "field", "Containers.tuple"),
    ("app/src/lib.rs", "field", "Containers.boxed"),
    ("app/src/lib.rs", "field", "Containers.once_lock"),
    ("app/src/lib.rs", "field", "Containers.once_cell"),
    ("app/src/lib.rs", "field", "Containers.lazy"),
    ("app/src/lib.rs", "field", "Containers.shared"),
    ("app/src/lib.rs", "map_value", "Nested.by_tenant"),
    ("app/src/lib.rs", "field", "Newtype.0"),
    ("app/src/lib.rs", "field", "UsesWrapper.wrapped"),
    ("app/src/lib.rs", "field", "Derived.plain"),
    ("app/src/lib.rs", "field", "Event::Loaded.index"),
    ("app/src/lib.rs", "field", "Event::Batch.1"),
    ("app/src/lib.rs", "field", "Raw.table"),
    ("app/src/lib.rs", "static", "CACHE"),
    ("app/src/lib.rs", "static", "COUNTS"),
    ("app/src/lib.rs", "static", "ONCE"),
    ("app/src/lib.rs", "thread_local", "PER_THREAD"),
    ("app/src/lib.rs", "lazy_static", "LEGACY_GLOBAL"),
    ("app/src/lib.rs", "static", "INSIDE"),
    ("app/src/net/mod.rs", "field", "Router.routes"),
    ("app/src/net/peers.rs", "field", "Peers.by_addr"),
    ("app/tests/integration.rs", "field", "Fixture.seen"),
];

#[test]
fn the_fixture_findings_are_exactly_the_escapes() {
    let output = check_fixture(&["--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "findings exit 1");
    let found: BTreeSet<(String, String, String)> = json_findings(&output)
        .iter()
        .map(|f| {
            let field = |key: &str| f[key].as_str().unwrap().to_owned();
            (field("file"), field("kind"), field("item"))
        })
        .collect();
    let expected: BTreeSet<(String, String, String)> = EXPECTED
        .iter()
        .map(|(file, kind, item)| ((*file).to_owned(), (*kind).to_owned(), (*item).to_owned()))
        .collect();
    let missing: Vec<_> = expected.difference(&found).collect();
    let extra: Vec<_> = found.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing: {missing:#?}\nextra: {extra:#?}"
    );
}

#[test]
fn json_findings_carry_position_type_and_message() {
    let output = check_fixture(&["--format", "json"]);
    let findings = json_findings(&output);
    let cache = findings
        .iter()
        .find(|f| f["item"] == "CACHE")
        .expect("CACHE is found");
    assert_eq!(cache["file"], "app/src/lib.rs");
    assert_eq!(cache["line"], 82);
    assert_eq!(cache["column"], 19);
    assert_eq!(cache["type"], "LazyLock<Mutex<HashMap<String, String>>>");
    let message = cache["message"].as_str().unwrap();
    assert!(
        message.contains("`HashMap`") && message.contains("mapguard::unmanaged(reason"),
        "{message}"
    );
    for finding in &findings {
        for key in ["file", "line", "column", "kind", "item", "type", "message"] {
            assert!(!finding[key].is_null(), "{key} missing in {finding}");
        }
    }
}

#[test]
fn a_file_that_does_not_parse_is_reported_and_skipped() {
    let output = check_fixture(&[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("app/src/broken.rs: skipped: could not parse it (line 4"),
        "{stderr}"
    );
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn human_output_reads_like_rustc() {
    let output = check_fixture(&[]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let expected = "error[mapguard::static]: static `CACHE` holds a map (`HashMap`) with no lifecycle, \
                    for the life of the process\n  --> app/src/lib.rs:82:19\n   |\n\
                    82 | pub static CACHE: LazyLock<Mutex<HashMap<String, String>>> = LazyLock::new(Default::default);\n   \
                    |                   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n";
    assert!(stdout.contains(expected), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "mapguard: {} map(s) without a lifecycle",
            EXPECTED.len()
        )),
        "{stdout}"
    );
}

#[test]
fn sarif_has_one_result_per_finding() {
    let output = check_fixture(&["--format", "sarif"]);
    let log: serde_json::Value = serde_json::from_slice(&output.stdout).expect("SARIF is JSON");
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "cargo-mapguard");
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), EXPECTED.len());
    let first = &results[0];
    let location = &first["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "app/benches/load.rs");
    assert_eq!(location["region"]["startLine"], 2);
    let rules: Vec<_> = run["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].clone())
        .collect();
    assert_eq!(
        rules[first["ruleIndex"].as_u64().unwrap() as usize],
        first["ruleId"]
    );
}

#[test]
fn a_clean_package_exits_zero_and_says_so() {
    let output = check_fixture(&["-p", "clean"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("every map declares its lifecycle"));
}

#[test]
fn cargo_runs_it_as_cargo_mapguard_mapguard_check() {
    let direct = check_fixture(&["--format", "json"]);
    let via_cargo = gate(&[
        "mapguard",
        "check",
        "--manifest-path",
        fixture().to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(direct.stdout, via_cargo.stdout);
    assert_eq!(via_cargo.status.code(), Some(1));
}

#[test]
fn what_stops_it_from_running_exits_two_with_a_message() {
    let missing = gate(&["check", "--manifest-path", "/nonexistent/Cargo.toml"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).starts_with("error: `cargo metadata` failed"));
    let no_package = check_fixture(&["-p", "nope"]);
    assert_eq!(no_package.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&no_package.stderr).contains("package `nope` is not a member"));
    let bad_flag = gate(&["check", "--frobnicate"]);
    assert_eq!(bad_flag.status.code(), Some(2));
    let bad_format = gate(&["check", "--format", "xml"]);
    assert_eq!(bad_format.status.code(), Some(2));
    let nothing = gate(&[]);
    assert_eq!(nothing.status.code(), Some(2));
}

#[test]
fn help_and_version_exit_zero() {
    let help = gate(&["--help"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&help.stdout).contains("check"));
    let version = gate(&["--version"]);
    assert_eq!(version.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&version.stdout).contains(env!("CARGO_PKG_VERSION")));
    let check_help = gate(&["mapguard", "check", "--help"]);
    assert!(String::from_utf8_lossy(&check_help.stdout).contains("--manifest-path"));
}

#[test]
fn an_allow_entry_without_a_reason_stops_the_check() {
    let dir = std::env::temp_dir().join(format!("mapguard-gate-config-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"cfg\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
         [package.metadata.mapguard]\nallow = [{ item = \"S.m\" }]\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("src/lib.rs"),
        "pub struct S { pub m: std::collections::HashMap<u8, u8> }\n",
    )
    .unwrap();
    let output = gate(&[
        "check",
        "--manifest-path",
        dir.join("Cargo.toml").to_str().unwrap(),
    ]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("the `allow` entry for `S.m` needs a `reason`")
    );
}

#[test]
fn clippy_config_lists_the_map_types() {
    let output = gate(&["clippy-config"]);
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8_lossy(&output.stdout);
    for path in [
        "std::collections::HashMap",
        "std::collections::BTreeSet",
        "hashbrown::HashMap",
    ] {
        assert!(text.contains(&format!("path = \"{path}\"")), "{text}");
    }
}

/// A one-file crate in a fresh temporary directory, for checks that edit their fixture.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str, lib: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("mapguard-gate-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("src")).unwrap();
        std::fs::write(
            dir.join("Cargo.toml"),
            "[package]\nname = \"svc\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
        )
        .unwrap();
        let scratch = Self(dir);
        scratch.write(lib);
        scratch
    }

    fn write(&self, lib: &str) {
        std::fs::write(self.0.join("src/lib.rs"), lib).unwrap();
    }

    fn check(&self, extra: &[&str]) -> Output {
        let manifest = self.0.join("Cargo.toml");
        let mut args = vec!["check", "--manifest-path", manifest.to_str().unwrap()];
        args.extend_from_slice(extra);
        gate(&args)
    }

    fn gate_fix(&self) -> Output {
        let manifest = self.0.join("Cargo.toml");
        gate(&["fix", "--manifest-path", manifest.to_str().unwrap()])
    }

    fn baseline(&self) -> String {
        self.0
            .join("mapguard-baseline.json")
            .to_str()
            .unwrap()
            .to_owned()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn a_baseline_accepts_todays_maps_and_fails_only_on_new_ones() {
    let crate_ = Scratch::new(
        "baseline",
        "use std::collections::HashMap;\n\
         pub struct State {\n    pub cache: HashMap<u64, String>,\n}\n",
    );
    let baseline = crate_.baseline();

    // Adopting the gate: today's findings are written down, and then pass.
    let written = crate_.check(&["--write-baseline", &baseline]);
    assert!(
        written.status.success(),
        "{}",
        String::from_utf8_lossy(&written.stderr)
    );
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&baseline).unwrap()).unwrap();
    assert_eq!(file["accepted"][0]["item"], "State.cache");
    assert!(
        file["accepted"][0].get("line").is_none(),
        "keyed without line numbers"
    );
    assert!(crate_.check(&["--baseline", &baseline]).status.success());

    // Moving code and reformatting the type keep the entry.
    crate_.write(
        "//! The service's state.\n\nuse std::collections::HashMap;\n\n\
         /// Shared.\npub struct State {\n    pub cache: HashMap<u64,String>,\n}\n",
    );
    assert!(crate_.check(&["--baseline", &baseline]).status.success());

    // Someone adds a map: the check fails and names only that one.
    crate_.write(
        "use std::collections::HashMap;\n\
         pub struct State {\n    pub cache: HashMap<u64, String>,\n    pub sessions: HashMap<u64, u64>,\n}\n",
    );
    let failed = crate_.check(&["--baseline", &baseline]);
    assert_eq!(failed.status.code(), Some(1));
    let human = String::from_utf8_lossy(&failed.stdout);
    assert!(human.contains("State.sessions"), "{human}");
    assert!(
        !human.contains("State.cache"),
        "the accepted map is not an error: {human}"
    );
    assert!(
        human.contains("1 map(s) without a lifecycle accepted by the baseline"),
        "{human}"
    );
    let json = crate_.check(&["--baseline", &baseline, "--format", "json"]);
    let states: Vec<(String, String)> = json_findings(&json)
        .iter()
        .map(|f| {
            (
                f["item"].as_str().unwrap().to_owned(),
                f["baselineState"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        states,
        [
            (String::from("State.cache"), String::from("unchanged")),
            (String::from("State.sessions"), String::from("new"))
        ]
    );
    let sarif: serde_json::Value = serde_json::from_slice(
        &crate_
            .check(&["--baseline", &baseline, "--format", "sarif"])
            .stdout,
    )
    .unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let states: Vec<&str> = results
        .iter()
        .map(|r| r["baselineState"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["unchanged", "new"]);

    // The new map gets a lifecycle: the check passes again.
    crate_.write(
        "use std::collections::HashMap;\n\
         pub struct State {\n    pub cache: HashMap<u64, String>,\n    \
         #[unmanaged(reason = \"one per logged-in user, removed at logout\")]\n    \
         pub sessions: HashMap<u64, u64>,\n}\n",
    );
    assert!(crate_.check(&["--baseline", &baseline]).status.success());

    // The accepted map gets managed too: its entry is stale, and said to be.
    crate_.write(
        "use std::collections::HashMap;\n\
         #[mapguard::managed]\n\
         pub struct State {\n    #[managed_map(lifetime = \"process\", max = 1_000)]\n    \
         pub cache: HashMap<u64, String>,\n    \
         #[unmanaged(reason = \"one per logged-in user, removed at logout\")]\n    \
         pub sessions: HashMap<u64, u64>,\n}\n",
    );
    let stale = crate_.check(&["--baseline", &baseline]);
    assert!(stale.status.success());
    let human = String::from_utf8_lossy(&stale.stdout);
    assert!(
        human.contains("the baseline accepts field `State.cache`")
            && human.contains("take it out of the baseline"),
        "{human}"
    );
    let sarif: serde_json::Value = serde_json::from_slice(
        &crate_
            .check(&["--baseline", &baseline, "--format", "sarif"])
            .stdout,
    )
    .unwrap();
    assert_eq!(sarif["runs"][0]["results"][0]["baselineState"], "absent");
}

#[test]
fn a_baseline_that_is_not_one_stops_the_check() {
    let crate_ = Scratch::new("bad-baseline", "pub struct Empty;\n");
    let path = crate_.0.join("not-a-baseline.json");
    std::fs::write(&path, "[1, 2]").unwrap();
    let output = crate_.check(&["--baseline", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("not a mapguard baseline"));
    let missing = crate_.check(&["--baseline", "/nonexistent/baseline.json"]);
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn an_alias_of_shared_state_is_found_and_allowed_like_any_map() {
    let crate_ = Scratch::new(
        "alias",
        "use std::collections::HashMap;\nuse std::sync::{Arc, Mutex};\n\
         pub type Db = Arc<Mutex<HashMap<u64, String>>>;\n\
         pub fn main() {\n    let db = Db::default();\n    drop(db);\n}\n",
    );
    let output = crate_.check(&["--format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let findings = json_findings(&output);
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0]["kind"], "alias");
    assert_eq!(findings[0]["item"], "Db");
    assert_eq!(findings[0]["line"], 3);
    let human = String::from_utf8_lossy(&crate_.check(&[]).stdout).into_owned();
    assert!(
        human.contains("error[mapguard::alias]: type alias `Db` is shared state"),
        "{human}"
    );
    // The manifest's allow list takes the alias by name, with a reason.
    std::fs::write(
        crate_.0.join("Cargo.toml"),
        "[package]\nname = \"svc\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n\n\
         [package.metadata.mapguard]\nallow = [{ item = \"Db\", reason = \"one row per customer, at most 5,000\" }]\n",
    )
    .unwrap();
    assert!(crate_.check(&[]).status.success());
}

#[test]
fn fix_adds_the_one_safe_attribute_with_placeholders_and_never_changes_a_type() {
    let before = "use std::collections::HashMap;\nuse std::sync::{Arc, LazyLock, Mutex};\n\n\
                  pub static NAMES: LazyLock<Mutex<HashMap<u64, String>>> = LazyLock::new(Default::default);\n\n\
                  /// The router's state.\npub type Db = Arc<Mutex<HashMap<u64, String>>>;\n\n\
                  #[mapguard::managed]\npub struct State {\n    pub rows: HashMap<u64, String>,\n}\n\n\
                  pub struct Plain {\n    pub index: HashMap<u64, u64>,\n}\n";
    let crate_ = Scratch::new("fix", before);
    // The JSON carries each suggestion in rustfix's shape.
    let findings = json_findings(&crate_.check(&["--format", "json"]));
    let suggested: Vec<(&str, &str)> = findings
        .iter()
        .filter_map(|f| {
            let span = &f["suggestion"]["spans"][0];
            assert!(
                f["suggestion"].is_null() || span["suggestion_applicability"] == "HasPlaceholders"
            );
            span["suggested_replacement"]
                .as_str()
                .map(|text| (f["item"].as_str().unwrap(), text))
        })
        .collect();
    assert_eq!(
        suggested,
        [
            ("NAMES", "#[mapguard::unmanaged(reason = \"...\")]\n"),
            ("Db", "#[mapguard::unmanaged(reason = \"...\")]\n"),
            (
                "State.rows",
                "    #[managed_map(lifetime = \"...\", max = ...)]\n"
            ),
        ]
    );
    let fixed = crate_.gate_fix();
    assert!(
        fixed.status.success(),
        "{}",
        String::from_utf8_lossy(&fixed.stderr)
    );
    let report = String::from_utf8_lossy(&fixed.stdout);
    assert!(
        report.contains("src/lib.rs: 3 attribute(s) added"),
        "{report}"
    );
    assert!(
        report.contains("`Plain.index` has no single safe edit"),
        "{report}"
    );
    let after = std::fs::read_to_string(crate_.0.join("src/lib.rs")).unwrap();
    let expected = before
        .replace(
            "pub static NAMES",
            "#[mapguard::unmanaged(reason = \"...\")]\npub static NAMES",
        )
        .replace(
            "pub type Db",
            "#[mapguard::unmanaged(reason = \"...\")]\npub type Db",
        )
        .replace(
            "    pub rows",
            "    #[managed_map(lifetime = \"...\", max = ...)]\n    pub rows",
        );
    assert_eq!(after, expected, "attributes added, every type as it was");
    // Until the placeholders are filled in, the gate still fails on the reasons (and the
    // compiler on all three: see ui-tests' `fix_placeholders`).
    let json = json_findings(&crate_.check(&["--format", "json"]));
    let left: Vec<&str> = json.iter().map(|f| f["item"].as_str().unwrap()).collect();
    assert_eq!(left, ["NAMES", "Db", "Plain.index"]);
    assert!(
        json[0]["message"]
            .as_str()
            .unwrap()
            .contains("gives no reason")
    );
}

#[test]
fn fix_leaves_what_does_not_start_its_line() {
    // A one-line struct: an attribute at the start of the line would land on the struct.
    let source = "use std::collections::HashMap;\n\
                  #[mapguard::managed] pub struct State { pub rows: HashMap<u64, String> }\n";
    let crate_ = Scratch::new("fix-one-line", source);
    let findings = json_findings(&crate_.check(&["--format", "json"]));
    assert_eq!(findings.len(), 1);
    assert!(findings[0]["suggestion"].is_null(), "{}", findings[0]);
    let fixed = crate_.gate_fix();
    assert!(
        String::from_utf8_lossy(&fixed.stdout).contains("`State.rows` has no single safe edit")
    );
    assert_eq!(
        std::fs::read_to_string(crate_.0.join("src/lib.rs")).unwrap(),
        source
    );
}

/// `check` on a scratch crate, failing (not hanging) if the gate does not finish in a minute.
fn check_within_a_minute(crate_: &Scratch) -> Output {
    let manifest = crate_.0.join("Cargo.toml");
    let mut child = Command::new(env!("CARGO_BIN_EXE_cargo-mapguard"))
        .args(["check", "--format", "json", "--manifest-path"])
        .arg(&manifest)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the gate runs");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("the gate did not finish within a minute");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn a_file_nested_too_deeply_is_named_and_skipped_and_the_rest_is_checked() {
    let lib = "mod deep;\nmod deep_types;\nmod nested_generics;\n\
               pub struct Top { pub index: std::collections::HashMap<u8, u8> }\n";
    let crate_ = Scratch::new("nesting", lib);
    let src = crate_.0.join("src");
    // Each of these overflowed the gate's stack (exit 134, no file named) at 3,000 levels.
    let deep = format!(
        "fn f() {{ let x = {}1{}; }}\n",
        "(".repeat(3_000),
        ")".repeat(3_000)
    );
    std::fs::write(src.join("deep.rs"), deep).unwrap();
    let types = format!(
        "pub struct Lost {{ pub index: {}std::collections::HashMap<u8, u8>{} }}\n",
        "Option<".repeat(3_000),
        ">".repeat(3_000)
    );
    std::fs::write(src.join("deep_types.rs"), types).unwrap();
    // Deep, but within what the gate parses (it overflowed at about 140 before).
    let nested = format!(
        "pub struct Deep {{ pub index: {}std::collections::HashMap<u8, u8>{} }}\n",
        "Vec<".repeat(400),
        ">".repeat(400)
    );
    std::fs::write(src.join("nested_generics.rs"), nested).unwrap();
    let output = check_within_a_minute(&crate_);
    let stderr = String::from_utf8_lossy(&output.stderr);
    for file in ["src/deep.rs", "src/deep_types.rs"] {
        assert!(
            stderr.contains(&format!("{file}: skipped: it nests 30")),
            "{file} named: {stderr}"
        );
    }
    assert!(!stderr.contains("nested_generics"), "{stderr}");
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let items: BTreeSet<String> = json_findings(&output)
        .iter()
        .map(|f| f["item"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        items,
        BTreeSet::from(["Deep.index".to_owned(), "Top.index".to_owned()])
    );
}

#[cfg(unix)]
#[test]
fn links_are_followed_once_so_loops_end_and_nothing_is_reported_twice() {
    let lib = "pub struct Top { pub index: std::collections::HashMap<u8, u8> }\n";
    let crate_ = Scratch::new("links", lib);
    let src = crate_.0.join("src");
    std::fs::create_dir_all(src.join("inner")).unwrap();
    std::fs::write(
        src.join("inner/more.rs"),
        "pub struct More { pub index: std::collections::BTreeMap<u8, u8> }\n",
    )
    .unwrap();
    // Two links back up to `src` (the walk grew exponentially), one to a sibling folder,
    // and one to a file.
    std::os::unix::fs::symlink("..", src.join("inner/up")).unwrap();
    std::os::unix::fs::symlink(".", src.join("here")).unwrap();
    std::os::unix::fs::symlink("inner", src.join("inner_again")).unwrap();
    std::os::unix::fs::symlink("lib.rs", src.join("lib_again.rs")).unwrap();
    let output = check_within_a_minute(&crate_);
    let findings = json_findings(&output);
    let found: Vec<(&str, &str)> = findings
        .iter()
        .map(|f| (f["file"].as_str().unwrap(), f["item"].as_str().unwrap()))
        .collect();
    assert_eq!(
        found,
        [
            ("src/inner/more.rs", "More.index"),
            ("src/lib.rs", "Top.index")
        ],
        "each once, under its own path"
    );
}

#[test]
fn a_map_the_attribute_cannot_rewrite_is_offered_unmanaged_not_managed_map() {
    let lib = "use std::collections::{BTreeSet, HashMap};\n\
               type Rows = HashMap<u64, String>;\n\
               #[mapguard::managed]\npub struct State {\n    pub rows: HashMap<u64, String>,\n\
               \x20   pub aliased: Rows,\n    pub order: BTreeSet<u64>,\n\
               \x20   pub wrapped: Vec<HashMap<u64, u64>>,\n}\n";
    let crate_ = Scratch::new("rewritable", lib);
    let findings = json_findings(&crate_.check(&["--format", "json"]));
    let suggested: Vec<(&str, &str)> = findings
        .iter()
        .map(|f| {
            let text = f["suggestion"]["spans"][0]["suggested_replacement"]
                .as_str()
                .unwrap();
            (f["item"].as_str().unwrap(), text.trim())
        })
        .collect();
    assert_eq!(
        suggested,
        [
            (
                "State.rows",
                "#[managed_map(lifetime = \"...\", max = ...)]"
            ),
            (
                "State.aliased",
                "#[managed_map(lifetime = \"...\", max = ...)]"
            ),
            ("State.order", "#[unmanaged(reason = \"...\")]"),
            ("State.wrapped", "#[unmanaged(reason = \"...\")]"),
        ]
    );
    let order = findings
        .iter()
        .find(|f| f["item"] == "State.order")
        .unwrap();
    assert!(
        order["message"].as_str().unwrap().contains(
            "#[managed_map] rewrites a bare `HashMap<K, V>` field only, not this `BTreeSet`"
        ),
        "{order}"
    );
}
