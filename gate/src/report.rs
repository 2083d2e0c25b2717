//! Printing findings: rustc-like text, a JSON array, or SARIF 2.1.0.

use std::fmt::Write as _;

use serde_json::json;

use crate::{BaselineState, Kind, Outcome};

/// How [`Outcome::render`] prints.
///
/// ```
/// let text = cargo_mapguard::Outcome::default().render(cargo_mapguard::Format::Json);
/// assert_eq!(text.trim(), "[]");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `error: ...` / `  --> file:line:col`, as rustc prints, then a summary line.
    Human,
    /// A JSON array of findings: `file`, `line`, `column`, `kind`, `item`, `type`, `message`.
    Json,
    /// SARIF 2.1.0, one result per finding, for code-scanning pages.
    Sarif,
}

impl Outcome {
    /// The findings in `format`.
    ///
    /// ```
    /// let text = cargo_mapguard::Outcome::default().render(cargo_mapguard::Format::Human);
    /// assert!(text.contains("every map declares its lifecycle"));
    /// ```
    #[must_use]
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Human => self.human(),
            Format::Json => {
                let mut text = serde_json::to_string_pretty(&self.findings)
                    .unwrap_or_else(|_| String::from("[]"));
                text.push('\n');
                text
            }
            Format::Sarif => self.sarif(),
        }
    }

    fn human(&self) -> String {
        let mut text = String::new();
        for finding in self.new_findings() {
            let number = finding.line.to_string();
            let gutter = " ".repeat(number.len());
            let (line, width) = &finding.snippet;
            let pad = " ".repeat(finding.column.saturating_sub(1));
            let _ = writeln!(
                text,
                "error[mapguard::{kind}]: {headline}\n\
                 {gutter}--> {file}:{number}:{column}\n\
                 {gutter} |\n\
                 {number} | {line}\n\
                 {gutter} | {pad}{marks}\n\
                 {gutter} |\n\
                 {gutter} = help: {help}\n",
                kind = finding.kind.as_str(),
                headline = finding.headline,
                file = finding.file,
                column = finding.column,
                marks = "^".repeat(*width),
                help = finding.help,
            );
        }
        let files = self
            .new_findings()
            .map(|f| f.file.as_str())
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        let new = self.new_findings().count();
        let accepted = self.findings.len() - new;
        for entry in &self.stale {
            let _ = writeln!(
                text,
                "note: the baseline accepts {kind} `{item}` (`{ty}`, was in {file}), which is no \
                 longer there: take it out of the baseline\n",
                kind = entry.kind,
                item = entry.item,
                ty = entry.ty,
                file = entry.file,
            );
        }
        if accepted > 0 {
            let _ = writeln!(
                text,
                "mapguard: {accepted} map(s) without a lifecycle accepted by the baseline"
            );
        }
        if new == 0 {
            let _ = writeln!(
                text,
                "mapguard: {} ({} files, {} lines checked)",
                if accepted > 0 {
                    "no new map without a lifecycle"
                } else {
                    "every map declares its lifecycle"
                },
                self.files,
                self.lines
            );
        } else {
            let _ = writeln!(
                text,
                "mapguard: {} {}map(s) without a lifecycle in {files} file(s) ({} files, {} lines checked)",
                new,
                if self.findings.iter().any(|f| f.baseline_state.is_some()) {
                    "new "
                } else {
                    ""
                },
                self.files,
                self.lines
            );
        }
        text
    }

    fn sarif(&self) -> String {
        let kinds = [
            Kind::Field,
            Kind::Static,
            Kind::ThreadLocal,
            Kind::LazyStatic,
            Kind::MapValue,
            Kind::Alias,
        ];
        let rules: Vec<_> = kinds
            .iter()
            .map(|kind| {
                json!({
                    "id": format!("mapguard/{}", kind.as_str()),
                    "name": format!("unmanaged-map-{}", kind.as_str().replace('_', "-")),
                    "shortDescription": { "text": rule_text(*kind) },
                    "defaultConfiguration": { "level": "error" },
                })
            })
            .collect();
        let mut results: Vec<_> = self
            .findings
            .iter()
            .map(|finding| {
                let rule = kinds.iter().position(|k| *k == finding.kind).unwrap_or(0);
                let mut result = json!({
                    "ruleId": format!("mapguard/{}", finding.kind.as_str()),
                    "ruleIndex": rule,
                    "level": "error",
                    "message": { "text": finding.message },
                    "locations": [{
                        "physicalLocation": {
                            "artifactLocation": { "uri": finding.file, "uriBaseId": "%SRCROOT%" },
                            "region": { "startLine": finding.line, "startColumn": finding.column },
                        },
                        "logicalLocations": [{ "fullyQualifiedName": finding.item }],
                    }],
                });
                if let Some(state) = finding.baseline_state {
                    result["baselineState"] = json!(state);
                    if state == BaselineState::Unchanged {
                        // Accepted: shown, not failing.
                        result["level"] = json!("note");
                    }
                }
                result
            })
            .collect();
        // Baseline entries that match nothing now: SARIF's "absent".
        results.extend(self.stale.iter().map(|entry| {
            let rule = kinds
                .iter()
                .position(|k| k.as_str() == entry.kind)
                .unwrap_or(0);
            json!({
                "ruleId": format!("mapguard/{}", entry.kind),
                "ruleIndex": rule,
                "level": "note",
                "baselineState": "absent",
                "message": { "text": format!(
                    "the baseline accepts `{}` (`{}`), which is no longer there: take it out of the baseline",
                    entry.item, entry.ty
                ) },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": entry.file, "uriBaseId": "%SRCROOT%" },
                    },
                    "logicalLocations": [{ "fullyQualifiedName": entry.item }],
                }],
            })
        }));
        let log = json!({
            "version": "2.1.0",
            "runs": [{
                "tool": {
                    "driver": {
                        "name": "cargo-mapguard",
                        "version": env!("CARGO_PKG_VERSION"),
                        "rules": rules,
                    }
                },
                "results": results,
            }],
        });
        let mut text = serde_json::to_string_pretty(&log).unwrap_or_default();
        text.push('\n');
        text
    }
}

fn rule_text(kind: Kind) -> &'static str {
    match kind {
        Kind::Field => "A field holds a map with no declared lifecycle",
        Kind::Static => "A static holds a map with no declared lifecycle",
        Kind::ThreadLocal => "A thread-local holds a map with no declared lifecycle",
        Kind::LazyStatic => "A lazy_static holds a map with no declared lifecycle",
        Kind::MapValue => "The values of a managed map hold an unmanaged map",
        Kind::Alias => "A type alias of shared state holds a map with no declared lifecycle",
    }
}
