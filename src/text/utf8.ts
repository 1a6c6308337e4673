const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/**
 * True iff `bytes` are valid UTF-8 (no overlongs, no encoded surrogates, nothing past U+10FFFF)
 * with no NUL byte. Such content round-trips exactly through a JS string (decode it with
 * `ignoreBOM: true`, or a leading BOM is lost), so it can live in a Y.Text; anything else is
 * binary.
 */
export function isStrictText(bytes: Uint8Array): boolean {
  if (bytes.indexOf(0) !== -1) return false
  try {
    strictUtf8.decode(bytes)
    return true
  } catch {
    return false
  }
}
