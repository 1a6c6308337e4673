/**
 * Node-local metadata as JSON values under ['kv', ...key]: this node's settings and bookkeeping
 * that are never replicated (sync targets' positions, the last mount point, ...). A key is a
 * list of parts (['listen-port'], ['inviter', ns]), compared part by part, so a part that holds
 * any character (a path's ':') can neither collide with another key nor match a foreign prefix.
 */
import type { StorageAdapter } from './adapter.js'
import { StoreError } from './errors.js'
import type { StorageKey } from './key.js'

/** A metadata key: one or more parts (a part may be empty, e.g. a path). */
export type MetaKey = StorageKey

export class MetaStore {
  readonly #adapter: StorageAdapter

  constructor(adapter: StorageAdapter) {
    this.#adapter = adapter
  }

  /** The stored value, or undefined. The type parameter is the caller's claim, not checked. */
  getMeta<T = unknown>(key: MetaKey): T | undefined {
    checkKey(key)
    const bytes = this.#adapter.load(metaKey(key))
    if (bytes === undefined) return undefined
    try {
      return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')) as T
    } catch (err) {
      throw new StoreError(`metadata ${JSON.stringify(key)} is corrupted: not JSON`, {
        kind: 'corrupt-record',
        code: 'EIO',
        key: metaKey(key),
        cause: err,
      })
    }
  }

  /** Stores `value` as JSON.stringify renders it; a value it cannot render is EINVAL. */
  setMeta(key: MetaKey, value: unknown): void {
    checkKey(key)
    let json: string | undefined
    try {
      json = JSON.stringify(value)
    } catch (err) {
      throw new StoreError(`metadata ${JSON.stringify(key)}: value cannot be stored as JSON`, {
        kind: 'invalid-argument',
        code: 'EINVAL',
        cause: err,
      })
    }
    if (json === undefined) {
      throw new StoreError(`metadata ${JSON.stringify(key)}: value cannot be stored as JSON`, { kind: 'invalid-argument', code: 'EINVAL' })
    }
    this.#adapter.save(metaKey(key), Buffer.from(json, 'utf8'))
  }

  /** Removes the key; false if it was not set. */
  deleteMeta(key: MetaKey): boolean {
    checkKey(key)
    return this.#adapter.transaction(() => {
      const existed = this.#adapter.has(metaKey(key))
      if (existed) this.#adapter.remove(metaKey(key))
      return existed
    })
  }

  /** The keys that start with `prefix`, part by part, ordered. */
  listMeta(prefix: MetaKey = []): string[][] {
    return this.#adapter.listKeys(['kv', ...prefix]).map((key) => key.slice(1))
  }
}

function metaKey(key: MetaKey): string[] {
  return ['kv', ...key]
}

function checkKey(key: MetaKey): void {
  if (!Array.isArray(key) || key.length === 0) {
    throw new StoreError(`metadata key must be a non-empty array of strings, got ${JSON.stringify(key)}`, {
      kind: 'invalid-argument',
      code: 'EINVAL',
    })
  }
}
