//! Collects every error of an item, so one compile shows them all (as serde_derive does).

use quote::ToTokens;
use std::fmt::Display;

/// Every error of an item, in the order found. Must end in [`finish`](Self::finish): dropping
/// it unchecked is a bug in this crate, caught by a panic in its tests (as serde_derive's
/// `Ctxt` does).
pub(crate) struct Errors {
    errors: Option<Vec<syn::Error>>,
}

impl Default for Errors {
    fn default() -> Self {
        Self {
            errors: Some(Vec::new()),
        }
    }
}

impl Errors {
    fn list(&mut self) -> &mut Vec<syn::Error> {
        self.errors
            .as_mut()
            .expect("mapguard-macros: errors used after `finish`")
    }

    pub(crate) fn spanned(&mut self, tokens: impl ToTokens, message: impl Display) {
        self.list().push(syn::Error::new_spanned(tokens, message));
    }

    pub(crate) fn at(&mut self, span: proc_macro2::Span, message: impl Display) {
        self.list().push(syn::Error::new(span, message));
    }

    pub(crate) fn push(&mut self, error: syn::Error) {
        self.list().push(error);
    }

    /// All errors as one, or `Ok` if there were none.
    pub(crate) fn finish(mut self) -> Result<(), syn::Error> {
        let mut errors = self.errors.take().unwrap_or_default().into_iter();
        let Some(mut combined) = errors.next() else {
            return Ok(());
        };
        for error in errors {
            combined.combine(error);
        }
        Err(combined)
    }
}

impl Drop for Errors {
    fn drop(&mut self) {
        assert!(
            self.errors.is_none() || std::thread::panicking(),
            "mapguard-macros: errors dropped without `finish`"
        );
    }
}

/// The one duplicate rule every attribute follows: a key given twice is an error at its
/// second use, and the first one stands.
#[derive(Default)]
pub(crate) struct Keys {
    /// Each key given, with where.
    seen: Vec<(String, proc_macro2::Span)>,
}

impl Keys {
    /// Records `key`; `false` (with the error reported) if it was already given.
    pub(crate) fn first(&mut self, key: &str, at: &impl ToTokens, errors: &mut Errors) -> bool {
        if self.contains(key) {
            errors.spanned(
                at,
                format!("duplicate key `{key}`: it is already set above"),
            );
            false
        } else {
            let span = syn::spanned::Spanned::span(&at.to_token_stream());
            self.seen.push((key.to_owned(), span));
            true
        }
    }

    pub(crate) fn contains(&self, key: &str) -> bool {
        self.span_of(key).is_some()
    }

    /// Where `key` was given, if it was.
    pub(crate) fn span_of(&self, key: &str) -> Option<proc_macro2::Span> {
        self.seen
            .iter()
            .find(|(seen, _)| seen == key)
            .map(|&(_, span)| span)
    }
}

/// The closest candidate by edit distance, if it is close enough to be a likely typo.
pub(crate) fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|candidate| (edit_distance(word, candidate), *candidate))
        .filter(|(distance, candidate)| *distance <= (candidate.len() / 3).max(1))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// Levenshtein distance; inputs are attribute keys and lifetime names, a few bytes long.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

/// " (did you mean `x`?)" or nothing.
pub(crate) fn suggestion(word: &str, candidates: &[&str]) -> String {
    did_you_mean(word, candidates)
        .map(|best| format!(" (did you mean `{best}`?)"))
        .unwrap_or_default()
}

/// "`a`, `b`, `c`"
pub(crate) fn list(candidates: &[&str]) -> String {
    candidates
        .iter()
        .map(|c| format!("`{c}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_words_only() {
        assert_eq!(
            did_you_mean("requset", &["request", "session"]),
            Some("request")
        );
        assert_eq!(did_you_mean("maxsize", &["max", "ttl"]), None);
        assert_eq!(did_you_mean("mx", &["max", "ttl"]), Some("max"));
        assert_eq!(did_you_mean("hourly", &["request", "session"]), None);
    }
}
