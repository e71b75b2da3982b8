#!/usr/bin/env node
// Random BEEF corpus with @bsv/sdk's verdicts. See README.md in this folder.
//
//   node tests/interop/gen-corpus.mjs --out DIR --count N --seed S
//        [--generations 1-4] [--inputs 1-3] [--tampered-fraction 0.3]
//        [--big-chain-mb M] [--coinbase-fraction 0] [--jobs J]
//
// Writes DIR/roots.json, DIR/corpus.jsonl and (with --big-chain-mb) DIR/big.beef.
// Everything is derived from --seed through a seeded PRNG (sfc32), and @bsv/sdk's
// ECDSA signing is RFC 6979 deterministic, so the output is byte-identical for a
// given seed / count / options (independent of --jobs).

import { isMainThread, Worker, parentPort, workerData } from 'node:worker_threads'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  Transaction, MerklePath, Beef, BEEF_V1, BEEF_V2, P2PKH, PushDrop, ProtoWallet,
  PrivateKey, LockingScript, UnlockingScript, TransactionSignature, Hash, OP
} from '@bsv/sdk'
import { sdkCheck, makeChainTracker, hexToBytes, detectFormat } from './lib/sdk-check.mjs'

const FORMATS = ['v1', 'v2', 'atomic']
const GROUPS_PER_CHUNK = 25 // 75 lines per work unit
const SCOPE = TransactionSignature.SIGHASH_ALL | TransactionSignature.SIGHASH_FORKID
const PROTOCOL = [0, 'interop corpus']
const SIG_TYPES = new Set(['p2pkh', 'multisig', 'pushdrop'])
// relative weights of the tampered kinds (per group of 3 lines)
const TAMPER_WEIGHTS = [
  ['tampered-sig', 2], ['overspend', 1.5], ['unknown-root', 1.5], ['missing-parent', 1.5],
  ['missing-proven-parent', 0.5], ['truncated', 2], ['random-bytes', 1]
]

// ---------------------------------------------------------------- PRNG (sfc32)
function makeRng (label) {
  const h = createHash('sha256').update(String(label)).digest()
  let a = h.readUInt32LE(0); let b = h.readUInt32LE(4); let c = h.readUInt32LE(8); let d = h.readUInt32LE(12)
  const u32 = () => {
    const t = (((a + b) >>> 0) + d) >>> 0
    d = (d + 1) >>> 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) >>> 0
    c = ((c << 21) | (c >>> 11)) >>> 0
    c = (c + t) >>> 0
    return t
  }
  for (let i = 0; i < 15; i++) u32()
  const rng = {
    u32,
    float: () => u32() / 4294967296,
    int: (lo, hi) => lo + Math.floor(rng.float() * (hi - lo + 1)),
    chance: (p) => rng.float() < p,
    pick: (arr) => arr[Math.floor(rng.float() * arr.length)],
    bytes: (n) => {
      const out = new Uint8Array(n)
      for (let i = 0; i < n; i += 4) {
        const v = u32()
        for (let j = 0; j < 4 && i + j < n; j++) out[i + j] = (v >>> (8 * j)) & 0xff
      }
      return out
    },
    hex: (n) => Buffer.from(rng.bytes(n)).toString('hex'),
    shuffle: (arr) => {
      for (let i = arr.length - 1; i > 0; i--) {
        const j = Math.floor(rng.float() * (i + 1)); [arr[i], arr[j]] = [arr[j], arr[i]]
      }
      return arr
    },
    weighted: (pairs) => {
      const tot = pairs.reduce((s, p) => s + p[1], 0)
      let x = rng.float() * tot
      for (const [v, w] of pairs) { if ((x -= w) < 0) return v }
      return pairs[pairs.length - 1][0]
    }
  }
  return rng
}

// ---------------------------------------------------------------- small helpers
const toHex = (u8) => Buffer.from(u8).toString('hex')
const revHex = (hex) => Buffer.from(hex, 'hex').reverse().toString('hex')
const sha256d = (buf) => createHash('sha256').update(createHash('sha256').update(buf).digest()).digest()

function varint (n) {
  if (n < 0xfd) return Buffer.from([n])
  if (n <= 0xffff) { const b = Buffer.alloc(3); b[0] = 0xfd; b.writeUInt16LE(n, 1); return b }
  if (n <= 0xffffffff) { const b = Buffer.alloc(5); b[0] = 0xfe; b.writeUInt32LE(n, 1); return b }
  const b = Buffer.alloc(9); b[0] = 0xff; b.writeBigUInt64LE(BigInt(n), 1); return b
}
const u32le = (n) => { const b = Buffer.alloc(4); b.writeUInt32LE(n >>> 0); return b }

/** minimally-encoded push chunk for the SDK's Script chunk model */
function push (data) {
  data = Array.from(data)
  if (data.length === 0) return { op: OP.OP_0 }
  if (data.length === 1 && data[0] >= 1 && data[0] <= 16) return { op: OP.OP_1 + data[0] - 1 }
  if (data.length === 1 && data[0] === 0x81) return { op: OP.OP_1NEGATE }
  if (data.length <= 75) return { op: data.length, data }
  if (data.length <= 255) return { op: OP.OP_PUSHDATA1, data }
  return { op: OP.OP_PUSHDATA2, data }
}

