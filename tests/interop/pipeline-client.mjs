#!/usr/bin/env node
// @bsv/sdk as a client of the all-in-one server: it funds a key from the dev chain's faucet, submits BEEFs to the
// gateway (a spend, a chained spend, a double spend, a tampered spend, a resubmission, and one it broadcast itself with
// the SDK's ARC class), mines, and checks the mined merkle path and the upgraded BEEF with BlockHeadersService.
//
//   node tests/interop/pipeline-client.mjs --url http://127.0.0.1:5080 [--timeout-ms 60000]
//
// Prints one JSON line with what each step saw; exits non-zero (message on stderr) when a step fails or times out.
import {
  ARC,
  BlockHeadersService,
  MerklePath,
  P2PKH,
  PrivateKey,
  SatoshisPerKilobyte,
  Transaction
} from '@bsv/sdk'
import { parseArgs } from './lib/args.mjs'

const args = parseArgs(process.argv.slice(2), ['url'], 'node pipeline-client.mjs --url SERVER_URL [--timeout-ms N]')
const base = args.url.replace(/\/$/, '')
const timeoutMs = Number(args['timeout-ms'] ?? 60000)

async function json (method, path, body) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { 'Content-Type': 'application/json' },
    body: body == null ? undefined : JSON.stringify(body)
  })
  const text = await response.text()
  if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${text}`)
  return JSON.parse(text)
}

async function submit (tx) {
  const response = await fetch(`${base}/v1/beef`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/octet-stream' },
    body: Uint8Array.from(tx.toBEEF())
  })
  const text = await response.text()
  if (response.status !== 202) throw new Error(`POST /v1/beef: HTTP ${response.status} ${text}`)
  return JSON.parse(text)
}

// Follows GET /v1/tx/{txid} until its status is one of `wanted`; a final status that is not wanted is an error.
async function follow (txid, ...wanted) {
  const final = ['rejected', 'failed', 'mined']
  const deadline = Date.now() + timeoutMs
  let seen = []
  for (;;) {
    const view = await json('GET', `/v1/tx/${txid}`)
    if (seen[seen.length - 1] !== view.status) seen = [...seen, view.status]
    if (wanted.includes(view.status)) return { ...view, seen }
    if (final.includes(view.status)) throw new Error(`${txid} ended ${view.status} (${JSON.stringify(view.error)}), wanted ${wanted.join('|')}`)
    if (Date.now() > deadline) throw new Error(`${txid} still ${view.status} after ${timeoutMs} ms, wanted ${wanted.join('|')}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

const key = PrivateKey.fromRandom()
const lockingScript = new P2PKH().lock(key.toAddress())
const tracker = new BlockHeadersService(`${base}/arc`)
const arc = new ARC(`${base}/arc`)
const feeModel = new SatoshisPerKilobyte(1)

async function fund (satoshis) {
  const faucet = await json('POST', '/arc/v1/faucet', { lockingScript: lockingScript.toHex(), satoshis })
  return { tx: Transaction.fromHexBEEF(faucet.beef), vout: faucet.vout }
}

async function spend (source, vout, outputs) {
  const tx = new Transaction()
  tx.addInput({ sourceTransaction: source, sourceOutputIndex: vout, unlockingScriptTemplate: new P2PKH().unlock(key) })
  if (outputs == null) {
    tx.addOutput({ lockingScript, change: true })
    await tx.fee(feeModel)
  } else {
    for (const satoshis of outputs) tx.addOutput({ lockingScript, satoshis })
  }
  await tx.sign()
  return tx
}

// 1. A spend of a faucet output, submitted as BEEF, followed to broadcast; resubmitting it changes nothing.
const first = await fund(100000)
const a = await spend(first.tx, first.vout)
const aSubmitted = await submit(a)
const aBroadcast = await follow(a.id('hex'), 'broadcast', 'mined')
const aAgain = await submit(a)

// 2. A chained spend whose BEEF carries its unmined parent.
const b = await spend(a, 0)
await submit(b)
const bBroadcast = await follow(b.id('hex'), 'broadcast', 'mined')

// 3. A double spend of the faucet output: verified by SPV, refused by the network.
const c = await spend(first.tx, first.vout, [50000])
await submit(c)
const cFailed = await follow(c.id('hex'), 'failed')

// 4. A spend whose output was changed after signing: SPV rejects it.
const d = await spend(first.tx, first.vout, [40000])
d.outputs[0].satoshis = 39999
await submit(d)
const dRejected = await follow(d.id('hex'), 'rejected')

// 5. A spend the SDK broadcasts itself with ARC, then submits: the pipeline's broadcast finds it known.
const second = await fund(30000)
const e = await spend(second.tx, second.vout)
const eArc = await arc.broadcast(e)
await submit(e)
const eBroadcast = await follow(e.id('hex'), 'broadcast', 'mined')

// 6. Mine; the gateway reports mined with a merkle path that BlockHeadersService confirms, and the upgraded BEEF
//    verifies by SPV in the SDK.
await json('POST', '/arc/v1/mine', { blocks: 1 })
const aMined = await follow(a.id('hex'), 'mined')
const bMined = await follow(b.id('hex'), 'mined')
const eMined = await follow(e.id('hex'), 'mined')
const aPathVerified = await MerklePath.fromHex(aMined.merklePath).verify(a.id('hex'), tracker)
const upgraded = await fetch(`${base}/v1/tx/${b.id('hex')}/beef`)
const bBeef = Transaction.fromBEEF(Array.from(new Uint8Array(await upgraded.arrayBuffer())))
const bBeefVerified = await bBeef.verify(tracker, feeModel)

console.log(JSON.stringify({
  a: { txid: a.id('hex'), submitted: aSubmitted.status, broadcast: aBroadcast.seen, resubmitted: aAgain.status, mined: aMined.status, pathVerified: aPathVerified },
  b: { txid: b.id('hex'), broadcast: bBroadcast.status, mined: bMined.status, beefStatus: upgraded.status, beefVerified: bBeefVerified, beefProven: bBeef.merklePath != null },
  c: { txid: c.id('hex'), status: cFailed.status, code: cFailed.error?.code ?? null },
  d: { txid: d.id('hex'), status: dRejected.status, code: dRejected.error?.code ?? null },
  e: { txid: e.id('hex'), arc: eArc.status, broadcast: eBroadcast.status, mined: eMined.status }
}))
