//! Series: the maps an exporter shows as one. Maps created under one name at one call site
//! (a map per request, say) are one series whose figures are their sums, so no label set
//! appears twice in an exposition (Prometheus rejects a scrape that repeats one).

use super::report::MapReport;

/// The maps of one name, call site, lifetime and policy, summed.
#[derive(Debug)]
pub(super) struct Series {
    /// The first map's identity and every map's figures added up.
    pub(super) figures: MapReport,
    /// How many live maps it sums.
    pub(super) maps: u64,
}

impl Series {
    /// The call site as a label value: `file:line:column`.
    pub(super) fn site(&self) -> String {
        self.figures.site.to_string()
    }
}

/// Groups `maps` into series, in the order each series' first map comes. O(maps × series).
pub(super) fn series(maps: Vec<MapReport>) -> Vec<Series> {
    let mut all: Vec<Series> = Vec::new();
    for map in maps {
        match all
            .iter_mut()
            .find(|series| same_series(&series.figures, &map))
        {
            Some(series) => {
                add(&mut series.figures, &map);
                series.maps += 1;
            }
            None => all.push(Series {
                figures: map,
                maps: 1,
            }),
        }
    }
    all
}

fn same_series(a: &MapReport, b: &MapReport) -> bool {
    a.name == b.name && a.site == b.site && a.lifetime == b.lifetime && a.policy == b.policy
}

/// Adds `map`'s figures into `sum`.
fn add(sum: &mut MapReport, map: &MapReport) {
    for (total, figure) in [
        (&mut sum.len, map.len),
        (&mut sum.peak_len, map.peak_len),
        (&mut sum.max, map.max),
        (&mut sum.heap_bytes, map.heap_bytes),
        (&mut sum.weight, map.weight),
        (&mut sum.max_weight, map.max_weight),
        (&mut sum.inserts, map.inserts),
        (&mut sum.hits, map.hits),
        (&mut sum.misses, map.misses),
        (&mut sum.handed_back, map.handed_back),
        (&mut sum.hook_panics, map.hook_panics),
        (&mut sum.unscoped, map.unscoped),
    ] {
        *total = total.saturating_add(figure);
    }
    for (total, figure) in sum.removals.iter_mut().zip(map.removals) {
        *total = total.saturating_add(figure);
    }
}
