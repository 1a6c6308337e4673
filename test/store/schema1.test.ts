import Database from 'better-sqlite3'
import assert from 'node:assert/strict'
import path from 'node:path'
import zlib from 'node:zlib'
import { afterEach, beforeEach, describe, it } from 'node:test'
import * as Y from 'yjs'
import { textDocId, treeDocId } from '../../src/replica/replica.js'
import { encodeKey } from '../../src/store/key.js'
import { openLocalStore } from '../../src/store/local-store.js'
import { APPLICATION_ID, DB_FILE_NAME, SCHEMA_VERSION } from '../../src/store/sqlite.js'
import { removeTempDir, tempDir } from './helpers.js'

const NS = '0123456789abcdef0123456789abcdef'
const RESOURCE = 'fedcba9876543210'

/** A Yjs update of a doc holding `text`, and the head record schema 1 stored beside one log entry. */
function docWith(text: string): { update: Uint8Array; head: Uint8Array } {
  const doc = new Y.Doc()
  doc.getText('t').insert(0, text)
  const update = Y.encodeStateAsUpdate(doc)
  const head = { seq: 1, snapshotSeq: 0, logCount: 1, logBytes: update.byteLength }
  return { update, head: Buffer.from(JSON.stringify(head)) }
}

const json = (value: unknown): Uint8Array => Buffer.from(JSON.stringify(value))

/**
 * Writes meshfs.db as a schema 1 build did: its tables, marker, application_id and WAL mode, and
 * the joined-string keys of that schema (doc ids 'tree:<ns>', metadata names 'inviter:<ns>').
 */
function writeSchema1Database(dir: string, rows: Array<[string[], Uint8Array]>): void {
  const db = new Database(path.join(dir, DB_FILE_NAME))
  try {
    db.pragma(`application_id = ${APPLICATION_ID}`)
    db.exec(`
      CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) STRICT;
      CREATE TABLE chunks (id INTEGER PRIMARY KEY, key BLOB NOT NULL UNIQUE, data BLOB NOT NULL, crc32 INTEGER NOT NULL) STRICT;
    `)
    db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('app', 'meshfs')
    db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('created_at', new Date(0).toISOString())
    const insert = db.prepare('INSERT INTO chunks (key, data, crc32) VALUES (?, ?, ?)')
    for (const [key, data] of rows) insert.run(encodeKey(key), Buffer.from(data), zlib.crc32(data))
    db.pragma('user_version = 1')
    db.pragma('journal_mode = WAL')
  } finally {
    db.close()
  }
}

describe('a database written with schema 1 (joined-string keys)', () => {
  let dir: string
  beforeEach(() => {
    dir = tempDir('schema1')
  })
  afterEach(() => removeTempDir(dir))

  it('opens, and reads every doc and metadata value under its key parts', () => {
    const tree = docWith('the tree')
    const text = docWith('a text')
    const blob = Buffer.from('blob bytes')
    writeSchema1Database(dir, [
      [['head', `tree:${NS}`], tree.head],
      [['log', `tree:${NS}`, '0000000000000001'], tree.update],
      [['head', `text:${NS}:${RESOURCE}`], text.head],
      [['log', `text:${NS}:${RESOURCE}`, '0000000000000001'], text.update],
      [['blob', 'some-hash'], blob],
      [['kv', 'namespaces'], json([NS])],
      [['kv', `inviter:${NS}`], json('inviter-key')],
      [['kv', 'invite-uses:n0nce'], json(2)],
      [['kv', 'sync-base:a>b:/dir/with:colon'], json({ k: 'f', m: 420, f: 'e' })],
      [['kv', 'sync-base-text:a>b:/dir/with:colon'], json('kept text')],
    ])

    const store = openLocalStore(dir)
    try {
      const read = (id: readonly string[]) => {
        const doc = new Y.Doc()
        Y.applyUpdate(doc, store.docs.loadDoc(id)!)
        return doc.getText('t').toString()
      }
      assert.equal(read(treeDocId(NS)), 'the tree')
      assert.equal(read(textDocId(NS, RESOURCE)), 'a text')
      assert.deepEqual(store.docs.listDocs(['text', NS]), [textDocId(NS, RESOURCE)])
      assert.deepEqual(store.docs.stats(treeDocId(NS)), { seq: 1, snapshotSeq: 0, logCount: 1, logBytes: tree.update.byteLength })
      assert.deepEqual(store.adapter.load(['blob', 'some-hash']), new Uint8Array(blob))

      assert.deepEqual(store.meta.getMeta(['namespaces']), [NS])
      assert.equal(store.meta.getMeta(['inviter', NS]), 'inviter-key')
      assert.equal(store.meta.getMeta(['invite-uses', 'n0nce']), 2)
      assert.deepEqual(store.meta.listMeta(['sync-base', 'a>b']), [['sync-base', 'a>b', '/dir/with:colon']])
      assert.equal(store.meta.getMeta(['sync-base-text', 'a>b', '/dir/with:colon']), 'kept text')

      // Appending continues the old log: the head moved with it.
      const more = new Y.Doc()
      Y.applyUpdate(more, store.docs.loadDoc(treeDocId(NS))!)
      more.getText('t').insert(0, 'still ')
      assert.equal(store.docs.appendUpdate(treeDocId(NS), Y.encodeStateAsUpdate(more)), 2)
      assert.equal(read(treeDocId(NS)), 'still the tree')
    } finally {
      store.close()
    }

    const raw = new Database(path.join(dir, DB_FILE_NAME), { readonly: true })
    try {
      assert.equal(raw.pragma('user_version', { simple: true }), SCHEMA_VERSION)
    } finally {
      raw.close()
    }
  })
})
