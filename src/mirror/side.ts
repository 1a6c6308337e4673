// One side of a mirror (mirror.ts): a namespace read as path -> entry, and written path by path
// through NamespaceReplica.change, in the content schema of model/content.ts.

import { createHash } from 'node:crypto'
import { withTag } from '../model/names.js'
import { applyTextContent } from '../replica/apply-text.js'
import { TreeDoc, type TreeNode } from '../model/tree/tree.js'
import { META, decodeContentRef, encodeContentRef, type ContentRef } from '../model/content.js'
import type { NamespaceReplica } from '../replica/replica.js'
import type { Logger } from '../util/log.js'
import { fsError } from '../vfs/errors.js'
import { splitPath } from '../vfs/path.js'
import type { BaseEntry } from './base.js'

const ROOT = TreeDoc.ROOT

export interface Entry extends BaseEntry {
  id: string
}

export type Content = { kind: 'e' } | { kind: 't'; text: string } | { kind: 'b'; manifest: string; size: number }

/** A path's whole state as read from one side (or merged), ready to be written to the other. */
export type Item = { k: 'g'; m: number } | { k: 's'; m: number; link: string } | { k: 'f'; m: number; mtimeSec: number; content: Content }

export type SideName = 'source' | 'target'

/** One namespace as a mirror sees it: paths, fingerprints, and writes. */
export class MirrorSide {
  /** Text fingerprints by resource id, with the content record they were computed under. */
  private readonly fingerprints = new Map<string, { c: string; f: string }>()

  constructor(
    readonly replica: NamespaceReplica,
    private readonly log: Logger,
  ) {}

  /** A stored change of `docKey`: a text doc's fingerprint must be computed again. */
  changed(docKey: string): void {
    if (docKey !== 'tree') this.fingerprints.delete(docKey)
  }

  snapshot(): Map<string, Entry> {
    const out = new Map<string, Entry>()
    const walk = (id: string, prefix: string) => {
      for (const child of this.replica.tree.children(id)) {
        const path = `${prefix}/${child.name}`
        const entry = this.entryOf(child)
        if (!entry) continue
        out.set(path, entry)
        if (child.kind === 'group') walk(child.id, path)
      }
    }
    walk(ROOT, '')
    return out
  }

  read(e: Entry): Item {
    if (e.k === 'g') return { k: 'g', m: e.m }
    if (e.k === 's') return { k: 's', m: e.m, link: e.f }
    const ref = this.contentRef(this.replica.tree.get(e.id))
    const content: Content =
      ref.kind === 'b'
        ? { kind: 'b', manifest: ref.manifest!, size: ref.size }
        : ref.kind === 't'
          ? textContent(this.replica.text(e.id).toString())
          : { kind: 'e' }
    return { k: 'f', m: e.m, mtimeSec: ref.mtimeSec, content }
  }

  text(e: Entry): string {
    const item = this.read(e)
    return item.k === 'f' && item.content.kind === 't' ? item.content.text : ''
  }

  /** Make `path` hold `item`, creating missing groups above it; true if a group in the way was set aside. */
  put(path: string, item: Item): boolean {
    let setAside = false
    this.replica.change((t) => {
      const segs = splitPath(path)
      const name = segs.pop()!
      const parent = this.groupsTo(t, segs)
      let id = t.lookup(parent, name)
      if (id !== undefined && kindOf(t.get(id)) !== item.k) {
        // A group with content is never dropped for a file: it moves aside and comes back next pass.
        if (t.get(id).kind === 'group' && t.children(id).length > 0) {
          this.setAsideIn(t, id)
          setAside = true
        } else t.remove(id)
        id = undefined
      }
      if (id === undefined) {
        const kind = item.k === 'g' ? 'group' : item.k === 's' ? 'symlink' : 'file'
        id = t.create(parent, name, kind, item.m, item.k === 's' ? { [META.target]: item.link } : undefined)
      } else {
        if (t.get(id).mode !== item.m) t.setMode(id, item.m)
        if (item.k === 's') t.setMeta(id, META.target, item.link)
      }
      if (item.k === 'f') this.writeContent(t, id, item)
    })
    return setAside
  }

