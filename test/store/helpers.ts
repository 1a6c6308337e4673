/** Small helpers shared by the store tests: temp dirs, file fingerprints, seeded randomness. */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { StoreError } from '../../src/store/errors.js';
import type { StoreErrorKind } from '../../src/store/errors.js';

/** A fresh directory under the OS temp dir; remove it with removeTempDir. */
export function tempDir(label: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `meshfs-store-${label}-`));
}

export function removeTempDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

export function sha256File(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** Names and hashes of every file in a directory: a fingerprint that any write would change. */
export function fingerprintDir(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of fs.readdirSync(dir).sort()) {
    const full = path.join(dir, name);
    out[name] = fs.statSync(full).isDirectory() ? `dir:${JSON.stringify(fingerprintDir(full))}` : sha256File(full);
  }
  return out;
}

/** xorshift32: reproducible "random" numbers, so that a failing run can be repeated. */
export function seededRandom(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

export function seededBytes(n: number, seed: number): Uint8Array {
  const random = seededRandom(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(random() * 256);
  return out;
}

/** An assert.throws predicate: a StoreError of this kind whose message contains every fragment. */
export function storeError(kind: StoreErrorKind, ...fragments: string[]): (err: unknown) => boolean {
  return (err) => {
    if (!(err instanceof StoreError)) throw new Error(`expected a StoreError, got ${String(err)}`, { cause: err });
    if (err.kind !== kind) throw new Error(`expected StoreError kind ${kind}, got ${err.kind}: ${err.message}`, { cause: err });
    for (const fragment of fragments) {
      if (!err.message.includes(fragment)) throw new Error(`StoreError message lacks ${JSON.stringify(fragment)}: ${err.message}`);
    }
    return true;
  };
}
