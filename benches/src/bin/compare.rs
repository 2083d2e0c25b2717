//! Runs every workload on every implementation in one process and prints markdown tables of
//! nanoseconds per operation with the ratio to `LruMap`, hit ratios, and heap figures; also
//! writes the numbers as JSON.
//!
//! ```sh
//! cargo run --release -p mapguard-bench --bin compare                     # 1k, 100k, 1M
//! cargo run --release -p mapguard-bench --bin compare -- --sizes 1000 --ops 100000 --reps 1
//! ```
//! Options: `--sizes a,b,c`, `--ops N` (per timed workload), `--reps N` (best of N),
//! `--json PATH` (default `target/mapguard-compare.json`), `--only TEXT` (implementations whose
//! name contains TEXT; `=TEXT`: whose name is TEXT), `--workloads a,b` (ids: fill, get_hit, zipf_0.99, zipf_1.2, churn,
//! remove_all), `--threads a,b` (shared-map table; default 1,2,8), `--suite all|single|shared`.
//!
//! `--suite traces [--traces DIR] [--trace TEXT]` prints hit ratios instead: recorded traces
//! from `DIR` (the files of `shared/traces/`, see its README for formats and citation
//! conditions), synthetic Zipf traces and the seeded families of `traces::families`, at two to
//! four capacities each, for `AdaptiveMap`, `LruMap`, lru, quick_cache, moka, the reference
//! W-TinyLFU and Bélády's optimum, with our margin over the best of LRU and the peers per cell
//! and a robustness line (the worst margin and the mean); `--trace TEXT` keeps the traces whose
//! name contains TEXT; `--chart FILE.svg` also draws them (one marker per cache).
//! The filters make single runs for `valgrind --tool=callgrind`, which counts
//! instructions repeatably where wall-clock time on a shared machine is noise.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::ExitCode;

use mapguard_bench::reference::WTinyLfu;
use mapguard_bench::shared::{ConcurrentLru, SharedSubject, SharedTiming, time_shared};
use mapguard_bench::traces;
use mapguard_bench::{
    AdaptiveMapU64, BoundedMapU64, ConcurrentAdaptiveU64, Hashlink, HookedLru, Keys, LruCrate,
    LruMapU64, Memory, Moka, QuickCache, Raw, Schnellru, Subject, TimedLruCoarse, TimedLruQuanta,
    TimedLruStd, Timing, Workload, for_each_shared_subject, for_each_subject, memory, time,
};

// Counting allocator (one relaxed atomic add per allocation and free). It slows every
// implementation's allocations equally; those that allocate per entry pay it per insert.
#[global_allocator]
static ALLOCATOR: cap::Cap<std::alloc::System> = cap::Cap::new(std::alloc::System, usize::MAX);

