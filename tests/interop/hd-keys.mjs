#!/usr/bin/env node
// BIP39 mnemonics and BIP32 extended keys as @bsv/sdk's compat module makes them (Mnemonic, HD): the reference that
// tests/Atomic.Bsv.Tests/Interop/ExtendedKeyInteropTests.cs compares Atomic.Bsv's Mnemonic and ExtendedKey with.
//
//   node tests/interop/hd-keys.mjs --mnemonic "WORDS" [--passphrase TEXT] --paths "m/0,m/44'/236'/0'/0/0"
//   node tests/interop/hd-keys.mjs --random 12|24 [--passphrase TEXT] --paths "m/0"
//
// Prints one JSON object: the mnemonic (its own random one with --random), the seed as hex, the master xprv and xpub,
// and for each path the derived xprv, xpub, WIF, public key and address, and, where the path has no hardened step,
// the xpub derived from the master's xpub alone.
import { HD, Mnemonic } from '@bsv/sdk/compat'
import { Utils } from '@bsv/sdk'
import { parseArgs } from './lib/args.mjs'

const args = parseArgs(process.argv.slice(2), ['paths'],
  'node hd-keys.mjs (--mnemonic WORDS | --random 12|24) [--passphrase TEXT] --paths PATH[,PATH…]')
const passphrase = args.passphrase ?? ''
const mnemonic = args.random != null
  ? Mnemonic.fromRandom(Number(args.random) === 24 ? 256 : 128)
  : Mnemonic.fromString(args.mnemonic)
const seed = mnemonic.toSeed(passphrase)
const master = HD.fromSeed(seed)
const masterPublic = master.toPublic()

const keys = args.paths.split(',').map(path => {
  const key = master.derive(path)
  return {
    path,
    xprv: key.toString(),
    xpub: key.toPublic().toString(),
    wif: key.privKey.toWif(),
    publicKey: key.pubKey.toString(),
    address: key.pubKey.toAddress(),
    xpubFromMasterXpub: path.includes("'") ? null : masterPublic.derive(path).toString()
  }
})

console.log(JSON.stringify({
  mnemonic: mnemonic.toString(),
  seed: Utils.toHex(seed),
  xprv: master.toString(),
  xpub: masterPublic.toString(),
  keys
}))
