//! Loading into a shared map, beside moka's `get_with` and quick_cache's
//! `get_or_insert_with`, in one process (ratios; absolute rates on shared machines are noise):
//!
//! - **hit path**: `get_or_insert_with` on present keys, against each map's own `get` (ours
//!   must stay within 5% of `ConcurrentLruMap::get`);
//! - **other keys while slow loads run**: a reader thread's get/insert rate on present keys,
//!   alone and while loader threads keep missing keys whose loads each take `--load-micros`
//!   (the goal: ours not below quick_cache's). One reader: with two on these 2-core machines
//!   the rates of every map swing by 2-3x between runs with how the threads share the cores.
//!   Rates drift with whatever else the machine runs, so the maps take turns in short slices
//!   (`--rounds` rounds, each map in turn, the order rotating), and each map's ratio to
//!   quick_cache is the median of its per-round ratios: runs a fraction of a second apart.
//!
//! `cargo run --release -p mapguard-bench --bin loading [-- --ops N --reps R --rounds N --load-micros U]`

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use mapguard::ConcurrentMap;
use mapguard::policy::{Adaptive, Lru};
use mapguard_bench::Hasher;

const KEYS: u64 = 10_000;
const READERS: usize = 1;
const LOADERS: usize = 2;
/// How long each map runs in a round, alone and again while loads run.
const SLICE: Duration = Duration::from_millis(60);

/// The options: `--ops`, `--reps`, `--rounds`, `--load-micros`.
struct Options {
    ops: u64,
    reps: usize,
    rounds: usize,
    load: Duration,
}

fn options() -> Options {
    let mut options = Options {
        ops: 2_000_000,
        reps: 5,
        rounds: 60,
        load: Duration::from_micros(500),
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let value = pair.get(1).map(String::as_str).unwrap_or_default();
        let number = || {
            value.parse::<u64>().unwrap_or_else(|_| {
                eprintln!("loading: {} takes a number, not {value:?}", pair[0]);
                std::process::exit(2)
            })
        };
        match pair[0].as_str() {
            "--ops" => options.ops = number(),
            "--reps" => options.reps = usize::try_from(number()).unwrap_or(1).max(1),
            "--rounds" => options.rounds = usize::try_from(number()).unwrap_or(1).max(1),
            "--load-micros" => options.load = Duration::from_micros(number()),
            other => {
                eprintln!(
                    "loading: unknown option {other}; use --ops, --reps, --rounds, --load-micros"
                );
                std::process::exit(2)
            }
        }
    }
    options
}

/// A map under test: present-key lookups and loads, through `&self`.
trait Subject: Send + Sync {
    fn name(&self) -> &'static str;
    fn get(&self, key: u64) -> Option<u64>;
    fn insert(&self, key: u64, value: u64);
    fn load(&self, key: u64, load: &dyn Fn() -> u64) -> u64;
}

/// A concurrent map of ours, of any policy.
struct Ours<P: mapguard::policy::Evicting>(mapguard::ConcurrentMap<u64, u64, P, Hasher>);
struct Quick(quick_cache::sync::Cache<u64, u64, quick_cache::UnitWeighter, Hasher>);
struct Moka(moka::sync::Cache<u64, u64, Hasher>);

impl<P: mapguard::policy::Evicting> Subject for Ours<P> {
    fn name(&self) -> &'static str {
        if P::NAME == "lru" {
            "mapguard ConcurrentLruMap"
        } else {
            "mapguard ConcurrentAdaptiveMap"
        }
    }
    fn get(&self, key: u64) -> Option<u64> {
        self.0.get(&key)
    }
    fn insert(&self, key: u64, value: u64) {
        self.0.insert(key, value);
    }
    fn load(&self, key: u64, load: &dyn Fn() -> u64) -> u64 {
        self.0.get_or_insert_with(key, load)
    }
}

impl Subject for Quick {
    fn name(&self) -> &'static str {
        "quick_cache sync::Cache"
    }
    fn get(&self, key: u64) -> Option<u64> {
        self.0.get(&key)
    }
    fn insert(&self, key: u64, value: u64) {
        self.0.insert(key, value);
    }
    fn load(&self, key: u64, load: &dyn Fn() -> u64) -> u64 {
        match self.0.get_or_insert_with(&key, || Ok::<_, ()>(load())) {
            Ok(value) => value,
            Err(()) => unreachable!("the load never fails"),
        }
    }
}

impl Subject for Moka {
    fn name(&self) -> &'static str {
        "moka sync::Cache"
    }
    fn get(&self, key: u64) -> Option<u64> {
        self.0.get(&key)
    }
    fn insert(&self, key: u64, value: u64) {
        self.0.insert(key, value);
    }
    fn load(&self, key: u64, load: &dyn Fn() -> u64) -> u64 {
        self.0.get_with(key, load)
    }
}

fn subjects(capacity: u64) -> Vec<Arc<dyn Subject>> {
    let size = usize::try_from(capacity).expect("fits");
    vec![
        Arc::new(Ours::<Lru>(
            ConcurrentMap::builder(size)
                .hasher(Hasher::default())
                .build(),
        )),
        Arc::new(Ours::<Adaptive>(
            ConcurrentMap::builder(size)
                .hasher(Hasher::default())
                .build(),
        )),
        Arc::new(Quick(quick_cache::sync::Cache::with(
            size,
            capacity,
            quick_cache::UnitWeighter,
            Hasher::default(),
            quick_cache::sync::DefaultLifecycle::default(),
        ))),
        Arc::new(Moka(
            moka::sync::Cache::builder()
                .max_capacity(capacity)
                .build_with_hasher(Hasher::default()),
        )),
    ]
}

