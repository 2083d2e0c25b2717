//! The operator's page: every live map on one self-contained HTML page.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::Duration;

use super::report::{MapReport, human_bytes};
use super::suspects::{
    LeakSuspect, Minutes, Sample, Suspicion, histories, maps_and_suspects, window,
};
use crate::RemovalCause;
use crate::scope::Lifetime;

/// One HTML page of every live map, for an operator chasing a leak: name, call site,
/// lifetime, entries against the bound, weight against the budget, hit ratio, what left by
/// cause, hook panics and (for scoped maps) entries written outside any scope. Suspected
/// leaks come first, each with its reason, rate and how long it has been going on; then the
/// other maps, largest (in heap bytes) first. Each map has a chart of its entries (and
/// weight, under a budget) over the samples the process-wide detector keeps (every registry
/// read is one; see [`leak_suspects`](super::leak_suspects)).
///
/// The page is self-contained: no scripts, fonts or styles from elsewhere, so it works
/// offline and behind any proxy. Names and sites are escaped. It is also well-formed XML.
/// The `tower` feature serves it (`mapguard::tower::RegistryService`; a plain name, since a
/// link would break the docs built without that feature).
///
/// ```
/// # #[cfg(feature = "tracking")] { // figures need `tracking`
/// let mut sessions = mapguard::LruMap::builder(100).name("Docs.<sessions>").build();
/// sessions.insert(1, "alice");
/// let page = mapguard::registry::render_html();
/// assert!(page.starts_with("<!DOCTYPE html>"));
/// assert!(page.contains("Docs.&lt;sessions&gt;"));
/// # }
/// ```
#[must_use]
pub fn render_html() -> String {
    let (maps, suspects) = maps_and_suspects();
    let histories = histories();
    let mut page = String::with_capacity(4096 + maps.len() * 2048);
    let total_bytes: u64 = maps.iter().map(|map| map.heap_bytes).sum();
    let total_entries: u64 = maps.iter().map(|map| map.len).sum();
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>\
         <meta name=\"viewport\" content=\"width=device-width\"/>\
         <title>mapguard: {} live maps</title><style>{STYLE}</style></head><body>\
         <h1>mapguard: live maps</h1><p class=\"summary\">{} maps · {} entries · {} · \
         <b class=\"{}\">{} suspected {}</b></p>",
        maps.len(),
        maps.len(),
        total_entries,
        human_bytes(total_bytes),
        if suspects.is_empty() { "ok" } else { "bad" },
        suspects.len(),
        if suspects.len() == 1 { "leak" } else { "leaks" },
    );
    suspects_table(&mut page, &suspects);
    maps_table(&mut page, &ordered(maps, &suspects), &suspects, &histories);
    page.push_str(
        "<p class=\"foot\">Every read of the registry (this page, a Prometheus scrape, \
         <code>registry::snapshot</code>) is a sample; charts show the samples the leak \
         detector keeps.</p></body></html>\n",
    );
    page
}

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1b1f24}\
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}\
table{border-collapse:collapse;width:100%}\
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #d8dee4;vertical-align:top}\
th{background:#f3f5f7;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums}\
tr.suspect{background:#fff4f2}small{color:#57606a}code{font-size:12px}\
.bad{color:#b42318}.ok{color:#1a7f37}.summary{color:#57606a;margin:0}.foot{color:#57606a}\
.reason{color:#b42318;font-weight:600}svg{display:block}";

/// Suspects first (as the detector listed them), then the rest by heap bytes, largest first.
fn ordered(mut maps: Vec<MapReport>, suspects: &[LeakSuspect]) -> Vec<MapReport> {
    let rank = |map: &MapReport| {
        suspects
            .iter()
            .position(|suspect| suspect.map.id == map.id)
            .unwrap_or(usize::MAX)
    };
    maps.sort_by(|a, b| {
        rank(a)
            .cmp(&rank(b))
            .then(b.heap_bytes.cmp(&a.heap_bytes))
            .then_with(|| a.name.cmp(&b.name))
    });
    maps
}

fn suspects_table(page: &mut String, suspects: &[LeakSuspect]) {
    page.push_str("<h2>Leak suspects</h2>");
    if suspects.is_empty() {
        page.push_str("<p class=\"ok\">None: no map grows, thrashes or outlives its scopes.</p>");
        return;
    }
    page.push_str(
        "<table><tr><th>map</th><th>created at</th><th>reason</th><th>rate</th><th>since</th></tr>",
    );
    for suspect in suspects {
        let (rate, since) = match &suspect.suspicion {
            Suspicion::Growing {
                per_minute,
                growing_for,
                ..
            } => (
                format!("+{per_minute} entries/min"),
                format!("{} ago", Minutes(*growing_for)),
            ),
            Suspicion::Thrashing { evictions } => (
                format!("{evictions} evictions in {}", Minutes(window())),
                String::from("within the window"),
            ),
            Suspicion::UnscopedWrites { growth, .. } => (
                format!("+{growth} unscoped in {}", Minutes(window())),
                format!("{} ago (created)", Minutes(suspect.map.age)),
            ),
            _ => (
                String::from("-"),
                format!("{} ago (created)", Minutes(suspect.map.age)),
            ),
        };
        let _ = write!(
            page,
            "<tr class=\"suspect\"><td><b>{}</b></td><td><code>{}</code></td>\
             <td class=\"reason\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
            escape(&suspect.map.name),
            escape(&suspect.map.site.to_string()),
            escape(&suspect.suspicion.to_string()),
            escape(&rate),
            escape(&since),
        );
    }
    page.push_str("</table>");
}

fn maps_table(
    page: &mut String,
    maps: &[MapReport],
    suspects: &[LeakSuspect],
    histories: &HashMap<u64, Vec<Sample>>,
) {
    page.push_str(
        "<h2>Maps</h2><table><tr><th>map</th><th>lifetime</th><th>entries / bound</th>\
         <th>bytes</th><th>weight / budget</th><th>hit ratio</th><th>left, by cause</th>\
         <th>hook panics</th><th>unscoped</th><th>entries over time</th></tr>",
    );
    for map in maps {
        let suspect = suspects.iter().any(|suspect| suspect.map.id == map.id);
        let samples = histories.get(&map.id).map_or(&[][..], Vec::as_slice);
        let _ = write!(
            page,
            "<tr{}><td><b>{}</b><br/><small><code>{}</code></small></td><td>{}</td>\
             <td class=\"n\">{} / {}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td><td>{}</td><td class=\"n{}\">{}</td><td class=\"n\">{}</td>\
             <td>{}</td></tr>",
            if suspect { " class=\"suspect\"" } else { "" },
            escape(&map.name),
            escape(&map.site.to_string()),
            map.lifetime,
            map.len,
            bound(map.max),
            human_bytes(map.heap_bytes),
            weight(map),
            hit_ratio(map),
            left_by_cause(map),
            if map.hook_panics > 0 { " bad" } else { "" },
            map.hook_panics,
            if map.lifetime == Lifetime::Process {
                String::from("-")
            } else {
                map.unscoped.to_string()
            },
            chart(map, samples),
        );
    }
    page.push_str("</table>");
}

fn bound(max: u64) -> String {
    if max >= u64::from(u32::MAX - 1) {
        String::from("∞")
    } else {
        max.to_string()
    }
}

fn weight(map: &MapReport) -> String {
    if map.max_weight == 0 {
        String::from("-")
    } else {
        format!(
            "{} / {}",
            human_bytes(map.weight),
            human_bytes(map.max_weight)
        )
    }
}

#[allow(
    clippy::cast_precision_loss,
    reason = "a percentage to one decimal: counts above 2^53 lose nothing visible"
)]
fn hit_ratio(map: &MapReport) -> String {
    let lookups = map.hits + map.misses;
    if lookups == 0 {
        String::from("-")
    } else {
        format!("{:.1}%", map.hits as f64 * 100.0 / lookups as f64)
    }
}

fn left_by_cause(map: &MapReport) -> String {
    let causes: Vec<String> = RemovalCause::ALL
        .into_iter()
        .filter(|&cause| map.removed(cause) > 0)
        .map(|cause| format!("{cause} {}", map.removed(cause)))
        .collect();
    if causes.is_empty() {
        String::from("-")
    } else {
        causes.join(" · ")
    }
}

const CHART_WIDTH: f64 = 220.0;
const CHART_HEIGHT: f64 = 44.0;

/// An inline SVG of the map's entries over `samples` (and its weight, under a budget, on a
/// scale of its own), the time axis spanning the samples.
#[allow(
    clippy::cast_precision_loss,
    reason = "chart coordinates: a pixel's precision is all they need"
)]
fn chart(map: &MapReport, samples: &[Sample]) -> String {
    let span = match (samples.first(), samples.last()) {
        (Some(first), Some(last)) => last.at.saturating_sub(first.at),
        _ => Duration::ZERO,
    };
    let start = samples.first().map_or(Duration::ZERO, |first| first.at);
    let x = |index: usize, sample: &Sample| {
        if span.is_zero() {
            // One sample, or all at one instant: spread them evenly.
            CHART_WIDTH * index as f64 / samples.len().saturating_sub(1).max(1) as f64
        } else {
            CHART_WIDTH * sample.at.saturating_sub(start).as_secs_f64() / span.as_secs_f64()
        }
    };
    let line = |figure: fn(&Sample) -> u64, colour: &str| {
        let top = samples.iter().map(figure).max().unwrap_or(0).max(1) as f64;
        let points: Vec<String> = samples
            .iter()
            .enumerate()
            .map(|(index, sample)| {
                let y = CHART_HEIGHT - 2.0 - (CHART_HEIGHT - 14.0) * figure(sample) as f64 / top;
                format!("{:.1},{y:.1}", x(index, sample))
            })
            .collect();
        format!(
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.5\" points=\"{}\"/>",
            points.join(" ")
        )
    };
    let peak = samples
        .iter()
        .map(|sample| sample.len)
        .max()
        .unwrap_or(map.len);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\"{CHART_WIDTH}\" \
         height=\"{CHART_HEIGHT}\" viewBox=\"0 0 {CHART_WIDTH} {CHART_HEIGHT}\" role=\"img\">\
         <title>{}: entries over {} samples spanning {} (peak {peak})</title>\
         <rect width=\"{CHART_WIDTH}\" height=\"{CHART_HEIGHT}\" fill=\"#f6f8fa\"/>\
         <text x=\"2\" y=\"10\" font-size=\"9\" fill=\"#57606a\">peak {peak} · {}</text>",
        escape(&map.name),
        samples.len(),
        Minutes(span),
        Minutes(span),
    );
    if samples.len() > 1 {
        svg.push_str(&line(|sample| sample.len, "#0969da"));
        if map.max_weight > 0 {
            svg.push_str(&line(|sample| sample.weight, "#bc4c00"));
        }
    }
    svg.push_str("</svg>");
    svg
}