/** Our own BRC-74 tree: levels[0] = leaves (display-order txid hex), root = levels[last][0]. */
function merkleLevels (leavesHex) {
  const levels = [leavesHex.map((h) => Buffer.from(h, 'hex').reverse())] // internal byte order
  while (levels[levels.length - 1].length > 1) {
    const cur = levels[levels.length - 1]
    const next = []
    for (let i = 0; i < cur.length; i += 2) {
      const l = cur[i]; const r = i + 1 < cur.length ? cur[i + 1] : cur[i]
      next.push(sha256d(Buffer.concat([l, r])))
    }
    levels.push(next)
  }
  return levels
}
const displayHex = (buf) => Buffer.from(buf).reverse().toString('hex')

/** BUMP (per BRC-74) proving leaf `index`; checked against our own root through the SDK. */
function bumpFor (height, levels, index) {
  const treeHeight = levels.length - 1
  const pathArr = []
  for (let h = 0; h < treeHeight; h++) {
    const lvl = levels[h]
    const sib = (index >> h) ^ 1
    const leaves = []
    if (h === 0) leaves.push({ offset: index, hash: displayHex(lvl[index]), txid: true })
    if (sib < lvl.length) leaves.push({ offset: sib, hash: displayHex(lvl[sib]) })
    else leaves.push({ offset: sib, duplicate: true })
    leaves.sort((x, y) => x.offset - y.offset)
    pathArr.push(leaves)
  }
  const mp = new MerklePath(height, pathArr)
  const root = displayHex(levels[treeHeight][0])
  const txid = displayHex(levels[0][index])
  if (mp.computeRoot(txid) !== root) throw new Error(`BUMP self-check failed at height ${height}`)
  return mp
}

// ---------------------------------------------------------------- script kinds
// meta describes how to unlock an output; it is plain JSON so it can cross worker boundaries
class Keys {
  constructor (privHexes, walletHex) {
    this.priv = privHexes.map((h) => new PrivateKey(h, 16))
    this.pub = this.priv.map((k) => k.toPublicKey())
    this.pubDer = this.pub.map((p) => p.encode(true))
    this.pkh = this.pub.map((p) => p.toHash())
    this.wallet = new ProtoWallet(new PrivateKey(walletHex, 16))
    this.pushdrop = new PushDrop(this.wallet)
  }
}

async function makeOutput (rng, keys, forcedType) {
  const type = forcedType ?? rng.weighted([['p2pkh', 35], ['multisig', 20], ['pushdrop', 20], ['cat', 12.5], ['split', 12.5]])
  const nk = keys.priv.length
  switch (type) {
    case 'p2pkh': {
      const k = rng.int(0, nk - 1)
      return { lockingScript: new P2PKH().lock(keys.pkh[k]), meta: { type, k } }
    }
    case 'multisig': {
      const [m, n] = rng.chance(0.5) ? [1, 2] : [2, 3]
      const ks = []
      while (ks.length < n) { const k = rng.int(0, nk - 1); if (!ks.includes(k)) ks.push(k) }
      const chunks = [{ op: OP.OP_1 + m - 1 }, ...ks.map((k) => push(keys.pubDer[k])), { op: OP.OP_1 + n - 1 }, { op: OP.OP_CHECKMULTISIG }]
      // which m of the n keys sign (kept in pubkey order, as CHECKMULTISIG requires)
      const idx = rng.shuffle([...Array(n).keys()]).slice(0, m).sort((x, y) => x - y)
      return { lockingScript: new LockingScript(chunks), meta: { type, m, ks, signers: idx.map((i) => ks[i]) } }
    }
    case 'pushdrop': {
      const nf = rng.int(1, 3)
      const fields = []
      for (let i = 0; i < nf; i++) {
        const len = rng.weighted([[1, 2], [rng.int(2, 40), 5], [rng.int(76, 140), 2]])
        fields.push(Array.from(rng.bytes(len)))
      }
      const keyID = String(rng.int(1, 4))
      const lockingScript = await keys.pushdrop.lock(fields, PROTOCOL, keyID, 'self', false, rng.chance(0.7))
      return { lockingScript, meta: { type, keyID } }
    }
    case 'cat': {
      const a = rng.bytes(rng.int(2, 30)); const b = rng.bytes(rng.int(2, 30))
      const chunks = [{ op: OP.OP_CAT }, push(Buffer.concat([a, b])), { op: OP.OP_EQUAL }]
      return { lockingScript: new LockingScript(chunks), meta: { type, a: toHex(a), b: toHex(b) } }
    }
    case 'split': {
      const d = rng.bytes(rng.int(4, 40))
      const n = rng.int(2, Math.min(16, d.length - 2))
      const chunks = [{ op: OP.OP_1 + n - 1 }, { op: OP.OP_SPLIT }, push(d.slice(n)), { op: OP.OP_EQUALVERIFY }, push(d.slice(0, n)), { op: OP.OP_EQUAL }]
      return { lockingScript: new LockingScript(chunks), meta: { type, d: toHex(d) } }
    }
  }
  throw new Error('unknown output type ' + type)
}

