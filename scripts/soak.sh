#!/usr/bin/env bash
# Soak test for the concurrent maps: 8 threads of random operations, some hooks panicking.
# Usage: scripts/soak.sh [seconds]   (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
SOAK_SECONDS="${1:-60}" cargo test --release -p mapguard-tests --test soak -- --ignored --nocapture
