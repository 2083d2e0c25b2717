#!/usr/bin/env bash
# Instructions per workload (callgrind) of this tree's `compare` against another revision's:
# how much a change costs on the compare workloads, for the single-owner maps.
# Usage: bash benches/instructions-vs.sh BASE_REV   (needs valgrind)
# MAPS='"mapguard AdaptiveMap"' bash benches/instructions-vs.sh BASE_REV: only those maps.
# HEAD_FEATURES=mapguard/tracing bash benches/instructions-vs.sh HEAD: this tree built with
# extra features (what a feature costs when nothing listens), against BASE_REV without them.
# Counts repeat exactly and do not depend on what else the machine runs.
set -euo pipefail
# One codegen unit: with the default sixteen, which functions share a unit (and so can be
# inlined into each other) shifts with unrelated items, moving counts by a few percent.
export CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1
cd "$(dirname "$0")/.."
base=${1:?usage: instructions-vs.sh BASE_REV}
command -v valgrind >/dev/null || { echo "instructions-vs: valgrind is needed" >&2; exit 1; }

out=$(mktemp -d)
trap 'git worktree remove --force "$out/base-tree" >/dev/null 2>&1 || true; rm -rf "$out"' EXIT
git worktree add -q --detach "$out/base-tree" "$base"
# Both trees' paths map to one: file names are in the binaries (panic locations, map
# names), and paths of different lengths alone moved counts by up to 1%.
(cd "$out/base-tree" && RUSTFLAGS="--remap-path-prefix=$PWD=/src" CARGO_TARGET_DIR="$out/target" \
    cargo build --release -q -p mapguard-bench --bin compare)
cp "$out/target/release/compare" "$out/base"
RUSTFLAGS="--remap-path-prefix=$PWD=/src" CARGO_TARGET_DIR="$out/target" \
    cargo build --release -q -p mapguard-bench --bin compare ${HEAD_FEATURES:+--features "$HEAD_FEATURES"}
cp "$out/target/release/compare" "$out/head"

count() { # build implementation workload size
    valgrind --tool=callgrind --callgrind-out-file="$out/cg" --toggle-collect='*mapguard_bench::time*' \
        "$out/$1" --sizes "$4" --ops 100000 --reps 1 --only "$2" --workloads "$3" \
        --json /dev/null 2>&1 | awk '/Collected/ {print $NF}'
}

echo "| map | workload | instructions, $base | this tree | ratio |"
echo "|---|---|---:|---:|---:|"
# MAPS="..." (a bash array's words, quoted) picks the maps; by default the three single-owner ones.
maps=("mapguard LruMap" "mapguard BoundedMap" "mapguard AdaptiveMap")
[[ -n "${MAPS:-}" ]] && eval "maps=($MAPS)"
for map in "${maps[@]}"; do
    for run in fill:1000 fill:100000 get_hit:1000 get_hit:100000 zipf_0.99:1000 zipf_0.99:100000 \
        zipf_1.2:100000 churn:1000 remove_all:100000; do
        workload=${run%%:*}
        size=${run##*:}
        before=$(count base "$map" "$workload" "$size")
        after=$(count head "$map" "$workload" "$size")
        awk -v m="$map" -v w="$workload ($size)" -v b="$before" -v a="$after" \
            'BEGIN { printf "| %s | %s | %d | %d | %.3f |\n", m, w, b, a, a / b }'
    done
done
