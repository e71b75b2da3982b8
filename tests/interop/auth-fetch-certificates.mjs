#!/usr/bin/env node
// @bsv/sdk 2.1.0's AuthFetch presenting BRC-52 certificates to a BRC-103/104 server that asks for them (our ASP.NET
// Core host in tests/Atomic.Services.Tests/Identity/BsvCertificateHostTests.cs). The client's wallet is the sdk's
// ProtoWallet plus the two certificate methods the sdk's Peer calls (listCertificates, proveCertificate), over
// certificates held in memory; proveCertificate makes the verifier keyring with MasterCertificate, so only the fields
// the server names are revealed.
//
//   echo '{"clientKey":HEX,"baseUrl":URL,"certificates":[…],"requests":[{"method","path"}]}' | node auth-fetch-certificates.mjs
//
// A certificate is {"issue": {"certifierKey", "type", "fields", "revocationOutpoint"?}, "tamper"?: true} (the sdk's
// MasterCertificate.issueCertificateForSubject issues it) or {"master": {type, serialNumber, subject, certifier,
// revocationOutpoint, fields, signature, masterKeyring}} (issued elsewhere, e.g. by our certifier). "tamper" alters the
// listed certificate's revocation outpoint after signing; "presentAll": true presents every certificate held, whatever
// certifiers the server named (as a careless or hostile client would). Prints {"requested": the server's requested set (the fields
// the wallet was asked to reveal), "results": [{"status", "body"} or {"error", "status", "body"}]}.
import { AuthFetch, MasterCertificate, PrivateKey, ProtoWallet } from '@bsv/sdk'

const input = JSON.parse(await new Promise(resolve => {
  let text = ''
  process.stdin.on('data', d => { text += d })
  process.stdin.on('end', () => resolve(text))
}))

const subjectKey = PrivateKey.fromHex(input.clientKey)
const requested = []

class CertificateWallet extends ProtoWallet {
  constructor (key, held) {
    super(key)
    this.held = held
  }

  async listCertificates ({ certifiers, types }) {
    const certificates = this.held
      .filter(h => input.presentAll === true || (certifiers.includes(h.listed.certifier) && types.includes(h.listed.type)))
      .map(h => ({ ...h.listed }))
    return { totalCertificates: certificates.length, certificates }
  }

  async proveCertificate ({ certificate, fieldsToReveal, verifier }) {
    requested.push({ type: certificate.type, fields: fieldsToReveal ?? [] })
    const h = this.held.find(x => x.listed.serialNumber === certificate.serialNumber)
    const keyringForVerifier = await MasterCertificate.createKeyringForVerifier(
      this, h.master.certifier, verifier, h.master.fields, fieldsToReveal ?? [], h.master.masterKeyring, h.master.serialNumber)
    return { keyringForVerifier }
  }
}

const held = []
for (const c of input.certificates ?? []) {
  let master = c.master
  if (c.issue != null) {
    const certifier = new ProtoWallet(PrivateKey.fromHex(c.issue.certifierKey))
    const outpoint = c.issue.revocationOutpoint ?? '0000000000000000000000000000000000000000000000000000000000000000.0'
    const m = await MasterCertificate.issueCertificateForSubject(
      certifier, subjectKey.toPublicKey().toString(), c.issue.fields, c.issue.type, async () => outpoint)
    master = {
      type: m.type, serialNumber: m.serialNumber, subject: m.subject, certifier: m.certifier,
      revocationOutpoint: m.revocationOutpoint, fields: m.fields, signature: m.signature, masterKeyring: m.masterKeyring
    }
  }
  const listed = { ...master }
  delete listed.masterKeyring
  if (c.tamper === true) {
    const o = listed.revocationOutpoint
    listed.revocationOutpoint = o.slice(0, -1) + (o.endsWith('1') ? '2' : '1')
  }
  held.push({ master, listed })
}

const client = new AuthFetch(new CertificateWallet(subjectKey, held))
const results = []
for (const r of input.requests) {
  try {
    const response = await client.fetch(input.baseUrl + r.path, { method: r.method, headers: r.headers, body: r.body })
    results.push({ status: response.status, body: await response.text() })
  } catch (e) {
    results.push({ error: e.message, status: e.details?.status ?? null, body: e.details?.bodyPreview ?? null })
  }
}
process.stdout.write(JSON.stringify({ requested, results }) + '\n')
process.exit(0)
