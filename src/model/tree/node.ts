import type { Kind } from './schema.js'

/** A node of the resolved tree, as reads see it (tree.ts). */
export interface TreeNode {
  readonly id: string
  /** Effective parent; undefined for the root. */
  readonly parentId: string | undefined
  /** Displayed name, unique in its group; '' for the root. */
  readonly name: string
  /** Stored name; differs from `name` only while a duplicate is shown with a conflict tag. */
  readonly storedName: string
  readonly kind: Kind
  readonly mode: number
  readonly meta: Readonly<Record<string, string>>
}

export interface TreeDocOptions {
  /** Id source; tests inject a seeded one to make runs reproducible. Default: 64 random bits. */
  readonly newId?: () => string
  /**
   * This replica's key in the version vectors and tombstones (edit beats delete), unique among
   * the replicas that write the doc. Default: the Y.Doc's clientID, a new key per process.
   */
  readonly writer?: string
}

export interface RemoveOptions {
  readonly recursive?: boolean
}
