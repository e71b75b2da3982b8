#!/usr/bin/env node
// @bsv/sdk's overlay clients against our BRC-22 /submit and BRC-24 /lookup, with unchanged SDK classes: the broadcast
// facilitator submits a token mint (the BEEF re-serialized by the SDK, as a wallet would send it), the LookupResolver
// asks ls_tokens through the lookup facilitator (which asks for the binary aggregated answer), and a plain JSON lookup
// is read as the SDK reads one.
//
//   node tests/interop/overlay-client.mjs --url http://127.0.0.1:PORT --beef ATOMIC_BEEF_HEX --asset TXID.VOUT
//
// Prints one JSON line with what each step saw; exits non-zero (message on stderr) when a request fails.
import {
  HTTPSOverlayBroadcastFacilitator,
  LookupResolver,
  PushDrop,
  Transaction,
  Utils
} from '@bsv/sdk'
import { parseArgs } from './lib/args.mjs'

const args = parseArgs(process.argv.slice(2), ['url', 'beef', 'asset'], 'node overlay-client.mjs --url BASE_URL --beef ATOMIC_BEEF_HEX --asset TXID.VOUT')
const base = args.url.replace(/\/$/, '')

function describe (beef, outputIndex) {
  const tx = Transaction.fromBEEF(beef)
  const { fields } = PushDrop.decode(tx.outputs[outputIndex].lockingScript)
  return { txid: tx.id('hex'), outputIndex, asset: Utils.toUTF8(fields[0]), amount: Utils.toUTF8(fields[1]) }
}

// 1. BRC-22: the SDK's broadcast facilitator, with the BEEF as the SDK writes it.
const mint = Transaction.fromHexBEEF(args.beef)
const steak = await new HTTPSOverlayBroadcastFacilitator(fetch, true).send(base, { beef: mint.toBEEF(), topics: ['tm_tokens'] })

// 2. BRC-24 through the LookupResolver (its facilitator sends X-Aggregation: yes and reads the binary answer).
const resolver = new LookupResolver({ networkPreset: 'local', hostOverrides: { ls_tokens: [base] } })
const resolved = await resolver.query({ service: 'ls_tokens', query: { assetId: args.asset } }, 10000)

// 3. The JSON answer, read as the resolver reads every answer.
const response = await fetch(`${base}/lookup`, {
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({ service: 'ls_tokens', query: { assetId: args.asset } })
})
if (!response.ok) throw new Error(`POST /lookup: HTTP ${response.status} ${await response.text()}`)
const json = await response.json()

console.log(JSON.stringify({
  mintTxid: mint.id('hex'),
  steak,
  resolvedType: resolved.type,
  resolved: resolved.outputs.map(o => describe(o.beef, o.outputIndex)),
  jsonType: json.type,
  json: json.outputs.map(o => describe(o.beef, o.outputIndex))
}))
