#!/usr/bin/env node
// An Express 5 server behind @bsv/auth-express-middleware 2.0.5 and @bsv/payment-express-middleware 2.0.2 (BRC-105),
// the reference our paying client must satisfy (tests/Atomic.Identity.Tests/Interop/PaymentExpressServerTests.cs).
//
//   node payment-express-server.mjs SERVER_KEY_HEX PRICE
//
// The payment middleware leaves the payment's checks to the wallet's internalizeAction. A real wallet (wallet-toolbox)
// would also verify the BEEF and broadcast it; this stand-in over a ProtoWallet checks what BRC-105 and BRC-29 name:
// output 0 pays the key derived from the prefix, the suffix and the sender, at least PRICE, and no transaction or prefix
// is taken twice (codes ERR_PAYMENT_REPLAYED, ERR_PREFIX_REUSED, ERR_WRONG_KEY, ERR_INSUFFICIENT).
//
// Prints one line {"port": N, "identityKey": HEX} once it listens on 127.0.0.1, and exits when stdin closes.
// Route: GET /paid answers {identityKey, satoshisPaid}.
import express from 'express'
import { createAuthMiddleware } from '@bsv/auth-express-middleware'
import { createPaymentMiddleware } from '@bsv/payment-express-middleware'
import { P2PKH, PrivateKey, ProtoWallet, PublicKey, Transaction } from '@bsv/sdk'

const key = PrivateKey.fromHex(process.argv[2])
const price = Number(process.argv[3] ?? '100')
const seenTx = new Set()
const usedPrefixes = new Set()

const refuse = (code, message) => Object.assign(new Error(message), { code })

class ReceivingWallet extends ProtoWallet {
  async internalizeAction ({ tx, outputs }) {
    const t = Transaction.fromAtomicBEEF(tx)
    const txid = t.id('hex')
    const { paymentRemittance: r, outputIndex } = outputs[0]
    if (seenTx.has(txid)) throw refuse('ERR_PAYMENT_REPLAYED', `transaction ${txid} was already taken`)
    if (usedPrefixes.has(r.derivationPrefix)) throw refuse('ERR_PREFIX_REUSED', 'this derivation prefix already paid')
    const { publicKey } = await this.getPublicKey({
      protocolID: [2, '3241645161d8'],
      keyID: `${r.derivationPrefix} ${r.derivationSuffix}`,
      counterparty: r.senderIdentityKey,
      forSelf: true
    })
    const expected = new P2PKH().lock(PublicKey.fromString(publicKey).toAddress()).toHex()
    const out = t.outputs[outputIndex]
    if (out === undefined || out.lockingScript.toHex() !== expected) throw refuse('ERR_WRONG_KEY', 'output 0 does not pay the derived key')
    if (out.satoshis < price) throw refuse('ERR_INSUFFICIENT', `output 0 pays ${out.satoshis}; the price is ${price}`)
    seenTx.add(txid)
    usedPrefixes.add(r.derivationPrefix)
    return { accepted: true }
  }
}

const wallet = new ReceivingWallet(key)
const app = express()
app.use(express.json())
app.use(createAuthMiddleware({ wallet }))
app.use(createPaymentMiddleware({ wallet, calculateRequestPrice: () => price }))
app.get('/paid', (req, res) => res.json({ identityKey: req.auth.identityKey, satoshisPaid: req.payment.satoshisPaid }))

const server = app.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port, identityKey: key.toPublicKey().toString() }) + '\n')
})

process.stdin.on('data', () => {})
process.stdin.on('end', () => {
  server.close()
  process.exit(0)
})
