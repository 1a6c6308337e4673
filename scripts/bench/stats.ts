// Small statistics helpers for latency samples.

/** Nearest-rank percentile (p in 0..100): always one of the samples, never an interpolation. */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) throw new Error('percentile of no samples')
  const sorted = [...samples].sort((a, b) => a - b)
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length))
  return sorted[rank - 1]!
}

export function median(samples: number[]): number {
  return percentile(samples, 50)
}
