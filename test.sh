#!/usr/bin/env bash
# Runs the whole test suite on a fresh Debian machine: installs what the tests need (Node.js, the
# pinned npm reference peers, a PostgreSQL server it starts itself, and Prometheus' promtool), builds everything with warnings as errors, checks formatting,
# unit-tests the alert rules, runs every test project once per secp256k1 backend, and ends with the totals alone on a line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")"

log() { printf '\n== %s\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

log "system packages"
missing=()
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
command -v pg_ctlcluster >/dev/null 2>&1 || missing+=(postgresql)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus) # promtool, for the alert rules' unit tests
command -v chromium >/dev/null 2>&1 || missing+=(chromium) # headless, for the dashboard's browser test (playwright-core drives it)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
    || { echo "apt-get install failed"; echo "0 passed, 1 failed"; exit 1; }
else
  echo "present: node $(node --version), postgresql, promtool"
fi

log "PostgreSQL server (state-store conformance)"
# Debian's package creates the cluster; start it, and create the test role and database once.
pg_version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
pg_as() { if [ "$(id -u)" -eq 0 ]; then su postgres -c "$1"; else sudo -u postgres sh -c "$1"; fi; }
if ! { as_root sh -c "pg_lsclusters -h | grep -q . || pg_createcluster $pg_version main >/dev/null" \
    && { as_root pg_ctlcluster "$pg_version" main start 2>/dev/null || as_root pg_ctlcluster "$pg_version" main status >/dev/null; } \
    && { pg_as "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='atomic'\"" | grep -q 1 \
         || pg_as "psql -qc \"CREATE ROLE atomic LOGIN PASSWORD 'atomic'\""; } \
    && { pg_as "psql -qtAc \"SELECT 1 FROM pg_database WHERE datname='atomic_test'\"" | grep -q 1 \
         || pg_as "createdb -O atomic atomic_test"; }; }; then
  echo "could not start PostgreSQL"; echo "0 passed, 1 failed"; exit 1
fi
export ATOMIC_TEST_POSTGRES="Host=127.0.0.1;Port=5432;Username=atomic;Password=atomic;Database=atomic_test"
echo "PostgreSQL $pg_version on 127.0.0.1:5432"

log "npm reference peers (tests/interop)"
if ! npm ci --prefix tests/interop --no-audit --no-fund --loglevel=error; then
  echo "npm ci failed"; echo "0 passed, 1 failed"; exit 1
fi

log "build"
if ! dotnet build Atomic.Dapr.sln -c Release -nologo -v quiet; then
  echo "build failed"; echo "0 passed, 1 failed"; exit 1
fi

log "publish the CLI as shipped (ReadyToRun for this platform)"
rid=linux-$(uname -m | sed 's/x86_64/x64/; s/aarch64/arm64/')
published=$(mktemp -d)
if ! dotnet publish src/Atomic.Cli -c Release -r "$rid" --self-contained false -o "$published" -nologo -v quiet; then
  echo "publish failed"; echo "0 passed, 1 failed"; exit 1
fi
export ATOMIC_PUBLISHED_CLI="$published/atomic" # PublishedCliTests runs this one

failed_extra=0
log "format"
if dotnet format Atomic.Dapr.sln --verify-no-changes --no-restore -v quiet; then
  echo "dotnet format: clean"
else
  echo "dotnet format: changes needed (run 'dotnet format Atomic.Dapr.sln')"
  failed_extra=1
fi

# deploy/monitoring's alert rules, by promtool's unit tests: each test group passing counts as one test.
passed_extra=0
log "alert rules (promtool)"
rule_tests=deploy/monitoring/atomic-alerts.test.yaml
if promtool test rules "$rule_tests"; then
  passed_extra=$(grep -c '^  - name:' "$rule_tests")
  echo "promtool: $passed_extra rule test groups passed"
else
  echo "promtool: alert rule tests failed (promtool test rules $rule_tests)"
  failed_extra=$((failed_extra + 1))
fi

# The whole suite runs once per secp256k1 backend: libsecp256k1 as Secp256k1.Net bundles it, then the managed fallback.
results=$(mktemp -d)
status=0
for backend in native managed; do
  log "tests (secp256k1: $backend)"
  ATOMIC_SECP256K1=$backend dotnet test Atomic.Dapr.sln -c Release --no-build -nologo --logger "trx" \
    --results-directory "$results/$backend" 2>&1 | tee "$results/$backend.txt"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
done

# The PostgreSQL restart fault test cuts off every client of the cluster, so it runs alone, after the suites.
log "fault test: PostgreSQL restarted under load (alone)"
ATOMIC_TEST_POSTGRES_RESTART=1 dotnet test tests/Atomic.Server.Tests -c Release --no-build -nologo --logger "trx" \
  --filter "FullyQualifiedName~FaultTests.Postgresql" --results-directory "$results/postgres-restart" 2>&1 | tee "$results/postgres-restart.txt"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1

passed=0
failed=0
for trx in "$results"/*/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
done
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1 # the runner failed without reporting a failing test (a crash or a build problem)
fi
failed=$((failed + failed_extra))
passed=$((passed + passed_extra))
rm -rf "$results" "$published"

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
