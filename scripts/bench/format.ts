// Number formatting shared by the report and the goal checks.

/** Three significant digits, thousands separated: 1,234 / 56.7 / 0.0123. */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v)
  const abs = Math.abs(v)
  if (abs >= 1000) return Math.round(v).toLocaleString('en')
  if (abs === 0) return '0'
  return Number(v.toPrecision(3)).toString()
}
