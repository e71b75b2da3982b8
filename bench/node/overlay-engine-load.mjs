#!/usr/bin/env node
// The same load as pipeline-load.mjs, put through @bsv/overlay's Engine instead of our pipeline (issue #14): the BEEFs
// that pipeline-load.mjs saved with --save (one P2PKH spend of a proven parent each, as Atomic BEEF) are submitted to an
// Engine set up as the library intends — KnexStorage on MariaDB through knex + mysql2, migrated with the library's own
// migrations on an emptied database, one topic manager (tm_bench) that admits every P2PKH output, a chain tracker that
// knows only the (height, merkle root) pairs in the file, and a broadcaster that accepts without any network. The
// engine's own SPV runs (tx.verify against that chain tracker: the parent's merkle path and the spend's scripts).
// `inflight` submissions run at once; each is timed from engine.submit() to its STEAK with the storage written (no
// onSteakReady callback, so the write is inside the time). Prints the throughput after a 10% warm-up and p50/p99 as one
// JSON line of the same shape as pipeline-load.mjs's, and a readable line on stderr. Every submission must come back
// with its P2PKH output admitted, and the database must hold one output and one applied transaction per BEEF, or it
// fails.
//
//   bash bench/mariadb.sh                  # once: MariaDB with database overlay_bench, user bench/bench
//   npm ci --prefix bench/node             # once: @bsv/overlay, @bsv/sdk, knex, mysql2 as pinned in package.json
//   node bench/node/pipeline-load.mjs --url http://127.0.0.1:5080 --count 3000 --save /tmp/spends.jsonl
//   node bench/node/overlay-engine-load.mjs --beefs /tmp/spends.jsonl [--inflight 64] [--pool 10]
//                                          [--mysql mysql://bench:bench@127.0.0.1:3306/overlay_bench]
//
// --pool is knex's connection pool size (knex's default maximum is 10). The run drops every table in the database
// first, so point --mysql at a database kept for this benchmark.
import fs from 'node:fs'
import { Engine, KnexStorage, KnexStorageMigrations } from '@bsv/overlay'
import { Transaction } from '@bsv/sdk'
import knexFactory from 'knex'

const option = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback
}
const beefsFile = option('beefs', null)
const inflight = Number(option('inflight', '64'))
const poolSize = Number(option('pool', '10'))
const mysqlUrl = option('mysql', 'mysql://bench:bench@127.0.0.1:3306/overlay_bench')
const topic = 'tm_bench'
const log = (msg) => process.stderr.write(`[overlay-engine-load] ${msg}\n`)
const fail = (msg) => { throw new Error(msg) }
if (beefsFile == null) fail('usage: node bench/node/overlay-engine-load.mjs --beefs FILE [--inflight 64] [--pool 10] [--mysql URL]')
// The installed version, read from its package.json (which the package does not export).
const overlayVersion = JSON.parse(fs.readFileSync(new URL('node_modules/@bsv/overlay/package.json', import.meta.url), 'utf8')).version

// 1. The BEEFs, as the byte arrays the engine's TaggedBEEF takes, decoded before the clock starts.
const spends = fs.readFileSync(beefsFile, 'utf8').split('\n').filter(line => line.trim() !== '').map(line => {
  const { txid, beef, height, root } = JSON.parse(line)
  return { txid, beef: Array.from(Buffer.from(beef, 'hex')), height, root }
})
const count = spends.length
if (count === 0) fail(`${beefsFile} holds no BEEF`)

// 2. The chain tracker: true only for the (height, root) pairs of the proven parents in the file. It counts the
// questions the engine asks, to show after the run that the engine's SPV looked at every submission.
class FileChainTracker {
  constructor (pairs) {
    this.roots = new Set(pairs.map(p => `${p.height}:${p.root.toLowerCase()}`))
    this.height = Math.max(...pairs.map(p => p.height))
    this.asked = 0
  }

  async isValidRootForHeight (root, height) {
    this.asked++
    return this.roots.has(`${height}:${root.toLowerCase()}`)
  }

  async currentHeight () { return this.height }
}
const chainTracker = new FileChainTracker(spends)

// 3. The topic manager: admits every P2PKH output (OP_DUP OP_HASH160 <20 bytes> OP_EQUALVERIFY OP_CHECKSIG) of the
// transaction and retains no previous coin.
const isP2PKH = (script) => script.length === 25 && script[0] === 0x76 && script[1] === 0xa9 && script[2] === 0x14 &&
  script[23] === 0x88 && script[24] === 0xac
class P2PKHTopicManager {
  async identifyAdmissibleOutputs (beef, previousCoins) {
    const tx = Transaction.fromBEEF(beef)
    const outputsToAdmit = []
    tx.outputs.forEach((output, index) => { if (isP2PKH(output.lockingScript.toBinary())) outputsToAdmit.push(index) })
    return { outputsToAdmit, coinsToRetain: [] }
  }

  async getDocumentation () { return '# tm_bench\nAdmits every P2PKH output; a benchmark topic.' }

  async getMetaData () { return { name: topic, shortDescription: 'Every P2PKH output (benchmark)' } }
}

// 4. The broadcaster: accepts every transaction, without network.
const broadcaster = {
  broadcasts: 0,
  async broadcast (tx) {
    this.broadcasts++
    return { status: 'success', txid: tx.id('hex'), message: 'accepted by the benchmark stub' }
  }
}