function unlockTemplate (meta, keys) {
  switch (meta.type) {
    case 'p2pkh': return new P2PKH().unlock(keys.priv[meta.k])
    case 'pushdrop': return keys.pushdrop.unlock(PROTOCOL, meta.keyID, 'self')
    case 'cat': return { sign: async () => new UnlockingScript([push(Buffer.from(meta.a, 'hex')), push(Buffer.from(meta.b, 'hex'))]), estimateLength: async () => 64 }
    case 'split': return { sign: async () => new UnlockingScript([push(Buffer.from(meta.d, 'hex'))]), estimateLength: async () => 42 }
    case 'multisig': return {
      estimateLength: async () => 1 + 74 * meta.m,
      sign: async (tx, inputIndex) => {
        const input = tx.inputs[inputIndex]
        const src = input.sourceTransaction.outputs[input.sourceOutputIndex]
        const preimage = TransactionSignature.format({
          sourceTXID: input.sourceTXID ?? input.sourceTransaction.id('hex'),
          sourceOutputIndex: input.sourceOutputIndex,
          sourceSatoshis: src.satoshis,
          transactionVersion: tx.version,
          otherInputs: tx.inputs.filter((_, i) => i !== inputIndex),
          inputIndex,
          outputs: tx.outputs,
          inputSequence: input.sequence ?? 0xffffffff,
          subscript: src.lockingScript,
          lockTime: tx.lockTime,
          scope: SCOPE
        })
        const chunks = [{ op: OP.OP_0 }]
        for (const k of meta.signers) {
          const s = keys.priv[k].sign(Hash.sha256(preimage))
          chunks.push(push(new TransactionSignature(s.r, s.s, SCOPE).toChecksigFormat()))
        }
        return new UnlockingScript(chunks)
      }
    }
  }
  throw new Error('no unlock for ' + meta.type)
}

// ---------------------------------------------------------------- pool (main thread)
function coinbaseTx (rng, height, keys) {
  const tx = new Transaction(1, [], [], 0)
  const hb = []; let h = height; while (h > 0) { hb.push(h & 0xff); h >>= 8 }
  if (hb[hb.length - 1] & 0x80) hb.push(0)
  tx.addInput({
    sourceTXID: '00'.repeat(32),
    sourceOutputIndex: 0xffffffff,
    unlockingScript: new UnlockingScript([push(hb), push(rng.bytes(8))]),
    sequence: 0xffffffff
  })
  tx.addOutput({ lockingScript: new P2PKH().lock(keys.pkh[rng.int(0, keys.pkh.length - 1)]), satoshis: 625000000 + rng.int(0, 99999) })
  return tx
}

/** A mined "proven parent": its inputs are never evaluated (it has a BUMP), so they are dummies. */
async function provenParentTx (rng, keys) {
  const tx = new Transaction(1, [], [], 0)
  const nIn = rng.int(1, 2)
  for (let i = 0; i < nIn; i++) {
    tx.addInput({
      sourceTXID: rng.hex(32),
      sourceOutputIndex: rng.int(0, 3),
      unlockingScript: new UnlockingScript([push([0x30, ...rng.bytes(70)]), push([0x02, ...rng.bytes(32)])]),
      sequence: 0xffffffff
    })
  }
  const metas = []
  const nOut = rng.int(2, 4)
  for (let i = 0; i < nOut; i++) {
    const { lockingScript, meta } = await makeOutput(rng, keys)
    const satoshis = rng.int(20000, 2000000)
    tx.addOutput({ lockingScript, satoshis })
    metas.push(meta)
  }
  return { tx, metas }
}

async function buildPool (seed, opts) {
  const rng = makeRng(`${seed}:pool`)
  const keyHexes = []
  for (let i = 0; i < 12; i++) keyHexes.push(rng.hex(32))
  const walletHex = rng.hex(32)
  const keys = new Keys(keyHexes, walletHex)
  const NB = 24
  const base = 1000
  const tip = base + 10 * NB + 5
  const blocks = [] // {height, root, listed, kind}
  const parents = [] // {raw, txid, pathHex, height, block, orphan, outs:[{satoshis, meta}]}
  const coinbases = {} // mature / immature coinbase outputs (only used with --coinbase-fraction)

  async function makeBlock (height, kind, nParents, coinbaseRole) {
    const cb = coinbaseTx(rng, height, keys)
    const ptxs = []
    for (let i = 0; i < nParents; i++) ptxs.push(await provenParentTx(rng, keys))
    const fillers = []
    const nFill = rng.weighted([[0, 2], [rng.int(1, 6), 3], [rng.int(7, 40), 2]])
    for (let i = 0; i < nFill; i++) fillers.push({ filler: rng.hex(32) })
    const rest = rng.shuffle([...ptxs.map((p) => ({ p })), ...fillers])
    const leafObjs = [{ cb }, ...rest]
    const leaves = leafObjs.map((o) => o.cb ? o.cb.id('hex') : o.p ? o.p.tx.id('hex') : o.filler)
    const levels = merkleLevels(leaves)
    const root = displayHex(levels[levels.length - 1][0])
    const bi = blocks.length
    blocks.push({ height, merkleRoot: root, kind, nLeaves: leaves.length })
    leafObjs.forEach((o, index) => {
      if (o.p == null) return
      const mp = bumpFor(height, levels, index)
      parents.push({
        raw: o.p.tx.toHex(), txid: leaves[index], pathHex: mp.toHex(), height, block: bi,
        orphan: kind !== 'listed',
        outs: o.p.tx.outputs.map((out, i) => ({ satoshis: out.satoshis, meta: o.p.metas[i] }))
      })
    })
    if (coinbaseRole != null) {
      const mp = bumpFor(height, levels, 0)
      coinbases[coinbaseRole] = {
        raw: cb.toHex(), txid: leaves[0], pathHex: mp.toHex(), height, block: bi, orphan: false,
        outs: [{ satoshis: cb.outputs[0].satoshis, meta: { type: 'p2pkh', k: keys.pkh.findIndex((h) => toHex(h) === toHex(cb.outputs[0].lockingScript.chunks[2].data)) } }]
      }
    }
    return root
  }

  for (let i = 0; i < NB; i++) await makeBlock(base + 10 * i, 'listed', rng.int(3, 8))
  // orphan blocks: two at heights roots.json does not list, two "forks" at listed heights
  for (let i = 0; i < 2; i++) await makeBlock(base + 10 * rng.int(0, NB - 1) + 3 + i, 'unlisted', rng.int(2, 4))
  for (let i = 0; i < 2; i++) await makeBlock(base + 10 * rng.int(0, NB - 1), 'fork', rng.int(2, 4))
  // coinbase blocks: spendable per consensus (>=100 deep) / immature; and the tip
  await makeBlock(tip - 151, 'listed', rng.int(1, 3), 'mature')
  await makeBlock(tip - 6, 'listed', rng.int(1, 3), 'immature')
  await makeBlock(tip, 'listed', 0)
  const roots = blocks.filter((b) => b.kind === 'listed').map((b) => ({ height: b.height, merkleRoot: b.merkleRoot }))
    .sort((x, y) => x.height - y.height)
  return { keyHexes, walletHex, blocks, parents, coinbases, roots, tip, bigHeight: tip - 3 }
}

