// Node keys as the CLI prints and reads them. A key is base64url, whose alphabet has '-', so one
// key in 64 starts with '-' and one in 4,096 with '--': pasted as an argument it reads as an
// option (`meshfs ns grant team -5i31... admin`: "Unknown option '-5'"). The CLI prints keys with
// '.' in place of every '-' (base64url has no '.'), so a printed key never starts with '-', and
// maps '.' back on input: both forms, whole or as a prefix, name the same key.

export const showKey = (key: string): string => key.replaceAll('-', '.')

export const readKey = (text: string): string => text.replaceAll('.', '-')

/** The fewest first characters of a key that may stand for it (the daemon's rule too). */
export const MIN_KEY_PREFIX = 6

/**
 * The one key of `keys` that `given` names: itself, or a prefix of at least MIN_KEY_PREFIX
 * characters that starts no other key. A prefix that is shorter, or not unique, says so;
 * undefined when nothing matches (the daemon then gives its own reason).
 */
export function resolveKey(given: string, keys: string[], what: string): string | undefined {
  const ref = readKey(given)
  if (keys.includes(ref)) return ref
  if (ref.length < MIN_KEY_PREFIX)
    throw new PrefixError(
      `prefix too short: '${given}' has ${ref.length} characters; give the whole key or at least ${MIN_KEY_PREFIX} of its first`,
    )
  const matches = keys.filter((k) => k.startsWith(ref))
  if (matches.length > 1)
    throw new PrefixError(
      `prefix too short: '${given}' starts the keys of ${matches.length} ${what} (${matches.map((k) => showKey(k.slice(0, ref.length + 4))).join(', ')}); give more of the key`,
    )
  return matches[0]
}

export class PrefixError extends Error {}
