//! What an operator sees: the registry's HTML page (`registry::render_html`), its Prometheus
//! text (`registry::render_prometheus`) checked by a real parser, and both served by
//! `mapguard::tower::RegistryService` on a real axum server (127.0.0.1, one request each,
//! under a timeout).
//!
//! Other tests of this binary create maps at the same time, so each check finds its own maps
//! by name and judges the page as one read of whatever was live.

use std::collections::HashSet;
use std::time::Duration;

use mapguard::registry;
use mapguard::{ConcurrentLruMap, LruMap};

/// Parses `page` as XML: strict, so any unclosed element or unknown entity fails. The page's
/// `<!DOCTYPE html>` is a DTD to the parser; allowed.
fn parse(page: &str) -> roxmltree::Document<'_> {
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..roxmltree::ParsingOptions::default()
    };
    roxmltree::Document::parse_with_options(page, options).unwrap_or_else(|e| panic!("{e}\n{page}"))
}

/// The page's `<tr>` rows of the maps table (the second table when there are suspects).
fn map_rows<'a, 'input>(page: &'a roxmltree::Document<'input>) -> Vec<roxmltree::Node<'a, 'input>> {
    let tables: Vec<_> = page
        .descendants()
        .filter(|n| n.has_tag_name("table"))
        .collect();
    let maps = tables.last().expect("a maps table");
    maps.children()
        .filter(|row| row.has_tag_name("tr") && row.children().any(|c| c.has_tag_name("td")))
        .collect()
}

/// All the text under `node`.
fn text(node: roxmltree::Node<'_, '_>) -> String {
    node.descendants()
        .filter(roxmltree::Node::is_text)
        .map(|n| n.text().unwrap_or_default())
        .collect()
}

#[test]
fn the_page_is_well_formed_escaped_and_charts_every_map() {
    let hostile = r#"Page.<script>alert("x")</script> & 'q'"#;
    let mut named = LruMap::builder(8).name(hostile).build();
    named.insert(1, 1);
    let page = registry::render_html();
    // The page is well-formed XML (every element closed, every entity known); a parse error
    // says where it is not.
    let document = parse(&page);
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(
        !page.contains("<script"),
        "markup in a map's name reached the page unescaped"
    );
    assert!(
        page.contains("Page.&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;")
    );
    // Nothing loaded from elsewhere: no scripts, no links, no external images or fonts.
    for node in document.descendants().filter(roxmltree::Node::is_element) {
        assert!(
            !matches!(node.tag_name().name(), "script" | "link" | "img" | "iframe"),
            "{:?}",
            node.tag_name()
        );
        for attribute in node.attributes() {
            assert!(
                !attribute.value().starts_with("http") || attribute.name() == "xmlns",
                "an external reference: {attribute:?}"
            );
        }
    }
    // One row per live map, each with exactly one chart, and ours among them with its site.
    let rows = map_rows(&document);
    assert!(!rows.is_empty());
    for row in &rows {
        let charts = row.descendants().filter(|n| n.has_tag_name("svg")).count();
        assert_eq!(charts, 1, "{}", text(*row));
    }
    let ours = rows
        .iter()
        .find(|row| text(**row).contains(hostile))
        .expect("our map has a row");
    assert!(
        text(*ours).contains("operator_page.rs"),
        "its call site: {}",
        text(*ours)
    );
    assert!(text(*ours).contains("1 / 8"), "{}", text(*ours));
    drop(named);
}

#[test]
fn suspects_come_first_with_their_reason() {
    // Keys that never repeat into a bound of 2: every insert evicts (thrashing).
    let mut thrashing = LruMap::builder(2).name("Page.thrashing").build();
    let mut quiet = LruMap::builder(1_000).name("Page.quiet").build();
    quiet.extend((0..500).map(|k| (k, vec![0_u8; 64])));
    let _ = registry::snapshot(); // a sample before the evictions
    for key in 0..100 {
        thrashing.insert(key, ());
    }
    let page = registry::render_html();
    let document = parse(&page);
    let tables: Vec<_> = document
        .descendants()
        .filter(|n| n.has_tag_name("table"))
        .collect();
    assert_eq!(tables.len(), 2, "a suspects table, then the maps");
    let suspect_row = tables[0]
        .descendants()
        .filter(|n| n.has_tag_name("tr"))
        .find(|row| text(*row).contains("Page.thrashing"))
        .expect("listed as a suspect");
    assert!(
        text(suspect_row).contains("thrashing: 98 evictions"),
        "{}",
        text(suspect_row)
    );
    // In the maps table, every suspect comes before every other map.
    let rows = map_rows(&document);
    let is_suspect = |row: &roxmltree::Node<'_, '_>| row.attribute("class") == Some("suspect");
    let first_other = rows
        .iter()
        .position(|row| !is_suspect(row))
        .unwrap_or(rows.len());
    assert!(rows[first_other..].iter().all(|row| !is_suspect(row)));
    let position = |name: &str| rows.iter().position(|row| text(*row).contains(name));
    assert!(position("Page.thrashing").unwrap() < first_other);
    assert!(position("Page.quiet").unwrap() >= first_other);
}

