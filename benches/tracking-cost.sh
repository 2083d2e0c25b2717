#!/usr/bin/env bash
# What per-map counters and the registry cost: builds `compare` with and without the
# `tracking` feature and counts instructions (callgrind) for LruMap on each workload.
# Instruction counts repeat exactly and do not depend on what else the machine runs, as
# wall-clock times of two separate processes would. Needs valgrind.
set -euo pipefail
# One codegen unit: with the default sixteen, which functions share a unit (and so can be
# inlined into each other) shifts with unrelated items, moving counts by a few percent.
export CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "tracking-cost: valgrind is needed" >&2; exit 1; }

out=$(mktemp -d)
cargo build --release -q -p mapguard-bench --no-default-features --bin compare
cp target/release/compare "$out/off"
cargo build --release -q -p mapguard-bench --bin compare
cp target/release/compare "$out/on"

count() { # build workload size
    valgrind --tool=callgrind --callgrind-out-file="$out/cg" --toggle-collect='*mapguard_bench::time*' \
        "$out/$1" --sizes "$3" --ops 100000 --reps 1 --only "mapguard LruMap" --workloads "$2" \
        --json /dev/null 2>&1 | awk '/Collected/ {print $NF}'
}


echo "| workload | instructions, tracking off | tracking on | on / off |"
echo "|---|---:|---:|---:|"
# Fill and remove-all create a map per run: at 1k entries the one-time registration weighs
# in; at 100k the per-operation cost shows.
for run in fill:1000 fill:100000 get_hit:1000 zipf_0.99:1000 zipf_1.2:1000 churn:1000 \
    remove_all:1000 remove_all:100000; do
    workload=${run%%:*}
    size=${run##*:}
    off=$(count off "$workload" "$size")
    on=$(count on "$workload" "$size")
    awk -v w="$workload ($size)" -v off="$off" -v on="$on" \
        'BEGIN { printf "| %s | %d | %d | %.3f |\n", w, off, on, on / off }'
done
rm -rf "$out"
