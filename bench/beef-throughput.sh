#!/usr/bin/env bash
# BEEF verification benchmark (issues #3 and #19): the shipped `atomic beef verify --jsonl` (published ReadyToRun)
# against @bsv/sdk parsing and verifying the same corpus in the same run, the CLI's start-up, and peak memory while
# verifying one ~50 MB Atomic BEEF.
# Usage: bench/beef-throughput.sh [--count N] [--mb M|--no-memory]   (needs ./test.sh to have installed node and @bsv/sdk)
set -euo pipefail
cd "$(dirname "$0")/.."
count=10000
mb=50
while [ $# -gt 0 ]; do
  case "$1" in
    --count) count=$2; shift 2 ;;
    --mb) mb=$2; shift 2 ;;
    --no-memory) mb=0; shift ;;
    *) echo "usage: $0 [--count N] [--mb M]"; exit 2 ;;
  esac
done

data=bench/.data
mkdir -p "$data"
rid=linux-$(uname -m | sed 's/x86_64/x64/; s/aarch64/arm64/')
dotnet publish src/Atomic.Cli -c Release -r "$rid" --self-contained false -o "$data/cli" -nologo -v quiet >/dev/null
cli=$data/cli/atomic

corpus="$data/corpus-$count"
if [ ! -f "$corpus/corpus.jsonl" ]; then
  echo "generating $count cases with @bsv/sdk (about 2 minutes for 10,000)..."
  node tests/interop/gen-corpus.mjs --out "$corpus" --count "$count" --seed 7 >/dev/null
fi
bytes=$(stat -c %s "$corpus/corpus.jsonl")

echo "== start-up: the published CLI ($rid, ReadyToRun) verifying one BEEF, best of 5"
head -n 1 "$corpus/corpus.jsonl" > "$data/one.jsonl"
first=""
for run in 1 2 3 4 5; do
  start=$(date +%s.%N)
  "$cli" beef verify --roots "$corpus/roots.json" --jsonl "$data/one.jsonl" > /dev/null
  t=$(echo "$(date +%s.%N) - $start" | bc -l)
  if [ -z "$first" ] || [ "$(echo "$t < $first" | bc -l)" = 1 ]; then first=$t; fi
done
printf 'one BEEF, process included  : %.3f s\n' "$first"

echo "== throughput: $count BEEFs ($((bytes / 1024 / 1024)) MiB of JSON lines), $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p')"
best=""
for run in 1 2 3; do
  start=$(date +%s.%N)
  "$cli" beef verify --roots "$corpus/roots.json" --jsonl "$corpus/corpus.jsonl" > "$data/ours.jsonl"
  end=$(date +%s.%N)
  t=$(echo "$end - $start" | bc -l)
  if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ]; then best=$t; fi
done
ours=$(echo "$count / $best" | bc -l)
valid=$(grep -c '"valid":true' "$data/ours.jsonl" || true)
printf 'atomic beef verify --jsonl : %8.0f BEEF/s  (best of 3: %.2f s, %s valid, process start included)\n' "$ours" "$best" "$valid"

start=$(date +%s.%N)
sdk_json=$(node tests/interop/sdk-verify.mjs --roots "$corpus/roots.json" --in "$corpus/corpus.jsonl" | tail -n 1)
whole=$(echo "$(date +%s.%N) - $start" | bc -l)
sdk=$(echo "$sdk_json" | sed -n 's/.*"perSecond":\([0-9.]*\).*/\1/p')
printf '@bsv/sdk 2.1.0 (node %s)  : %8.1f BEEF/s  (%s, parse + verify loop only, one thread)\n' "$(node --version)" "$sdk" "$sdk_json"
printf 'ratio, against its loop    : %8.1fx\n' "$(echo "$ours / $sdk" | bc -l)"
printf 'ratio, process against process (node %.2f s with its start, reading and hex decoding): %.1fx\n' "$whole" "$(echo "$whole / $best" | bc -l)"

if [ "$mb" = 0 ]; then exit 0; fi
dotnet build bench/Atomic.Bsv.Benchmarks -c Release -nologo -v quiet >/dev/null

echo "== memory: one ~$mb MB Atomic BEEF"
big="$data/big-$mb"
if [ ! -f "$big/big.beef" ]; then
  dotnet bench/Atomic.Bsv.Benchmarks/bin/Release/net10.0/Atomic.Bsv.Benchmarks.dll big-beef --mb "$mb" --out "$big"
fi
size=$(stat -c %s "$big/big.beef")
/usr/bin/time -f '%M %e' -o "$data/time.txt" "$cli" beef verify --roots "$big/roots.json" "$big/big.beef" > "$data/big-result.json" || true
read -r peak_kb secs < "$data/time.txt"
printf 'verdict                    : %s\n' "$(cat "$data/big-result.json")"
printf 'BEEF size                  : %d bytes\n' "$size"
printf 'peak resident memory       : %d KiB = %.2fx the BEEF size (%.1f s)\n' "$peak_kb" "$(echo "$peak_kb * 1024 / $size" | bc -l)" "$secs"
