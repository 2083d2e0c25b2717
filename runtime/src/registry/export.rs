//! The registry's figures through the `metrics` facade (feature `metrics`).

use super::report::snapshot;
use super::series::series;
use crate::RemovalCause;

/// Publishes every live map's figures through the [`metrics`] facade (feature `metrics`):
/// the same names and series as [`render_prometheus`](super::render_prometheus) (maps that
/// share a name and call site summed, `mapguard_maps` counting them), gauges set and
/// counters set to their totals (`Counter::absolute`), with `map`, `lifetime`, `policy` and
/// `site` labels. Call it before each scrape, or on a timer; whichever recorder you
/// installed receives them.
///
/// ```
/// let mut map = mapguard::LruMap::builder(4).name("Docs.metrics").build();
/// map.insert(1, 1);
/// mapguard::registry::export_metrics(); // a no-op until a recorder is installed
/// ```
#[allow(
    clippy::cast_precision_loss,
    reason = "gauges are f64 in the metrics facade; figures above 2^53 lose only their last digits"
)]
pub fn export_metrics() {
    for series in series(snapshot()) {
        let map = &series.figures;
        let labels = [
            ("map", map.name.clone()),
            ("lifetime", map.lifetime.to_string()),
            ("policy", map.policy.to_owned()),
            ("site", series.site()),
        ];
        metrics::gauge!("mapguard_maps", &labels).set(series.maps as f64);
        metrics::gauge!("mapguard_map_entries", &labels).set(map.len as f64);
        metrics::gauge!("mapguard_map_peak_entries", &labels).set(map.peak_len as f64);
        metrics::gauge!("mapguard_map_max_entries", &labels).set(map.max as f64);
        metrics::gauge!("mapguard_map_heap_bytes", &labels).set(map.heap_bytes as f64);
        metrics::gauge!("mapguard_map_weight_bytes", &labels).set(map.weight as f64);
        metrics::gauge!("mapguard_map_max_weight_bytes", &labels).set(map.max_weight as f64);
        metrics::gauge!("mapguard_map_unscoped_entries", &labels).set(map.unscoped as f64);
        metrics::counter!("mapguard_map_inserts_total", &labels).absolute(map.inserts);
        metrics::counter!("mapguard_map_hits_total", &labels).absolute(map.hits);
        metrics::counter!("mapguard_map_misses_total", &labels).absolute(map.misses);
        metrics::counter!("mapguard_hook_panics_total", &labels).absolute(map.hook_panics);
        for cause in RemovalCause::ALL {
            let mut labels = labels.to_vec();
            labels.push(("cause", cause.as_str().to_owned()));
            metrics::counter!("mapguard_map_removals_total", &labels).absolute(map.removed(cause));
        }
    }
}
