#!/usr/bin/env node
// An Express 5 server behind @bsv/auth-express-middleware 2.0.5 (BRC-103/104 over HTTP), so that C# tests can call it
// with our AuthFetch handler (tests/Atomic.Identity.Tests/Interop/AuthExpressServerTests.cs).
//
//   node auth-express-server.mjs [SERVER_KEY_HEX]
//
// Prints one line {"port": N, "identityKey": HEX} once it listens on 127.0.0.1, and exits when stdin closes.
// Routes: GET /open (before the middleware: unsigned), then, behind it, GET /protected (who called, and the query)
// and POST /echo (the JSON body back).
import express from 'express'
import { createAuthMiddleware } from '@bsv/auth-express-middleware'
import { PrivateKey, ProtoWallet } from '@bsv/sdk'

const key = process.argv[2] != null ? PrivateKey.fromHex(process.argv[2]) : PrivateKey.fromRandom()
const wallet = new ProtoWallet(key)

const app = express()
app.use(express.json())
app.get('/open', (req, res) => res.json({ open: true }))
app.use(createAuthMiddleware({ wallet }))
app.get('/protected', (req, res) => res.json({ identityKey: req.auth.identityKey, query: req.query }))
app.post('/echo', (req, res) => res.json({ identityKey: req.auth.identityKey, got: req.body }))

const server = app.listen(0, '127.0.0.1', () => {
  const identityKey = key.toPublicKey().toString()
  process.stdout.write(JSON.stringify({ port: server.address().port, identityKey }) + '\n')
})

process.stdin.on('data', () => {})
process.stdin.on('end', () => {
  server.close()
  process.exit(0)
})
