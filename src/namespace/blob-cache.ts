// Recently read chunks, by hash. Blobs never change, so a cached one is always right; without
// this, every random 4 KiB read of a binary would load and hash-check a whole 1 MiB chunk.

export class BlobCache {
  private readonly entries = new Map<string, Uint8Array>()
  private bytes = 0

  constructor(
    private readonly maxBytes: number,
    private readonly load: (hash: string) => Uint8Array | undefined,
  ) {}

  get(hash: string): Uint8Array | undefined {
    const hit = this.entries.get(hash)
    if (hit) {
      this.entries.delete(hash)
      this.entries.set(hash, hit)
      return hit
    }
    const loaded = this.load(hash)
    if (!loaded || loaded.byteLength > this.maxBytes) return loaded
    this.entries.set(hash, loaded)
    this.bytes += loaded.byteLength
    for (const [h, b] of this.entries) {
      if (this.bytes <= this.maxBytes) break
      this.entries.delete(h)
      this.bytes -= b.byteLength
    }
    return loaded
  }
}