/// Nanoseconds per operation of `op` over `ops` present keys, the best of `reps`.
fn per_op(ops: u64, reps: usize, op: &dyn Fn(u64) -> u64) -> f64 {
    (0..reps)
        .map(|_| {
            let start = Instant::now();
            let mut sum = 0;
            for i in 0..ops {
                sum += op(i % KEYS);
            }
            black_box(sum);
            start.elapsed().as_nanos() as f64 / ops as f64
        })
        .fold(f64::INFINITY, f64::min)
}

/// Reader operations per second on present keys over `run`, while `loaders` threads keep
/// missing keys whose loads each take `load`.
fn reads_during_loads(
    map: &Arc<dyn Subject>,
    loaders: usize,
    load: Duration,
    run: Duration,
) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicU64::new(0));
    let next_miss = Arc::new(AtomicU64::new(KEYS));
    let mut threads = Vec::new();
    for _ in 0..loaders {
        let (map, stop, next_miss) = (Arc::clone(map), Arc::clone(&stop), Arc::clone(&next_miss));
        threads.push(std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                // Absent keys, each loaded once; evicting old ones keeps the map at its bound.
                let key = next_miss.fetch_add(1, Ordering::Relaxed);
                black_box(map.load(key, &|| {
                    std::thread::sleep(load);
                    key
                }));
            }
        }));
    }
    for reader in 0..READERS {
        let (map, stop, reads) = (Arc::clone(map), Arc::clone(&stop), Arc::clone(&reads));
        threads.push(std::thread::spawn(move || {
            let mut done = 0_u64;
            let mut key = reader as u64;
            while !stop.load(Ordering::Relaxed) {
                for _ in 0..256 {
                    key = (key + 7) % KEYS;
                    if key % 8 == 0 {
                        map.insert(key, key);
                    } else {
                        black_box(map.get(key));
                    }
                }
                done += 256;
            }
            reads.fetch_add(done, Ordering::Relaxed);
        }));
    }
    std::thread::sleep(run);
    stop.store(true, Ordering::Relaxed);
    for thread in threads {
        thread.join().expect("a benchmark thread panicked");
    }
    reads.load(Ordering::Relaxed) as f64 / run.as_secs_f64()
}

fn main() {
    let options = options();
    // Room for the present keys and the loaders' misses, so present keys stay present.
    let capacity = KEYS * 4;
    println!(
        "## Hit path: ns per lookup of a present key (best of {} reps of {} ops)",
        options.reps, options.ops
    );
    println!("| map | get | get_or_insert_with (hit) | ratio |");
    println!("|---|---:|---:|---:|");
    for map in subjects(capacity) {
        for key in 0..KEYS {
            map.insert(key, key);
        }
        let get = per_op(options.ops, options.reps, &|key| map.get(key).unwrap_or(0));
        let load = per_op(options.ops, options.reps, &|key| {
            map.load(key, &|| unreachable!("present"))
        });
        println!(
            "| {} | {get:.1} | {load:.1} | {:.3} |",
            map.name(),
            load / get
        );
    }
    println!();
    println!(
        "## Other keys while slow loads run: reader ops/s, the median of {} rounds of {} ms slices ({READERS} readers; {LOADERS} loaders, {} µs per load)",
        options.rounds,
        SLICE.as_millis(),
        options.load.as_micros()
    );
    println!(
        "| map | no loads | while loading | kept | while loading, vs quick_cache (median of per-round ratios) |"
    );
    println!("|---|---:|---:|---:|---:|");
    let median = |mut rates: Vec<f64>| {
        rates.sort_by(f64::total_cmp);
        rates[rates.len() / 2]
    };
    let maps = subjects(capacity);
    for map in &maps {
        for key in 0..KEYS {
            map.insert(key, key);
        }
    }
    let quick = maps
        .iter()
        .position(|map| map.name().starts_with("quick_cache"))
        .expect("quick_cache is a subject");
    // Rates per map per round, `(alone, while loading)`. Every round runs every map in turn
    // (starting with a different one each round), so a ratio to quick_cache is taken between
    // runs a fraction of a second apart, which saw the same machine.
    let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new(); maps.len()];
    for round in 0..options.rounds {
        for turn in 0..maps.len() {
            let at = (round + turn) % maps.len();
            let alone = reads_during_loads(&maps[at], 0, options.load, SLICE);
            let loading = reads_during_loads(&maps[at], LOADERS, options.load, SLICE);
            runs[at].push((alone, loading));
        }
    }
    for (map, own) in maps.iter().zip(&runs) {
        let alone = median(own.iter().map(|run| run.0).collect());
        let loading = median(own.iter().map(|run| run.1).collect());
        let vs_quick = median(
            own.iter()
                .zip(&runs[quick])
                .map(|(ours, theirs)| ours.1 / theirs.1)
                .collect(),
        );
        println!(
            "| {} | {alone:.0} | {loading:.0} | {:.2} | {vs_quick:.2} |",
            map.name(),
            loading / alone,
        );
    }
}
