//! Hit ratios on recorded cache traces and on synthetic ones: every candidate replays the same
//! request sequence at the same capacity, get-or-insert per request.
//!
//! Recorded traces are read from a directory given on the command line (see
//! `shared/traces/README.md` for the files and their citation conditions): ARC `.lis` files
//! (`start count ...` per line, standing for keys `start..start+count`) compressed with zstd,
//! and LIRS `.trace` files (one integer key per line, other lines skipped) compressed with gzip.

use std::io::Read;
use std::path::Path;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Zipf};

use crate::{Key, Subject};

/// One request sequence and the capacities to replay it at.
#[derive(Debug)]
pub struct Trace {
    /// File or generator name.
    pub name: String,
    /// The requested keys, in order.
    pub keys: Vec<Key>,
    /// Capacities to replay at (two per trace).
    pub capacities: [usize; 2],
}

/// Reads every known trace file in `dir`, in name order. Files of unknown format are skipped.
///
/// # Errors
///
/// When the directory cannot be read, or a known file cannot be read or decompressed.
pub fn read_dir(dir: &Path) -> Result<Vec<Trace>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut paths: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    paths.sort();
    let mut traces = Vec::new();
    for path in paths {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        let keys = if name.ends_with(".lis.zst") {
            arc_keys(&decompress_zstd(&path)?)
        } else if name.ends_with(".trace.gz") {
            lirs_keys(&decompress_gzip(&path)?)
        } else {
            continue;
        };
        let capacities = capacities_for(&name, &keys);
        traces.push(Trace {
            name: name
                .trim_end_matches(".zst")
                .trim_end_matches(".gz")
                .to_owned(),
            keys,
            capacities,
        });
    }
    Ok(traces)
}

fn decompress_zstd(path: &Path) -> Result<String, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut decoder = ruzstd::decoding::StreamingDecoder::new(std::io::BufReader::new(file))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let mut text = String::new();
    decoder
        .read_to_string(&mut text)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(text)
}

fn decompress_gzip(path: &Path) -> Result<String, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::io::BufReader::new(file))
        .read_to_string(&mut text)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(text)
}

/// ARC `.lis`: `start count ignored ignored` stands for `start, start+1, ..., start+count-1`.
fn arc_keys(text: &str) -> Vec<Key> {
    let mut keys = Vec::new();
    for line in text.lines() {
        let mut fields = line.split_whitespace();
        let (Some(Ok(start)), Some(Ok(count))) = (
            fields.next().map(str::parse::<Key>),
            fields.next().map(str::parse::<Key>),
        ) else {
            continue;
        };
        keys.extend(start..start.saturating_add(count));
    }
    keys
}

/// LIRS `.trace`: one key per line; lines that are not integers (`*`) are skipped.
fn lirs_keys(text: &str) -> Vec<Key> {
    text.lines()
        .filter_map(|line| line.trim().parse::<Key>().ok())
        .collect()
}

/// The capacities `shared/traces/README.md` suggests: OLTP 1,000 and 8,000; P-series 32,768
/// and 262,144; otherwise about 10% and 40% of the distinct keys.
fn capacities_for(name: &str, keys: &[Key]) -> [usize; 2] {
    if name.contains("OLTP") {
        [1_000, 8_000]
    } else if name.starts_with("arc-P") {
        [32_768, 262_144]
    } else {
        let distinct = keys.iter().collect::<std::collections::HashSet<_>>().len();
        [(distinct / 10).max(1), (distinct * 2 / 5).max(1)]
    }
}

