//! Printing findings: rustc-like text, a JSON array, or SARIF 2.1.0.

use std::fmt::Write as _;

use serde_json::json;

use crate::{Kind, Outcome};

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
        for finding in &self.findings {
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
            .findings
            .iter()
            .map(|f| f.file.as_str())
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        if self.findings.is_empty() {
            let _ = writeln!(
                text,
                "mapguard: every map declares its lifecycle ({} files, {} lines checked)",
                self.files, self.lines
            );
        } else {
            let _ = writeln!(
                text,
                "mapguard: {} map(s) without a lifecycle in {files} file(s) ({} files, {} lines checked)",
                self.findings.len(),
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
        let results: Vec<_> = self
            .findings
            .iter()
            .map(|finding| {
                let rule = kinds.iter().position(|k| *k == finding.kind).unwrap_or(0);
                json!({
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
                })
            })
            .collect();
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
    }
}
