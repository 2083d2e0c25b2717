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
    /// Capacities to replay at.
    pub capacities: Vec<usize>,
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
fn capacities_for(name: &str, keys: &[Key]) -> Vec<usize> {
    if name.contains("OLTP") {
        vec![1_000, 8_000]
    } else if name.starts_with("arc-P") {
        vec![32_768, 262_144]
    } else {
        let distinct = keys.iter().collect::<std::collections::HashSet<_>>().len();
        vec![(distinct / 10).max(1), (distinct * 2 / 5).max(1)]
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
    let capacities = vec![SPACE as usize / 100, SPACE as usize / 10];
    let mut traces: Vec<Trace> = [0.9, 0.99, 1.2]
        .into_iter()
        .map(|exponent| Trace {
            name: format!("zipf-{exponent}"),
            keys: zipf(exponent, REQUESTS),
            capacities: capacities.clone(),
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
        capacities: capacities.clone(),
    });
    traces.push(Trace {
        name: String::from("recency"),
        keys: recency(&mut rng, REQUESTS),
        capacities: capacities.clone(),
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

/// The wider benchmark's generated families: each from its own seed, each at capacities
/// on both sides of what its pattern needs, so a policy is tried on shapes it was not tuned on.
///
/// - `loop`: one key range walked again and again, longer and shorter than the map;
/// - `sweeps`: a range walked up, then down, over and over (a nested-loop join that reverses its
///   inner scan: LRU keeps the end of each sweep, which the next asks for first);
/// - `zipf+loop`: Zipf 0.9 requests with a repeating scan over a fixed range mixed in;
/// - `shifting-half`: a Zipf hot set where half the keys change every phase, and what was cold
///   becomes hot;
/// - `stack-depth`: requests drawn by LRU stack distance (Zipf over depth, 5% new keys), the
///   classic generator of recency-friendly traces;
/// - `one-hit-bursts`: Zipf 0.99 with bursts of keys asked for once, of random length.
///
/// # Panics
///
/// Never: the Zipf parameters are constants that `rand_distr` accepts.
#[must_use]
pub fn families() -> Vec<Trace> {
    families_of(400_000)
}

/// [`families`], `requests` long each (about: bursts add theirs).
fn families_of(requests: usize) -> Vec<Trace> {
    const LOOP: Key = 10_000;
    const SWEEP: Key = 10_000;
    let seeded = |seed: u64| StdRng::seed_from_u64(seed);
    let mut traces = Vec::new();

    traces.push(Trace {
        name: format!("loop-{LOOP}"),
        keys: (0..LOOP).cycle().take(requests).collect(),
        capacities: vec![2_500, 5_000, 9_000, 12_000],
    });

    let sweeps: Vec<Key> = (0..SWEEP)
        .chain((0..SWEEP).rev())
        .cycle()
        .take(requests)
        .collect();
    traces.push(Trace {
        name: format!("sweeps-{SWEEP}"),
        keys: sweeps,
        capacities: vec![2_500, 5_000, 7_500],
    });

    let mut rng = seeded(0x6c6f_6f70);
    let zipf = Zipf::new(20_000.0, 0.9).expect("valid Zipf parameters");
    let mut scan = (1_000_000..1_008_000).cycle();
    let mixed = (0..requests)
        .map(|at| {
            if at % 3 == 2 {
                scan.next().unwrap_or_default()
            } else {
                sample(&zipf, &mut rng)
            }
        })
        .collect();
    traces.push(Trace {
        name: String::from("zipf+loop"),
        keys: mixed,
        capacities: vec![2_000, 5_000, 10_000],
    });

    let mut rng = seeded(0x7368_6966);
    let zipf = Zipf::new(5_000.0, 0.9).expect("valid Zipf parameters");
    let shifting = (0..requests)
        .map(|at| sample(&zipf, &mut rng) + 2_500 * (at / 20_000) as Key)
        .collect();
    traces.push(Trace {
        name: String::from("shifting-half"),
        keys: shifting,
        capacities: vec![500, 2_000, 4_000],
    });

    traces.push(Trace {
        name: String::from("stack-depth"),
        keys: stack_depth(&mut seeded(0x7374_6163), requests),
        capacities: vec![1_500, 3_000, 6_000],
    });

    let mut rng = seeded(0x6275_7273);
    let zipf = Zipf::new(50_000.0, 0.99).expect("valid Zipf parameters");
    let mut bursts = Vec::with_capacity(requests * 2);
    let mut fresh: Key = 1 << 40;
    while bursts.len() < requests {
        if rng.random_range(0..2_000) == 0 {
            let length = rng.random_range(100..5_000);
            bursts.extend(fresh..fresh + length);
            fresh += length;
        }
        bursts.push(sample(&zipf, &mut rng));
    }
    traces.push(Trace {
        name: String::from("one-hit-bursts"),
        keys: bursts,
        capacities: vec![500, 2_500, 5_000],
    });
    traces
}

#[allow(
    clippy::cast_sign_loss,
    clippy::cast_possible_truncation,
    reason = "Zipf samples are whole numbers from 1"
)]
fn sample(zipf: &Zipf<f64>, rng: &mut StdRng) -> Key {
    zipf.sample(rng) as Key
}

/// Requests by LRU stack distance: 5% are new keys; the rest ask for the key at a depth drawn
/// from Zipf 0.8 over 20,000 (depth 1 the most recent), which then moves to the top.
fn stack_depth(rng: &mut StdRng, requests: usize) -> Vec<Key> {
    let depth = Zipf::new(20_000.0, 0.8).expect("valid Zipf parameters");
    // Most recent last, so a hit moves the shorter tail of the vector.
    let mut stack: Vec<Key> = Vec::new();
    let mut next: Key = 0;
    (0..requests)
        .map(|_| {
            let wanted = usize::try_from(sample(&depth, rng)).unwrap_or(usize::MAX);
            if stack.is_empty() || wanted > stack.len() || rng.random_range(0..20) == 0 {
                next += 1;
                stack.push(next);
                next
            } else {
                let key = stack.remove(stack.len() - wanted);
                stack.push(key);
                key
            }
        })
        .collect()
}

/// Bélády's optimum (MIN): the hit ratio of a cache of `capacity` that always stores a missed
/// key and evicts the key asked for again furthest in the future (never, first). An upper
/// bound for any policy that admits every miss. O(n log capacity).
#[must_use]
pub fn optimal_hit_ratio(keys: &[Key], capacity: usize) -> f64 {
    use std::collections::{BinaryHeap, HashMap};
    if capacity == 0 || keys.is_empty() {
        return 0.0;
    }
    // next_use[i]: where keys[i] is asked for again (usize::MAX: never).
    let mut next_use = vec![usize::MAX; keys.len()];
    let mut seen: HashMap<Key, usize> = HashMap::new();
    for (at, key) in keys.iter().enumerate().rev() {
        if let Some(later) = seen.insert(*key, at) {
            next_use[at] = later;
        }
    }
    drop(seen);
    // Cached key -> its next use; the heap holds (next use, key), stale pairs skipped.
    let mut cached: HashMap<Key, usize> = HashMap::with_capacity(capacity + 1);
    let mut furthest: BinaryHeap<(usize, Key)> = BinaryHeap::new();
    let mut hits = 0usize;
    for (at, &key) in keys.iter().enumerate() {
        if cached.contains_key(&key) {
            hits += 1;
        } else if cached.len() == capacity {
            while let Some((when, victim)) = furthest.pop() {
                if cached.get(&victim) == Some(&when) {
                    cached.remove(&victim);
                    break;
                }
            }
        }
        cached.insert(key, next_use[at]);
        furthest.push((next_use[at], key));
        // Stale pairs pile up with hits; rebuild when they dominate.
        if furthest.len() > 4 * capacity + 64 {
            furthest = cached.iter().map(|(&k, &when)| (when, k)).collect();
        }
    }
    hits as f64 / keys.len() as f64
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

    /// MIN the slow way: at each miss of a full cache, scan ahead for every cached key.
    fn optimal_by_scanning(keys: &[Key], capacity: usize) -> usize {
        let mut cached: Vec<Key> = Vec::new();
        let mut hits = 0;
        for (at, key) in keys.iter().enumerate() {
            if cached.contains(key) {
                hits += 1;
                continue;
            }
            if cached.len() == capacity {
                let next = |k: &Key| {
                    keys[at + 1..]
                        .iter()
                        .position(|x| x == k)
                        .unwrap_or(usize::MAX)
                };
                let victim = (0..cached.len())
                    .max_by_key(|&i| next(&cached[i]))
                    .unwrap_or(0);
                cached.swap_remove(victim);
            }
            cached.push(*key);
        }
        hits
    }

    #[test]
    fn the_optimum_evicts_what_is_asked_for_furthest_away() {
        // 1 2 3 1 2 4 1 2 with two slots: 3 displaces 2 (asked for after 1), 1 hits, 2
        // displaces 3 (never again), 4 displaces 2, 1 hits; LRU hits nothing.
        let keys = [1, 2, 3, 1, 2, 4, 1, 2];
        assert!((optimal_hit_ratio(&keys, 2) - 2.0 / 8.0).abs() < 1e-9);
        assert!(hit_ratio::<crate::LruMapU64>(&keys, 2).abs() < 1e-9);
        // Against the slow way on seeded random traces, across capacities.
        let mut rng = StdRng::seed_from_u64(46);
        for round in 0..40 {
            let keys: Vec<Key> = (0..400).map(|_| rng.random_range(0..30)).collect();
            let capacity = 1 + round % 12;
            let expected = optimal_by_scanning(&keys, capacity) as f64 / keys.len() as f64;
            assert!(
                (optimal_hit_ratio(&keys, capacity) - expected).abs() < 1e-12,
                "round {round}"
            );
        }
    }

    #[test]
    fn the_families_are_the_same_on_every_run() {
        // Shorter than the benchmark's (the generators are the same), so debug builds run it
        // quickly.
        let first = families_of(20_000);
        let again = families_of(20_000);
        assert_eq!(first.len(), again.len());
        for (a, b) in first.iter().zip(&again) {
            assert_eq!((&a.name, &a.keys), (&b.name, &b.keys));
        }
        let sweeps = first
            .iter()
            .find(|t| t.name.starts_with("sweeps"))
            .expect("sweeps");
        assert_eq!(&sweeps.keys[9_998..10_002], [9_998, 9_999, 9_999, 9_998]);
    }

    #[test]
    fn a_loop_larger_than_the_cache_never_hits_under_lru() {
        let keys: Vec<Key> = (0..10).cycle().take(1_000).collect();
        assert!(hit_ratio::<crate::LruMapU64>(&keys, 5).abs() < f64::EPSILON);
        assert!((hit_ratio::<crate::LruMapU64>(&keys, 10) - 0.99).abs() < 1e-9);
    }
}