  /** Remove what is at `path`; false (nothing done) for a group that is not empty. */
  remove(path: string): boolean {
    const id = this.replica.tree.resolvePath(splitPath(path))
    if (id === undefined) return true
    if (this.replica.tree.get(id).kind === 'group' && this.replica.tree.children(id).length > 0) return false
    this.replica.change((t) => t.remove(id))
    return true
  }

  setAside(path: string): void {
    const id = this.replica.tree.resolvePath(splitPath(path))
    if (id !== undefined) this.replica.change((t) => this.setAsideIn(t, id))
  }

  private setAsideIn(t: TreeDoc, id: string): void {
    const node = t.get(id)
    for (let len = 4; len <= id.length; len += 4) {
      const name = withTag(node.name, id.slice(0, len))
      if (t.lookup(node.parentId!, name) === undefined) return t.rename(id, name)
    }
    throw fsError('EEXIST', `no free conflict name for ${node.name}`)
  }

  private groupsTo(t: TreeDoc, segs: string[]): string {
    let cur = ROOT
    for (const [i, seg] of segs.entries()) {
      let next = t.lookup(cur, seg)
      if (next === undefined) next = t.create(cur, seg, 'group', 0o755)
      else if (t.get(next).kind !== 'group')
        throw fsError('ENOTDIR', `/${segs.slice(0, i + 1).join('/')} is not a group in namespace ${this.replica.info.alias}`)
      cur = next
    }
    return cur
  }

  private writeContent(t: TreeDoc, id: string, item: Extract<Item, { k: 'f' }>): void {
    const c = item.content
    let ref: ContentRef
    if (c.kind === 't') {
      applyTextContent(this.replica.text(id), c.text)
      ref = { kind: 't', size: Buffer.byteLength(c.text), mtimeSec: item.mtimeSec }
    } else if (c.kind === 'b') ref = { kind: 'b', size: c.size, mtimeSec: item.mtimeSec, manifest: c.manifest }
    else ref = { kind: 'e', size: 0, mtimeSec: item.mtimeSec }
    t.setMeta(id, META.content, encodeContentRef(ref))
  }

  private contentRef(node: TreeNode): ContentRef {
    return decodeContentRef(node.meta[META.content], Math.floor(this.replica.info.createdMs / 1000))
  }

  private entryOf(node: TreeNode): Entry | undefined {
    if (node.kind === 'group') return { id: node.id, k: 'g', m: node.mode, f: '' }
    if (node.kind === 'symlink') return { id: node.id, k: 's', m: node.mode, f: node.meta[META.target] ?? '' }
    let ref: ContentRef
    try {
      ref = this.contentRef(node)
    } catch (err) {
      // An unreadable record is left where it is, on its side, and said so once per pass.
      this.log.warn(
        `mirror: ${this.replica.info.alias}: resource ${node.id} has an unreadable content record, left out of the pass: ${(err as Error).message}`,
      )
      return undefined
    }
    let f: string
    if (ref.kind === 'e') f = 'e'
    else if (ref.kind === 'b') f = `b${ref.manifest}`
    else {
      const c = node.meta[META.content]!
      const known = this.fingerprints.get(node.id)
      if (known?.c === c) f = known.f
      else {
        f = textFingerprint(this.replica.text(node.id).toString())
        this.fingerprints.set(node.id, { c, f })
      }
    }
    return { id: node.id, k: 'f', m: node.mode, f }
  }
}

export function textContent(text: string): Content {
  return text === '' ? { kind: 'e' } : { kind: 't', text }
}

function textFingerprint(text: string): string {
  return text === '' ? 'e' : `t${createHash('sha1').update(text).digest('hex')}`
}

export function entryOf(item: Item): BaseEntry {
  if (item.k === 'g') return { k: 'g', m: item.m, f: '' }
  if (item.k === 's') return { k: 's', m: item.m, f: item.link }
  const c = item.content
  return { k: 'f', m: item.m, f: c.kind === 'e' ? 'e' : c.kind === 'b' ? `b${c.manifest}` : textFingerprint(c.text) }
}

export function isText(e: BaseEntry): boolean {
  return e.k === 'f' && (e.f === 'e' || e.f.startsWith('t'))
}

function kindOf(node: TreeNode): 'g' | 's' | 'f' {
  return node.kind === 'group' ? 'g' : node.kind === 'symlink' ? 's' : 'f'
}
