//! Criterion benchmarks of the hot operations, `LruMap` beside the fastest peers and the raw
//! map. `cargo bench -p mapguard-bench`. For the full side-by-side tables, run the `compare`
//! binary instead.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use mapguard_bench::{
    HookedLru, Keys, LruCrate, LruMapU64, Raw, Schnellru, Subject, Workload, time,
};

const MAX: usize = 10_000;

fn get_hit<S: Subject>(c: &mut Criterion, keys: &Keys) {
    let mut map = S::with_max(keys.max);
    for k in 0..keys.max as u64 {
        map.insert(k, k);
    }
    let mut cursor = keys.shuffled.iter().cycle();
    c.bench_with_input(BenchmarkId::new("get_hit", S::NAME), &(), |b, ()| {
        b.iter(|| map.get(black_box(*cursor.next().unwrap_or(&0))));
    });
}

fn zipf<S: Subject>(c: &mut Criterion, keys: &Keys) {
    let mut map = S::with_max(keys.max);
    let mut cursor = keys.zipf_099.iter().cycle();
    c.bench_with_input(
        BenchmarkId::new("get_or_insert_zipf_0.99", S::NAME),
        &(),
        |b, ()| {
            b.iter(|| {
                let k = *cursor.next().unwrap_or(&0);
                map.get_or_insert(black_box(k), k)
            });
        },
    );
}

fn operations(c: &mut Criterion) {
    let keys = Keys::new(MAX, 1 << 16);
    macro_rules! both {
        ($S:ty) => {
            get_hit::<$S>(c, &keys);
            zipf::<$S>(c, &keys);
        };
    }
    both!(LruMapU64);
    both!(HookedLru);
    both!(LruCrate);
    both!(Schnellru);
    both!(Raw);
    // Keep the whole-workload timer exercised too, so `compare` and criterion agree on code.
    black_box(time::<LruMapU64>(Workload::Fill, &keys, 1));
}

criterion_group!(benches, operations);
criterion_main!(benches);
