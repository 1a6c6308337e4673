// The one seeded PRNG of the tests and scripts, so that every random case replays from its seed.
// It is mulberry32, the generator the tree harness always used: the seeds that
// test/model/tree.property.test.ts and scripts/fuzz-tree.ts print or document keep reproducing
// the same cases only as long as this sequence stays exactly as it is.

export class Prng {
  private state: number

  constructor(seed: number) {
    this.state = seed >>> 0
  }

  /** A number in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0)
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n)
  }

  bool(p = 0.5): boolean {
    return this.next() < p
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from empty list')
    return items[this.int(items.length)]!
  }

  hex16(): string {
    const word = () =>
      this.int(2 ** 32)
        .toString(16)
        .padStart(8, '0')
    return word() + word()
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n)
    for (let i = 0; i < n; i++) out[i] = this.int(256)
    return out
  }
}

/** The generator as a plain function returning numbers in [0, 1), for code that takes one. */
export function seededRandom(seed: number): () => number {
  const prng = new Prng(seed)
  return () => prng.next()
}

/** `n` reproducible bytes. */
export function seededBytes(n: number, seed: number): Uint8Array {
  return new Prng(seed).bytes(n)
}
