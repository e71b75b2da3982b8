#!/usr/bin/env node
// @bsv/sdk verifying a corpus, for benchmarks. Single-threaded.
//
//   node tests/interop/sdk-verify.mjs --roots ROOTS.json --in corpus.jsonl [--jsonl-out FILE]
//
// Input lines: {"id","beef"} (other fields ignored). Format is detected from the first
// four bytes (Atomic 01010101 -> Transaction.fromAtomicBEEF, otherwise Transaction.fromBEEF,
// i.e. BEEF V1/V2 subject = last transaction), then `await tx.verify(chainTracker)` with no
// fee model. Prints one final JSON line to stdout:
//   {"cases": n, "valid": v, "seconds": s, "perSecond": p}
// where seconds covers only the parse+verify loop (hex decoding and file I/O excluded).
import fs from 'node:fs'
import { sdkCheck, makeChainTracker, hexToBytes } from './lib/sdk-check.mjs'

function parseArgs (argv) {
  const a = {}
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || argv[i + 1] == null) usage()
    a[argv[i].slice(2)] = argv[i + 1]
  }
  if (a.roots == null || a.in == null) usage()
  return a
}
function usage () {
  console.error('usage: node sdk-verify.mjs --roots ROOTS.json --in corpus.jsonl [--jsonl-out FILE]')
  process.exit(2)
}

const args = parseArgs(process.argv.slice(2))
const tracker = makeChainTracker(JSON.parse(fs.readFileSync(args.roots, 'utf8')))
const cases = []
for (const line of fs.readFileSync(args.in, 'utf8').split('\n')) {
  if (line.trim() === '') continue
  const c = JSON.parse(line)
  cases.push({ id: c.id, bytes: hexToBytes(c.beef) })
}

const results = new Array(cases.length)
let valid = 0
const t0 = process.hrtime.bigint()
for (let i = 0; i < cases.length; i++) {
  const r = await sdkCheck(cases[i].bytes, tracker)
  if (r.valid) valid++
  results[i] = r
}
const seconds = Number(process.hrtime.bigint() - t0) / 1e9

if (args['jsonl-out'] != null) {
  const out = results.map((r, i) => JSON.stringify({ id: cases[i].id, valid: r.valid, txid: r.txid, error: r.error }))
  fs.writeFileSync(args['jsonl-out'], out.join('\n') + (out.length > 0 ? '\n' : ''))
}
console.log(JSON.stringify({
  cases: cases.length,
  valid,
  seconds: Number(seconds.toFixed(3)),
  perSecond: Number((seconds > 0 ? cases.length / seconds : 0).toFixed(1))
}))
