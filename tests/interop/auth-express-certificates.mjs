#!/usr/bin/env node
// An Express 5 server behind @bsv/auth-express-middleware 2.0.5 that asks every client for BRC-52 certificates at the
// handshake (its certificatesToRequest), so that C# tests can check what our AuthFetch handler presents
// (tests/Atomic.Identity.Tests/Interop/AuthExpressCertificateTests.cs).
//
//   node auth-express-certificates.mjs SERVER_KEY_HEX CERTIFIER_KEY_HEX TYPE_BASE64 FIELD[,FIELD...]
//
// Asks for certificates of TYPE from CERTIFIER revealing the listed fields. Prints one line {"port": N,
// "identityKey": HEX} once it listens on 127.0.0.1, and exits when stdin closes. GET /certificates (behind the
// middleware, so it answers only once the certificates are validated) returns {identityKey, certificates: [{type,
// serialNumber, certifier, revealed: the fields the keyring opens, decrypted by this server, encrypted: the field
// names the certificate carries}]} for the caller.
import express from 'express'
import { createAuthMiddleware } from '@bsv/auth-express-middleware'
import { PrivateKey, ProtoWallet, VerifiableCertificate } from '@bsv/sdk'

const [serverKeyHex, certifierKeyHex, type, fieldList] = process.argv.slice(2)
const key = PrivateKey.fromHex(serverKeyHex)
const wallet = new ProtoWallet(key)
const certifier = PrivateKey.fromHex(certifierKeyHex).toPublicKey().toString()
const received = new Map()

const app = express()
app.use(express.json())
app.use(createAuthMiddleware({
  wallet,
  certificatesToRequest: { certifiers: [certifier], types: { [type]: fieldList.split(',') } },
  onCertificatesReceived: (sender, certs) => {
    received.set(sender, certs)
  }
}))
app.get('/certificates', async (req, res) => {
  const certificates = []
  for (const c of received.get(req.auth.identityKey) ?? []) {
    const v = new VerifiableCertificate(
      c.type, c.serialNumber, c.subject, c.certifier, c.revocationOutpoint, c.fields, c.keyring, c.signature)
    certificates.push({
      type: v.type,
      serialNumber: v.serialNumber,
      certifier: v.certifier,
      revealed: await v.decryptFields(wallet),
      encrypted: Object.keys(v.fields)
    })
  }
  res.json({ identityKey: req.auth.identityKey, certificates })
})

const server = app.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port, identityKey: key.toPublicKey().toString() }) + '\n')
})

process.stdin.on('data', () => {})
process.stdin.on('end', () => {
  server.close()
  process.exit(0)
})
