#!/usr/bin/env bash
# What per-map counters and the registry cost in time: builds `compare` with and without the
# `tracking` feature, then runs the two binaries alternately ROUNDS times per workload and
# keeps each binary's best time (interference only ever slows a run, so the minimum is the
# least disturbed). Complements tracking-cost.sh, whose instruction counts repeat exactly but
# weigh a cheap counter store like a cache-missing probe.
# Usage: bash benches/tracking-time.sh [ROUNDS]   (default 15)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-15}
out=$(mktemp -d)
cargo build --release -q -p mapguard-bench --no-default-features --bin compare
cp target/release/compare "$out/off"
cargo build --release -q -p mapguard-bench --bin compare
cp target/release/compare "$out/on"

best() { # binary workload size -> best ns/op of one run (best of 3 inside)
    "$out/$1" --suite single --sizes "$3" --ops 1000000 --reps 3 --only "mapguard LruMap" \
        --workloads "$2" --json "$out/$1.json" >/dev/null 2>&1
    python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(min(t['ns_per_op'] for t in d['timings'] if t['implementation']=='mapguard LruMap'))" "$out/$1.json"
}

echo "| workload | best ns/op, tracking off | tracking on | on / off |"
echo "|---|---:|---:|---:|"
for run in fill:100000 get_hit:100000 zipf_0.99:100000 churn:100000 remove_all:100000; do
    workload=${run%%:*}
    size=${run##*:}
    off=1e9
    on=1e9
    for _ in $(seq "$rounds"); do
        off=$(python3 -c "print(min($off, $(best off "$workload" "$size")))")
        on=$(python3 -c "print(min($on, $(best on "$workload" "$size")))")
    done
    python3 -c "print(f'| $workload ($size) | {$off:.2f} | {$on:.2f} | {$on/$off:.3f} |')"
done
rm -rf "$out"
