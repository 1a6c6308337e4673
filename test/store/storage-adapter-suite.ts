/**
 * The conformance suite every StorageAdapter must pass (after automerge-repo's
 * runStorageAdapterTests). Call it from a *.test.ts file with a factory that returns a fresh,
 * empty adapter for each test.
 */
import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, it } from 'node:test'
import type { StorageAdapter } from '../../src/store/adapter.js'
import { StoreError } from '../../src/store/errors.js'

export interface AdapterFixture {
  adapter: StorageAdapter
  teardown?: () => void
}

export type AdapterFactory = () => AdapterFixture

const A = () => new Uint8Array([0, 1, 127, 99, 154, 235])
const B = () => new Uint8Array([1, 76, 160, 53, 57, 10, 230])
const C = () => new Uint8Array([2, 111, 74, 131, 236, 96, 142, 193])

function randomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n)
  let x = seed >>> 0 || 1
  for (let i = 0; i < n; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x & 0xff
  }
  return out
}

function isEinval(err: unknown): boolean {
  return err instanceof StoreError && err.code === 'EINVAL'
}

export function runStorageAdapterTests(name: string, factory: AdapterFactory): void {
  describe(`storage adapter conformance: ${name}`, () => {
    let fixture: AdapterFixture
    let adapter: StorageAdapter
    beforeEach(() => {
      fixture = factory()
      adapter = fixture.adapter
    })
    afterEach(() => {
      adapter.close()
      fixture.teardown?.()
    })

    describe('load and save', () => {
      it('returns undefined for a key that was never saved', () => {
        assert.equal(adapter.load(['AAAAA', 'sync-state', 'xxxxx']), undefined)
        assert.equal(adapter.has(['AAAAA', 'sync-state', 'xxxxx']), false)
      })

      it('returns what was saved, as a plain Uint8Array', () => {
        adapter.save(['storage-adapter-id'], A())
        const loaded = adapter.load(['storage-adapter-id'])
        assert.ok(loaded instanceof Uint8Array)
        assert.deepEqual(new Uint8Array(loaded), A())
        assert.equal(adapter.has(['storage-adapter-id']), true)
      })

      it('works with composite keys', () => {
        adapter.save(['AAAAA', 'sync-state', 'xxxxx'], A())
        assert.deepEqual(new Uint8Array(adapter.load(['AAAAA', 'sync-state', 'xxxxx'])!), A())
        assert.equal(adapter.load(['AAAAA', 'sync-state']), undefined, 'a prefix of a key is not the key')
        assert.equal(adapter.load(['AAAAA', 'sync-state', 'xxxxx', 'more']), undefined)
      })

      it('works with a large payload', () => {
        const large = randomBytes(1_000_003, 7)
        adapter.save(['big'], large)
        assert.deepEqual(new Uint8Array(adapter.load(['big'])!), large)
      })

      it('keeps an empty value apart from a missing one', () => {
        adapter.save(['empty'], new Uint8Array(0))
        const loaded = adapter.load(['empty'])
        assert.ok(loaded instanceof Uint8Array)
        assert.equal(loaded.byteLength, 0)
      })

      it('stores a copy: changing the saved array afterwards changes nothing', () => {
        const data = A()
        adapter.save(['k'], data)
        data[0] = 42
        assert.deepEqual(new Uint8Array(adapter.load(['k'])!), A())
      })

      it('saves a subarray view as its visible bytes only', () => {
        const backing = new Uint8Array([9, 9, 1, 2, 3, 9])
        adapter.save(['view'], backing.subarray(2, 5))
        assert.deepEqual(new Uint8Array(adapter.load(['view'])!), new Uint8Array([1, 2, 3]))
      })

      it('overwrites data saved under the same key', () => {
        adapter.save(['AAAAA', 'sync-state', 'xxxxx'], A())
        adapter.save(['AAAAA', 'sync-state', 'xxxxx'], B())
        assert.deepEqual(adapter.loadRange(['AAAAA', 'sync-state']).map(plain), [{ key: ['AAAAA', 'sync-state', 'xxxxx'], data: B() }])
      })

      it('keeps keys with unusual parts apart: empty parts, NUL, separators, non-ASCII', () => {
        const keys = [
          ['x'],
          ['x', ''],
          ['x', '', ''],
          ['', 'x'],
          ['x\u0000'],
          ['x', '\u0000'],
          ['x/y'],
          ['x', 'y'],
          ['é'],
          ['e\u0301'],
          ['😀'],
        ]
        for (const [i, key] of keys.entries()) adapter.save(key, new Uint8Array([i]))
        for (const [i, key] of keys.entries())
          assert.deepEqual(new Uint8Array(adapter.load(key)!), new Uint8Array([i]), JSON.stringify(key))
        assert.equal(adapter.listKeys([]).length, keys.length)
      })
    })

    describe('loadRange', () => {
      it('returns an empty array when nothing matches', () => {
        assert.deepEqual(adapter.loadRange(['AAAAA']), [])
      })

      it('returns every entry under the prefix, ordered by key', () => {
        adapter.save(['AAAAA', 'sync-state', 'xxxxx'], A())
        adapter.save(['AAAAA', 'snapshot', 'yyyyy'], B())
        adapter.save(['AAAAA', 'sync-state', 'zzzzz'], C())
        assert.deepEqual(adapter.loadRange(['AAAAA']).map(plain), [
          { key: ['AAAAA', 'snapshot', 'yyyyy'], data: B() },
          { key: ['AAAAA', 'sync-state', 'xxxxx'], data: A() },
          { key: ['AAAAA', 'sync-state', 'zzzzz'], data: C() },
        ])
        assert.deepEqual(adapter.loadRange(['AAAAA', 'sync-state']).map(plain), [
          { key: ['AAAAA', 'sync-state', 'xxxxx'], data: A() },
          { key: ['AAAAA', 'sync-state', 'zzzzz'], data: C() },
        ])
      })

      it('only loads values under the key', () => {
        adapter.save(['AAAAA', 'sync-state', 'xxxxx'], A())
        adapter.save(['BBBBB', 'sync-state', 'zzzzz'], C())
        assert.deepEqual(adapter.loadRange(['AAAAA']).map(plain), [{ key: ['AAAAA', 'sync-state', 'xxxxx'], data: A() }])
      })

      it('compares keys part by part, never as joined strings', () => {
        adapter.save(['a', 'bc'], A())
        adapter.save(['ab', 'c'], B())
        adapter.save(['a', 'b', 'c'], C())
        adapter.save(['a/b', 'c'], A())
        adapter.save(['AAAAA-sync-state'], A())
        adapter.save(['AAAAA', 'sync-state-x'], B())
        assert.deepEqual(keysOf(adapter.loadRange(['a'])), [
          ['a', 'b', 'c'],
          ['a', 'bc'],
        ])
        assert.deepEqual(keysOf(adapter.loadRange(['ab'])), [['ab', 'c']])
        assert.deepEqual(keysOf(adapter.loadRange(['a', 'b'])), [['a', 'b', 'c']])
        assert.deepEqual(keysOf(adapter.loadRange(['a/b'])), [['a/b', 'c']])
        assert.deepEqual(keysOf(adapter.loadRange(['AAAAA'])), [['AAAAA', 'sync-state-x']])
        assert.deepEqual(keysOf(adapter.loadRange(['AAAAA', 'sync-state'])), [])
        assert.deepEqual(adapter.listKeys(['a']), [
          ['a', 'b', 'c'],
          ['a', 'bc'],
        ])
      })

      it('includes the key equal to the prefix itself', () => {
        adapter.save(['doc'], A())
        adapter.save(['doc', 'part'], B())
        adapter.save(['docs'], C())
        assert.deepEqual(keysOf(adapter.loadRange(['doc'])), [['doc'], ['doc', 'part']])
      })

      it('treats an empty part in a prefix as a part', () => {
        adapter.save(['x', '', 'y'], A())
        adapter.save(['x', 'y'], B())
        assert.deepEqual(keysOf(adapter.loadRange(['x', ''])), [['x', '', 'y']])
      })

      it('does not confuse a NUL inside a part with a part boundary', () => {
        adapter.save(['a\u0000', 'b'], A())
        adapter.save(['a', '\u0000b'], B())
        adapter.save(['a', 'b'], C())
        assert.deepEqual(keysOf(adapter.loadRange(['a'])), [
          ['a', '\u0000b'],
          ['a', 'b'],
        ])
        assert.deepEqual(keysOf(adapter.loadRange(['a\u0000'])), [['a\u0000', 'b']])
      })

      it('orders parts by their UTF-8 bytes, a shorter part before a longer one it starts', () => {
        const keys = [
          ['n', '10'],
          ['n', '9'],
          ['n', '1'],
          ['n', '1', 'x'],
          ['n', 'ü'],
          ['n', 'z'],
          ['n', ''],
        ]
        for (const key of keys) adapter.save(key, A())
        assert.deepEqual(adapter.listKeys(['n']), [
          ['n', ''],
          ['n', '1'],
          ['n', '1', 'x'],
          ['n', '10'],
          ['n', '9'],
          ['n', 'z'],
          ['n', 'ü'],
        ])
      })

      it('returns everything for the empty prefix', () => {
        adapter.save(['a'], A())
        adapter.save(['b', 'c'], B())
        assert.deepEqual(keysOf(adapter.loadRange([])), [['a'], ['b', 'c']])
      })
    })

    describe('remove and removeRange', () => {
      it('removes one key, and removing a missing key is no error', () => {
        adapter.save(['AAAAA', 'snapshot', 'xxxxx'], A())
        adapter.remove(['AAAAA', 'snapshot', 'xxxxx'])
        adapter.remove(['AAAAA', 'snapshot', 'xxxxx'])
        assert.deepEqual(adapter.loadRange(['AAAAA']), [])
        assert.equal(adapter.load(['AAAAA', 'snapshot', 'xxxxx']), undefined)
      })

      it('remove takes the exact key only', () => {
        adapter.save(['a'], A())
        adapter.save(['a', 'b'], B())
        adapter.remove(['a'])
        assert.deepEqual(adapter.listKeys([]), [['a', 'b']])
      })

      it('removes a range of records and says how many', () => {
        adapter.save(['AAAAA', 'sync-state', 'xxxxx'], A())
        adapter.save(['AAAAA', 'snapshot', 'yyyyy'], B())
        adapter.save(['AAAAA', 'sync-state', 'zzzzz'], C())
        assert.equal(adapter.removeRange(['AAAAA', 'sync-state']), 2)
        assert.deepEqual(adapter.loadRange(['AAAAA']).map(plain), [{ key: ['AAAAA', 'snapshot', 'yyyyy'], data: B() }])
      })

      it('does not remove records that only share a string prefix', () => {
        adapter.save(['a', 'bc'], A())
        adapter.save(['ab', 'c'], B())
        adapter.save(['BBBBB', 'sync-state', 'zzzzz'], C())
        assert.equal(adapter.removeRange(['a']), 1)
        assert.deepEqual(adapter.listKeys([]), [
          ['BBBBB', 'sync-state', 'zzzzz'],
          ['ab', 'c'],
        ])
      })
    })

    describe('transactions', () => {
      it('commits the writes of a transaction that returns, and returns its value', () => {
        const result = adapter.transaction(() => {
          adapter.save(['t', '1'], A())
          adapter.save(['t', '2'], B())
          return 'done'
        })
        assert.equal(result, 'done')
        assert.equal(adapter.listKeys(['t']).length, 2)
      })

      it('undoes every write of a transaction that throws, and rethrows its error', () => {
        adapter.save(['keep'], A())
        adapter.save(['gone', 'x'], A())
        const boom = new Error('boom')
        assert.throws(
          () =>
            adapter.transaction(() => {
              adapter.save(['keep'], B())
              adapter.save(['new'], C())
              adapter.remove(['keep'])
              adapter.removeRange(['gone'])
              throw boom
            }),
          (err) => err === boom,
        )
        assert.deepEqual(adapter.listKeys([]), [['gone', 'x'], ['keep']])
        assert.deepEqual(new Uint8Array(adapter.load(['keep'])!), A())
      })

      it('sees its own writes inside the transaction', () => {
        adapter.transaction(() => {
          adapter.save(['inside'], A())
          assert.deepEqual(new Uint8Array(adapter.load(['inside'])!), A())
          assert.deepEqual(adapter.listKeys(['inside']), [['inside']])
        })
      })

      it('nests: a failing inner transaction undoes only its own writes', () => {
        adapter.transaction(() => {
          adapter.save(['outer'], A())
          assert.throws(() =>
            adapter.transaction(() => {
              adapter.save(['inner'], B())
              adapter.save(['outer'], C())
              throw new Error('inner fails')
            }),
          )
          assert.equal(adapter.load(['inner']), undefined)
          assert.deepEqual(new Uint8Array(adapter.load(['outer'])!), A())
        })
        assert.deepEqual(adapter.listKeys([]), [['outer']])
      })

      it('a failing outer transaction also undoes a committed inner one', () => {
        assert.throws(() =>
          adapter.transaction(() => {
            adapter.transaction(() => adapter.save(['inner'], B()))
            throw new Error('outer fails')
          }),
        )
        assert.deepEqual(adapter.listKeys([]), [])
      })
    })

    describe('invalid input', () => {
      it('refuses an empty key for single-key operations', () => {
        assert.throws(() => adapter.save([], A()), isEinval)
        assert.throws(() => adapter.load([]), isEinval)
        assert.throws(() => adapter.remove([]), isEinval)
        assert.throws(() => adapter.has([]), isEinval)
      })

      it('refuses key parts that are not strings or not well-formed Unicode', () => {
        assert.throws(() => adapter.save(['a', 1 as unknown as string], A()), isEinval)
        assert.throws(() => adapter.save(['\ud800'], A()), isEinval)
        assert.throws(() => adapter.loadRange(['x\udfff']), isEinval)
        assert.deepEqual(adapter.listKeys([]), [])
      })

      it('throws StoreError "closed" after close()', () => {
        adapter.close()
        assert.throws(
          () => adapter.load(['a']),
          (err) => err instanceof StoreError && err.kind === 'closed',
        )
        assert.throws(
          () => adapter.save(['a'], A()),
          (err) => err instanceof StoreError && err.kind === 'closed',
        )
      })
    })
  })
}

function plain(chunk: { key: string[]; data: Uint8Array }): { key: string[]; data: Uint8Array } {
  return { key: chunk.key, data: new Uint8Array(chunk.data) }
}

function keysOf(chunks: Array<{ key: string[] }>): string[][] {
  return chunks.map((chunk) => chunk.key)
}
