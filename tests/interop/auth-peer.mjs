#!/usr/bin/env node
// @bsv/sdk 2.1.0's BRC-103 Peer over a transport made of stdin and stdout, so that C# tests can hold a session with it
// message by message (tests/Atomic.Identity.Tests/Interop/AuthPeer.cs).
//
// The first line is {"rootKey": HEX, "certificatesToRequest": {...}?}. Each further line is one command; the answer is
// any number of event lines and then {"done": true}:
//   {"deliver": AuthMessage}                hands the message to the Peer as if it came from the transport
//   {"toPeer": {"payload": HEX, "identityKey": HEX}}           peer.toPeer (not awaited: it may wait for a handshake)
//   {"requestCertificates": {"set": {...}, "identityKey": HEX}}
//   {"sendCertificateResponse": {"certificates": [...], "identityKey": HEX}}
// Events: {"sent": AuthMessage} (what the Peer sent), {"general": {"sender", "payload"}}, {"certificatesRequested":
// {"sender", "requested"}}, {"certificatesReceived": {"sender", "certificates"}}, {"error": message}.
import readline from 'node:readline'
import { Peer, PrivateKey, ProtoWallet, Utils, VerifiableCertificate } from '@bsv/sdk'

const print = (o) => process.stdout.write(JSON.stringify(o) + '\n')
const settle = () => new Promise(resolve => setTimeout(resolve, 30))

let onData
const transport = {
  send: async (message) => print({ sent: message }),
  onData: async (callback) => { onData = callback }
}

const lines = readline.createInterface({ input: process.stdin })
let peer
for await (const line of lines) {
  if (line.trim() === '') continue
  const command = JSON.parse(line)
  if (peer == null) {
    const wallet = new ProtoWallet(PrivateKey.fromHex(command.rootKey))
    peer = new Peer(wallet, transport, command.certificatesToRequest)
    peer.listenForGeneralMessages((sender, payload) => print({ general: { sender, payload: Utils.toHex(payload) } }))
    peer.listenForCertificatesRequested((sender, requested) => print({ certificatesRequested: { sender, requested } }))
    peer.listenForCertificatesReceived((sender, certificates) => print({ certificatesReceived: { sender, certificates } }))
    print({ identityKey: (await wallet.getPublicKey({ identityKey: true })).publicKey, done: true })
    continue
  }
  const fail = (e) => print({ error: String(e instanceof Error ? e.message : e) })
  try {
    if (command.deliver != null) {
      await onData(command.deliver)
    } else if (command.toPeer != null) {
      peer.toPeer(Utils.toArray(command.toPeer.payload, 'hex'), command.toPeer.identityKey).catch(fail)
    } else if (command.requestCertificates != null) {
      await peer.requestCertificates(command.requestCertificates.set, command.requestCertificates.identityKey)
    } else if (command.sendCertificateResponse != null) {
      const certificates = command.sendCertificateResponse.certificates.map(c => new VerifiableCertificate(
        c.type, c.serialNumber, c.subject, c.certifier, c.revocationOutpoint, c.fields, c.keyring, c.signature))
      await peer.sendCertificateResponse(command.sendCertificateResponse.identityKey, certificates)
    }
  } catch (e) {
    fail(e)
  }
  await settle()
  print({ done: true })
}
