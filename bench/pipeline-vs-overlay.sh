#!/usr/bin/env bash
# Issue #14's comparison in one run: the all-in-one server (Release, components/ on SQLite in a temporary folder, the
# dev chain validating as ARC) driven by bench/node/pipeline-load.mjs, then the very same BEEFs admitted by
# @bsv/overlay's Engine on MariaDB (bench/node/overlay-engine-load.mjs), one after the other on this machine, and the
# ratio. Installs what it needs (MariaDB with apt, the Node packages with npm ci). Run as root from anywhere:
#
#   bench/pipeline-vs-overlay.sh [--count 3000] [--inflight 64] [--wait submit|poll]
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
count=3000 inflight=64 wait=submit
while [ $# -gt 0 ]; do
  case "$1" in
    --count) count="$2"; shift 2 ;;
    --inflight) inflight="$2"; shift 2 ;;
    --wait) wait="$2"; shift 2 ;;
    *) echo "usage: $0 [--count N] [--inflight N] [--wait submit|poll]" >&2; exit 2 ;;
  esac
done
log() { echo "[compare] $*" >&2; }

mysql_url="$(bash "$root/bench/mariadb.sh")"
[ -d "$root/tests/interop/node_modules/@bsv/sdk" ] || npm ci --prefix "$root/tests/interop" >&2
[ -d "$root/bench/node/node_modules/@bsv/overlay" ] || npm ci --prefix "$root/bench/node" >&2
dotnet build -c Release "$root/src/Atomic.Server" -v q -nologo >&2

work="$(mktemp -d)"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cp -r "$root/components" "$work/"
cp "$root"/src/Atomic.Server/bin/Release/net10.0/appsettings*.json "$work/"
(cd "$work" && ASPNETCORE_ENVIRONMENT=Development Urls="http://127.0.0.1:$port" Atomic__Sidecar__HttpPort=0 Atomic__Sidecar__GrpcPort=0 \
  exec dotnet "$root/src/Atomic.Server/bin/Release/net10.0/Atomic.Server.dll" >"$work/server.log" 2>&1) &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 120); do
  curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.5
done

log "our pipeline, submit → broadcast (server log: $work/server.log)"
ours="$(node "$root/bench/node/pipeline-load.mjs" --url "http://127.0.0.1:$port" --count "$count" --inflight "$inflight" --wait "$wait" --save "$work/spends.jsonl" --server-pid "$server")"
log "@bsv/overlay's Engine on MariaDB, the same BEEFs (the server idles meanwhile)"
theirs="$(node "$root/bench/node/overlay-engine-load.mjs" --beefs "$work/spends.jsonl" --inflight "$inflight" --mysql "$mysql_url")"
echo "$ours"
echo "$theirs"
node -e '
const [a, b] = process.argv.slice(1).map(JSON.parse)
console.log(`ours ${a.txPerSecond} tx/s (p50 ${a.p50Ms} ms, p99 ${a.p99Ms} ms, server CPU ${a.serverCpuMsPerTx ?? "?"} ms/tx) vs ${b.engine} ${b.txPerSecond} tx/s (p50 ${b.p50Ms} ms, p99 ${b.p99Ms} ms): ${(a.txPerSecond / b.txPerSecond).toFixed(2)}×`)
' "$ours" "$theirs"
