/**
 * Yjs documents on a StorageAdapter: per document an append-only update log plus a compacted
 * snapshot, in the manner of automerge-repo's StorageSubsystem (the adapter stores bytes; this
 * module decides what the keys mean).
 *
 * A document id is a list of non-empty parts (['tree', ns], ['text', ns, rid]), compared part by
 * part, so no id can collide with another or fall under a foreign prefix, whatever its parts hold.
 *
 * Keys:
 *   ['head', ...docId]          JSON DocHead: sequence counter and log statistics
 *   ['snapshot', ...docId]      one Yjs update (v1) equal to all log entries folded in so far
 *   ['log', ...docId, '', seq]  one Yjs update (v1); seq zero-padded to 16 digits so key order
 *                               is numeric order. The empty part ends the id (no id part is
 *                               empty), so the log of ['a'] never takes in the log of ['a', 'b'].
 *
 * Seqs are per document, start at 1 and are never reused while the document exists (the head
 * keeps the counter across compactions). The snapshot covers exactly the seqs <= head.snapshotSeq;
 * every seq above it is still in the log.
 */
import * as Y from 'yjs'
import type { StorageAdapter } from './adapter.js'
import { StoreError } from './errors.js'
import type { StorageKey } from './key.js'

/** A document's id: one or more non-empty parts, e.g. ['tree', namespaceId]. */
export type DocId = StorageKey

export interface DocStoreOptions {
  /** Compact a document once its log holds this many updates (default 500; 0 = never). */
  compactAfterUpdates?: number
  /** ... or once its log holds this many bytes (default 1 MiB; 0 = never). */
  compactAfterBytes?: number
}

/** What the store knows about one document without reading its data. */
export interface DocHead {
  /** the last seq given out */
  seq: number
  /** the snapshot contains every update with seq <= snapshotSeq (0: no snapshot) */
  snapshotSeq: number
  /** updates in the log (seq > snapshotSeq) */
  logCount: number
  /** their total size in bytes */
  logBytes: number
}

export interface CompactionResult {
  /** the snapshot now covers every seq up to and including this one */
  throughSeq: number
  /** log entries folded into the snapshot and removed from the log */
  folded: number
  snapshotBytes: number
}

const SEQ_DIGITS = 16
const DEFAULT_COMPACT_AFTER_UPDATES = 500
const DEFAULT_COMPACT_AFTER_BYTES = 1 << 20

export class DocStore {
  readonly #adapter: StorageAdapter
  readonly #compactAfterUpdates: number
  readonly #compactAfterBytes: number
  /**
   * docs being compacted right now, by showDocId (JSON keeps the parts apart): an append
   * re-entered from inside must not start another
   */
  readonly #compacting = new Set<string>()

  constructor(adapter: StorageAdapter, options: DocStoreOptions = {}) {
    this.#adapter = adapter
    this.#compactAfterUpdates = options.compactAfterUpdates ?? DEFAULT_COMPACT_AFTER_UPDATES
    this.#compactAfterBytes = options.compactAfterBytes ?? DEFAULT_COMPACT_AFTER_BYTES
  }

