#!/usr/bin/env bash
# Renders report.html to PNG with headless Chromium, as a reader would see it.
# Usage: scripts/render-report.sh out/report.html [out/report.png] [width]
# Needs Debian's chromium (apt-get install chromium).
set -euo pipefail
html=${1:?report.html}
png=${2:-${html%.html}.png}
width=${3:-1280}
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "chromium not found (apt-get install chromium)" >&2; exit 1; }
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
# No network: the report must render offline; background features would only try to reach out.
"$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --hide-scrollbars --window-size="$width,${HEIGHT:-6000}" \
  --screenshot="$(realpath -m "$png")" "file://$(realpath "$html")" >/dev/null 2>&1
echo "$png"