struct Options {
    sizes: Vec<usize>,
    ops: usize,
    reps: usize,
    json: String,
    only: Option<String>,
    workloads: Vec<Workload>,
    /// Thread counts for the shared-map table.
    threads: Vec<usize>,
    /// Which tables: single-owner maps, shared maps, or both.
    suite: Suite,
    /// Where the recorded traces are, for `--suite traces`.
    traces: Option<std::path::PathBuf>,
    /// Where `--suite traces` writes its chart (an SVG), if anywhere.
    chart: Option<std::path::PathBuf>,
    /// `--suite traces` replays only the traces whose name contains this.
    trace: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Suite {
    All,
    Single,
    Shared,
    Traces,
}

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        sizes: vec![1_000, 100_000, 1_000_000],
        ops: 1_000_000,
        reps: 3,
        json: String::from("target/mapguard-compare.json"),
        only: None,
        workloads: Workload::ALL.to_vec(),
        threads: vec![1, 2, 8],
        suite: Suite::All,
        traces: None,
        chart: None,
        trace: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--sizes" => {
                options.sizes = value()?
                    .split(',')
                    .map(|s| s.trim().replace('_', "").parse::<usize>())
                    .collect::<Result<_, _>>()
                    .map_err(|e| format!("--sizes: {e}"))?;
            }
            "--ops" => options.ops = value()?.parse().map_err(|e| format!("--ops: {e}"))?,
            "--reps" => options.reps = value()?.parse().map_err(|e| format!("--reps: {e}"))?,
            "--json" => options.json = value()?,
            "--only" => options.only = Some(value()?),
            "--workloads" => {
                options.workloads = value()?
                    .split(',')
                    .map(|id| {
                        Workload::ALL
                            .into_iter()
                            .find(|w| w.id() == id.trim())
                            .ok_or_else(|| format!("--workloads: unknown workload {id}"))
                    })
                    .collect::<Result<_, _>>()?;
            }
            "--threads" => {
                options.threads = value()?
                    .split(',')
                    .map(|s| s.trim().parse::<usize>())
                    .collect::<Result<_, _>>()
                    .map_err(|e| format!("--threads: {e}"))?;
            }
            "--suite" => {
                options.suite = match value()?.as_str() {
                    "all" => Suite::All,
                    "single" => Suite::Single,
                    "shared" => Suite::Shared,
                    "traces" => Suite::Traces,
                    other => {
                        return Err(format!(
                            "--suite: expected all, single, shared or traces, not {other}"
                        ));
                    }
                };
            }
            "--traces" => options.traces = Some(value()?.into()),
            "--chart" => options.chart = Some(value()?.into()),
            "--trace" => options.trace = Some(value()?),
            other => {
                return Err(format!(
                    "unknown option {other}; expected --sizes, --ops, --reps, --json, --only, \
                     --workloads, --threads, --suite, --traces, --trace or --chart"
                ));
            }
        }
    }
    if options.sizes.contains(&0) {
        return Err(String::from("--sizes: sizes must be at least 1"));
    }
    if options.threads.contains(&0) {
        return Err(String::from("--threads: thread counts must be at least 1"));
    }
    Ok(options)
}

