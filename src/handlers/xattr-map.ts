// Extended attributes kept beside a store that has none (memfs). Only the `user.` namespace is
// stored: `system.posix_acl_*` would make `ls -l` print a '+' for ACLs nobody enforces, and
// `security.*`/`trusted.*` belong to the kernel, so those are ENOTSUP.

import { fsError } from '../vfs/errors.js'
import type { XattrSetMode } from '../vfs/handler.js'

/** Linux XATTR_SIZE_MAX. */
const VALUE_MAX = 64 * 1024

export function checkUserXattr(name: string): void {
  if (!name.startsWith('user.') || name.length <= 5) {
    throw fsError('ENOTSUP', `extended attribute ${JSON.stringify(name)}: only user.* attributes are stored`)
  }
  if (Buffer.byteLength(name) > 255) throw fsError('ERANGE', 'extended attribute name longer than 255 bytes')
}

export class XattrMap {
  /** Keyed by something stable across renames (an inode number). */
  private readonly byKey = new Map<string, Map<string, Buffer>>()

  get(key: string, name: string): Buffer {
    const value = this.byKey.get(key)?.get(name)
    if (!value) throw fsError('ENODATA', `no attribute ${name}`)
    return value
  }

  list(key: string): string[] {
    return [...(this.byKey.get(key)?.keys() ?? [])]
  }

  set(key: string, name: string, value: Buffer, mode: XattrSetMode): void {
    checkUserXattr(name)
    if (value.length > VALUE_MAX) throw fsError('E2BIG', `attribute value of ${value.length} bytes is over ${VALUE_MAX}`)
    let attrs = this.byKey.get(key)
    const exists = attrs?.has(name) ?? false
    if (mode === 'create' && exists) throw fsError('EEXIST', `attribute ${name} exists`)
    if (mode === 'replace' && !exists) throw fsError('ENODATA', `no attribute ${name}`)
    if (!attrs) this.byKey.set(key, (attrs = new Map()))
    attrs.set(name, Buffer.from(value))
  }

  remove(key: string, name: string): void {
    if (!this.byKey.get(key)?.delete(name)) throw fsError('ENODATA', `no attribute ${name}`)
  }

  forget(key: string): void {
    this.byKey.delete(key)
  }
}