  /**
   * Appends one Yjs update (v1 encoding) to the document's log and returns its seq. Returns only
   * after the update is committed (on disk, for a durable adapter). The update is checked to
   * decode first: a malformed one is refused with EINVAL instead of poisoning the log.
   *
   * When the log has grown past the thresholds, the document is compacted right after the
   * commit. If that compaction fails the error is thrown, although the update itself is stored:
   * appending the same update again is harmless (Yjs updates are idempotent).
   */
  appendUpdate(docId: DocId, update: Uint8Array): number {
    checkDocId(docId)
    checkUpdate(docId, update)
    const head = this.#adapter.transaction(() => {
      const next = this.#readHead(docId) ?? { seq: 0, snapshotSeq: 0, logCount: 0, logBytes: 0 }
      next.seq += 1
      next.logCount += 1
      next.logBytes += update.byteLength
      this.#adapter.save(logKey(docId, next.seq), update)
      this.#writeHead(docId, next)
      return next
    })
    if (this.#shouldCompact(head) && !this.#compacting.has(showDocId(docId))) this.compact(docId)
    return head.seq
  }

  /**
   * The document's whole state as one Yjs update (snapshot and log merged), or undefined when
   * the store has no such document. Snapshot and log are read in one transaction, so a
   * concurrent compaction cannot make an update appear twice or not at all.
   */
  loadDoc(docId: DocId): Uint8Array | undefined {
    checkDocId(docId)
    const parts = this.#adapter.transaction(() => {
      if (this.#readHead(docId) === undefined) return undefined
      return { snapshot: this.#readSnapshot(docId), log: this.#readLog(docId) }
    })
    if (parts === undefined) return undefined
    return mergeChecked(docId, parts.snapshot, parts.log)
  }

  /**
   * Folds the log into the snapshot. Reads the snapshot and the log, and so the highest seq it
   * folds in, inside one transaction, writes the new snapshot, and removes exactly the log
   * entries it read, never "the doc's log": an update appended after that read stays in the log.
   * Today the write lock keeps other connections out for the whole transaction, so such an
   * update can only come from a re-entrant call; the rule keeps compaction correct if the merge
   * ever moves out of the transaction. Returns undefined for an unknown document.
   */
  compact(docId: DocId): CompactionResult | undefined {
    checkDocId(docId)
    this.#compacting.add(showDocId(docId))
    try {
      return this.#adapter.transaction(() => {
        const before = this.#readHead(docId)
        if (before === undefined) return undefined
        const snapshot = this.#readSnapshot(docId)
        const log = this.#readLog(docId)
        if (log.length === 0) {
          return { throughSeq: before.snapshotSeq, folded: 0, snapshotBytes: snapshot?.byteLength ?? 0 }
        }
        const throughSeq = log[log.length - 1]!.seq
        const merged = mergeChecked(docId, snapshot, log)
        this.#adapter.save(snapshotKey(docId), merged)
        let foldedBytes = 0
        for (const entry of log) {
          this.#adapter.remove(logKey(docId, entry.seq))
          foldedBytes += entry.data.byteLength
        }
        // Read the head again: an append that ran while we were reading has moved its counter.
        const after = this.#readHead(docId)!
        after.snapshotSeq = throughSeq
        after.logCount -= log.length
        after.logBytes -= foldedBytes
        this.#writeHead(docId, after)
        return { throughSeq, folded: log.length, snapshotBytes: merged.byteLength }
      })
    } finally {
      this.#compacting.delete(showDocId(docId))
    }
  }

  /** Removes the document's head, snapshot and log; false if there was no such document. */
  deleteDoc(docId: DocId): boolean {
    checkDocId(docId)
    return this.#adapter.transaction(() => {
      const existed = this.#adapter.has(headKey(docId))
      this.#adapter.remove(headKey(docId))
      this.#adapter.remove(snapshotKey(docId))
      this.#adapter.removeRange(logPrefix(docId))
      return existed
    })
  }

  hasDoc(docId: DocId): boolean {
    checkDocId(docId)
    return this.#adapter.has(headKey(docId))
  }

  /** Ids of the stored documents that start with `prefix`, part by part, ordered. */
  listDocs(prefix: DocId = []): string[][] {
    return this.#adapter.listKeys(['head', ...prefix]).map((key) => key.slice(1))
  }

  /** Sequence counter and log size of a document, or undefined for an unknown one. */
  stats(docId: DocId): DocHead | undefined {
    checkDocId(docId)
    return this.#readHead(docId)
  }

  #shouldCompact(head: DocHead): boolean {
    return (
      (this.#compactAfterUpdates > 0 && head.logCount >= this.#compactAfterUpdates) ||
      (this.#compactAfterBytes > 0 && head.logBytes >= this.#compactAfterBytes)
    )
  }

  #readLog(docId: DocId): LogEntry[] {
    return namingRecord(docId, () => this.#adapter.loadRange(logPrefix(docId))).map(({ key, data }) => {
      const seq = Number(key.at(-1))
      if (key.length !== docId.length + 3 || !Number.isSafeInteger(seq) || seq <= 0) {
        throw corrupt(docId, `has a log entry with a malformed key ${JSON.stringify(key)}`)
      }
      return { seq, data }
    })
  }

  #readSnapshot(docId: DocId): Uint8Array | undefined {
    return namingRecord(docId, () => this.#adapter.load(snapshotKey(docId)))
  }

  #readHead(docId: DocId): DocHead | undefined {
    const bytes = namingRecord(docId, () => this.#adapter.load(headKey(docId)))
    if (bytes === undefined) return undefined
    let head: unknown
    try {
      head = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'))
    } catch (err) {
      throw corrupt(docId, `has a head record that is not JSON`, err)
    }
    if (!isDocHead(head)) throw corrupt(docId, `has a malformed head record ${JSON.stringify(head)}`)
    return head
  }

  #writeHead(docId: DocId, head: DocHead): void {
    this.#adapter.save(headKey(docId), Buffer.from(JSON.stringify(head), 'utf8'))
  }
}

