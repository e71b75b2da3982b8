#!/usr/bin/env node
// A party of a multi-party session written only with @bsv/sdk: the buyer of a swap. It contributes one P2PKH coin
// (output --vout of the funding transaction, whose Atomic BEEF it is given), an output paying --price to the seller and
// its change; waits for the session to be signing; checks the unsigned transaction before it signs anything (its coin
// is spent, the price is paid, the stated fee is what the transaction pays and its change is what is left after its
// share of that fee); signs its input SIGHASH_ALL|FORKID with the P2PKH template and posts the signature.
//
//   node tests/interop/session-party.mjs --server URL --session ID --party buyer --key PRIVATE_KEY_HEX
//        --funding ATOMIC_BEEF_HEX --vout N --pay-to LOCKING_SCRIPT_HEX --price N [--timeout-ms 60000]
//
// Prints one JSON line {"ok": true, …}; exits non-zero (the HTTP problem, or the check that failed, on stderr).
import { LockingScript, P2PKH, PrivateKey, Transaction, Utils } from '@bsv/sdk'
import { parseArgs } from './lib/args.mjs'

const args = parseArgs(process.argv.slice(2), ['server', 'session', 'party', 'key', 'funding', 'vout', 'pay-to', 'price'],
  'node session-party.mjs --server URL --session ID --party ID --key HEX --funding ATOMIC_BEEF_HEX --vout N ' +
  '--pay-to LOCKING_SCRIPT_HEX --price N [--timeout-ms N]')
const base = `${args.server.replace(/\/$/, '')}/v1/sessions/${encodeURIComponent(args.session)}`
const party = args.party
const key = PrivateKey.fromHex(args.key)
const vout = Number(args.vout)
const payTo = LockingScript.fromHex(args['pay-to']).toHex()
const price = Number(args.price)
const timeoutMs = Number(args['timeout-ms'] ?? 60000)
const own = new P2PKH().lock(key.toPublicKey().toHash()).toHex()

// Every party request carries X-Party-Signature: the DER signature by the party's key of SHA-256 of the exact bytes
// posted. PrivateKey.sign hashes its message with SHA-256 itself, so it is given the body, not its hash.
async function post (path, body) {
  const text = JSON.stringify(body)
  const signature = key.sign(Utils.toArray(text, 'utf8')).toDER('hex')
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Party-Signature': signature },
    body: text
  })
  const answer = await response.text()
  if (response.status !== 202) throw new Error(`POST ${path}: HTTP ${response.status} ${answer}`)
  return JSON.parse(answer)
}

async function waitFor (status) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const response = await fetch(base)
    const text = await response.text()
    if (!response.ok) throw new Error(`GET ${base}: HTTP ${response.status} ${text}`)
    const session = JSON.parse(text)
    if (session.status === status) return session
    if (session.status !== 'collecting') throw new Error(`the session is ${session.status}, not ${status}: ${text}`)
    if (Date.now() > deadline) throw new Error(`the session is still ${session.status} after ${timeoutMs} ms`)
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

function check (condition, what) {
  if (!condition) throw new Error(`refusing to sign: ${what}`)
}

// The fee share the session's rule gives each party: the fee in proportion to the satoshis it brings, the remainder
// of the division a satoshi at a time from the first party (in the session's party order) that brings any.
function feeShares (fee, brought) {
  const total = brought.reduce((sum, b) => sum + b, 0n)
  const shares = brought.map(b => total === 0n ? 0n : fee * b / total)
  let given = shares.reduce((sum, s) => sum + s, 0n)
  for (let i = 0; total > 0n && given < fee; i = (i + 1) % brought.length) {
    if (brought[i] > 0n) {
      shares[i]++
      given++
    }
  }
  return shares
}

// 1. The coin: the SDK reads the Atomic BEEF it was given and writes it again for the contribution.
const funding = Transaction.fromAtomicBEEF(Utils.toArray(args.funding, 'hex'))
const coin = funding.outputs[vout]
if (coin == null || coin.lockingScript.toHex() !== own) throw new Error(`output ${vout} of ${funding.id('hex')} is not locked to this key`)
await post('/contributions', {
  party,
  inputs: [{ beef: funding.toHexAtomicBEEF(), outputIndex: vout }],
  outputs: [{ lockingScript: payTo, satoshis: price }],
  change: own
})

// 2. What we are asked to sign, checked before signing it.
const session = await waitFor('signing')
const tx = Transaction.fromHex(session.unsignedTx)
const mine = session.inputs.filter(i => i.party === party)
check(mine.length === 1, `the session gives party ${party} ${mine.length} inputs, not its one coin`)
const input = tx.inputs[mine[0].index]
check(input.sourceTXID === funding.id('hex') && input.sourceOutputIndex === vout,
  `input ${mine[0].index} is not ${funding.id('hex')}.${vout}`)
check(mine[0].sourceSatoshis === coin.satoshis && mine[0].sourceLockingScript === own, 'the session misstates the coin spent')
check(tx.inputs.filter(i => i.sourceTXID === funding.id('hex') && i.sourceOutputIndex === vout).length === 1, 'the coin is spent twice')
check(tx.outputs.some(o => o.lockingScript.toHex() === payTo && o.satoshis === price), `no output pays ${price} to the seller`)

const inputs = session.inputs.reduce((sum, i) => sum + BigInt(i.sourceSatoshis), 0n)
const outputs = tx.outputs.reduce((sum, o) => sum + BigInt(o.satoshis), 0n)
check(inputs - outputs === BigInt(session.fee), `the transaction pays ${inputs - outputs} in fees, not the session's ${session.fee}`)
const brought = session.parties.map(p =>
  session.inputs.filter(i => i.party === p.id).reduce((sum, i) => sum + BigInt(i.sourceSatoshis), 0n))
const share = feeShares(BigInt(session.fee), brought)[session.parties.findIndex(p => p.id === party)]
const change = BigInt(coin.satoshis) - BigInt(price) - share
const changes = tx.outputs.filter(o => o.lockingScript.toHex() === own).map(o => BigInt(o.satoshis))
check(change > 0n ? changes.length === 1 && changes[0] === change : changes.length === 0,
  `the change is ${changes.join(', ') || 'missing'}, not ${coin.satoshis} - ${price} - a fee share of ${share}`)

// 3. Sign our input over the unsigned transaction (SIGHASH_ALL|FORKID) and post it.
const template = new P2PKH().unlock(key, 'all', false, coin.satoshis, LockingScript.fromHex(mine[0].sourceLockingScript))
const unlocking = await template.sign(tx, mine[0].index)
await post('/signatures', { party, inputs: [{ index: mine[0].index, unlockingScript: unlocking.toHex() }] })

console.log(JSON.stringify({ ok: true, input: mine[0].index, feeShare: Number(share), change: Number(change) }))