/// Synthetic traces: Zipf 0.9, 0.99 and 1.2 over 100,000 keys, and Zipf 0.99 mixed with
/// one-pass scans (every 50,000 requests, 20,000 keys never seen before or again); 1,000,000
/// requests each, at 1% and 10% of the key space.
///
/// # Panics
///
/// Never: the Zipf parameters are constants that `rand_distr` accepts.
#[must_use]
pub fn synthetic() -> Vec<Trace> {
    const SPACE: u64 = 100_000;
    const REQUESTS: usize = 1_000_000;
    let mut rng = StdRng::seed_from_u64(0x7472_6163_6573);
    let mut zipf = |exponent: f64, requests: usize| -> Vec<Key> {
        let dist = Zipf::new(SPACE as f64, exponent).expect("valid Zipf parameters");
        #[allow(clippy::cast_sign_loss, clippy::cast_possible_truncation)]
        (0..requests)
            .map(|_| dist.sample(&mut rng) as Key)
            .collect()
    };
    let capacities = [SPACE as usize / 100, SPACE as usize / 10];
    let mut traces: Vec<Trace> = [0.9, 0.99, 1.2]
        .into_iter()
        .map(|exponent| Trace {
            name: format!("zipf-{exponent}"),
            keys: zipf(exponent, REQUESTS),
            capacities,
        })
        .collect();
    let base = zipf(0.99, REQUESTS);
    let mut mixed = Vec::with_capacity(REQUESTS + REQUESTS / 50_000 * 20_000);
    let mut next_scan_key = SPACE * 10;
    for (at, key) in base.into_iter().enumerate() {
        if at % 50_000 == 49_999 {
            mixed.extend(next_scan_key..next_scan_key + 20_000);
            next_scan_key += 20_000;
        }
        mixed.push(key);
    }
    traces.push(Trace {
        name: String::from("zipf-0.99+scans"),
        keys: mixed,
        capacities,
    });
    traces.push(Trace {
        name: String::from("recency"),
        keys: recency(&mut rng, REQUESTS),
        capacities,
    });
    traces.push(Trace {
        name: String::from("shifting-set"),
        keys: shifting_set(&mut rng, REQUESTS),
        capacities,
    });
    traces
}

/// Where recency wins: a third of the requests are keys never seen before, the rest ask again
/// for one of the 2,000 newest keys (uniformly), so every key is wanted a few times over a
/// short stretch and then never. Nothing is frequent for long: a policy that waits for
/// frequency before it keeps a key misses what LRU hits (by 20 points and more at 10% of the
/// key space).
fn recency(rng: &mut StdRng, requests: usize) -> Vec<Key> {
    const RECENT: u64 = 2_000;
    let mut newest: Key = 0;
    (0..requests)
        .map(|_| {
            if newest < RECENT || rng.random_range(0..3) == 0 {
                newest += 1;
                newest
            } else {
                newest - rng.random_range(0..RECENT)
            }
        })
        .collect()
}

/// A working set that moves: 5,000 keys asked for by Zipf 0.8 for 50,000 requests, then a
/// set of 5,000 keys never seen before, and so on. What was frequent in the last phase is
/// never asked for again; a policy that trusts old counts keeps it.
fn shifting_set(rng: &mut StdRng, requests: usize) -> Vec<Key> {
    const SET: u64 = 5_000;
    const PHASE: usize = 50_000;
    let dist = Zipf::new(SET as f64, 0.8).expect("valid Zipf parameters");
    (0..requests)
        .map(|at| {
            #[allow(clippy::cast_sign_loss, clippy::cast_possible_truncation)]
            let rank = dist.sample(rng) as Key;
            (at / PHASE) as Key * SET + rank
        })
        .collect()
}

/// Replays `keys` through a fresh `S` of `capacity` entries: get-or-insert per request.
/// Returns hits over requests.
#[must_use]
pub fn hit_ratio<S: Subject>(keys: &[Key], capacity: usize) -> f64 {
    let mut cache = S::with_max(capacity);
    let hits = keys
        .iter()
        .filter(|&&key| cache.get_or_insert(key, key))
        .count();
    hits as f64 / keys.len().max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arc_lines_expand_to_runs_of_keys() {
        assert_eq!(arc_keys("10 3 0 0\n7 1 0 0\nbad line\n"), [10, 11, 12, 7]);
    }

    #[test]
    fn lirs_lines_skip_what_is_not_a_key() {
        assert_eq!(lirs_keys("5\n*\n6\n\n7\n"), [5, 6, 7]);
    }

    #[test]
    fn a_loop_larger_than_the_cache_never_hits_under_lru() {
        let keys: Vec<Key> = (0..10).cycle().take(1_000).collect();
        assert!(hit_ratio::<crate::LruMapU64>(&keys, 5).abs() < f64::EPSILON);
        assert!((hit_ratio::<crate::LruMapU64>(&keys, 10) - 0.99).abs() < 1e-9);
    }
}