/// Results keyed by (implementation, size).
#[derive(Default)]
struct Results {
    names: Vec<&'static str>,
    timings: BTreeMap<(&'static str, &'static str, usize), Timing>,
    memory: BTreeMap<(&'static str, usize), Memory>,
    shared_names: Vec<&'static str>,
    /// Best shared timing by (implementation, size, threads).
    shared: BTreeMap<(&'static str, usize, usize), SharedTiming>,
}

/// One repetition of the shared-map mix for `S` at every thread count, keeping the best.
fn measure_shared<S: SharedSubject>(results: &mut Results, keys: &Keys, options: &Options) {
    if !options.selects(S::NAME) {
        return;
    }
    if !results.shared_names.contains(&S::NAME) {
        results.shared_names.push(S::NAME);
    }
    for &threads in &options.threads {
        let timing = time_shared::<S>(&keys.zipf_099, keys.max, threads);
        results
            .shared
            .entry((S::NAME, keys.max, threads))
            .and_modify(|best| {
                if timing.mops > best.mops {
                    *best = timing;
                }
            })
            .or_insert(timing);
    }
}

/// Tables of the shared-map mix: million operations per second, all threads together.
fn render_shared(results: &Results, options: &Options) -> String {
    let reference = ConcurrentLru::NAME;
    let mut out = String::new();
    for &size in &options.sizes {
        let _ = writeln!(
            out,
            "\n#### shared map, get-or-insert Zipf 0.99 over 10x max keys, max = {} — Mops/s, all threads (× {reference})\n",
            size_label(size)
        );
        out.push_str("| implementation |");
        for &threads in &options.threads {
            let _ = write!(
                out,
                " {threads} thread{} |",
                if threads == 1 { "" } else { "s" }
            );
        }
        out.push_str("\n|---|");
        for _ in &options.threads {
            out.push_str("---:|");
        }
        out.push('\n');
        for name in &results.shared_names {
            let _ = write!(out, "| {name} |");
            for &threads in &options.threads {
                let timing = results.shared[&(*name, size, threads)];
                let base = results
                    .shared
                    .get(&(reference, size, threads))
                    .unwrap_or(&timing);
                let _ = write!(
                    out,
                    " {:.1} ({:.2}×) hit {:.1}% |",
                    timing.mops,
                    timing.mops / base.mops,
                    timing.hit_ratio * 100.0
                );
            }
            out.push('\n');
        }
    }
    out
}

/// One repetition of every workload for `S`, keeping each workload's best time so far.
fn measure<S: Subject>(results: &mut Results, keys: &Keys, options: &Options) {
    if !options.selects(S::NAME) {
        return;
    }
    if !results.names.contains(&S::NAME) {
        results.names.push(S::NAME);
    }
    for &workload in &options.workloads {
        let timing = time::<S>(workload, keys, 1);
        results
            .timings
            .entry((S::NAME, workload.id(), keys.max))
            .and_modify(|best| {
                if timing.ns_per_op < best.ns_per_op {
                    *best = timing;
                }
            })
            .or_insert(timing);
    }
}

impl Options {
    fn selects(&self, name: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|only| match only.strip_prefix('=') {
                Some(exact) => name == exact,
                None => name.contains(only.as_str()),
            })
    }
}

fn measure_memory<S: Subject>(results: &mut Results, max: usize, options: &Options) {
    if !options.selects(S::NAME) {
        return;
    }
    let heap = memory::<S>(max, || ALLOCATOR.allocated());
    results.memory.insert((S::NAME, max), heap);
}

fn size_label(size: usize) -> String {
    match size {
        s if s >= 1_000_000 && s % 1_000_000 == 0 => format!("{}M", s / 1_000_000),
        s if s >= 1_000 && s % 1_000 == 0 => format!("{}k", s / 1_000),
        s => s.to_string(),
    }
}

fn render(results: &Results, options: &Options) -> String {
    let sizes = &options.sizes;
    // Ratios are to LruMap; when filtered out, to the first implementation measured.
    let reference = if results.names.contains(&LruMapU64::NAME) {
        LruMapU64::NAME
    } else {
        results.names.first().copied().unwrap_or(LruMapU64::NAME)
    };
    let mut out = String::new();
    let header = |out: &mut String, first: &str| {
        let _ = write!(out, "| {first} |");
        for &size in sizes {
            let _ = write!(out, " {} |", size_label(size));
        }
        out.push('\n');
        out.push_str("|---|");
        for _ in sizes {
            out.push_str("---:|");
        }
        out.push('\n');
    };
    for &workload in &options.workloads {
        let _ = writeln!(out, "\n#### {} — ns/op (× {reference})\n", workload.title());
        header(&mut out, "implementation");
        for name in &results.names {
            let _ = write!(out, "| {name} |");
            for &size in sizes {
                let timing = results.timings[&(*name, workload.id(), size)];
                let base = results.timings[&(reference, workload.id(), size)];
                let ratio = timing.ns_per_op / base.ns_per_op;
                let _ = write!(out, " {:.1} ({ratio:.2}×)", timing.ns_per_op);
                if let Some(hits) = timing.hit_ratio {
                    let _ = write!(out, " hit {:.1}%", hits * 100.0);
                }
                out.push_str(" |");
            }
            out.push('\n');
        }
    }
    let memory_table = |out: &mut String, title: &str, cell: fn(&Memory) -> String| {
        let _ = writeln!(out, "\n#### {title}\n");
        header(out, "implementation");
        for name in &results.names {
            let _ = write!(out, "| {name} |");
            for &size in sizes {
                let _ = write!(out, " {} |", cell(&results.memory[&(*name, size)]));
            }
            out.push('\n');
        }
    };
    memory_table(
        &mut out,
        "heap bytes per entry beyond size_of::<(u64, u64)>() = 16, at full load",
        |m| format!("{:.1}", m.overhead_per_entry),
    );
    memory_table(
        &mut out,
        "heap retained after removing every key (% of full)",
        |m| format!("{:.1}%", m.retained_percent),
    );
    out
}

fn to_json(results: &Results, options: &Options) -> serde_json::Value {
    let timings: Vec<_> = results
        .timings
        .iter()
        .map(|((name, workload, size), t)| {
            let base = results
                .timings
                .get(&(LruMapU64::NAME, *workload, *size))
                .unwrap_or(t);
            serde_json::json!({
                "implementation": name,
                "workload": workload,
                "max": size,
                "ns_per_op": t.ns_per_op,
                "ratio_to_lru_map": t.ns_per_op / base.ns_per_op,
                "hit_ratio": t.hit_ratio,
            })
        })
        .collect();
    let memory: Vec<_> = results
        .memory
        .iter()
        .map(|((name, size), m)| {
            serde_json::json!({
                "implementation": name,
                "max": size,
                "overhead_bytes_per_entry": m.overhead_per_entry,
                "retained_percent_after_remove_all": m.retained_percent,
            })
        })
        .collect();
    let shared: Vec<_> = results
        .shared
        .iter()
        .map(|((name, size, threads), t)| {
            serde_json::json!({
                "implementation": name,
                "workload": "shared_zipf_0.99",
                "max": size,
                "threads": threads,
                "mops": t.mops,
                "hit_ratio": t.hit_ratio,
            })
        })
        .collect();
    serde_json::json!({
        "shared": shared,
        "ops_per_workload": options.ops,
        "reps": options.reps,
        "hasher": "foldhash with a fixed seed (hashbrown DefaultHashBuilder's algorithm) for every implementation",
        "timings": timings,
        "memory": memory,
    })
}

/// Capacities from which `--suite traces` also replays `ConcurrentAdaptiveMap`.
const SHARDED_FROM: usize = 8_000;

/// The candidates of `--suite traces`, in column order: ours first, then what it is measured
/// against (LRU, the peers and the reference policy), then Bélády's optimum.
const CANDIDATES: [&str; 7] = [
    AdaptiveMapU64::NAME,
    LruMapU64::NAME,
    LruCrate::NAME,
    QuickCache::NAME,
    <Moka as Subject>::NAME,
    "W-TinyLFU (reference)",
    "OPT (Bélády)",
];
/// The columns that make "the best of LRU and the peers": every candidate but ours and OPT.
const RIVALS: core::ops::Range<usize> = 1..6;
const OPT: usize = 6;

/// One trace at one capacity: every candidate's hit ratio, and the sharded map's where it is
/// replayed.
struct Cell {
    name: String,
    capacity: usize,
    ratios: [f64; 7],
    sharded: Option<(usize, f64)>,
}

impl Cell {
    fn replay(trace: &traces::Trace, capacity: usize) -> Self {
        let keys = &trace.keys;
        let ratios = [
            traces::hit_ratio::<AdaptiveMapU64>(keys, capacity),
            traces::hit_ratio::<LruMapU64>(keys, capacity),
            traces::hit_ratio::<LruCrate>(keys, capacity),
            traces::hit_ratio::<QuickCache>(keys, capacity),
            traces::hit_ratio::<Moka>(keys, capacity),
            WTinyLfu::hit_ratio(keys, capacity),
            traces::optimal_hit_ratio(keys, capacity),
        ];
        let sharded = (capacity >= SHARDED_FROM).then(|| {
            (
                ConcurrentAdaptiveU64::with_max(capacity).shard_count(),
                traces::hit_ratio::<ConcurrentAdaptiveU64>(keys, capacity),
            )
        });
        Self {
            name: format!("{} @ {capacity}", trace.name),
            capacity,
            ratios,
            sharded,
        }
    }

