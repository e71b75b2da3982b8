#!/usr/bin/env node
// @bsv/sdk 2.1.0's AuthFetch over a ProtoWallet calling a BRC-103/104 server (our ASP.NET Core host in
// tests/Atomic.Services.Tests/Identity/BsvAuthHostTests.cs).
//
//   node auth-fetch-client.mjs CLIENT_KEY_HEX BASE_URL REQUESTS_JSON
//
// REQUESTS_JSON is [{"method", "path", "headers"?, "body"?}]; prints one JSON array of {"status", "body", "serverKey",
// "note" (the x-bsv-note header)}, in order, each request sent after the previous one answered (the first shakes hands).
import { AuthFetch, PrivateKey, ProtoWallet } from '@bsv/sdk'

const [keyHex, baseUrl, requestsJson] = process.argv.slice(2)
const client = new AuthFetch(new ProtoWallet(PrivateKey.fromHex(keyHex)))
const results = []
for (const r of JSON.parse(requestsJson)) {
  const response = await client.fetch(baseUrl + r.path, { method: r.method, headers: r.headers, body: r.body })
  results.push({
    status: response.status,
    body: await response.text(),
    serverKey: response.headers.get('x-bsv-auth-identity-key'),
    note: response.headers.get('x-bsv-note')
  })
}
process.stdout.write(JSON.stringify(results) + '\n')
process.exit(0)
