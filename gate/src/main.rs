//! `cargo mapguard check`: fails when a map in the workspace declares no lifecycle.
//!
//! Cargo runs `cargo-mapguard mapguard check ...` for `cargo mapguard check ...`; called
//! directly, `cargo-mapguard check ...` works too. Exit codes: 0 clean (or only findings a
//! `--baseline` accepts), 1 findings, 2 when the check cannot run (bad arguments, no
//! manifest, a baseline that is not one).
#![forbid(unsafe_code)]

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use cargo_mapguard::{Baseline, Format, Options, clippy_config};
use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    name = "cargo-mapguard",
    bin_name = "cargo mapguard",
    version,
    about = "Every map in a Rust workspace declares its lifecycle: finds the ones that do not."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Reports every struct/enum/union field and static whose type is or holds a map with no
    /// #[managed_map(...)] or #[unmanaged(reason = "...")].
    Check(CheckArgs),
    /// Applies each finding's one safe edit: `#[managed_map(lifetime = "...", max = ...)]` on a
    /// field of a #[mapguard::managed] struct, `#[mapguard::unmanaged(reason = "...")]` on a
    /// static or a type alias. Fill in each `...`: the code does not compile until you do.
    /// Never changes a type; findings with no such edit are listed, untouched.
    Fix(CheckArgs),
    /// Prints a clippy.toml whose `disallowed-types` lists the std and hashbrown maps: the
    /// layer that sees types the gate cannot resolve.
    ClippyConfig,
}

#[derive(clap::Args, Debug)]
struct CheckArgs {
    /// Path to Cargo.toml (default: the one cargo finds from the current directory).
    #[arg(long, value_name = "PATH")]
    manifest_path: Option<PathBuf>,
    /// Check every package of the workspace (the default when no -p is given).
    #[arg(long)]
    workspace: bool,
    /// Check only this package (repeatable).
    #[arg(short = 'p', long = "package", value_name = "SPEC")]
    packages: Vec<String>,
    /// How to print findings.
    #[arg(long, value_enum, default_value_t = FormatArg::Human)]
    format: FormatArg,
    /// Accept the findings this baseline file lists: only findings not in it fail the check
    /// (each is marked `new` or `unchanged` in JSON and SARIF); entries that match nothing
    /// any more are reported, to be taken out.
    #[arg(long, value_name = "FILE", conflicts_with = "write_baseline")]
    baseline: Option<PathBuf>,
    /// Write today's findings to this file as a baseline, and exit 0 (`check` only).
    #[arg(long, value_name = "FILE")]
    write_baseline: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum FormatArg {
    /// rustc-like diagnostics.
    Human,
    /// A JSON array of findings.
    Json,
    /// SARIF 2.1.0, for code-scanning pages.
    Sarif,
}

fn main() -> ExitCode {
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // `cargo mapguard ...` runs `cargo-mapguard mapguard ...`.
    if args.get(1).is_some_and(|arg| arg == "mapguard") {
        args.remove(1);
    }
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => {
            let code = if error.use_stderr() { 2 } else { 0 };
            let _ = error.print();
            return ExitCode::from(code);
        }
    };
    match cli.command {
        Command::ClippyConfig => {
            print!("{}", clippy_config());
            ExitCode::SUCCESS
        }
        Command::Check(args) => check(&args),
        Command::Fix(args) => fix(&args),
    }
}

/// The check `args` ask for; on error, the message is printed and the exit code returned.
fn run_check(args: &CheckArgs) -> Result<cargo_mapguard::Outcome, ExitCode> {
    let options = Options {
        manifest_path: args.manifest_path.clone(),
        packages: if args.workspace {
            Vec::new()
        } else {
            args.packages.clone()
        },
    };
    let outcome = cargo_mapguard::check(&options).map_err(|error| {
        eprintln!("error: {error}");
        ExitCode::from(2)
    })?;
    for skipped in &outcome.unparsed {
        eprintln!("warning: {skipped}");
    }
    Ok(outcome)
}

/// Applies the `--baseline` file, if `args` name one.
fn apply_baseline(args: &CheckArgs, outcome: &mut cargo_mapguard::Outcome) -> Result<(), ExitCode> {
    let Some(path) = &args.baseline else {
        return Ok(());
    };
    let baseline = std::fs::read_to_string(path)
        .map_err(|e| e.to_string())
        .and_then(|text| Baseline::parse(&text))
        .map_err(|error| {
            eprintln!("error: the baseline {}: {error}", path.display());
            ExitCode::from(2)
        })?;
    outcome.apply_baseline(&baseline);
    Ok(())
}

fn fix(args: &CheckArgs) -> ExitCode {
    let mut outcome = match run_check(args) {
        Ok(outcome) => outcome,
        Err(code) => return code,
    };
    if let Err(code) = apply_baseline(args, &mut outcome) {
        return code;
    }
    let applied = match cargo_mapguard::apply_suggestions(&outcome) {
        Ok(applied) => applied,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    for (file, count) in &applied {
        println!("mapguard fix: {file}: {count} attribute(s) added");
    }
    let left: Vec<_> = outcome
        .new_findings()
        .filter(|finding| finding.suggestion.is_none())
        .collect();
    for finding in &left {
        println!(
            "mapguard fix: {}:{}: `{}` has no single safe edit: {}",
            finding.file, finding.line, finding.item, finding.help
        );
    }
    let total: usize = applied.values().sum();
    if total > 0 {
        println!(
            "mapguard fix: fill in each `...` (a reason, or a lifetime and a bound): the code does not compile until you do"
        );
    }
    if total == 0 && left.is_empty() {
        println!("mapguard fix: nothing to do");
    }
    ExitCode::SUCCESS
}

fn check(args: &CheckArgs) -> ExitCode {
    let mut outcome = match run_check(args) {
        Ok(outcome) => outcome,
        Err(code) => return code,
    };
    if let Some(path) = &args.write_baseline {
        let baseline = Baseline::from_findings(&outcome.findings);
        if let Err(error) = std::fs::write(path, baseline.to_json()) {
            eprintln!(
                "error: cannot write the baseline {}: {error}",
                path.display()
            );
            return ExitCode::from(2);
        }
        eprintln!(
            "mapguard: wrote {count} finding(s) to {path}; check with --baseline {path} to fail only on new ones",
            count = baseline.accepted.len(),
            path = path.display()
        );
        return ExitCode::SUCCESS;
    }
    if let Err(code) = apply_baseline(args, &mut outcome) {
        return code;
    }
    let format = match args.format {
        FormatArg::Human => Format::Human,
        FormatArg::Json => Format::Json,
        FormatArg::Sarif => Format::Sarif,
    };
    let text = outcome.render(format);
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`| head`) is not an error of the check.
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
    if outcome.new_findings().next().is_none() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