// ---------------------------------------------------------------- chains (workers)
function partition (rng, total, n) {
  if (n === 1) return [total]
  const cuts = new Set()
  while (cuts.size < n - 1) cuts.add(rng.int(1, total - 1))
  const cs = [0, ...[...cuts].sort((a, b) => a - b), total]
  return cs.slice(1).map((c, i) => c - cs[i])
}

class Ctx {
  constructor (pool, opts) {
    this.pool = pool
    this.opts = opts
    this.keys = new Keys(pool.keyHexes, pool.walletHex)
    this.tracker = makeChainTracker(pool.roots)
    this.listed = pool.parents.filter((p) => !p.orphan)
    this.orphans = pool.parents.filter((p) => p.orphan)
    this.byBlock = new Map()
    for (const p of this.listed) {
      if (!this.byBlock.has(p.block)) this.byBlock.set(p.block, [])
      this.byBlock.get(p.block).push(p)
    }
    this.homeBlocks = [...this.byBlock.keys()]
  }
}

/**
 * Build one chain of unproven generations on top of proven parents.
 * o: { gens, tamperGen, overspendGen, orphanGen, coinbase ('mature'|'immature') }
 */
async function buildChain (rng, ctx, o) {
  const { keys } = ctx
  const spent = new Set()
  const parentsUsed = new Map() // txid -> pool parent record
  const parentTx = new Map() // txid -> Transaction (fresh, only for signing)
  const gens = [] // {tx, txid, metas, raw}
  const home = rng.pick(ctx.homeBlocks)
  const txObj = (p) => {
    if (!parentTx.has(p.txid)) parentTx.set(p.txid, Transaction.fromHex(p.raw))
    return parentTx.get(p.txid)
  }
  const provenPick = ({ orphan = false, sigOnly = false, coinbase = null } = {}) => {
    for (let tries = 0; tries < 200; tries++) {
      const p = coinbase != null
        ? ctx.pool.coinbases[coinbase]
        : orphan ? rng.pick(ctx.orphans) : rng.chance(0.7) ? rng.pick(ctx.byBlock.get(home)) : rng.pick(ctx.listed)
      const vout = rng.int(0, p.outs.length - 1)
      const key = p.txid + ':' + vout
      if (spent.has(key) || (sigOnly && !SIG_TYPES.has(p.outs[vout].meta.type))) continue
      parentsUsed.set(p.txid, p)
      return { key, src: txObj(p), vout, meta: p.outs[vout].meta, sats: p.outs[vout].satoshis, orphan: p.orphan }
    }
    throw new Error('could not pick a proven output')
  }
  for (let g = 1; g <= o.gens; g++) {
    let nIn = rng.int(ctx.opts.minIn, ctx.opts.maxIn)
    if (g === o.orphanGen && g > 1 && nIn < 2) nIn = 2
    const ins = []
    if (g > 1) {
      const prev = gens[g - 2]
      const vout = rng.int(0, prev.metas.length - 1)
      ins.push({ key: prev.txid + ':' + vout, src: prev.tx, vout, meta: prev.metas[vout], sats: prev.tx.outputs[vout].satoshis })
      spent.add(ins[0].key)
    } else if (o.coinbase != null) {
      ins.push(provenPick({ coinbase: o.coinbase })); spent.add(ins[0].key)
    }
    while (ins.length < nIn) {
      let inp
      if (g === o.orphanGen && !ins.some((i) => i.orphan)) inp = provenPick({ orphan: true })
      else if (g > 1 && rng.chance(0.3)) {
        // an unspent output of an earlier generation
        const cands = []
        for (let k = 0; k < g - 1; k++) {
          gens[k].metas.forEach((m, v) => { const key = gens[k].txid + ':' + v; if (!spent.has(key)) cands.push({ key, src: gens[k].tx, vout: v, meta: m, sats: gens[k].tx.outputs[v].satoshis }) })
        }
        inp = cands.length > 0 ? rng.pick(cands) : provenPick()
      } else inp = provenPick()
      spent.add(inp.key)
      ins.push(inp)
    }
    if (g === o.tamperGen && !ins.some((i) => SIG_TYPES.has(i.meta.type))) {
      const inp = provenPick({ sigOnly: true })
      spent.add(inp.key)
      if (ins.length < 3) ins.push(inp)
      else { spent.delete(ins[ins.length - 1].key); ins[ins.length - 1] = inp }
    }
    rng.shuffle(ins)
    const tx = new Transaction(1, [], [], 0)
    let inTotal = 0
    for (const i of ins) {
      tx.addInput({ sourceTransaction: i.src, sourceTXID: i.src.id('hex'), sourceOutputIndex: i.vout, unlockingScriptTemplate: unlockTemplate(i.meta, keys), sequence: 0xffffffff })
      inTotal += i.sats
    }
    let nOut = rng.int(1, 3)
    const fee = rng.int(1, Math.min(400, Math.max(1, inTotal - 3 * 1000)))
    let outTotal = g === o.overspendGen ? inTotal + rng.int(1, 5000) : inTotal - fee
    if (outTotal < nOut * 1000) nOut = 1
    const values = partition(rng, outTotal, nOut)
    const metas = []
    for (const satoshis of values) {
      const { lockingScript, meta } = await makeOutput(rng, keys)
      tx.addOutput({ lockingScript, satoshis })
      metas.push(meta)
    }
    await tx.sign()
    if (g === o.tamperGen) flipSignatureByte(rng, tx, ins)
    tx.invalidateSerializationCaches?.()
    const raw = tx.toUint8Array()
    const txid = tx.id('hex')
    gens.push({ tx, txid, metas, raw })
  }
  const parents = [...parentsUsed.values()]
  return { parents, gens, subject: gens[gens.length - 1].txid }
}

