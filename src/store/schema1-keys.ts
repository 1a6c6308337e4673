/**
 * The storage keys schema 1 wrote, and what they are under schema 2 (see the migration in
 * sqlite.ts). Schema 1 gave documents and metadata one joined string each, filtered by string
 * prefix; schema 2 keeps the parts apart (doc-store.ts, meta-store.ts). The migration rewrites
 * every key, so a database written by schema 1 reads exactly as it did.
 *
 * Schema 1 layouts:
 *   ['head' | 'snapshot', id]   ['log', id, seq]   with id 'tree:<ns>' or 'text:<ns>:<resource>'
 *   ['kv', name]                with name 'inviter:<ns>', 'invite-uses:<nonce>',
 *                               'sync-base:<pair>:<path>', 'sync-base-text:<pair>:<path>' or a
 *                               plain name ('namespaces', 'peers', 'listen-port', ...)
 *
 * Every rewrite can be undone by joining the parts with ':', so no two schema 1 keys become one.
 */

/** How many ':'-separated parts lead a schema 1 metadata name, by its first part; the rest is one part. */
const META_LEADING_PARTS: Readonly<Record<string, number>> = {
  inviter: 1,
  'invite-uses': 1,
  // <path> may hold ':' itself, so only the pair is split off
  'sync-base': 2,
  'sync-base-text': 2,
}

/** The schema 2 form of a schema 1 key, or undefined when the key is not one schema 1 wrote. */
export function schema2Key(key: readonly string[]): string[] | undefined {
  const [space, id, seq] = key
  if ((space === 'head' || space === 'snapshot') && key.length === 2) return [space, ...docIdParts(id!)]
  if (space === 'log' && key.length === 3) return [space, ...docIdParts(id!), '', seq!]
  if (space === 'kv' && key.length === 2) return [space, ...metaKeyParts(id!)]
  return undefined
}

/** Schema 1 doc ids joined hex ids with ':'; an id that does not split into non-empty parts stays whole. */
function docIdParts(id: string): string[] {
  const parts = id.split(':')
  return parts.every((part) => part.length > 0) ? parts : [id]
}

function metaKeyParts(name: string): string[] {
  const colon = name.indexOf(':')
  const leading = colon < 0 ? undefined : META_LEADING_PARTS[name.slice(0, colon)]
  if (leading === undefined) return [name]
  const parts: string[] = []
  let rest = name
  for (let i = 0; i < leading; i++) {
    const at = rest.indexOf(':')
    if (at < 0) return [name]
    parts.push(rest.slice(0, at))
    rest = rest.slice(at + 1)
  }
  parts.push(rest)
  return parts
}