/// Escapes text for HTML (and XML): `&`, `<`, `>`, and both quotes.
/// `text` as page text: markup escaped, and every character XML 1.0 or HTML forbids in a
/// document (control characters but tab and newline, U+FFFE and the other noncharacters)
/// written visibly as `\u{..}`, so the page stays well-formed whatever a map is named.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if allowed_in_documents(c) => out.push(c),
            c => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
        }
    }
    out
}

/// Whether `c` may stand in an XML 1.0 document's text and in an HTML document without a
/// parse error.
fn allowed_in_documents(c: char) -> bool {
    let code = u32::from(c);
    let noncharacter = (0xFDD0..=0xFDEF).contains(&code) || code & 0xFFFE == 0xFFFE;
    (c == '\t' || c == '\n' || !c.is_control()) && !noncharacter
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escape_covers_markup_and_quotes() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn characters_documents_forbid_are_written_visibly() {
        assert_eq!(
            escape("a\u{7}b\0c\u{fffe}d\u{10ffff}e\u{85}f\rg"),
            "a\\u{7}b\\u{0}c\\u{fffe}d\\u{10ffff}e\\u{85}f\\u{d}g"
        );
        assert_eq!(
            escape("tab\tand\nnewline é 日本"),
            "tab\tand\nnewline é 日本"
        );
    }
}
