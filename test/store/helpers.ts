/** Small helpers shared by the store tests: temp dirs, file fingerprints, StoreError predicates. */
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { StoreError } from '../../src/store/errors.js'
import type { StoreErrorKind } from '../../src/store/errors.js'

/** A fresh directory under the OS temp dir; remove it with removeTempDir. */
export function tempDir(label: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `meshfs-store-${label}-`))
}

export function removeTempDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true })
}

export function sha256File(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex')
}

/** Names and hashes of every file in a directory: a fingerprint that any write would change. */
export function fingerprintDir(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of fs.readdirSync(dir).sort()) {
    const full = path.join(dir, name)
    out[name] = fs.statSync(full).isDirectory() ? `dir:${JSON.stringify(fingerprintDir(full))}` : sha256File(full)
  }
  return out
}

/** An assert.throws predicate: a StoreError of this kind whose message contains every fragment. */
export function storeError(kind: StoreErrorKind, ...fragments: string[]): (err: unknown) => boolean {
  return (err) => {
    if (!(err instanceof StoreError)) throw new Error(`expected a StoreError, got ${String(err)}`, { cause: err })
    if (err.kind !== kind) throw new Error(`expected StoreError kind ${kind}, got ${err.kind}: ${err.message}`, { cause: err })
    for (const fragment of fragments) {
      if (!err.message.includes(fragment)) throw new Error(`StoreError message lacks ${JSON.stringify(fragment)}: ${err.message}`)
    }
    return true
  }
}