/** Flip one byte inside an input's DER signature (r/s body or the sighash byte). */
function flipSignatureByte (rng, tx, ins) {
  const cands = []
  tx.inputs.forEach((inp, i) => {
    const t = inp.unlockingScript.chunks
    const type = ins[i].meta.type
    if (type === 'p2pkh' || type === 'pushdrop') cands.push([i, 0])
    if (type === 'multisig') for (let c = 1; c < t.length; c++) cands.push([i, c])
  })
  const [ii, ci] = rng.pick(cands)
  const chunks = tx.inputs[ii].unlockingScript.chunks.map((c) => ({ op: c.op, data: c.data ? [...c.data] : undefined }))
  const sig = chunks[ci].data
  const rlen = sig[3]; const slen = sig[5 + rlen]
  let pos
  if (rng.chance(0.1)) pos = sig.length - 1 // sighash type byte
  else {
    const body = []
    for (let p = 5; p < 4 + rlen; p++) body.push(p)
    for (let p = 7 + rlen; p < 6 + rlen + slen; p++) body.push(p)
    pos = rng.pick(body)
  }
  sig[pos] ^= rng.int(1, 255)
  tx.inputs[ii].unlockingScript = new UnlockingScript(chunks)
  tx.invalidateSerializationCaches?.()
}

/** Rebuild a linked Transaction graph with fresh MerklePath objects (SDK combine() mutates paths). */
function freshGraph (chain) {
  const map = new Map()
  for (const p of chain.parents) {
    const t = Transaction.fromHex(p.raw)
    t.merklePath = MerklePath.fromHex(p.pathHex)
    map.set(p.txid, t)
  }
  for (const g of chain.gens) {
    const t = Transaction.fromBinary(g.raw)
    for (const inp of t.inputs) inp.sourceTransaction = map.get(inp.sourceTXID)
    map.set(g.txid, t)
  }
  return map.get(chain.subject)
}

function beefOf (chain, version) {
  const b = new Beef(version)
  for (const p of chain.parents) b.mergeBump(MerklePath.fromHex(p.pathHex))
  for (const p of chain.parents) b.mergeRawTx(hexToBytes(p.raw))
  for (const g of chain.gens) b.mergeRawTx(g.raw)
  return b
}

/** Serialize a chain with @bsv/sdk's own writers; which writer is used varies by rng. */
function serialize (rng, chain, fmt) {
  if (fmt === 'v1') {
    return rng.chance(0.5) ? Uint8Array.from(beefOf(chain, BEEF_V1).toBinary()) : Uint8Array.from(freshGraph(chain).toBEEF())
  }
  if (fmt === 'v2') return Uint8Array.from(beefOf(chain, BEEF_V2).toBinary())
  const r = rng.float()
  if (r < 0.4) return Uint8Array.from(beefOf(chain, BEEF_V2).toBinaryAtomic(chain.subject))
  if (r < 0.6) return Uint8Array.from(beefOf(chain, BEEF_V1).toBinaryAtomic(chain.subject))
  return Uint8Array.from(freshGraph(chain).toAtomicBEEF()) // BEEF V1 inside
}

/** Our own writer, used only to keep tx order exactly as given (the SDK re-sorts on write). */
function writeBeef ({ version, bumps, txs, atomicTxid }) {
  const parts = []
  if (atomicTxid != null) parts.push(u32le(0x01010101), Buffer.from(atomicTxid, 'hex').reverse())
  parts.push(u32le(version), varint(bumps.length))
  for (const b of bumps) parts.push(Buffer.from(b.toBinary()))
  parts.push(varint(txs.length))
  for (const t of txs) {
    const raw = Buffer.from(t.rawTxUint8Array)
    if (version === BEEF_V2) {
      if (t.bumpIndex !== undefined) parts.push(Buffer.from([1]), varint(t.bumpIndex), raw)
      else parts.push(Buffer.from([0]), raw)
    } else {
      parts.push(raw)
      parts.push(t.bumpIndex !== undefined ? Buffer.concat([Buffer.from([1]), varint(t.bumpIndex)]) : Buffer.from([0]))
    }
  }
  return new Uint8Array(Buffer.concat(parts))
}

