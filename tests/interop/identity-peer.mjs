#!/usr/bin/env node
// @bsv/sdk's ProtoWallet, KeyDeriver and BRC-52 certificates answering requests, so that C# tests can compare
// Atomic.Identity with the reference implementation byte for byte.
//
//   echo '{"rootKey":"HEX","requests":[{"op":"getPublicKey",…},…]}' | node tests/interop/identity-peer.mjs
//
// Reads one JSON object on stdin and prints one JSON object {"identityKey", "results": […]} on stdout, one result
// per request in order: the op's answer, or {"error": message} when @bsv/sdk throws. Bytes travel as hex,
// protocol ids as [level, name], counterparties as "self", "anyone" or a public key in hex.
import {
  AuthFetch, BigNumber, Certificate, createNonce, SimplifiedFetchTransport, verifyNonce, MasterCertificate, Point, PrivateKey, ProtoWallet, PublicKey, Schnorr, Utils, VerifiableCertificate
} from '@bsv/sdk'

const hex = (bytes) => Utils.toHex(Array.from(bytes))
const bytes = (h) => Utils.toArray(h ?? '', 'hex')

function certificateJson (c) {
  return {
    type: c.type,
    serialNumber: c.serialNumber,
    subject: c.subject,
    certifier: c.certifier,
    revocationOutpoint: c.revocationOutpoint,
    fields: c.fields,
    signature: c.signature,
    masterKeyring: c.masterKeyring
  }
}

const fromJson = (c) => new Certificate(c.type, c.serialNumber, c.subject, c.certifier, c.revocationOutpoint, c.fields, c.signature)

