#!/usr/bin/env bash
# Soak: build the demo site in assets/, serve it with the release `assetc serve` on
# 127.0.0.1 (port 0) and drive it with wrk in rounds for SOAK_SECONDS, sampling the server's
# resident memory (VmRSS) after every round. Prints the samples and whether RSS stayed flat:
# the last round's RSS within SOAK_TOLERANCE % of round 2's (round 1 warms up). Exits 1 when
# it did not, when any request failed (socket error or a non-2xx/3xx), or when the server died.
# Not part of `just test`: `just soak` (SOAK_SECONDS=180 just soak for a short one).
#
#   SOAK_SECONDS         total duration [600]
#   SOAK_ROUND_SECONDS   one wrk round [30]
#   SOAK_CONNECTIONS     wrk connections [200]
#   SOAK_TOLERANCE       percent [10]
#   ASSETC_BIN           the binary [target/release/assetc]
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds=${SOAK_SECONDS:-600}
round=${SOAK_ROUND_SECONDS:-30}
connections=${SOAK_CONNECTIONS:-200}
tolerance=${SOAK_TOLERANCE:-10}
bin=${ASSETC_BIN:-target/release/assetc}

command -v wrk >/dev/null || { echo "soak: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
[ -x "$bin" ] || { echo "soak: no $bin; run cargo build --release" >&2; exit 1; }
rounds=$(( seconds / round ))
[ "$rounds" -ge 3 ] || { echo "soak: SOAK_SECONDS must allow at least 3 rounds of ${round}s" >&2; exit 1; }

# Connections on both sides, plus the server's files.
ulimit -n 4096

work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

"$bin" build --input assets --output "$work/build" >/dev/null 2>&1
"$bin" serve --root "$work/build" --bind 127.0.0.1:0 --no-watch 2>"$work/serve.log" &
pid=$!

# Wait (bounded) for the `listening on` line.
addr=""
for _ in $(seq 200); do
  addr=$(sed -n 's/^listening on http:\/\///p' "$work/serve.log" | head -n1)
  [ -n "$addr" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/serve.log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$addr" ] || { echo "soak: the server did not start" >&2; cat "$work/serve.log" >&2; exit 1; }

# Every served path of the build (fingerprinted and entry points).
mapfile -t paths < <(python3 - "$work/build/assetc-manifest.json" <<'EOF'
import json, sys, urllib.parse
for entry in json.load(open(sys.argv[1]))["entries"].values():
    print("/" + urllib.parse.quote(entry["path"]))
EOF
)

rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status"; }

echo "soak: $addr, ${#paths[@]} paths, $rounds rounds of ${round}s, $connections connections"
echo "round  requests  req/s      errors  non-2xx/3xx  RSS (kB)"
printf '%5s  %8s  %-9s  %6s  %11s  %8s\n' 0 - - - - "$(rss)"
samples=()
failed=0
for r in $(seq "$rounds"); do
  json=$(wrk -t2 -c"$connections" -d"${round}s" --timeout 10s -s tests/hostile/load.lua \
    "http://$addr/" -- "${paths[@]}" | grep '^{"requests"')
  kill -0 "$pid" 2>/dev/null || { echo "soak: the server died" >&2; cat "$work/serve.log" >&2; exit 1; }
  read -r requests duration errors status < <(python3 -c '
import json, sys
t = json.loads(sys.argv[1])
print(t["requests"], t["duration_us"], t["connect"] + t["read"] + t["write"] + t["timeout"], t["status"])
' "$json")
  sample=$(rss)
  samples+=("$sample")
  printf '%5s  %8s  %-9s  %6s  %11s  %8s\n' "$r" "$requests" \
    "$(( requests * 1000000 / (duration > 0 ? duration : 1) ))" "$errors" "$status" "$sample"
  failed=$(( failed + errors + status ))
done

base=${samples[1]}
last=${samples[-1]}
change=$(python3 -c "print(f'{($last - $base) * 100 / $base:+.1f}')")
echo "RSS samples (kB): ${samples[*]}"
echo "round 2: $base kB, last: $last kB, change $change %"
status=0
if python3 -c "import sys; sys.exit(0 if abs($last - $base) * 100 <= $tolerance * $base else 1)"; then
  echo "RSS flat: yes (within $tolerance %)"
else
  echo "RSS flat: NO (more than $tolerance %)"
  status=1
fi
if [ "$failed" -ne 0 ]; then
  echo "requests failed: $failed"
  status=1
else
  echo "requests failed: 0"
fi
exit "$status"