/** Remove one transaction from a serialized (Atomic) BEEF, keeping everything else byte-identical. */
function dropTx (bytes, txid) {
  const b = Beef.fromBinary(Uint8Array.from(bytes))
  const txs = b.txs.filter((t) => t.txid !== txid)
  if (txs.length !== b.txs.length - 1) throw new Error('dropTx: txid not found')
  return writeBeef({ version: b.version, bumps: b.bumps, txs, atomicTxid: b.atomicTxid })
}

/**
 * Conservative pre-scan mirroring @bsv/sdk's lenient reader: reject random candidates whose
 * counts exceed the remaining bytes (the SDK would loop 2^32 times reading past the end).
 */
function safeForSdk (u8) {
  let pos = 0; const len = u8.length
  const rem = () => Math.max(0, len - pos)
  const u8r = () => (pos < len ? u8[pos++] : (pos++, 0))
  const u32r = () => { const v = (u8r() | (u8r() << 8) | (u8r() << 16) | (u8r() << 24)) >>> 0; return v }
  const vi = () => {
    const f = u8r()
    if (f === 0xfd) return u8r() | (u8r() << 8)
    if (f === 0xfe) return u32r()
    if (f === 0xff) return Infinity
    return f
  }
  const count = () => { const n = vi(); if (n > rem()) throw new Error('unsafe'); return n }
  try {
    let v = u32r()
    if (v === 0x01010101) { pos += 32; v = u32r() }
    if (v !== 4022206465 && v !== 4022206466) return true
    const nb = count()
    for (let i = 0; i < nb; i++) {
      vi(); const th = u8r()
      for (let l = 0; l < th; l++) { const n = count(); for (let k = 0; k < n; k++) { vi(); if ((u8r() & 1) === 0) pos += 32 } }
    }
    const nt = count()
    for (let i = 0; i < nt; i++) {
      if (v === 4022206466) { const f = u8r(); if (f === 2) { pos += 32; continue } if (f === 1) vi() }
      pos += 4
      const ni = count(); for (let k = 0; k < ni; k++) { pos += 36; const sl = vi(); if (!Number.isFinite(sl)) return false; pos += sl + 4 }
      const no = count(); for (let k = 0; k < no; k++) { pos += 8; const sl = vi(); if (!Number.isFinite(sl)) return false; pos += sl }
      pos += 4
      if (v === 4022206465) { if (u8r() !== 0) vi() }
    }
    return true
  } catch { return false }
}

function randomBytesCase (rng, fmt) {
  for (;;) {
    let u8
    if (rng.chance(0.25)) u8 = rng.bytes(rng.int(0, 600))
    else {
      const magic = (v) => u32le(v)
      const inner = rng.chance(0.5) ? 4022206465 : 4022206466
      const head = fmt === 'atomic'
        ? Buffer.concat([magic(0x01010101), Buffer.from(rng.bytes(32)), magic(inner)])
        : magic(fmt === 'v1' ? 4022206465 : 4022206466)
      u8 = new Uint8Array(Buffer.concat([head, Buffer.from(rng.bytes(rng.int(0, 800)))]))
    }
    if (safeForSdk(u8)) return u8
  }
}

async function makeGroup (rng, ctx, kind, gi) {
  const o = ctx.opts
  const out = [] // [{fmt, bytes, kind, expectValid}]
  if (kind === 'random-bytes') {
    for (const fmt of FORMATS) out.push({ fmt, bytes: randomBytesCase(rng, fmt) })
    return out
  }
  let gens = rng.int(o.minGen, o.maxGen)
  if (kind === 'missing-parent' && gens < 2) gens = rng.int(Math.max(2, o.minGen), Math.max(2, o.maxGen))
  const spec = { gens }
  if (kind === 'tampered-sig') spec.tamperGen = rng.int(1, gens)
  if (kind === 'overspend') spec.overspendGen = rng.int(1, gens)
  if (kind === 'unknown-root') spec.orphanGen = rng.int(1, gens)
  if (kind === 'coinbase-mature') spec.coinbase = 'mature'
  if (kind === 'coinbase-immature') spec.coinbase = 'immature'
  const chain = await buildChain(rng, ctx, spec)
  let dropId = null
  if (kind === 'missing-parent') dropId = chain.gens[rng.int(0, chain.gens.length - 2)].txid
  if (kind === 'missing-proven-parent') dropId = rng.pick(chain.parents).txid
  for (const fmt of FORMATS) {
    let bytes = serialize(rng, chain, fmt)
    if (dropId != null) bytes = dropTx(bytes, dropId)
    if (kind === 'truncated') {
      const L = bytes.length
      const cut = rng.chance(0.5) ? L - rng.int(1, Math.min(8, L - 1)) : rng.int(0, L - 1)
      bytes = bytes.slice(0, cut)
    }
    out.push({ fmt, bytes, subject: chain.subject })
  }
  return out
}