// 5. MariaDB through knex + mysql2: every table dropped, then the library's migrations run in order.
const knex = knexFactory({ client: 'mysql2', connection: mysqlUrl, pool: { min: 0, max: poolSize } })
const tables = (await knex.raw('SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE()'))[0]
for (const { name } of tables) await knex.schema.dropTableIfExists(name) // the library's schema has no foreign keys
const migrations = KnexStorageMigrations.default
await knex.migrate.latest({
  migrationSource: {
    getMigrations: async () => migrations.map((migration, i) => ({ name: `overlay-${String(i + 1).padStart(3, '0')}`, migration })),
    getMigrationName: (entry) => entry.name,
    getMigration: async (entry) => entry.migration
  }
})
log(`${mysqlUrl.replace(/\/\/[^@]*@/, '//')}: dropped ${tables.length} tables, ran @bsv/overlay's ${migrations.length} migrations`)

const engineWith = (tracker) => new Engine(
  { [topic]: new P2PKHTopicManager() }, // managers
  {}, // lookup services: none, the benchmark is about admission
  new KnexStorage(knex),
  tracker, // SPV: never 'scripts only'
  undefined, // hostingURL: no advertising
  undefined, // shipTrackers
  undefined, // slapTrackers
  broadcaster,
  undefined, // advertiser: none, so no SHIP propagation after admission
  { [topic]: false } // syncConfiguration: no GASP sync of the topic
)
const engine = engineWith(chainTracker)

// 6. The engine's SPV must refuse a root it does not know, and a spend whose signature no longer matches; neither
// check writes anything, as the engine verifies before it touches storage.
async function mustRefuse (what, run) {
  try {
    await run()
  } catch (error) {
    log(`refused ${what}: ${error.message.split('\n')[0]}`)
    return
  }
  fail(`@bsv/overlay admitted ${what}`)
}
await mustRefuse('a BEEF whose merkle root the chain tracker does not know', () =>
  engineWith({ isValidRootForHeight: async () => false, currentHeight: async () => chainTracker.height })
    .submit({ beef: spends[0].beef, topics: [topic] }))
await mustRefuse('a spend with an output changed after signing', () => {
  // A new Transaction rather than an edit in place: @bsv/sdk 2 caches a parsed transaction's bytes.
  const signed = Transaction.fromAtomicBEEF(spends[0].beef)
  const outputs = signed.outputs.map((output, i) => ({ ...output, satoshis: output.satoshis - (i === 0 ? 1 : 0) }))
  const tampered = new Transaction(signed.version, signed.inputs, outputs, signed.lockTime)
  if (tampered.id('hex') === signed.id('hex')) fail('the tampered spend kept its txid')
  return engine.submit({ beef: Array.from(tampered.toAtomicBEEF()), topics: [topic] })
})
chainTracker.asked = 0
broadcaster.broadcasts = 0

// 7. Submit → STEAK, `inflight` at a time; each STEAK must admit the spend's P2PKH output.
log(`submitting ${count} Atomic BEEFs (${Math.round(spends.reduce((sum, s) => sum + s.beef.length, 0) / count)} bytes each) with ${inflight} in flight`)
const warmup = Math.floor(count / 10)
const latencies = new Array(count)
let next = 0
let measuredStart = 0
const runStart = performance.now()
async function client () {
  for (;;) {
    const i = next++
    if (i >= count) return
    if (i === warmup) measuredStart = performance.now()
    const started = performance.now()
    const steak = await engine.submit({ beef: spends[i].beef, topics: [topic] })
    latencies[i] = performance.now() - started
    const admitted = steak[topic]?.outputsToAdmit ?? []
    if (admitted.length === 0) fail(`${spends[i].txid}: not admitted to ${topic}, STEAK ${JSON.stringify(steak)}`)
  }
}
await Promise.all(Array.from({ length: inflight }, client))
const end = performance.now()
const elapsed = (end - measuredStart) / 1000

// 8. What the engine stored and asked must match what was submitted.
const [{ n: outputs }] = await knex('outputs').where({ topic }).count('* as n')
const [{ n: applied }] = await knex('applied_transactions').where({ topic }).count('* as n')
const [{ n: stored }] = await knex('transactions').count('* as n')
await knex.destroy()
if (Number(outputs) !== count || Number(applied) !== count || Number(stored) !== count) {
  fail(`the database holds ${outputs} outputs, ${applied} applied transactions and ${stored} BEEFs for ${count} submissions`)
}
if (chainTracker.asked < count) fail(`the chain tracker was asked ${chainTracker.asked} times for ${count} submissions`)
if (broadcaster.broadcasts !== count) fail(`the broadcaster saw ${broadcaster.broadcasts} transactions for ${count} submissions`)

const measured = latencies.slice(warmup).sort((a, b) => a - b)
const at = (q) => measured[Math.min(measured.length - 1, Math.floor(q * measured.length))]
const result = {
  engine: `@bsv/overlay ${overlayVersion}`,
  transactions: measured.length,
  inflight,
  txPerSecond: Math.round(measured.length / elapsed),
  p50Ms: Math.round(at(0.5)),
  p99Ms: Math.round(at(0.99))
}
log(`all ${count} admitted in ${((end - runStart) / 1000).toFixed(1)} s; ${chainTracker.asked} root checks; ` +
  `${result.txPerSecond} tx/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms over ${result.transactions} transactions`)
console.log(JSON.stringify(result))
