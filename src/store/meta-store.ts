/**
 * Node-local metadata as JSON values under ['kv', key]: this node's settings and bookkeeping
 * that are never replicated (sync targets' positions, the last mount point, ...).
 */
import type { StorageAdapter } from './adapter.js';
import { StoreError } from './errors.js';

export class MetaStore {
  readonly #adapter: StorageAdapter;

  constructor(adapter: StorageAdapter) {
    this.#adapter = adapter;
  }

  /** The stored value, or undefined. The type parameter is the caller's claim, not checked. */
  getMeta<T = unknown>(key: string): T | undefined {
    checkKey(key);
    const bytes = this.#adapter.load(metaKey(key));
    if (bytes === undefined) return undefined;
    try {
      return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')) as T;
    } catch (err) {
      throw new StoreError(`metadata ${JSON.stringify(key)} is corrupted: not JSON`, {
        kind: 'corrupt-record',
        code: 'EIO',
        key: metaKey(key),
        cause: err,
      });
    }
  }

  /** Stores `value` as JSON.stringify renders it; a value it cannot render is EINVAL. */
  setMeta(key: string, value: unknown): void {
    checkKey(key);
    let json: string | undefined;
    try {
      json = JSON.stringify(value);
    } catch (err) {
      throw new StoreError(`metadata ${JSON.stringify(key)}: value cannot be stored as JSON`, {
        kind: 'invalid-argument',
        code: 'EINVAL',
        cause: err,
      });
    }
    if (json === undefined) {
      throw new StoreError(`metadata ${JSON.stringify(key)}: value cannot be stored as JSON`, { kind: 'invalid-argument', code: 'EINVAL' });
    }
    this.#adapter.save(metaKey(key), Buffer.from(json, 'utf8'));
  }

  /** Removes the key; false if it was not set. */
  deleteMeta(key: string): boolean {
    checkKey(key);
    return this.#adapter.transaction(() => {
      const existed = this.#adapter.has(metaKey(key));
      if (existed) this.#adapter.remove(metaKey(key));
      return existed;
    });
  }

  listMeta(prefix = ''): string[] {
    return this.#adapter
      .listKeys(['kv'])
      .map((key) => key[1]!)
      .filter((key) => key.startsWith(prefix));
  }
}

function metaKey(key: string): string[] {
  return ['kv', key];
}

function checkKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0) {
    throw new StoreError(`metadata key must be a non-empty string, got ${JSON.stringify(key)}`, {
      kind: 'invalid-argument',
      code: 'EINVAL',
    });
  }
}
