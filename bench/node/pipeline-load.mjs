#!/usr/bin/env node
// A black-box load client of the pipeline, written with @bsv/sdk as a wallet backend would: it funds keys from the dev
// chain's faucet, fans each payment out into many outputs, submits the fan-outs and mines them, then submits one
// P2PKH spend of each proven output as Atomic BEEF (about 4 KB: the proven parent and the spend) with a number in
// flight, each waiting until it is broadcast. Prints the throughput after a 10% warm-up and p50/p99 of
// submit → broadcast as one JSON line, and a readable line on stderr.
//
//   node bench/node/pipeline-load.mjs --url http://127.0.0.1:5080 [--count 3000] [--inflight 64]
//        [--wait submit|poll] [--poll-ms 20] [--save spends.jsonl] [--server-pid PID]
//
// With --server-pid (a server on this machine, Linux), it also prints the CPU time the server and this client spent
// per measured transaction, read from /proc/PID/stat and process.cpuUsage() over the measured part.
//
// --wait submit (the default) posts each BEEF with ?wait=broadcast, one request per transaction; --wait poll posts it
// and then polls GET /v1/tx/{txid} every --poll-ms until broadcast (the polling is part of the load, as it is for a
// client that waits that way). The server must run the dev chain under /arc (the all-in-one server in Development).
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const sdkDir = process.env.BSV_SDK_DIR ?? path.join(repoRoot, 'tests', 'interop', 'node_modules', '@bsv', 'sdk')
const { P2PKH, PrivateKey, SatoshisPerKilobyte, Transaction } = await import(pathToFileURL(path.join(sdkDir, 'dist', 'esm', 'mod.js')).href)

const option = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback
}
const base = option('url', 'http://127.0.0.1:5080').replace(/\/$/, '')
const count = Number(option('count', '3000'))
const inflight = Number(option('inflight', '64'))
const pollMs = Number(option('poll-ms', '20'))
const waitBy = option('wait', 'submit')
if (!['submit', 'poll'].includes(waitBy)) throw new Error(`--wait is submit or poll, not ${waitBy}`)
const saveTo = option('save', null)
const serverPid = option('server-pid', null)
const perParent = 100
const log = (msg) => process.stderr.write(`[pipeline-load] ${msg}\n`)

// node:http with a keep-alive agent rather than fetch: the client shares the machine with the server, so its own CPU
// counts, and fetch spent about three times node:http's per transaction here (1.0 against 0.3 ms, 2026-12-05).
const agent = new http.Agent({ keepAlive: true, maxSockets: inflight + 4 })
const target = new URL(base)

function call (method, route, body, type = 'application/json') {
  const payload = body == null ? null : (type === 'application/json' ? Buffer.from(JSON.stringify(body)) : body)
  return new Promise((resolve, reject) => {
    const request = http.request({
      agent,
      host: target.hostname,
      port: target.port,
      method,
      path: `${target.pathname.replace(/\/$/, '')}${route}`,
      headers: payload == null ? {} : { 'Content-Type': type, 'Content-Length': payload.length }
    }, response => {
      const chunks = []
      response.on('data', chunk => chunks.push(chunk))
      response.on('error', reject)
      response.on('end', () => {
        const data = Buffer.concat(chunks)
        if (response.statusCode < 200 || response.statusCode > 299) {
          reject(new Error(`${method} ${route}: HTTP ${response.statusCode} ${data.toString('utf8')}`))
          return
        }
        resolve({ json: async () => JSON.parse(data.toString('utf8')), arrayBuffer: async () => data.buffer.slice(data.byteOffset, data.byteOffset + data.length) })
      })
    })
    request.on('error', reject)
    request.end(payload ?? undefined)
  })
}

async function status (txid) {
  return (await (await call('GET', `/v1/tx/${txid}`)).json()).status
}

async function until (txid, wanted) {
  for (;;) {
    const now = await status(txid)
    if (wanted.includes(now)) return now
    if (['rejected', 'failed'].includes(now)) throw new Error(`${txid} ended ${now}`)
    await new Promise(resolve => setTimeout(resolve, pollMs))
  }
}

const key = PrivateKey.fromRandom()
const lockingScript = new P2PKH().lock(key.toAddress())
const feeModel = new SatoshisPerKilobyte(1)

// 1. Fund: one faucet payment per parent, each mined and proven.
const parents = Math.ceil(count / perParent)
log(`funding ${parents} parents of ${perParent} outputs for ${count} spends`)
const fanouts = []
for (let p = 0; p < parents; p++) {
  const faucet = await (await call('POST', '/arc/v1/faucet', { lockingScript: lockingScript.toHex(), satoshis: perParent * 2_000 + 1_000 })).json()
  const funding = Transaction.fromHexBEEF(faucet.beef)
  const fanout = new Transaction()
  fanout.addInput({ sourceTransaction: funding, sourceOutputIndex: faucet.vout, unlockingScriptTemplate: new P2PKH().unlock(key) })
  for (let i = 0; i < perParent; i++) fanout.addOutput({ lockingScript, satoshis: 2_000 })
  fanout.addOutput({ lockingScript, change: true })
  await fanout.fee(feeModel)
  await fanout.sign()
  await call('POST', '/v1/beef', Uint8Array.from(fanout.toAtomicBEEF()), 'application/octet-stream')
  fanouts.push(fanout.id('hex'))
}

