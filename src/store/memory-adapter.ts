/**
 * A StorageAdapter in memory, for tests of the layers above the store. Same semantics as the
 * SQLite adapter (ordering, prefix matching, transactions with rollback), nothing durable.
 */
import type { Chunk, StorageAdapter } from './adapter.js'
import { StoreError } from './errors.js'
import { decodeKey, encodeFullKey, encodeKey } from './key.js'
import type { StorageKey } from './key.js'

/** One undo record: the value a key had before a write inside a transaction. */
interface Undo {
  id: string
  before: Uint8Array | undefined
}

export class MemoryStorageAdapter implements StorageAdapter {
  /** encoded key as a latin1 string (one char per byte, so string order is byte order) -> value */
  readonly #entries = new Map<string, Uint8Array>()
  /** one undo log per open transaction, innermost last */
  readonly #undo: Undo[][] = []
  #closed = false

  load(key: StorageKey): Uint8Array | undefined {
    this.#checkOpen()
    const value = this.#entries.get(idOf(encodeFullKey(key)))
    return value === undefined ? undefined : new Uint8Array(value)
  }

  save(key: StorageKey, data: Uint8Array): void {
    this.#checkOpen()
    const id = idOf(encodeFullKey(key))
    this.#recordUndo(id)
    this.#entries.set(id, new Uint8Array(data))
  }

  remove(key: StorageKey): void {
    this.#checkOpen()
    const id = idOf(encodeFullKey(key))
    this.#recordUndo(id)
    this.#entries.delete(id)
  }

  loadRange(prefix: StorageKey): Chunk[] {
    this.#checkOpen()
    return this.#idsUnder(prefix).map((id) => ({
      key: decodeKey(Buffer.from(id, 'latin1')),
      data: new Uint8Array(this.#entries.get(id)!),
    }))
  }

  removeRange(prefix: StorageKey): number {
    this.#checkOpen()
    const ids = this.#idsUnder(prefix)
    for (const id of ids) {
      this.#recordUndo(id)
      this.#entries.delete(id)
    }
    return ids.length
  }

  has(key: StorageKey): boolean {
    this.#checkOpen()
    return this.#entries.has(idOf(encodeFullKey(key)))
  }

  listKeys(prefix: StorageKey): string[][] {
    this.#checkOpen()
    return this.#idsUnder(prefix).map((id) => decodeKey(Buffer.from(id, 'latin1')))
  }

  transaction<T>(fn: () => T): T {
    this.#checkOpen()
    const undo: Undo[] = []
    this.#undo.push(undo)
    try {
      const result = fn()
      this.#undo.pop()
      // Committing an inner transaction hands its undo records to the outer one, so that an
      // outer rollback still undoes them.
      const outer = this.#undo.at(-1)
      if (outer !== undefined) outer.push(...undo)
      return result
    } catch (err) {
      this.#undo.pop()
      for (let i = undo.length - 1; i >= 0; i--) {
        const { id, before } = undo[i]!
        if (before === undefined) this.#entries.delete(id)
        else this.#entries.set(id, before)
      }
      throw err
    }
  }

  close(): void {
    this.#closed = true
  }

  #idsUnder(prefix: StorageKey): string[] {
    const start = idOf(encodeKey(prefix))
    const ids: string[] = []
    for (const id of this.#entries.keys()) if (id.startsWith(start)) ids.push(id)
    return ids.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  }

  #recordUndo(id: string): void {
    const undo = this.#undo.at(-1)
    if (undo !== undefined) undo.push({ id, before: this.#entries.get(id) })
  }

  #checkOpen(): void {
    if (this.#closed) throw new StoreError('memory storage adapter used after close()', { kind: 'closed', code: 'EIO' })
  }
}

function idOf(encoded: Buffer): string {
  return encoded.toString('latin1')
}