interface LogEntry {
  seq: number
  data: Uint8Array
}

function headKey(docId: DocId): string[] {
  return ['head', ...docId]
}

function snapshotKey(docId: DocId): string[] {
  return ['snapshot', ...docId]
}

function logPrefix(docId: DocId): string[] {
  return ['log', ...docId, '']
}

function logKey(docId: DocId, seq: number): string[] {
  return [...logPrefix(docId), String(seq).padStart(SEQ_DIGITS, '0')]
}

/** How messages (and the compacting set) name a doc: JSON, so the parts stay visible and apart. */
function showDocId(docId: DocId): string {
  return JSON.stringify(docId)
}

function isDocHead(value: unknown): value is DocHead {
  if (typeof value !== 'object' || value === null) return false
  const v = value as Record<string, unknown>
  return ['seq', 'snapshotSeq', 'logCount', 'logBytes'].every((k) => Number.isSafeInteger(v[k]) && (v[k] as number) >= 0)
}

function checkDocId(docId: DocId): void {
  if (!Array.isArray(docId) || docId.length === 0 || !docId.every((part) => typeof part === 'string' && part.length > 0)) {
    throw new StoreError(`document id must be a non-empty array of non-empty strings, got ${JSON.stringify(docId)}`, {
      kind: 'invalid-argument',
      code: 'EINVAL',
    })
  }
}

function checkUpdate(docId: DocId, update: Uint8Array): void {
  if (!(update instanceof Uint8Array) || update.byteLength === 0) {
    throw new StoreError(`update for doc ${showDocId(docId)} must be a non-empty Uint8Array`, { kind: 'invalid-argument', code: 'EINVAL' })
  }
  try {
    Y.decodeUpdate(update)
  } catch (err) {
    throw new StoreError(`update for doc ${showDocId(docId)} is not a valid Yjs update: ${(err as Error).message}`, {
      kind: 'invalid-argument',
      code: 'EINVAL',
      cause: err,
    })
  }
}

/** Rewords an adapter's corrupt-record error (which names a raw key) in terms of doc and seq. */
function namingRecord<T>(docId: DocId, read: () => T): T {
  try {
    return read()
  } catch (err) {
    if (!(err instanceof StoreError) || err.kind !== 'corrupt-record' || err.key === undefined) throw err
    const space = err.key[0]
    const what = space === 'log' ? `log entry seq ${Number(err.key.at(-1))}` : space === 'snapshot' ? 'snapshot' : `${space} record`
    throw new StoreError(`doc ${showDocId(docId)} has a corrupted ${what}: ${err.message}`, {
      kind: 'corrupt-record',
      code: 'EIO',
      path: err.path,
      key: err.key,
      cause: err,
    })
  }
}

function corrupt(docId: DocId, what: string, cause?: unknown): StoreError {
  return new StoreError(`doc ${showDocId(docId)} ${what}`, { kind: 'corrupt-record', code: 'EIO', cause })
}

/**
 * Merges snapshot and log into one update. Y.mergeUpdates decodes every input, so a damaged
 * entry throws there; we then decode the inputs one by one to name the culprit. A single input
 * is returned by Yjs without decoding, so a lone log entry is decoded here explicitly.
 */
function mergeChecked(docId: DocId, snapshot: Uint8Array | undefined, log: LogEntry[]): Uint8Array {
  const inputs: Array<{ what: string; data: Uint8Array }> = []
  if (snapshot !== undefined) inputs.push({ what: 'the snapshot', data: snapshot })
  for (const entry of log) inputs.push({ what: `log entry seq ${entry.seq}`, data: entry.data })
  if (inputs.length === 0) return Y.mergeUpdates([])
  if (inputs.length === 1 && snapshot === undefined) decodeOrThrow(docId, inputs[0]!)
  try {
    return Y.mergeUpdates(inputs.map((input) => input.data))
  } catch (err) {
    for (const input of inputs) decodeOrThrow(docId, input)
    const seqs = log.length === 0 ? 'none' : `${log[0]!.seq}..${log[log.length - 1]!.seq}`
    throw corrupt(
      docId,
      `cannot be merged (snapshot ${snapshot === undefined ? 'absent' : 'present'}, log seqs ${seqs}): ${(err as Error).message}`,
      err,
    )
  }
}

function decodeOrThrow(docId: DocId, input: { what: string; data: Uint8Array }): void {
  try {
    Y.decodeUpdate(input.data)
  } catch (err) {
    throw corrupt(docId, `has a corrupted ${input.what}: it is not a valid Yjs update (${(err as Error).message})`, err)
  }
}
