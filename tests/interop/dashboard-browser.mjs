#!/usr/bin/env node
// A real browser on the server's dashboard: headless Chromium (Debian's `chromium` package, /usr/bin/chromium) driven by
// playwright-core. It loads GET /dashboard, waits until the recent transactions list the given txid, mines a block on the
// dev chain (POST /arc/v1/mine), waits until the page shows the transaction mined, clicks it and reads its record
// (status, history, merkle path) and the payments panel from the page, and saves a laptop-width and a phone-width screenshot.
//
//   node tests/interop/dashboard-browser.mjs --url http://127.0.0.1:5080 --txid TXID --out DIR [--timeout-ms 60000]
//
// Prints one JSON line with what the page showed; exits non-zero (message on stderr) when a step fails or times out.
import { chromium } from 'playwright-core'
import { join } from 'node:path'
import { mkdirSync } from 'node:fs'
import { parseArgs } from './lib/args.mjs'

const args = parseArgs(process.argv.slice(2), ['url', 'txid', 'out'],
  'node dashboard-browser.mjs --url SERVER_URL --txid TXID --out DIR [--timeout-ms N] [--executable PATH]')
const base = args.url.replace(/\/$/, '')
const timeout = Number(args['timeout-ms'] ?? 60000)
const txid = args.txid
mkdirSync(args.out, { recursive: true })

const browser = await chromium.launch({ executablePath: args.executable ?? '/usr/bin/chromium', headless: true, timeout })
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
  page.setDefaultTimeout(timeout)
  const consoleErrors = []
  page.on('console', m => { if (m.type() === 'error') consoleErrors.push(m.text()) })
  page.on('pageerror', e => consoleErrors.push(String(e)))
  const requests = []
  page.on('request', r => requests.push(r.url()))
  page.on('response', r => { if (r.status() >= 400) consoleErrors.push(`${r.status()} ${r.url()}`) })

  await page.goto(`${base}/dashboard`)
  const row = page.locator(`#recent tbody tr[data-txid="${txid}"]`)
  await row.waitFor()
  const before = (await row.locator('.status').textContent()).trim()

  const mined = await fetch(`${base}/arc/v1/mine`, { method: 'POST' })
  if (!mined.ok) throw new Error(`POST /arc/v1/mine answered ${mined.status}: ${await mined.text()}`)

  await row.locator('.status', { hasText: 'mined' }).waitFor()
  await row.click()
  const record = page.locator('#record[data-status="mined"]')
  await record.waitFor()
  const history = await page.locator('#record-history li').allTextContents()
  const merklePath = (await page.locator('#record-merkle').textContent()).trim()
  const recordTxid = (await page.locator('#record-txid').textContent()).trim()
  const rates = {}
  for (const k of ['accepted', 'verified', 'broadcast', 'mined']) rates[k] = (await page.locator(`#rate-${k}`).textContent()).trim()
  const payments = {
    count: (await page.locator('#payments-count').textContent()).trim(),
    satoshis: (await page.locator('#payments-satoshis').textContent()).trim(),
    routes: await page.locator('#payments tbody tr').evaluateAll(rows => rows.map(r => [...r.cells].map(c => c.textContent.trim()).join(' ')))
  }
  const laptop = join(args.out, 'dashboard-laptop.png')
  await page.screenshot({ path: laptop, fullPage: true })

  await page.setViewportSize({ width: 390, height: 844 })
  await record.waitFor()
  const phoneOverflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
  const phone = join(args.out, 'dashboard-phone.png')
  await page.screenshot({ path: phone, fullPage: true })

  const offsite = requests.filter(u => !u.startsWith(base))
  console.log(JSON.stringify({
    before,
    after: (await row.locator('.status').textContent()).trim(),
    recordTxid,
    recordStatus: await record.getAttribute('data-status'),
    history,
    merklePath,
    rates,
    payments,
    phoneOverflow,
    offsite,
    consoleErrors,
    screenshots: [laptop, phone],
    browser: browser.version()
  }))
} finally {
  await browser.close()
}