// 2. The fan-outs broadcast and mined, then read back proven.
for (const txid of fanouts) await until(txid, ['broadcast', 'mined'])
await call('POST', '/arc/v1/mine')
const proven = []
for (const txid of fanouts) {
  await until(txid, ['mined'])
  const beef = new Uint8Array(await (await call('GET', `/v1/tx/${txid}/beef`)).arrayBuffer())
  proven.push(Transaction.fromBEEF(Array.from(beef), txid))
}

// 3. The spends, signed before the clock starts.
const spends = []
for (let i = 0; i < count; i++) {
  const parent = proven[Math.floor(i / perParent)]
  const tx = new Transaction()
  tx.addInput({ sourceTransaction: parent, sourceOutputIndex: i % perParent, unlockingScriptTemplate: new P2PKH().unlock(key) })
  tx.addOutput({ lockingScript, change: true })
  await tx.fee(feeModel)
  await tx.sign()
  spends.push({ txid: tx.id('hex'), beef: Uint8Array.from(tx.toAtomicBEEF()) })
}
const bytes = spends.reduce((sum, s) => sum + s.beef.length, 0) / spends.length
log(`prepared ${count} spends, ${Math.round(bytes)} bytes of Atomic BEEF each; submitting with ${inflight} in flight`)
if (saveTo) {
  // The same BEEFs for another engine (bench/node/overlay-engine-load.mjs): one JSON line each, with the block
  // header facts its chain tracker needs to accept the parents' merkle roots.
  const roots = proven.map(t => ({ height: t.merklePath.blockHeight, root: t.merklePath.computeRoot(t.id('hex')) }))
  fs.writeFileSync(saveTo, spends.map((s, i) => JSON.stringify({ txid: s.txid, beef: Buffer.from(s.beef).toString('hex'), ...roots[Math.floor(i / perParent)] })).join('\n') + '\n')
  log(`saved the spends to ${saveTo}`)
}

// The server's CPU time in ms (user + system, from /proc/PID/stat in clock ticks of 10 ms, Linux's USER_HZ), or null.
function serverCpuMs () {
  if (serverPid == null) return null
  try {
    const stat = fs.readFileSync(`/proc/${serverPid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ') // after the command name, which may hold spaces
    return (Number(fields[11]) + Number(fields[12])) * 10 // utime and stime are fields 14 and 15 of the line
  } catch {
    return null
  }
}

// 4. Submit → broadcast, `inflight` at a time.
const warmup = Math.floor(count / 10)
const latencies = new Array(count)
let next = 0
let measuredStart = 0
let serverCpuStart = null
let clientCpuStart = null
async function client () {
  for (;;) {
    const i = next++
    if (i >= count) return
    if (i === warmup) {
      measuredStart = performance.now()
      clientCpuStart = process.cpuUsage()
      serverCpuStart = serverCpuMs()
    }
    const started = performance.now()
    if (waitBy === 'submit') {
      const view = await (await call('POST', '/v1/beef?wait=broadcast&timeout=60', spends[i].beef, 'application/octet-stream')).json()
      if (!['broadcast', 'mined'].includes(view.status)) throw new Error(`${spends[i].txid} is ${view.status} after its wait: ${JSON.stringify(view.error)}`)
    } else {
      await call('POST', '/v1/beef', spends[i].beef, 'application/octet-stream')
      await until(spends[i].txid, ['broadcast', 'mined'])
    }
    latencies[i] = performance.now() - started
  }
}
await Promise.all(Array.from({ length: inflight }, client))
const elapsed = (performance.now() - measuredStart) / 1000
const serverCpuEnd = serverCpuMs()
const clientCpu = process.cpuUsage(clientCpuStart)
const measured = latencies.slice(warmup).sort((a, b) => a - b)
const at = (q) => measured[Math.min(measured.length - 1, Math.floor(q * measured.length))]
const result = {
  transactions: measured.length,
  inflight,
  wait: waitBy,
  txPerSecond: Math.round(measured.length / elapsed),
  p50Ms: Math.round(at(0.5)),
  p99Ms: Math.round(at(0.99)),
  beefBytes: Math.round(bytes)
}
if (serverCpuStart != null && serverCpuEnd != null) result.serverCpuMsPerTx = Number(((serverCpuEnd - serverCpuStart) / measured.length).toFixed(2))
result.clientCpuMsPerTx = Number(((clientCpu.user + clientCpu.system) / 1000 / measured.length).toFixed(2))
log(`${result.txPerSecond} tx/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms over ${result.transactions} transactions` +
  (result.serverCpuMsPerTx != null ? `; CPU per transaction: server ${result.serverCpuMsPerTx} ms, this client ${result.clientCpuMsPerTx} ms` : ''))
console.log(JSON.stringify(result))
