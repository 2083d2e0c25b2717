//! `cargo mapguard fix`: applies each finding's one safe edit (an attribute with `...` to
//! fill in), never changing a type.

use std::collections::BTreeMap;

use crate::{Outcome, SuggestionSpan};

/// Applies every suggestion of `outcome` to the files under its root; returns how many, per
/// file (relative path). Edits to one file are applied from its end, so earlier offsets stay
/// right; a file that changed since the check (its bytes no longer where the suggestion says)
/// is left alone and named in the error.
///
/// # Errors
///
/// A file that cannot be read or written, or that changed since the check.
///
/// ```no_run
/// let outcome = cargo_mapguard::check(&cargo_mapguard::Options::default()).unwrap();
/// let applied = cargo_mapguard::apply_suggestions(&outcome).unwrap();
/// println!("{} file(s) edited", applied.len());
/// ```
pub fn apply_suggestions(outcome: &Outcome) -> Result<BTreeMap<String, usize>, String> {
    let mut by_file: BTreeMap<&str, Vec<&SuggestionSpan>> = BTreeMap::new();
    for finding in outcome.new_findings() {
        for span in finding.suggestion.iter().flat_map(|s| &s.spans) {
            by_file.entry(&span.file_name).or_default().push(span);
        }
    }
    let mut applied = BTreeMap::new();
    for (file, mut spans) in by_file {
        let path = outcome.root.join(file);
        let mut text =
            std::fs::read_to_string(&path).map_err(|e| format!("cannot read {file}: {e}"))?;
        spans.sort_by_key(|span| std::cmp::Reverse(span.byte_start));
        spans.dedup_by_key(|span| span.byte_start);
        for span in &spans {
            if span.byte_end > text.len()
                || !text.is_char_boundary(span.byte_start)
                || !text.is_char_boundary(span.byte_end)
            {
                return Err(format!(
                    "{file} changed since it was checked: run the check again"
                ));
            }
            text.replace_range(span.byte_start..span.byte_end, &span.suggested_replacement);
        }
        std::fs::write(&path, text).map_err(|e| format!("cannot write {file}: {e}"))?;
        applied.insert(file.to_owned(), spans.len());
    }
    Ok(applied)
}