async function answer (wallet, r) {
  const common = { protocolID: r.protocolID, keyID: r.keyID, counterparty: r.counterparty }
  switch (r.op) {
    case 'getPublicKey':
      return await wallet.getPublicKey({ ...common, forSelf: r.forSelf })
    case 'deriveSymmetricKey':
      return { key: hex(wallet.keyDeriver.deriveSymmetricKey(r.protocolID, r.keyID, r.counterparty).toArray()) }
    case 'revealCounterpartySecret':
      return { secret: hex(wallet.keyDeriver.revealCounterpartySecret(r.counterparty)) }
    case 'revealSpecificSecret':
      return { secret: hex(wallet.keyDeriver.revealSpecificSecret(r.counterparty, r.protocolID, r.keyID)) }
    case 'createSignature': {
      const args = r.hashToDirectlySign != null ? { hashToDirectlySign: bytes(r.hashToDirectlySign) } : { data: bytes(r.data) }
      return { signature: hex((await wallet.createSignature({ ...common, ...args })).signature) }
    }
    case 'verifySignature': {
      const args = r.hashToDirectlyVerify != null ? { hashToDirectlyVerify: bytes(r.hashToDirectlyVerify) } : { data: bytes(r.data) }
      return await wallet.verifySignature({ ...common, ...args, signature: bytes(r.signature), forSelf: r.forSelf })
    }
    case 'encrypt':
      return { ciphertext: hex((await wallet.encrypt({ ...common, plaintext: bytes(r.plaintext) })).ciphertext) }
    case 'decrypt':
      return { plaintext: hex((await wallet.decrypt({ ...common, ciphertext: bytes(r.ciphertext) })).plaintext) }
    case 'createHmac':
      return { hmac: hex((await wallet.createHmac({ ...common, data: bytes(r.data) })).hmac) }
    case 'verifyHmac':
      return await wallet.verifyHmac({ ...common, data: bytes(r.data), hmac: bytes(r.hmac) })
    case 'revealSpecificKeyLinkage': {
      const x = await wallet.revealSpecificKeyLinkage({ ...common, verifier: r.verifier })
      return { ...x, encryptedLinkage: hex(x.encryptedLinkage), encryptedLinkageProof: hex(x.encryptedLinkageProof) }
    }
    case 'revealCounterpartyKeyLinkage': {
      const x = await wallet.revealCounterpartyKeyLinkage({ counterparty: r.counterparty, verifier: r.verifier })
      return { ...x, encryptedLinkage: hex(x.encryptedLinkage), encryptedLinkageProof: hex(x.encryptedLinkageProof) }
    }
    case 'checkCounterpartyKeyLinkage': {
      // The verifier's side of BRC-69 (@bsv/sdk has no method for it): decrypt, then check the Schnorr proof.
      const details = { protocolID: [2, 'counterparty linkage revelation'], keyID: r.revelationTime, counterparty: r.prover }
      const linkage = (await wallet.decrypt({ ...details, ciphertext: bytes(r.encryptedLinkage) })).plaintext
      const proof = (await wallet.decrypt({ ...details, ciphertext: bytes(r.encryptedLinkageProof) })).plaintext
      const valid = new Schnorr().verifyProof(
        PublicKey.fromString(r.prover), PublicKey.fromString(r.counterparty), Point.fromDER(linkage),
        { R: Point.fromDER(proof.slice(0, 33)), SPrime: Point.fromDER(proof.slice(33, 66)), z: new BigNumber(proof.slice(66)) })
      return { linkage: hex(linkage), valid }
    }
    case 'sortFieldNames':
      // Certificate.toBinary orders field names with this comparison.
      return { names: [...r.names].sort((a, b) => a.localeCompare(b)) }
    case 'issueCertificate': {
      const c = await MasterCertificate.issueCertificateForSubject(
        wallet, r.subject, r.fields, r.type, async () => r.revocationOutpoint, r.serialNumber)
      return { certificate: certificateJson(c), binary: hex(c.toBinary(true)) }
    }
    case 'certificateBinary': {
      const c = fromJson(r.certificate)
      return { binary: hex(c.toBinary(r.includeSignature !== false)), preimage: hex(c.toBinary(false)) }
    }
    case 'certificateFromBinary':
      return { certificate: certificateJson(Certificate.fromBinary(bytes(r.binary))) }
    case 'verifyCertificate':
      return { valid: await fromJson(r.certificate).verify() }
    case 'decryptMasterFields':
      return {
        fields: await MasterCertificate.decryptFields(wallet, r.masterKeyring, r.fields, r.counterparty)
      }
    case 'createKeyringForVerifier':
      return {
        keyring: await MasterCertificate.createKeyringForVerifier(
          wallet, r.certifier, r.verifier, r.fields, r.fieldsToReveal, r.masterKeyring, r.serialNumber)
      }
    case 'decryptForVerifier': {
      const c = r.certificate
      const v = new VerifiableCertificate(
        c.type, c.serialNumber, c.subject, c.certifier, c.revocationOutpoint, c.fields, r.keyring, c.signature)
      return { fields: await v.decryptFields(wallet) }
    }
    case 'createNonce':
      return { nonce: await createNonce(wallet, r.counterparty) }
    case 'verifyNonce':
      return { valid: await verifyNonce(r.nonce, wallet, r.counterparty) }
    case 'jsonRestringify':
      return { text: JSON.stringify(JSON.parse(r.text)) }
    case 'textDecode':
      return { text: Utils.toUTF8(bytes(r.bytes)) }
    case 'serializeRequest': {
      // AuthFetch's BRC-104 request payload (a private method in TypeScript only); body a UTF-8 string or absent.
      const writer = await new AuthFetch(wallet).serializeRequest(
        r.method, r.headers, r.body ?? undefined, new URL(r.url), bytes(r.requestId))
      return { payload: hex(writer.toArray()) }
    }
    case 'deserializeRequest': {
      const x = new SimplifiedFetchTransport('http://localhost').deserializeRequestPayload(bytes(r.payload))
      return { ...x, body: x.body == null ? null : hex(x.body) }
    }
    case 'responsePayload': {
      // The payload SimplifiedFetchTransport rebuilds from an HTTP response to check the server's signature.
      let seen
      const fetchClient = async () => new Response(r.body == null ? null : new Uint8Array(bytes(r.body)), {
        status: r.status,
        headers: { ...r.headers, 'x-bsv-auth-version': '0.1', 'x-bsv-auth-identity-key': r.identityKey, 'x-bsv-auth-signature': '00', 'x-bsv-auth-request-id': r.requestId }
      })
      const transport = new SimplifiedFetchTransport('http://localhost', fetchClient)
      await transport.onData(async (m) => { seen = m })
      const request = await new AuthFetch(wallet).serializeRequest('GET', {}, undefined, new URL('http://localhost/'), bytes('00'.repeat(32)))
      await transport.send({ version: '0.1', messageType: 'general', identityKey: r.identityKey, nonce: 'AA==', yourNonce: 'AA==', payload: request.toArray(), signature: [0] })
      return { payload: hex(seen.payload) }
    }
    case 'transport': {
      // A general message sent through SimplifiedFetchTransport: the HTTP request it makes, and the message it reads
      // back from the given HTTP response.
      let request
      let seen
      const fetchClient = async (url, init) => {
        request = { url, method: init.method, headers: init.headers, body: init.body == null ? null : hex(typeof init.body === 'string' ? Utils.toArray(init.body, 'utf8') : init.body) }
        return new Response(r.body == null ? null : new Uint8Array(bytes(r.body)), { status: r.status, headers: r.headers })
      }
      const transport = new SimplifiedFetchTransport('http://localhost:1234', fetchClient)
      await transport.onData(async (m) => { seen = m })
      await transport.send(r.message)
      return { request, message: seen }
    }
    default:
      throw new Error(`unknown op ${r.op}`)
  }
}

let input = ''
for await (const chunk of process.stdin) input += chunk
const { rootKey, requests } = JSON.parse(input)
const wallet = new ProtoWallet(rootKey === 'anyone' ? 'anyone' : PrivateKey.fromHex(rootKey))
const results = []
for (const r of requests) {
  try {
    results.push(await answer(wallet, r))
  } catch (e) {
    results.push({ error: String(e instanceof Error ? e.message : e) })
  }
}
process.stdout.write(JSON.stringify({ identityKey: (await wallet.getPublicKey({ identityKey: true })).publicKey, results }) + '\n')
