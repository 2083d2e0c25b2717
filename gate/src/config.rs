//! `[workspace.metadata.mapguard]` and `[package.metadata.mapguard]`:
//!
//! ```toml
//! [workspace.metadata.mapguard]
//! # More map types, by name (the last path segment), beside the built-in list.
//! maps = ["SkipMap", "Registry"]
//! # Findings to accept, each with its reason: by item, by file (a path or a folder ending
//! # in `/`, relative to the workspace root), or both.
//! allow = [
//!     { item = "Model.entries", reason = "the test model: a plain map on purpose" },
//!     { file = "benches/", reason = "benchmarks compare against plain maps" },
//! ]
//! ```

use crate::{Error, Finding};

#[derive(Clone, Debug, Default)]
pub(crate) struct Config {
    pub(crate) maps: Vec<String>,
    allow: Vec<Allow>,
}

#[derive(Clone, Debug)]
struct Allow {
    item: Option<String>,
    file: Option<String>,
}

impl Config {
    /// Reads the `mapguard` table of a `metadata` value; `table` names it in errors.
    pub(crate) fn from_metadata(
        metadata: Option<&serde_json::Value>,
        table: &str,
    ) -> Result<Self, Error> {
        let Some(section) = metadata.and_then(|m| m.get("mapguard")) else {
            return Ok(Self::default());
        };
        let invalid = |what: &str| Error(format!("{table}: {what}"));
        let mut config = Self::default();
        if let Some(maps) = section.get("maps") {
            let maps = maps
                .as_array()
                .ok_or_else(|| invalid("`maps` must be an array of type names"))?;
            for map in maps {
                let name = map
                    .as_str()
                    .ok_or_else(|| invalid("`maps` must be an array of type names"))?;
                // `path::to::Type` names the same type as `Type`: only the last segment counts.
                let last = name.rsplit("::").next().unwrap_or(name).trim();
                config.maps.push(last.to_owned());
            }
        }
        if let Some(allow) = section.get("allow") {
            let entries = allow.as_array().ok_or_else(|| {
                invalid("`allow` must be an array of { item = \"...\", reason = \"...\" }")
            })?;
            for entry in entries {
                let field = |key: &str| entry.get(key).and_then(serde_json::Value::as_str);
                let reason = field("reason").unwrap_or("").trim();
                let item = field("item").map(str::to_owned);
                let file = field("file").map(str::to_owned);
                if item.is_none() && file.is_none() {
                    return Err(invalid(
                        "each `allow` entry names an `item` (`Struct.field`, `STATIC`) or a `file`",
                    ));
                }
                if reason.is_empty() {
                    let what = item.as_deref().or(file.as_deref()).unwrap_or_default();
                    return Err(invalid(&format!(
                        "the `allow` entry for `{what}` needs a `reason`, so reviewers know why \
                         this map may grow"
                    )));
                }
                config.allow.push(Allow { item, file });
            }
        }
        Ok(config)
    }

    /// Whether an `allow` entry accepts `finding` (its `file` still relative to the package
    /// or workspace root as given).
    pub(crate) fn allows(&self, finding: &Finding) -> bool {
        self.allow.iter().any(|allow| {
            allow.item.as_ref().is_none_or(|item| *item == finding.item)
                && allow.file.as_ref().is_none_or(|file| {
                    finding.file == *file
                        || (file.ends_with('/') && finding.file.starts_with(file.as_str()))
                })
        })
    }
}
