#!/usr/bin/env bash
# Takes a screenshot of the operator's page (`registry::render_html`, served by
# `mapguard::tower::RegistryService`) from the running service example, in headless Chromium.
# Usage: bash scripts/screenshot.sh [OUT.png]   (default: docs/operator-page.png)
# Needs Debian's `chromium` package; installs it with apt-get when run as root and missing.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/operator-page.png}

browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "screenshot: installing Debian's chromium package" >&2
        apt-get install -y -q chromium >/dev/null
        browser=$(command -v chromium)
    else
        echo "screenshot: needs Chromium (Debian: apt-get install chromium)" >&2
        exit 1
    fi
fi

cargo build --release -q --example service
log=$(mktemp)
# The example runs its rounds, then keeps serving the page for the seconds given.
./target/release/examples/service --serve 60 >"$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -f "$log"' EXIT
url=""
for _ in $(seq 1 120); do
    url=$(sed -n 's/^serving \(http:[^ ]*\) .*/\1/p' "$log")
    [ -n "$url" ] && break
    kill -0 "$server" 2>/dev/null || { cat "$log" >&2; echo "screenshot: the example stopped" >&2; exit 1; }
    sleep 1
done
[ -n "$url" ] || { echo "screenshot: the example never started serving" >&2; exit 1; }
case "$url" in
    http://127.0.0.1:*) ;;
    *) echo "screenshot: unexpected address $url" >&2; exit 1 ;;
esac

mkdir -p "$(dirname "$out")"
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --window-size=1400,600 --screenshot="$PWD/$out" "$url" 2>/dev/null
echo "screenshot: $url -> $out"
