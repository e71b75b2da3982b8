// Validates every P2PKH input of a fixture written by `Atomic.Bsv.Benchmarks ratio` with @bsv/sdk, single-threaded,
// for a number of seconds, building one Spend per input exactly as Transaction.verify() does, and prints
// {"validationsPerSecond": x} on stdout. Before timing it checks that a tampered signature and a tampered
// transaction both fail, so the loop is known to verify signatures for real.
//
// Usage: node bench/node/p2pkh-verify.mjs <fixture.json> [seconds=5]
// Exit codes: 0 ok, 2 usage, 3 @bsv/sdk not installed, 4 self-check failed, 5 fixture does not validate.
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const log = (msg) => process.stderr.write(`[p2pkh-verify] ${msg}\n`)

const [fixturePath, secondsArg] = process.argv.slice(2)
if (fixturePath === undefined) {
  log('usage: node p2pkh-verify.mjs <fixture.json> [seconds]')
  process.exit(2)
}
const seconds = secondsArg === undefined ? 5 : Number(secondsArg)
if (!(seconds > 0)) {
  log(`bad seconds: ${secondsArg}`)
  process.exit(2)
}

// @bsv/sdk lives in tests/interop/node_modules; BSV_SDK_DIR may point elsewhere.
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const sdkDir = process.env.BSV_SDK_DIR ?? path.join(repoRoot, 'tests', 'interop', 'node_modules', '@bsv', 'sdk')
const sdkPackageJson = path.join(sdkDir, 'package.json')
if (!existsSync(sdkPackageJson)) {
  log(`@bsv/sdk not found at ${sdkDir} (run: npm ci --prefix tests/interop)`)
  process.exit(3)
}
const sdkPackage = JSON.parse(readFileSync(sdkPackageJson, 'utf8'))
const rootExport = sdkPackage.exports?.['.']
const entry = (typeof rootExport === 'string' ? rootExport : rootExport?.import) ?? sdkPackage.module ?? sdkPackage.main
const { Transaction, LockingScript, UnlockingScript, Spend } = await import(pathToFileURL(path.join(sdkDir, entry)).href)

const fixture = JSON.parse(readFileSync(fixturePath, 'utf8'))
const cases = fixture.txs.map(t => ({
  tx: Transaction.fromHex(t.hex),
  sources: t.inputs.map(s => ({ satoshis: s.satoshis, lockingScript: LockingScript.fromHex(s.lockingScript) }))
}))
const inputCount = cases.reduce((n, c) => n + c.tx.inputs.length, 0)

// One input, as Transaction.verify() validates it (src/transaction/Transaction.ts): Spend.validate() returns
// true or throws.
function validateInput (tx, i, source) {
  const input = tx.inputs[i]
  const otherInputs = tx.inputs.filter((_, idx) => idx !== i)
  const spend = new Spend({
    sourceTXID: input.sourceTXID,
    sourceOutputIndex: input.sourceOutputIndex,
    lockingScript: source.lockingScript,
    sourceSatoshis: source.satoshis ?? 0,
    transactionVersion: tx.version,
    otherInputs,
    unlockingScript: input.unlockingScript,
    inputSequence: input.sequence ?? 0xffffffff,
    inputIndex: i,
    outputs: tx.outputs,
    lockTime: tx.lockTime
  })
  return spend.validate()
}

function fails (tx, i, source) {
  try {
    return validateInput(tx, i, source) !== true
  } catch {
    return true
  }
}

// Self-check: the genuine input passes; a flipped byte inside the signature's r, or a changed output amount, fails.
{
  const { tx, sources } = cases[0]
  if (fails(tx, 0, sources[0])) {
    log('self-check: the untampered input does not validate')
    process.exit(5)
  }
  const badSig = Transaction.fromHex(tx.toHex())
  const unlocking = badSig.inputs[0].unlockingScript.toBinary()
  unlocking[1 + 10] ^= 0x01 // push opcode, then 30 len 02 rlen r...: DER offset 10 is inside r
  badSig.inputs[0].unlockingScript = UnlockingScript.fromBinary(unlocking)
  const badAmount = Transaction.fromHex(tx.toHex())
  badAmount.outputs[0].satoshis += 1
  const sigFails = fails(badSig, 0, sources[0])
  const amountFails = fails(badAmount, 0, sources[0])
  log(`self-check: tampered signature ${sigFails ? 'rejected' : 'ACCEPTED'}, tampered output ${amountFails ? 'rejected' : 'ACCEPTED'}`)
  if (!sigFails || !amountFails) {
    process.exit(4)
  }
}

function pass () {
  for (const { tx, sources } of cases) {
    for (let i = 0; i < sources.length; i++) {
      if (validateInput(tx, i, sources[i]) !== true) {
        throw new Error(`input ${i} of ${tx.id('hex')} did not validate`)
      }
    }
  }
  return inputCount
}

function run (budgetSeconds) {
  const start = performance.now()
  const budget = budgetSeconds * 1000
  let done = 0
  let elapsed = 0
  let best = 0
  do {
    const passStart = performance.now()
    done += pass()
    const now = performance.now()
    best = Math.max(best, inputCount / ((now - passStart) / 1000))
    elapsed = now - start
  } while (elapsed < budget)
  return { done, elapsed, best }
}

try {
  pass() // every input validates before timing
} catch (e) {
  log(`fixture does not validate: ${e.message}`)
  process.exit(5)
}
run(Math.min(2, Math.max(0.5, seconds / 5))) // warm-up
const { done, elapsed, best } = run(seconds)
const validationsPerSecond = done / (elapsed / 1000)
log(`@bsv/sdk ${sdkPackage.version}, node ${process.version}: ${done} validations in ${(elapsed / 1000).toFixed(2)} s`)
process.stdout.write(JSON.stringify({ validationsPerSecond, bestPassPerSecond: best, validations: done, seconds: elapsed / 1000, sdkVersion: sdkPackage.version, node: process.version }) + '\n')