async function runChunk (ctx, chunk) {
  const o = ctx.opts
  const rng = makeRng(`${o.seed}:chunk:${chunk}`)
  const lines = []
  const firstGroup = chunk * GROUPS_PER_CHUNK
  const totalGroups = Math.ceil(o.count / 3)
  for (let gi = firstGroup; gi < Math.min(firstGroup + GROUPS_PER_CHUNK, totalGroups); gi++) {
    let kind = 'valid'
    if (rng.chance(o.tamperedFraction)) kind = rng.weighted(TAMPER_WEIGHTS)
    else if (o.coinbaseFraction > 0 && rng.chance(o.coinbaseFraction)) kind = rng.chance(0.5) ? 'coinbase-mature' : 'coinbase-immature'
    const expectValid = kind === 'valid' || kind === 'coinbase-mature'
    const items = await makeGroup(rng, ctx, kind, gi)
    for (let f = 0; f < 3; f++) {
      if (gi * 3 + f >= o.count) break
      const it = items[f]
      const r = await sdkCheck(it.bytes, ctx.tracker)
      lines.push(JSON.stringify({
        id: `s${o.seed}-g${String(gi).padStart(6, '0')}-${it.fmt}`,
        beef: toHex(it.bytes),
        format: it.fmt,
        kind,
        sdkValid: r.valid,
        sdkTxid: r.txid,
        sdkError: r.error,
        expectValid
      }))
    }
  }
  return lines
}

// ---------------------------------------------------------------- big chain (main thread)
async function bigChain (pool, mb, outFile) {
  const rng = makeRng(`${pool.seed}:big`)
  const keys = new Keys(pool.keyHexes, pool.walletHex)
  const target = Math.floor(mb * 1024 * 1024)
  // the oldest ancestor: a proven P2PKH tx in its own block (at offset >= 1)
  const parent = new Transaction(1, [], [], 0)
  parent.addInput({ sourceTXID: rng.hex(32), sourceOutputIndex: 0, unlockingScript: new UnlockingScript([push(rng.bytes(71)), push([2, ...rng.bytes(32)])]), sequence: 0xffffffff })
  let k = rng.int(0, keys.priv.length - 1)
  parent.addOutput({ lockingScript: new P2PKH().lock(keys.pkh[k]), satoshis: 2_000_000_000_000 })
  const cb = coinbaseTx(rng, pool.bigHeight, keys)
  const leaves = [cb.id('hex'), parent.id('hex'), ...Array.from({ length: rng.int(1, 9) }, () => rng.hex(32))]
  const levels = merkleLevels(leaves)
  const root = displayHex(levels[levels.length - 1][0])
  const bump = bumpFor(pool.bigHeight, levels, 1)
  const raws = []
  let prev = parent; let prevK = k; let size = 200 + bump.toBinary().length + parent.toBinary().length
  const t0 = Date.now()
  while (size < target) {
    const tx = new Transaction(1, [], [], 0)
    tx.addInput({ sourceTransaction: prev, sourceOutputIndex: 0, unlockingScriptTemplate: new P2PKH().unlock(keys.priv[prevK]), sequence: 0xffffffff })
    const inSats = prev.outputs[0].satoshis
    const pay = rng.int(546, 100000)
    k = rng.int(0, keys.priv.length - 1)
    tx.addOutput({ lockingScript: new P2PKH().lock(keys.pkh[k]), satoshis: inSats - pay - rng.int(1, 200) })
    tx.addOutput({ lockingScript: new P2PKH().lock(keys.pkh[rng.int(0, keys.priv.length - 1)]), satoshis: pay })
    await tx.sign()
    tx.invalidateSerializationCaches?.()
    const raw = tx.toUint8Array()
    raws.push(raw)
    size += raw.length + 1
    prev = Transaction.fromBinary(raw); prevK = k
    if (raws.length % 2000 === 0) process.stderr.write(`  big chain: ${raws.length} txs, ${(size / 1048576).toFixed(2)} MB, ${((Date.now() - t0) / 1000).toFixed(1)} s\n`)
  }
  const subject = prev.id('hex')
  const txs = [{ rawTxUint8Array: parent.toUint8Array(), bumpIndex: 0 }, ...raws.map((r) => ({ rawTxUint8Array: r, bumpIndex: undefined }))]
  const bytes = writeBeef({ version: BEEF_V2, bumps: [bump], txs, atomicTxid: subject })
  fs.writeFileSync(outFile, bytes)
  return { root, height: pool.bigHeight, subject, bytes, ntx: txs.length }
}

// ---------------------------------------------------------------- CLI / orchestration
function parseArgs (argv) {
  const a = {}
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]
    if (!k.startsWith('--')) throw new Error('unexpected argument ' + k)
    if (k === '--no-big-check') { a.noBigCheck = true; continue }
    a[k.slice(2)] = argv[++i]
  }
  const range = (s, def) => {
    const [lo, hi] = String(s ?? def).split('-').map(Number)
    return [lo, hi ?? lo]
  }
  if (a.out == null || a.count == null || a.seed == null) {
    console.error('usage: node gen-corpus.mjs --out DIR --count N --seed S [--generations 1-4] [--inputs 1-3] [--tampered-fraction 0.3] [--big-chain-mb M] [--coinbase-fraction 0] [--jobs J] [--no-big-check]')
    process.exit(2)
  }
  const [minGen, maxGen] = range(a.generations, '1-4')
  const [minIn, maxIn] = range(a.inputs, '1-3')
  if (!(minGen >= 1 && maxGen >= minGen && minIn >= 1 && maxIn >= minIn && maxIn <= 3)) throw new Error('bad --generations/--inputs')
  return {
    out: a.out,
    count: Number(a.count),
    seed: String(a.seed),
    minGen, maxGen, minIn, maxIn,
    tamperedFraction: Number(a['tampered-fraction'] ?? 0.3),
    coinbaseFraction: Number(a['coinbase-fraction'] ?? 0),
    bigMb: a['big-chain-mb'] != null ? Number(a['big-chain-mb']) : null,
    bigCheck: a.noBigCheck !== true,
    jobs: Math.max(1, Number(a.jobs ?? (os.availableParallelism?.() ?? os.cpus().length)))
  }
}

