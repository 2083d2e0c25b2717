//! `registry::export_metrics` publishes the registry's figures through the `metrics` facade.

use mapguard::{LruMap, registry};
use metrics_util::debugging::{DebugValue, DebuggingRecorder};

#[test]
fn export_publishes_gauges_and_counters_with_map_labels() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let mut map = LruMap::builder(2).name("Export.cache").build();
    for k in 0..5 {
        map.insert(k, k);
    }
    metrics::with_local_recorder(&recorder, registry::export_metrics);

    let mut entries = None;
    let mut evicted = None;
    for (key, _, _, value) in snapshotter.snapshot().into_vec() {
        let key = key.key();
        let labels: Vec<(String, String)> = key
            .labels()
            .map(|l| (l.key().to_owned(), l.value().to_owned()))
            .collect();
        if !labels.contains(&(String::from("map"), String::from("Export.cache"))) {
            continue;
        }
        match (key.name(), value) {
            ("mapguard_map_entries", DebugValue::Gauge(v)) => entries = Some(v.into_inner()),
            ("mapguard_map_removals_total", DebugValue::Counter(v))
                if labels.contains(&(String::from("cause"), String::from("evicted"))) =>
            {
                evicted = Some(v);
            }
            _ => {}
        }
    }
    assert_eq!(entries, Some(2.0));
    assert_eq!(evicted, Some(3));
}
