#!/usr/bin/env node
// The subject's side of BRC-53 issuance as @bsv/sdk wallets run it for acquireCertificate({acquisitionProtocol:
// 'issuance'}), over @bsv/sdk 2.1.0's primitives (a ProtoWallet cannot acquire certificates itself): a nonce for the
// certifier, the fields encrypted for it, an AuthFetch POST to {certifierUrl}/signCertificate, and every check a
// wallet makes on the answer (signed by the certifier, its server nonce, the serial number's HMAC over both nonces,
// type, subject, certifier, revocation outpoint, fields, signature, decryption).
//
//   echo '{"clientKey":HEX,"certifierUrl":URL,"certifier":HEX,"type":B64,"fields":{…}}' | node certifier-acquire.mjs
//
// Prints {"certificate": {type, serialNumber, subject, certifier, revocationOutpoint, fields, signature, masterKeyring},
// "decrypted": {…}} or {"error": message, "status"?}.
import { AuthFetch, Certificate, createNonce, MasterCertificate, PrivateKey, ProtoWallet, Utils, verifyNonce } from '@bsv/sdk'

const input = JSON.parse(await new Promise(resolve => {
  let text = ''
  process.stdin.on('data', d => { text += d })
  process.stdin.on('end', () => resolve(text))
}))

// A wallet holding no certificates yet: the certifier's server may ask for certificates at the handshake, and the
// sdk's Peer then calls listCertificates (a bare ProtoWallet has none and would fail).
class EmptyWallet extends ProtoWallet {
  async listCertificates () { return { totalCertificates: 0, certificates: [] } }
}

async function acquire () {
  const wallet = new EmptyWallet(PrivateKey.fromHex(input.clientKey))
  const identityKey = (await wallet.getPublicKey({ identityKey: true })).publicKey
  const clientNonce = await createNonce(wallet, input.certifier)
  const { certificateFields, masterKeyring } = await MasterCertificate.createCertificateFields(wallet, input.certifier, input.fields)
  const response = await new AuthFetch(wallet).fetch(`${input.certifierUrl}/signCertificate`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ clientNonce, type: input.type, fields: certificateFields, masterKeyring })
  })
  if (response.status !== 200) return { error: await response.text(), status: response.status }
  if (response.headers.get('x-bsv-auth-identity-key') !== input.certifier) throw new Error('answer not signed by the certifier')
  const { certificate, serverNonce } = await response.json()
  const signed = new Certificate(certificate.type, certificate.serialNumber, certificate.subject, certificate.certifier,
    certificate.revocationOutpoint, certificate.fields, certificate.signature)
  if (!(await verifyNonce(serverNonce, wallet, input.certifier))) throw new Error('bad server nonce')
  const { valid } = await wallet.verifyHmac({
    hmac: Utils.toArray(signed.serialNumber, 'base64'),
    data: Utils.toArray(clientNonce + serverNonce, 'base64'),
    protocolID: [2, 'certificate issuance'],
    keyID: serverNonce + clientNonce,
    counterparty: input.certifier
  })
  if (!valid) throw new Error('Invalid serialNumber')
  if (signed.type !== input.type || signed.subject !== identityKey || signed.certifier !== input.certifier) throw new Error('wrong type, subject or certifier')
  if (!signed.revocationOutpoint) throw new Error('no revocationOutpoint')
  for (const f of Object.keys(certificateFields)) {
    if (signed.fields[f] !== certificateFields[f]) throw new Error(`field ${f} differs`)
  }
  if (Object.keys(signed.fields).length !== Object.keys(certificateFields).length) throw new Error('field count differs')
  if (!(await signed.verify())) throw new Error('signature does not verify')
  const decrypted = await MasterCertificate.decryptFields(wallet, masterKeyring, signed.fields, input.certifier)
  return { certificate: { ...certificate, masterKeyring }, decrypted }
}

let result
try {
  result = await acquire()
} catch (e) {
  result = { error: e.message, status: e.details?.status ?? null }
}
process.stdout.write(JSON.stringify(result) + '\n')
process.exit(0)