    /// The best of LRU and the peers.
    fn best_rival(&self) -> f64 {
        self.ratios[RIVALS].iter().copied().fold(0.0, f64::max)
    }

    /// Ours minus the best rival, in points.
    fn margin(&self) -> f64 {
        (self.ratios[0] - self.best_rival()) * 100.0
    }
}

/// Replays every cell, on as many threads as the machine has (each replay is independent and
/// single-threaded, so the figures do not depend on the thread count).
fn replay_all(traces: &[traces::Trace]) -> Vec<Cell> {
    let jobs: Vec<(usize, usize)> = traces
        .iter()
        .enumerate()
        .flat_map(|(t, trace)| trace.capacities.iter().map(move |&c| (t, c)))
        .collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let done = std::sync::Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let job = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(&(t, capacity)) = jobs.get(job) else {
                        break;
                    };
                    let trace = &traces[t];
                    eprintln!(
                        "{} at {capacity}: {} requests",
                        trace.name,
                        trace.keys.len()
                    );
                    let cell = Cell::replay(trace, capacity);
                    done.lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push((job, cell));
                }
            });
        }
    });
    let mut done = done
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    done.sort_by_key(|(job, _)| *job);
    done.into_iter().map(|(_, cell)| cell).collect()
}

/// The hit-ratio table: one row per trace and capacity, one column per candidate, our margin
/// over the best of LRU and the peers, then the robustness line (the worst margin and the
/// mean) and the sharded map against the whole one.
fn hit_ratios(options: &Options) -> Result<String, String> {
    let mut traces = match &options.traces {
        Some(dir) => traces::read_dir(dir)?,
        None => Vec::new(),
    };
    traces.extend(traces::synthetic());
    traces.extend(traces::families());
    if let Some(only) = &options.trace {
        traces.retain(|trace| trace.name.contains(only.as_str()));
    }
    let cells = replay_all(&traces);
    let mut table = format!(
        "| trace | capacity | {} | vs best of LRU and peers |\n|---|---:|",
        CANDIDATES.join(" | ")
    );
    table.push_str(&"---:|".repeat(CANDIDATES.len() + 1));
    table.push('\n');
    for cell in &cells {
        let (trace, _) = cell.name.rsplit_once(" @ ").unwrap_or((&cell.name, ""));
        let _ = write!(table, "| {trace} | {} |", cell.capacity);
        for ratio in cell.ratios {
            let _ = write!(table, " {:.1}% |", ratio * 100.0);
        }
        let _ = writeln!(table, " {:+.1} |", cell.margin());
    }
    #[allow(clippy::cast_precision_loss, reason = "a count of cells")]
    let rows = cells.len().max(1) as f64;
    let mut means = [0.0; 7];
    for cell in &cells {
        for (mean, ratio) in means.iter_mut().zip(cell.ratios) {
            *mean += ratio / rows;
        }
    }
    let _ = write!(table, "| **mean** | |");
    for mean in means {
        let _ = write!(table, " **{:.1}%** |", mean * 100.0);
    }
    let best_mean = means[RIVALS].iter().copied().fold(0.0, f64::max);
    let _ = writeln!(table, " **{:+.1}** |", (means[0] - best_mean) * 100.0);
    let worst = cells
        .iter()
        .min_by(|a, b| a.margin().total_cmp(&b.margin()));
    let mean_margin = cells.iter().map(Cell::margin).sum::<f64>() / rows;
    if let Some(worst) = worst {
        let _ = writeln!(
            table,
            "\nRobustness over {} cells: worst margin {:+.2} points ({}), mean margin {:+.2} \
             points against each cell's best of LRU and the peers, {:+.2} against the best \
             peer's mean; {:.1}% of Bélády's optimum on the mean ({:.1}% against {:.1}%).",
            cells.len(),
            worst.margin(),
            worst.name,
            mean_margin,
            (means[0] - best_mean) * 100.0,
            means[0] / means[OPT].max(f64::MIN_POSITIVE) * 100.0,
            means[0] * 100.0,
            means[OPT] * 100.0,
        );
    }
    let mut sharded = String::from(
        "\n`ConcurrentAdaptiveMap` (default shards, one thread) against `AdaptiveMap`:\n\n\
         | trace | capacity | shards | ConcurrentAdaptiveMap | AdaptiveMap | difference |\n\
         |---|---:|---:|---:|---:|---:|\n",
    );
    for cell in &cells {
        if let Some((shards, concurrent)) = cell.sharded {
            let (trace, _) = cell.name.rsplit_once(" @ ").unwrap_or((&cell.name, ""));
            let _ = writeln!(
                sharded,
                "| {trace} | {} | {shards} | {:.1}% | {:.1}% | {:+.1} |",
                cell.capacity,
                concurrent * 100.0,
                cell.ratios[0] * 100.0,
                (concurrent - cell.ratios[0]) * 100.0
            );
        }
    }
    if let Some(path) = &options.chart {
        let rows: Vec<(String, [f64; 7])> =
            cells.iter().map(|c| (c.name.clone(), c.ratios)).collect();
        std::fs::write(path, hit_ratio_chart(&CANDIDATES, &rows))
            .map_err(|e| format!("--chart {}: {e}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    table.push_str(&sharded);
    Ok(table)
}

/// A dot plot of hit ratios: a row per trace and capacity, a marker per cache, and the
/// means at the bottom; self-contained SVG.
#[allow(clippy::cast_precision_loss, reason = "pixels")]
fn hit_ratio_chart(names: &[&str; 7], cells: &[(String, [f64; 7])]) -> String {
    const COLOURS: [&str; 7] = [
        "#b42318", "#0969da", "#8c959f", "#1a7f37", "#8250df", "#bf8700", "#1b1f24",
    ];
    const SHAPES: [&str; 7] = [
        "circle", "diamond", "square", "triangle", "cross", "square", "cross",
    ];
    let (left, top, row, plot) = (230.0, 48.0, 18.0, 520.0);
    let mut means = [0.0; 7];
    for (_, ratios) in cells {
        for (mean, ratio) in means.iter_mut().zip(ratios) {
            *mean += ratio / cells.len().max(1) as f64;
        }
    }
    let mut rows: Vec<(&str, [f64; 7])> = cells.iter().map(|(n, r)| (n.as_str(), *r)).collect();
    rows.push(("mean", means));
    let height = top + row * rows.len() as f64 + 40.0;
    let width = left + plot + 30.0;
    let x = |ratio: f64| left + plot * ratio;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         font-family=\"sans-serif\" font-size=\"11\"><rect width=\"{width}\" height=\"{height}\" fill=\"#ffffff\"/>\
         <text x=\"8\" y=\"16\" font-size=\"13\" fill=\"#1b1f24\">Hit ratio per trace and capacity \
         (compare --suite traces; get-or-insert per request)</text>"
    );
    for (index, name) in names.iter().enumerate() {
        let lx = 8.0 + 110.0 * index as f64;
        let _ = write!(
            svg,
            "{}<text x=\"{}\" y=\"36\" fill=\"#1b1f24\">{name}</text>",
            marker(SHAPES[index], COLOURS[index], lx + 5.0, 32.0),
            lx + 14.0
        );
    }
    for percent in (0..=100).step_by(20) {
        let gx = x(f64::from(percent) / 100.0);
        let _ = write!(
            svg,
            "<line x1=\"{gx}\" y1=\"{top}\" x2=\"{gx}\" y2=\"{}\" stroke=\"#d8dee4\"/>\
             <text x=\"{gx}\" y=\"{}\" text-anchor=\"middle\" fill=\"#57606a\">{percent}%</text>",
            height - 30.0,
            height - 16.0
        );
    }
    for (index, (name, ratios)) in rows.iter().enumerate() {
        let y = top + row * index as f64 + row / 2.0;
        let weight = if *name == "mean" {
            " font-weight=\"bold\""
        } else {
            ""
        };
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"#1b1f24\"{weight}>{name}</text>",
            left - 8.0,
            y + 4.0
        );
        for (cache, ratio) in ratios.iter().enumerate() {
            svg.push_str(&marker(SHAPES[cache], COLOURS[cache], x(*ratio), y));
        }
    }
    svg.push_str("</svg>\n");
    svg
}

/// One marker of `shape` centred on (`x`, `y`).
fn marker(shape: &str, colour: &str, x: f64, y: f64) -> String {
    match shape {
        "circle" => format!("<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"4\" fill=\"{colour}\"/>"),
        "square" => format!(
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"7\" height=\"7\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.5\"/>",
            x - 3.5,
            y - 3.5
        ),
        "diamond" => format!(
            "<polygon points=\"{x:.1},{:.1} {:.1},{y:.1} {x:.1},{:.1} {:.1},{y:.1}\" fill=\"{colour}\"/>",
            y - 5.0,
            x + 5.0,
            y + 5.0,
            x - 5.0
        ),
        "triangle" => format!(
            "<polygon points=\"{x:.1},{:.1} {:.1},{:.1} {:.1},{:.1}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.5\"/>",
            y - 5.0,
            x + 5.0,
            y + 4.0,
            x - 5.0,
            y + 4.0
        ),
        _ => format!(
            "<path d=\"M{:.1},{:.1}L{:.1},{:.1}M{:.1},{:.1}L{:.1},{:.1}\" stroke=\"{colour}\" stroke-width=\"1.5\"/>",
            x - 4.0,
            y - 4.0,
            x + 4.0,
            y + 4.0,
            x - 4.0,
            y + 4.0,
            x + 4.0,
            y - 4.0
        ),
    }
}

fn main() -> ExitCode {
    let options = match parse_options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("compare: {message}");
            return ExitCode::FAILURE;
        }
    };
    if options.suite == Suite::Traces {
        return match hit_ratios(&options) {
            Ok(table) => {
                println!("Hit ratios, get-or-insert per request, same keys and capacity for all.");
                print!("{table}");
                ExitCode::SUCCESS
            }
            Err(message) => {
                eprintln!("compare: {message}");
                ExitCode::FAILURE
            }
        };
    }
    let mut results = Results::default();
    for &size in &options.sizes {
        eprintln!("max = {size}: generating keys ...");
        let keys = Keys::new(size, options.ops);
        // Repetitions interleave the implementations, so a slow phase of the machine (or the
        // first, cold run) hits all of them rather than whichever runs first; a discarded
        // warm-up round comes before.
        for rep in 0..=options.reps {
            eprintln!("max = {size}: round {rep} of {}", options.reps);
            let mut round = Results::default();
            let target = if rep == 0 { &mut round } else { &mut results };
            if options.suite != Suite::Shared {
                macro_rules! run {
                    ($S:ty) => {
                        measure::<$S>(target, &keys, &options);
                    };
                }
                for_each_subject!(run);
            }
            if options.suite != Suite::Single {
                macro_rules! shared {
                    ($S:ty) => {
                        measure_shared::<$S>(target, &keys, &options);
                    };
                }
                for_each_shared_subject!(shared);
            }
        }
        if options.suite != Suite::Shared {
            macro_rules! heap {
                ($S:ty) => {
                    measure_memory::<$S>(&mut results, size, &options);
                };
            }
            for_each_subject!(heap);
        }
    }
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    println!(
        "Best of {} runs, {} operations per timed workload, u64 keys and values, foldhash for all; {} cores.",
        options.reps, options.ops, cores
    );
    if options.suite != Suite::Shared {
        print!("{}", render(&results, &options));
    }
    if options.suite != Suite::Single {
        print!("{}", render_shared(&results, &options));
    }
    let json = to_json(&results, &options);
    match std::fs::write(&options.json, format!("{json:#}\n")) {
        Ok(()) => eprintln!("wrote {}", options.json),
        Err(e) => eprintln!("could not write {}: {e}", options.json),
    }
    ExitCode::SUCCESS
}

// Keep the imports honest: each type is used through `for_each_subject!`.
const _: fn() = || {
    let _ = (
        LruMapU64::NAME,
        HookedLru::NAME,
        TimedLruStd::NAME,
        TimedLruQuanta::NAME,
        TimedLruCoarse::NAME,
        BoundedMapU64::NAME,
        LruCrate::NAME,
        Hashlink::NAME,
        Schnellru::NAME,
        QuickCache::NAME,
        <Moka as Subject>::NAME,
        Raw::NAME,
    );
};
