//! Hit ratios of a simulated adaptive W-TinyLFU, the reference policy
//! (Caffeine's; Einziger et al., "Adaptive Software Cache Management", Middleware 2018), on
//! the traces and capacities of `compare --suite traces`, so its figures sit beside ours.
//!
//! `cargo run --release -p mapguard-bench --bin reference_policy [-- --traces DIR --sample F --grow-first]`
//!
//! The simulator is `mapguard_bench::reference`; this runner prints its window share too, and
//! takes the climber's settings.

use std::path::PathBuf;

use mapguard_bench::reference::{Climb, WTinyLfu};
use mapguard_bench::traces::{self, Trace};

fn options() -> Result<(Option<PathBuf>, Climb), String> {
    let mut dir = None;
    let mut climb = Climb::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--traces" => dir = Some(args.next().ok_or("--traces takes a directory")?.into()),
            "--sample" => {
                let value = args
                    .next()
                    .ok_or("--sample takes a factor of the capacity")?;
                climb.sample_factor = value
                    .parse()
                    .ok()
                    .filter(|factor: &f64| *factor > 0.0)
                    .ok_or(format!("--sample takes a positive number, not {value:?}"))?;
            }
            "--grow-first" => climb.grow_first = true,
            other => {
                return Err(format!(
                    "unknown option {other}; use --traces DIR, --sample F, --grow-first"
                ));
            }
        }
    }
    Ok((dir, climb))
}

fn main() {
    let (dir, climb) = options().unwrap_or_else(|error| {
        eprintln!("reference_policy: {error}");
        std::process::exit(2)
    });
    let mut all: Vec<Trace> = match &dir {
        Some(dir) => traces::read_dir(dir).unwrap_or_else(|error| {
            eprintln!("reference_policy: {error}");
            std::process::exit(1)
        }),
        None => Vec::new(),
    };
    all.extend(traces::synthetic());
    all.extend(traces::families());
    println!("| trace | capacity | W-TinyLFU (adaptive, simulated) | window at the end |");
    println!("|---|---:|---:|---:|");
    let (mut sum, mut cells) = (0.0, 0);
    for trace in &all {
        for &capacity in &trace.capacities {
            let mut cache = WTinyLfu::new(capacity, climb);
            let hits = trace.keys.iter().filter(|&&key| cache.request(key)).count();
            let ratio = 100.0 * hits as f64 / trace.keys.len().max(1) as f64;
            let window = 100.0 * cache.window_share();
            println!(
                "| {} | {capacity} | {ratio:.1}% | {window:.1}% |",
                trace.name
            );
            sum += ratio;
            cells += 1;
        }
    }
    println!(
        "| **mean** | | **{:.1}%** | |",
        sum / f64::from(cells.max(1))
    );
}