#[test]
fn the_exposition_parses_and_repeats_no_label_set() {
    // A map per request under one name at one call site: one series.
    let per_request: Vec<LruMap<u8, u8>> = (0..5)
        .map(|_| {
            let mut map = LruMap::builder(4).name("Page.per_request").build();
            map.insert(1, 1);
            map
        })
        .collect();
    // The same name at another site: a series of its own.
    let elsewhere = LruMap::<u8, u8>::builder(4)
        .name("Page.per_request")
        .build();
    let text = registry::render_prometheus();
    // A real parser: it rejects malformed lines and a label set that appears twice.
    let exposition = openmetrics_parser::prometheus::parse_prometheus(&text)
        .unwrap_or_else(|e| panic!("{e:?}\n{text}"));
    assert!(exposition.families.contains_key("mapguard_maps"));
    // And by hand: no (name, labels) line twice.
    let mut seen = HashSet::new();
    for line in text.lines().filter(|line| !line.starts_with('#')) {
        let (series, _) = line.rsplit_once(' ').expect("series value");
        assert!(seen.insert(series.to_owned()), "repeated: {series}");
    }
    let ours: Vec<&str> = text
        .lines()
        .filter(|line| line.starts_with(r#"mapguard_maps{map="Page.per_request""#))
        .collect();
    assert_eq!(ours.len(), 2, "one series per call site: {ours:?}");
    assert!(ours.iter().any(|line| line.ends_with(" 5")), "{ours:?}");
    assert!(ours.iter().any(|line| line.ends_with(" 1")), "{ours:?}");
    let entries = text
        .lines()
        .find(|line| {
            line.starts_with(r#"mapguard_map_entries{map="Page.per_request""#)
                && !line.ends_with(" 0")
        })
        .expect("the five maps' entries");
    assert!(entries.ends_with(" 5"), "summed: {entries}");
    drop((per_request, elsewhere));
}

#[test]
fn the_registry_service_serves_the_page_and_the_scrape_on_a_real_server() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        tokio::time::timeout(Duration::from_secs(60), serve_and_read())
            .await
            .expect("within 60 s");
    });
}

async fn serve_and_read() {
    use http_body_util::{BodyExt, Empty};
    use hyper::body::Bytes;
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;

    let cache = ConcurrentLruMap::<u8, u8>::builder(4)
        .name("Page.served")
        .build();
    cache.insert(1, 1);
    let router =
        axum::Router::new().nest_service("/mapguard", mapguard::tower::RegistryService::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let mut bodies = Vec::new();
    for path in ["/mapguard", "/mapguard/metrics"] {
        let response = client
            .get(format!("http://{address}{path}").parse().unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let kind = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        bodies.push((kind, String::from_utf8(body.to_vec()).unwrap()));
    }
    server.abort();
    let (page_type, page) = &bodies[0];
    assert_eq!(page_type, "text/html; charset=utf-8");
    assert!(page.contains("Page.served"));
    parse(page);
    let (scrape_type, scrape) = &bodies[1];
    assert!(scrape_type.starts_with("text/plain; version=0.0.4"));
    assert!(scrape.contains(
        r#"mapguard_map_entries{map="Page.served",lifetime="process",policy="lru",site=""#
    ));
    openmetrics_parser::prometheus::parse_prometheus(scrape).unwrap();
    drop(cache);
}

/// Map names made of any characters, biased towards the ones XML and HTML forbid or treat
/// as markup.
fn hostile_name() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    let special = prop_oneof![
        (0_u32..0x20).prop_map(|c| char::from_u32(c).unwrap()),
        (0x7f_u32..0xa0).prop_map(|c| char::from_u32(c).unwrap()),
        Just('\u{fffe}'),
        Just('\u{ffff}'),
        Just('\u{fdd0}'),
        Just('\u{10ffff}'),
        Just('<'),
        Just('&'),
        Just('"'),
        Just(']'),
    ];
    proptest::collection::vec(prop_oneof![any::<char>(), special], 1..16)
        .prop_map(|chars| chars.into_iter().collect())
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

    #[test]
    fn the_page_stays_well_formed_whatever_a_map_is_named(name in hostile_name()) {
        let mut named = LruMap::builder(8).name(format!("Random.{name}")).build();
        named.insert(1, 1);
        let page = registry::render_html();
        let document = parse(&page);
        // Our map's row is there; forbidden characters in it are written as `\u{..}`.
        let visible: String = format!("Random.{name}")
            .chars()
            .map(|c| {
                let code = u32::from(c);
                let noncharacter = (0xFDD0..=0xFDEF).contains(&code) || code & 0xFFFE == 0xFFFE;
                if (c.is_control() && c != '\t' && c != '\n') || noncharacter {
                    format!("\\u{{{code:x}}}")
                } else {
                    c.to_string()
                }
            })
            .collect();
        let rows = map_rows(&document);
        proptest::prop_assert!(
            rows.iter().any(|row| text(*row).contains(&visible)),
            "no row shows {visible:?}"
        );
        drop(named);
    }
}
