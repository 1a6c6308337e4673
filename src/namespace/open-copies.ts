// The working copies of this node's writable opens: one per resource, shared by all its writers
// (resource-file.ts), and their publication. A flush, fsync or close makes a copy the resource's
// content, stored before it returns; the last close forgets the copy.

import type { TreeNode } from '../model/tree/tree.js'
import { bufferReader, EMPTY_READER, TEXT_MAX, type ContentReader } from '../model/content.js'
import { isStrictText } from '../text/utf8.js'
import type { NamespaceReplica } from '../replica/replica.js'
import type { ContentWriter } from './content-writer.js'
import type { Publisher } from './resource-file.js'
import { changeTree } from './tree-change.js'
import type { WorkingCopy } from './working-copy.js'

export class OpenCopies implements Publisher {
  private readonly byId = new Map<string, WorkingCopy>()

  constructor(
    private readonly replica: NamespaceReplica,
    private readonly content: ContentWriter,
  ) {}

  /** The copy the writers of resource `id` share, when one is open. */
  get(id: string): WorkingCopy | undefined {
    return this.byId.get(id)
  }

  /** The shared copy of a resource, made from its published content when none is open. */
  shared(node: TreeNode): WorkingCopy {
    let copy = this.byId.get(node.id)
    if (!copy) this.byId.set(node.id, (copy = this.content.copyOf(node)))
    return copy
  }

  /** A new resource's copy: shared from now on. */
  add(copy: WorkingCopy): void {
    this.byId.set(copy.id, copy)
  }

  /** The bytes of a resource as this node shows them: its writers' unpublished ones, if any. */
  current(node: TreeNode): ContentReader {
    return this.served(node).reader
  }

  /**
   * What a reader opening the resource now is served (`current`), with its text when it is
   * text: the merge base of that reader, should it save the file.
   */
  served(node: TreeNode): { reader: ContentReader; text: string | undefined } {
    const open = this.byId.get(node.id)
    if (open?.dirty) {
      const bytes = open.contents()
      const text = bytes.length <= TEXT_MAX && isStrictText(bytes) ? bytes.toString('utf8') : undefined
      return { reader: bufferReader(bytes), text }
    }
    if (!this.content.isText(node)) return { reader: this.content.reader(node), text: undefined }
    const text = this.content.ref(node).kind === 't' ? this.content.text(node.id) : ''
    return { reader: text === '' ? EMPTY_READER : bufferReader(Buffer.from(text, 'utf8')), text }
  }

  /** Make the working copy the resource's content, stored before this returns. */
  publish(copy: WorkingCopy): void {
    if (!copy.dirty) return
    // A file unlinked while open keeps working for its holder; its content goes nowhere (POSIX).
    if (!this.replica.tree.isLive(copy.id)) {
      copy.dirty = false
      return
    }
    const published = changeTree(this.replica, copy.id, (t) => this.content.write(t, copy.id, copy))
    copy.rebase(published)
  }

  release(copy: WorkingCopy): void {
    if (this.byId.get(copy.id) === copy) this.byId.delete(copy.id)
  }

  /** Hashes of chunks open copies stored early: not referenced yet, so not to be collected. */
  addSpilled(into: Set<string>): void {
    for (const copy of this.byId.values()) for (const h of copy.spilledHashes()) into.add(h)
  }
}
