//! The Prometheus text exposition of the registry.

use std::fmt::Write as _;

use super::report::{MapReport, snapshot};
use super::series::{Series, series};
use crate::RemovalCause;

/// Every live map's figures in the Prometheus text exposition format: gauges for entries,
/// bound, bytes and unscoped entries (`mapguard_map_unscoped_entries`), counters (`_total`)
/// for inserts, hits, misses, removals by cause and hook panics
/// (`mapguard_hook_panics_total`). Labels are `map`, `lifetime`, `policy` and `site` (where
/// the map was created) — never keys.
///
/// Maps that share a name and a call site (a map per request, say) are one series: their
/// figures are summed, and `mapguard_maps` says how many live maps each series sums. So no
/// label set appears twice, which a Prometheus server would reject.
///
/// ```
/// # #[cfg(feature = "tracking")] { // figures need `tracking`
/// let maps: Vec<_> = (0..3)
///     .map(|_| mapguard::LruMap::<u8, u8>::builder(4).name("Docs.prom").build())
///     .collect();
/// let text = mapguard::registry::render_prometheus();
/// assert!(text.contains("# TYPE mapguard_map_entries gauge"));
/// let bound = text
///     .lines()
///     .find(|line| line.starts_with(r#"mapguard_map_max_entries{map="Docs.prom",lifetime="process",policy="lru",site="#))
///     .unwrap();
/// assert!(bound.ends_with(" 12"), "three maps of 4, one series: {bound}");
/// # drop(maps);
/// # }
/// ```
#[must_use]
pub fn render_prometheus() -> String {
    let maps = series(snapshot());
    let mut out = String::new();
    let gauges: [Family; 8] = [
        (
            "mapguard_maps",
            "Live maps in the series (maps created under one name at one call site are summed).",
            |_| 0,
        ),
        ("mapguard_map_entries", "Entries in the map.", |m| m.len),
        (
            "mapguard_map_peak_entries",
            "Most entries the map has held.",
            |m| m.peak_len,
        ),
        ("mapguard_map_max_entries", "The map's bound.", |m| m.max),
        (
            "mapguard_map_heap_bytes",
            "Estimated heap bytes of the map's storage.",
            |m| m.heap_bytes,
        ),
        (
            "mapguard_map_weight_bytes",
            "What the map's entries weigh (0 without a weight budget).",
            |m| m.weight,
        ),
        (
            "mapguard_map_max_weight_bytes",
            "The map's weight budget (0 without one).",
            |m| m.max_weight,
        ),
        (
            "mapguard_map_unscoped_entries",
            "Entries of a scoped map written outside any scope of its lifetime.",
            |m| m.unscoped,
        ),
    ];
    let counters: [Family; 4] = [
        ("mapguard_map_inserts_total", "Keys inserted.", |m| {
            m.inserts
        }),
        (
            "mapguard_map_hits_total",
            "Lookups that found their key.",
            |m| m.hits,
        ),
        ("mapguard_map_misses_total", "Lookups that did not.", |m| {
            m.misses
        }),
        (
            "mapguard_hook_panics_total",
            "Hooks (Cleanup, listener) that panicked; every other hook still ran.",
            |m| m.hook_panics,
        ),
    ];
    for (kind, families) in [("gauge", &gauges[..]), ("counter", &counters[..])] {
        for (name, help, value) in families {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for series in &maps {
                // `mapguard_maps` counts the maps; every other family reads their sums.
                let value = if *name == "mapguard_maps" {
                    series.maps
                } else {
                    value(&series.figures)
                };
                let _ = writeln!(out, "{name}{{{}}} {value}", labels(series));
            }
        }
    }
    let name = "mapguard_map_removals_total";
    let _ = writeln!(
        out,
        "# HELP {name} Values that left through the cleanup path, by cause.\n# TYPE {name} counter"
    );
    for series in &maps {
        for cause in RemovalCause::ALL {
            let count = series.figures.removed(cause);
            let _ = writeln!(
                out,
                "{name}{{{},cause=\"{cause}\"}} {count}",
                labels(series)
            );
        }
    }
    out
}

/// A metric family: name, help text, and the figure it reads.
type Family = (&'static str, &'static str, fn(&MapReport) -> u64);

fn labels(series: &Series) -> String {
    let map = &series.figures;
    format!(
        "map=\"{}\",lifetime=\"{}\",policy=\"{}\",site=\"{}\"",
        escape(&map.name),
        map.lifetime,
        map.policy,
        escape(&series.site())
    )
}

/// Escapes a label value: backslash, double quote and newline.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
