//! Baselines: the findings a codebase accepted when it adopted the gate, so that CI blocks
//! only maps added since. An entry is keyed by what a finding is — kind, item path and type —
//! never by its line, so moving code or editing other lines keeps it; its file is kept for
//! the reader. Entries that match nothing any more are reported, so the file shrinks as maps
//! get managed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Finding, Outcome};

/// The findings a codebase accepts: what `cargo mapguard check --write-baseline` writes and
/// `--baseline` reads.
///
/// ```
/// let baseline = cargo_mapguard::Baseline::from_findings(&[]);
/// let text = baseline.to_json();
/// assert_eq!(cargo_mapguard::Baseline::parse(&text).unwrap(), baseline);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    /// The format's version (1).
    pub version: u32,
    /// One entry per accepted finding, sorted.
    pub accepted: Vec<BaselineEntry>,
}

/// One accepted finding: what it is (`kind`, `item`, `type`) and, for the reader, where it
/// was when accepted (`file`; not part of the match).
///
/// ```
/// let entry: cargo_mapguard::BaselineEntry = serde_json::from_str(
///     r#"{"kind": "field", "item": "Cache.rows", "type": "HashMap<u64, Row>", "file": "src/lib.rs"}"#,
/// )
/// .unwrap();
/// assert_eq!(entry.item, "Cache.rows");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BaselineEntry {
    /// The finding's kind, as in the JSON report (`field`, `static`, ...).
    pub kind: String,
    /// `Struct.field`, `Enum::Variant.0`, `STATIC`, ...
    pub item: String,
    /// The type as written.
    #[serde(rename = "type")]
    pub ty: String,
    /// Where it was, for whoever reads the file.
    pub file: String,
}

/// Whether a finding is new or was accepted by the baseline (SARIF's `baselineState`).
///
/// ```
/// assert_eq!(
///     serde_json::to_string(&cargo_mapguard::BaselineState::Unchanged).unwrap(),
///     r#""unchanged""#
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BaselineState {
    /// Not in the baseline: it fails the check.
    New,
    /// In the baseline: reported, accepted.
    Unchanged,
}

impl BaselineEntry {
    fn of(finding: &Finding) -> Self {
        Self {
            kind: finding.kind.as_str().to_owned(),
            item: finding.item.clone(),
            ty: finding.ty.clone(),
            file: finding.file.clone(),
        }
    }

    /// What a finding is, with the type's spacing ignored (reformatting keeps the match).
    fn key(&self) -> (String, String, String) {
        (
            self.kind.clone(),
            self.item.clone(),
            self.ty.split_whitespace().collect(),
        )
    }
}

impl Baseline {
    /// A baseline that accepts exactly `findings`.
    ///
    /// ```
    /// let baseline = cargo_mapguard::Baseline::from_findings(&[]);
    /// assert!(baseline.accepted.is_empty());
    /// ```
    #[must_use]
    pub fn from_findings(findings: &[Finding]) -> Self {
        let mut accepted: Vec<BaselineEntry> = findings.iter().map(BaselineEntry::of).collect();
        accepted.sort();
        Self {
            version: 1,
            accepted,
        }
    }

    /// The baseline as the JSON file it is kept in.
    ///
    /// ```
    /// let text = cargo_mapguard::Baseline::from_findings(&[]).to_json();
    /// assert!(text.contains("\"version\": 1"));
    /// ```
    #[must_use]
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Reads a baseline file's text.
    ///
    /// # Errors
    ///
    /// If it is not a baseline (not JSON, a field missing, another version), with a message
    /// that says which.
    ///
    /// ```
    /// assert!(cargo_mapguard::Baseline::parse("[]").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Self, String> {
        let baseline: Self = serde_json::from_str(text).map_err(|e| {
            format!("not a mapguard baseline ({e}); write one with --write-baseline")
        })?;
        if baseline.version != 1 {
            return Err(format!(
                "baseline version {} is not one this gate reads (1)",
                baseline.version
            ));
        }
        Ok(baseline)
    }
}

impl Outcome {
    /// Marks each finding the baseline accepts as [`BaselineState::Unchanged`] and the rest as
    /// [`BaselineState::New`], and keeps the entries that matched nothing in
    /// [`stale`](Outcome::stale). Each entry accepts one finding (two identical findings need
    /// two entries).
    ///
    /// ```
    /// let mut outcome = cargo_mapguard::Outcome::default();
    /// outcome.apply_baseline(&cargo_mapguard::Baseline::from_findings(&[]));
    /// assert_eq!(outcome.new_findings().count(), 0);
    /// ```
    pub fn apply_baseline(&mut self, baseline: &Baseline) {
        let mut unmatched: BTreeMap<(String, String, String), Vec<&BaselineEntry>> =
            BTreeMap::new();
        for entry in &baseline.accepted {
            unmatched.entry(entry.key()).or_default().push(entry);
        }
        for finding in &mut self.findings {
            let key = BaselineEntry::of(finding).key();
            let accepted = unmatched.get_mut(&key).and_then(Vec::pop).is_some();
            finding.baseline_state = Some(if accepted {
                BaselineState::Unchanged
            } else {
                BaselineState::New
            });
        }
        self.stale = unmatched.into_values().flatten().cloned().collect();
    }

    /// The findings that fail the check: all of them, or with a baseline applied, those not
    /// in it.
    ///
    /// ```
    /// assert_eq!(cargo_mapguard::Outcome::default().new_findings().count(), 0);
    /// ```
    pub fn new_findings(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|finding| finding.baseline_state != Some(BaselineState::Unchanged))
    }
}
