// Shared helpers: run @bsv/sdk's own parse + verify on one serialized BEEF.
// Used by gen-corpus.mjs (to record sdkValid) and sdk-verify.mjs (benchmark),
// so both scripts reach their verdicts in exactly the same way.
import { Transaction } from '@bsv/sdk'

export const BEEF_V1_MAGIC = 4022206465 // bytes 01 00 be ef
export const BEEF_V2_MAGIC = 4022206466 // bytes 02 00 be ef
export const ATOMIC_MAGIC = 0x01010101

/** 'v1' | 'v2' | 'atomic' | 'unknown', from the first four bytes (uint32 LE). */
export function detectFormat (bytes) {
  if (bytes.length < 4) return 'unknown'
  const v = (bytes[0] | (bytes[1] << 8) | (bytes[2] << 16) | (bytes[3] << 24)) >>> 0
  if (v === ATOMIC_MAGIC) return 'atomic'
  if (v === BEEF_V1_MAGIC) return 'v1'
  if (v === BEEF_V2_MAGIC) return 'v2'
  return 'unknown'
}

/**
 * Hex -> plain Uint8Array (NOT a Node Buffer: Buffer#slice returns a view and the
 * SDK reverses sliced hashes in place, which would corrupt the input buffer).
 */
export function hexToBytes (hex) {
  return new Uint8Array(Buffer.from(hex, 'hex'))
}

/** ChainTracker over a roots list [{height, merkleRoot}]; currentHeight = max listed height. */
export function makeChainTracker (roots) {
  const map = new Map()
  let maxHeight = 0
  for (const r of roots) {
    map.set(Number(r.height), String(r.merkleRoot).toLowerCase())
    if (r.height > maxHeight) maxHeight = Number(r.height)
  }
  return {
    isValidRootForHeight: async (root, height) => map.get(height) === root,
    currentHeight: async () => maxHeight
  }
}

/**
 * Parse with @bsv/sdk and await tx.verify(chainTracker) with no fee model
 * (feeModel undefined => Transaction.verify skips the fee check; only
 * scripts, merkle proofs and sum(outputs) <= sum(inputs) are checked).
 *  - Atomic BEEF (01010101 prefix): Transaction.fromAtomicBEEF -> declared subject.
 *  - anything else: Transaction.fromBEEF -> LAST transaction of the BEEF
 *    (non-BEEF prefixes make Beef.fromReader throw).
 * Exceptions are verdict "invalid" with the exception message as error.
 * @returns {Promise<{valid:boolean, txid:string|null, error:string|null}>}
 */
export async function sdkCheck (bytes, chainTracker) {
  let txid = null
  try {
    const tx = detectFormat(bytes) === 'atomic'
      ? Transaction.fromAtomicBEEF(bytes)
      : Transaction.fromBEEF(bytes)
    txid = tx.id('hex')
    const ok = await tx.verify(chainTracker, undefined)
    return ok === true
      ? { valid: true, txid, error: null }
      : { valid: false, txid, error: 'verify returned false' }
  } catch (e) {
    return { valid: false, txid, error: String(e?.message ?? e).slice(0, 300) }
  }
}
