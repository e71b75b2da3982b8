#!/usr/bin/env node
// @bsv/sdk 2.1.0's AuthFetch paying a BRC-105 priced route of ours (tests/Atomic.Server.Tests/Payments/PaymentInteropTests.cs).
// The wallet is a ProtoWallet (identity, BRC-29 key derivation, nonces) with the one createAction AuthFetch needs:
// it spends a coin the dev chain's faucet paid to the same key, output 0 to the derived key, change back.
//
//   node payment-client.mjs KEY_HEX BASE_URL FAUCET_ORIGIN PATH
//
// Prints one JSON object: paid {status, satoshisPaid, body, txid}, then replay (the same x-bsv-payment again), reuse
// (the same prefix with another transaction) and underpay (AuthFetch paying one satoshi short), each {status, code}.
import { AuthFetch, LockingScript, P2PKH, PrivateKey, ProtoWallet, PublicKey, SatoshisPerKilobyte, Transaction, Utils } from '@bsv/sdk'

const [keyHex, baseUrl, faucetOrigin, path] = process.argv.slice(2)
const key = PrivateKey.fromHex(keyHex)
const own = new P2PKH().lock(key.toAddress())

const funded = await fetch(`${faucetOrigin}/v1/faucet`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ lockingScript: own.toHex(), satoshis: 20000 })
})
if (!funded.ok) throw new Error(`faucet: ${funded.status} ${await funded.text()}`)
const faucet = await funded.json()
const faucetTx = Transaction.fromAtomicBEEF(Utils.toArray(faucet.beef, 'hex'))

class PayingWallet extends ProtoWallet {
  constructor () {
    super(key)
    this.coin = { tx: faucetTx, vout: faucet.vout }
    this.made = []
    this.shortBy = 0
  }

  async createAction (args) {
    const tx = new Transaction()
    tx.addInput({ sourceTransaction: this.coin.tx, sourceOutputIndex: this.coin.vout, unlockingScriptTemplate: new P2PKH().unlock(key) })
    for (const o of args.outputs) {
      tx.addOutput({ satoshis: o.satoshis - this.shortBy, lockingScript: LockingScript.fromHex(o.lockingScript) })
    }
    tx.addOutput({ lockingScript: own, change: true })
    await tx.fee(new SatoshisPerKilobyte(100))
    await tx.sign()
    this.coin = { tx, vout: tx.outputs.length - 1 }
    this.made.push({ ...JSON.parse(args.outputs[0].customInstructions ?? '{}'), tx })
    return { tx: tx.toAtomicBEEF(), txid: tx.id('hex') }
  }
}

const wallet = new PayingWallet()
const client = new AuthFetch(wallet)
const url = baseUrl + path

async function outcome (response) {
  const text = await response.text()
  let code = null
  try { code = JSON.parse(text).code ?? null } catch {}
  return { status: response.status, code, satoshisPaid: response.headers.get('x-bsv-payment-satoshis-paid'), body: text }
}

const header = (prefix, suffix, tx) => JSON.stringify({ derivationPrefix: prefix, derivationSuffix: suffix, transaction: Utils.toBase64(tx.toAtomicBEEF()) })

const paid = await outcome(await client.fetch(url))
const first = wallet.made[0]
paid.txid = first?.tx.id('hex') ?? null

const replay = await outcome(await client.fetch(url, { headers: { 'x-bsv-payment': header(first.derivationPrefix, first.derivationSuffix, first.tx) } }))

// The same prefix, a new suffix and a new transaction paying the key they derive.
const suffix = Utils.toBase64(Utils.toArray('another suffix', 'utf8'))
const { publicKey } = await wallet.getPublicKey({ protocolID: [2, '3241645161d8'], keyID: `${first.derivationPrefix} ${suffix}`, counterparty: first.payee })
const { tx: second } = await wallet.createAction({
  description: 'reuse',
  outputs: [{ satoshis: Number(paid.satoshisPaid), lockingScript: new P2PKH().lock(PublicKey.fromString(publicKey).toAddress()).toHex(), outputDescription: 'reuse' }]
})
const reuse = await outcome(await client.fetch(url, { headers: { 'x-bsv-payment': header(first.derivationPrefix, suffix, Transaction.fromAtomicBEEF(second)) } }))

wallet.shortBy = 1
const underpay = await outcome(await client.fetch(url))

process.stdout.write(JSON.stringify({ paid, replay, reuse, underpay }) + '\n')
process.exit(0)