async function main () {
  const t0 = Date.now()
  const opts = parseArgs(process.argv.slice(2))
  fs.mkdirSync(opts.out, { recursive: true })
  const pool = await buildPool(opts.seed, opts)
  pool.seed = opts.seed
  const tPool = Date.now()
  const nChunks = Math.ceil(Math.ceil(opts.count / 3) / GROUPS_PER_CHUNK)
  const results = new Array(nChunks)
  const jobs = Math.min(opts.jobs, nChunks)
  const outPath = path.join(opts.out, 'corpus.jsonl')
  const fd = fs.openSync(outPath, 'w')
  let nextToWrite = 0
  const flush = () => {
    while (nextToWrite < nChunks && results[nextToWrite] != null) {
      if (results[nextToWrite].length > 0) fs.writeSync(fd, results[nextToWrite].join('\n') + '\n')
      results[nextToWrite] = []
      nextToWrite++
    }
  }
  if (jobs <= 1) {
    const ctx = new Ctx(pool, opts)
    for (let c = 0; c < nChunks; c++) { results[c] = await runChunk(ctx, c); flush() }
  } else {
    let next = 0
    await Promise.all(Array.from({ length: jobs }, () => new Promise((resolve, reject) => {
      const w = new Worker(fileURLToPath(import.meta.url), { workerData: { pool, opts } })
      const feed = () => { if (next < nChunks) w.postMessage(next++); else { w.postMessage(-1) } }
      w.on('message', (m) => { results[m.chunk] = m.lines; flush(); feed() })
      w.on('error', reject)
      w.on('exit', (code) => code === 0 ? resolve() : reject(new Error('worker exit ' + code)))
      feed()
    })))
  }
  flush()
  fs.closeSync(fd)
  const tCorpus = Date.now()

  // roots.json (+ the big chain's block, at a height no corpus case uses)
  const roots = [...pool.roots]
  if (opts.bigMb != null) {
    const big = await bigChain(pool, opts.bigMb, path.join(opts.out, 'big.beef'))
    roots.push({ height: big.height, merkleRoot: big.root })
    roots.sort((x, y) => x.height - y.height)
    console.error(`big.beef: ${big.bytes.length} bytes (${(big.bytes.length / 1048576).toFixed(2)} MB), ${big.ntx} txs, subject txid ${big.subject}, block ${big.height} (generated in ${((Date.now() - tCorpus) / 1000).toFixed(1)} s)`)
    if (opts.bigCheck) {
      const t1 = Date.now()
      const r = await sdkCheck(big.bytes, makeChainTracker(roots))
      console.error(`big.beef @bsv/sdk verdict: valid=${r.valid} txid=${r.txid} error=${r.error} (${((Date.now() - t1) / 1000).toFixed(1)} s)`)
    }
  }
  fs.writeFileSync(path.join(opts.out, 'roots.json'), JSON.stringify(roots, null, 1) + '\n')

  // summary (re-read what we wrote: the file is the source of truth)
  const perKind = {}; let mism = 0; const mismKinds = {}; let n = 0
  for (const line of fs.readFileSync(outPath, 'utf8').split('\n')) {
    if (line === '') continue
    const c = JSON.parse(line); n++
    const s = (perKind[c.kind] ??= { n: 0, sdkValid: 0 })
    s.n++; if (c.sdkValid) s.sdkValid++
    if (c.sdkValid !== c.expectValid) { mism++; mismKinds[c.kind] = (mismKinds[c.kind] ?? 0) + 1 }
    if (detectFormat(hexToBytes(c.beef.slice(0, 8))) === 'unknown' && c.kind !== 'random-bytes' && c.kind !== 'truncated') throw new Error('internal: bad prefix in ' + c.id)
  }
  const kinds = Object.entries(perKind).map(([k, s]) => `${k}=${s.n}(sdkValid ${s.sdkValid})`).join(' ')
  console.error(`summary: cases=${n} ${kinds} | sdkValid!=expectValid: ${mism} ${JSON.stringify(mismKinds)} | blocks listed=${pool.roots.length} | pool ${((tPool - t0) / 1000).toFixed(1)} s, corpus ${((tCorpus - tPool) / 1000).toFixed(1)} s, total ${((Date.now() - t0) / 1000).toFixed(1)} s, jobs=${jobs}`)
}

if (isMainThread) {
  main().catch((e) => { console.error(e); process.exit(1) })
} else {
  const ctx = new Ctx(workerData.pool, workerData.opts)
  parentPort.on('message', async (chunk) => {
    if (chunk < 0) { parentPort.close(); return }
    try {
      const lines = await runChunk(ctx, chunk)
      parentPort.postMessage({ chunk, lines })
    } catch (e) {
      console.error(e); process.exit(1)
    }
  })
}
