import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { promisify } from 'node:util'
import { throwsCode } from '../support/errno.js'
import { IDENTITY_FILE, Identity, IdentityError, KeyPair, decodeBase64url, verify } from '../../src/net/trust/identity.js'

const execFileAsync = promisify(execFile)

let dir: string
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshfs-identity-'))
})
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }))

const bytes = (s: string) => new TextEncoder().encode(s)
const mode = (file: string) => fs.statSync(file).mode & 0o777

function assertIdentityError(fn: () => unknown, code: string, file: string) {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof IdentityError, `expected IdentityError, got ${String(err)}`)
    assert.equal(err.code, code)
    assert.ok(err.message.includes(file), `message should name the file: ${err.message}`)
    return true
  })
}

describe('node identity', () => {
  it('is created on first use as a 0600 file, in a data dir that may not exist yet', () => {
    const dataDir = path.join(dir, 'nested', 'data')
    const id = Identity.loadOrCreate(dataDir)
    const file = path.join(dataDir, IDENTITY_FILE)
    assert.equal(id.file, file)
    assert.equal(mode(file), 0o600)
    assert.equal(id.insecureMode, false)
    assert.equal(id.nodeId, id.publicKey)
    assert.equal(decodeBase64url(id.publicKey, 32)?.length, 32)
    assert.deepEqual(fs.readdirSync(dataDir), [IDENTITY_FILE], 'no temp files left behind')
  })

  it('ends with one key when several processes create it at once', async () => {
    const moduleUrl = new URL('../../src/net/trust/identity.js', import.meta.url).href
    const script = `import { Identity } from ${JSON.stringify(moduleUrl)}; process.stdout.write(Identity.loadOrCreate(process.argv[1]).publicKey);`
    const runs = Array.from({ length: 6 }, () => execFileAsync(process.execPath, ['--input-type=module', '-e', script, dir]))
    const keys = new Set((await Promise.all(runs)).map((r) => r.stdout))
    assert.equal(keys.size, 1, `processes disagree: ${[...keys].join(', ')}`)
    assert.equal(Identity.loadOrCreate(dir).publicKey, [...keys][0])
    assert.deepEqual(fs.readdirSync(dir), [IDENTITY_FILE])
  })

  it('reloads the same key, which verifies signatures made before', () => {
    const a = Identity.loadOrCreate(dir)
    const sig = a.sign(bytes('hello'))
    const before = fs.readFileSync(a.file)
    const b = Identity.loadOrCreate(dir)
    assert.equal(b.publicKey, a.publicKey)
    assert.ok(verify(b.publicKey, bytes('hello'), sig))
    assert.ok(verify(b.publicKeyBytes, bytes('hello'), b.sign(bytes('hello'))))
    assert.deepEqual(fs.readFileSync(a.file), before, 'loading does not rewrite the file')
  })

  it('verify() rejects wrong data, wrong keys and malformed input without throwing', () => {
    const id = Identity.loadOrCreate(dir)
    const other = KeyPair.generate()
    const sig = id.sign(bytes('x'))
    assert.equal(verify(id.publicKey, bytes('y'), sig), false)
    assert.equal(verify(other.publicKey, bytes('x'), sig), false)
    assert.equal(verify(id.publicKey, bytes('x'), sig.subarray(0, 63)), false)
    assert.equal(verify('not base64url!', bytes('x'), sig), false)
    assert.equal(verify(`${id.publicKey}A`, bytes('x'), sig), false)
    assert.equal(verify(new Uint8Array(31), bytes('x'), sig), false)
    assert.equal(verify(new Uint8Array(32).fill(0xff), bytes('x'), sig), false) // not a curve point
  })

  for (const [label, content] of [
    ['garbage', 'this is not json'],
    ['truncated JSON', '{"version":1,"node":{"publicKey":"'],
    ['wrong shape', '{"version":1,"node":42}'],
    ['unknown version', '{"version":7}'],
    ['empty file', ''],
  ] as const) {
    it(`refuses a corrupt file (${label}), names it, and leaves it untouched`, () => {
      const file = path.join(dir, IDENTITY_FILE)
      fs.writeFileSync(file, content, { mode: 0o600 })
      assertIdentityError(() => Identity.loadOrCreate(dir), 'corrupt', file)
      assert.equal(fs.readFileSync(file, 'utf8'), content)
      assert.deepEqual(fs.readdirSync(dir), [IDENTITY_FILE])
    })
  }

  it('refuses a file whose public key does not match its private key', () => {
    const id = Identity.loadOrCreate(dir)
    const doc = JSON.parse(fs.readFileSync(id.file, 'utf8'))
    doc.node.publicKey = KeyPair.generate().publicKey
    const text = JSON.stringify(doc)
    fs.writeFileSync(id.file, text)
    assertIdentityError(() => Identity.loadOrCreate(dir), 'corrupt', id.file)
    assert.equal(fs.readFileSync(id.file, 'utf8'), text)
  })

  it('refuses a key file readable by group/other unless allowed, and then flags it', () => {
    const id = Identity.loadOrCreate(dir)
    fs.chmodSync(id.file, 0o644)
    assertIdentityError(() => Identity.loadOrCreate(dir), 'insecure-mode', id.file)
    assert.throws(() => Identity.loadOrCreate(dir), /chmod 600/)
    const loose = Identity.loadOrCreate(dir, { allowInsecureMode: true })
    assert.equal(loose.insecureMode, true)
    assert.equal(loose.publicKey, id.publicKey)
    assert.equal(mode(id.file), 0o644, 'loading never changes the mode behind the user’s back')
  })
})

describe('namespace identities', () => {
  it('are created on first use, differ per namespace and from the node key, and persist', () => {
    const id = Identity.loadOrCreate(dir)
    const a = id.namespaceIdentity('ns-a')
    const b = id.namespaceIdentity('ns-b')
    assert.equal(a.namespaceId, 'ns-a')
    assert.notEqual(a.publicKey, b.publicKey)
    assert.notEqual(a.publicKey, id.publicKey)
    assert.equal(id.namespaceIdentity('ns-a').publicKey, a.publicKey, 'same namespace, same key')
    assert.equal(mode(id.file), 0o600, 'rewritten file keeps mode 0600')
    assert.deepEqual(fs.readdirSync(dir), [IDENTITY_FILE])

    const reloaded = Identity.loadOrCreate(dir)
    assert.equal(reloaded.publicKey, id.publicKey)
    assert.deepEqual(reloaded.namespaceIds(), ['ns-a', 'ns-b'])
    const a2 = reloaded.namespaceIdentity('ns-a')
    assert.equal(a2.publicKey, a.publicKey)
    assert.ok(verify(a.publicKey, bytes('m'), a2.sign(bytes('m'))), 'reloaded private key matches')
    assert.equal(reloaded.namespaceIdentity('ns-b').publicKey, b.publicKey)
  })

  it('store ids that are special to JavaScript objects as plain keys', () => {
    const id = Identity.loadOrCreate(dir)
    const proto = id.namespaceIdentity('__proto__')
    const reloaded = Identity.loadOrCreate(dir)
    assert.deepEqual(reloaded.namespaceIds(), ['__proto__'])
    assert.equal(reloaded.namespaceIdentity('__proto__').publicKey, proto.publicKey)
  })

  it('reject empty or oversized namespace ids', () => {
    const id = Identity.loadOrCreate(dir)
    throwsCode(() => id.namespaceIdentity(''), 'invalid-argument', { type: IdentityError })
    assert.throws(() => id.namespaceIdentity('x'.repeat(257)), IdentityError)
  })
})
