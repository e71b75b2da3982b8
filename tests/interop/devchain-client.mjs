#!/usr/bin/env node
// @bsv/sdk against the dev chain, with unchanged SDK classes: fund a key from the faucet (Atomic BEEF), build and
// sign a P2PKH spend, SPV-check it with BlockHeadersService, broadcast it with ARC, try a double spend, mine, and
// verify the mined merkle path with BlockHeadersService.
//
//   node tests/interop/devchain-client.mjs --url http://127.0.0.1:PORT/arc [--api-key KEY]
//
// Prints one JSON line with what each step saw; exits non-zero (message on stderr) when a request fails.
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

const args = parseArgs(process.argv.slice(2), ['url'], 'node devchain-client.mjs --url BASE_URL [--api-key KEY]')
const base = args.url.replace(/\/$/, '')
const apiKey = args['api-key'] ?? ''
const headers = { 'Content-Type': 'application/json' }
if (apiKey !== '') headers.Authorization = `Bearer ${apiKey}`

async function request (method, path, body) {
  const response = await fetch(`${base}${path}`, { method, headers, body: body == null ? undefined : JSON.stringify(body) })
  const text = await response.text()
  if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${text}`)
  return JSON.parse(text)
}

const key = PrivateKey.fromRandom()
const lockingScript = new P2PKH().lock(key.toAddress())
const tracker = new BlockHeadersService(base, { apiKey })
const arc = new ARC(base, { apiKey })
const feeModel = new SatoshisPerKilobyte(1)

// 1. The faucet answers Atomic BEEF; the SDK reads it and checks the funding proof against the dev chain's headers.
const faucet = await request('POST', '/v1/faucet', { lockingScript: lockingScript.toHex(), satoshis: 100000 })
const funding = Transaction.fromHexBEEF(faucet.beef)
const fundingVerified = await funding.merklePath.verify(funding.id('hex'), tracker)

// 2. A P2PKH spend, SPV-verified (scripts, fees, and the funding root through BlockHeadersService), then broadcast.
const spend = new Transaction()
spend.addInput({ sourceTransaction: funding, sourceOutputIndex: faucet.vout, unlockingScriptTemplate: new P2PKH().unlock(key) })
spend.addOutput({ lockingScript, change: true })
await spend.fee(feeModel)
await spend.sign()
const spendVerified = await spend.verify(tracker, feeModel)
const broadcast = await arc.broadcast(spend)

// 3. A second spend of the same output: ARC's 466.
const rival = new Transaction()
rival.addInput({ sourceTransaction: funding, sourceOutputIndex: faucet.vout, unlockingScriptTemplate: new P2PKH().unlock(key) })
rival.addOutput({ lockingScript, satoshis: 50000 })
await rival.sign()
const doubleSpend = await arc.broadcast(rival)

// 4. Mine, read the status, and verify the BUMP with BlockHeadersService.
const mined = await request('POST', '/v1/mine', { blocks: 1 })
const status = await request('GET', `/v1/tx/${spend.id('hex')}`)
const minedVerified = await MerklePath.fromHex(status.merklePath).verify(spend.id('hex'), tracker)
const currentHeight = await tracker.currentHeight()

console.log(JSON.stringify({
  fundingTxid: funding.id('hex'),
  faucetTxid: faucet.txid,
  fundingVerified,
  spendTxid: spend.id('hex'),
  spendVerified,
  broadcast: { status: broadcast.status, txid: broadcast.txid ?? null, message: broadcast.message ?? broadcast.description ?? null },
  doubleSpend: {
    status: doubleSpend.status,
    code: doubleSpend.code ?? null,
    txid: doubleSpend.txid ?? null,
    competingTxs: doubleSpend.more?.competingTxs ?? null
  },
  minedHeight: mined.height,
  txStatus: status.txStatus,
  blockHeight: status.blockHeight,
  minedVerified,
  currentHeight
}))
