/**
 * applyTextContent (whole-file save → minimal Y.Text edit) and isStrictText.
 * Random cases are seeded: MESHFS_TEXT_SEED=N replays case N alone; failures name the seed.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import * as Y from 'yjs'
import { applyTextContent, type TextEditOptions } from '../../src/replica/apply-text.js'
import { isStrictText } from '../../src/text/utf8.js'
import { seededRandom } from '../support/prng.js'

// ---- helpers --------------------------------------------------------------------------------

type Rng = () => number
const int = (rng: Rng, n: number): number => Math.floor(rng() * n)
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[int(rng, xs.length)]!

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** Pieces random text is built from: ASCII, multi-byte, astral (surrogate pairs), CRLF. */
const ATOMS = [
  'a',
  'b',
  'c',
  'x',
  'the',
  'word',
  ' ',
  ' ',
  '\n',
  '\n',
  '\r\n',
  '\t',
  '0',
  '{',
  '}',
  'é',
  'ß',
  'ü',
  'u\u0308',
  '中文',
  'Ω',
  '😀',
  '😁',
  '🐀',
  '\u{10600}',
  '👍🏽',
  '👨‍👩‍👧',
  '𝄞',
]

function randomText(rng: Rng, atoms: number): string {
  let s = ''
  for (let i = 0; i < atoms; i++) s += pick(rng, ATOMS)
  return s
}

/** Random multi-line document: lines of words, sometimes CRLF. */
function randomDoc(rng: Rng, lines: number): string {
  const crlf = rng() < 0.2
  let s = ''
  for (let i = 0; i < lines; i++) s += randomText(rng, int(rng, 12)).replace(/\r?\n/g, '') + (crlf ? '\r\n' : '\n')
  return s
}

/** Applies 1..6 random edits on code point boundaries (as an editor would). */
function mutate(rng: Rng, s: string): string {
  let cps = Array.from(s)
  const edits = 1 + int(rng, 6)
  for (let e = 0; e < edits; e++) {
    const at = int(rng, cps.length + 1)
    const len = rng() < 0.7 ? int(rng, 4) : int(rng, 40)
    switch (int(rng, 6)) {
      case 0: // insert
        cps.splice(at, 0, ...Array.from(randomText(rng, 1 + int(rng, 8))))
        break
      case 1: // delete
        cps.splice(at, len)
        break
      case 2: // replace
        cps.splice(at, len, ...Array.from(randomText(rng, int(rng, 8))))
        break
      case 3: {
        // move a line
        const lines = cps.join('').split(/(?<=\n)/)
        if (lines.length > 1) {
          const [line] = lines.splice(int(rng, lines.length), 1)
          lines.splice(int(rng, lines.length + 1), 0, line!)
        }
        cps = Array.from(lines.join(''))
        break
      }
      case 4: // duplicate a range
        cps.splice(at, 0, ...cps.slice(at, at + len))
        break
      default: {
        // switch one line ending LF <-> CRLF
        const nl = cps.indexOf('\n', at)
        if (nl > 0 && cps[nl - 1] === '\r') cps.splice(nl - 1, 1)
        else if (nl >= 0) cps.splice(nl, 0, '\r')
      }
    }
  }
  return cps.join('')
}

function docWith(content: string): { doc: Y.Doc; text: Y.Text } {
  const doc = new Y.Doc()
  const text = doc.getText('content')
  text.insert(0, content)
  return { doc, text }
}

function replicaOf(doc: Y.Doc): { doc: Y.Doc; text: Y.Text } {
  const copy = new Y.Doc()
  Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc))
  return { doc: copy, text: copy.getText('content') }
}

function sync(x: Y.Doc, y: Y.Doc): void {
  const toY = Y.encodeStateAsUpdate(x, Y.encodeStateVector(y))
  const toX = Y.encodeStateAsUpdate(y, Y.encodeStateVector(x))
  Y.applyUpdate(y, toY)
  Y.applyUpdate(x, toX)
}

/** Is `i` a code point boundary of `s` (not between the halves of a surrogate pair)? */
const onBoundary = (s: string, i: number): boolean =>
  !(i > 0 && i < s.length && /[\uD800-\uDBFF]/.test(s[i - 1]!) && /[\uDC00-\uDFFF]/.test(s[i]!))

/**
 * Checks every insert/delete applyTextContent makes on `text`: its indexes fall on code point
 * boundaries, inserted strings are well-formed, and no intermediate state has a lone surrogate
 * or a U+FFFD that Yjs would put in place of a split pair. Returns the number of ops seen.
 */
function guardSurrogates(text: Y.Text, label: string): () => number {
  const insert = text.insert.bind(text)
  const del = text.delete.bind(text)
  let ops = 0
  const check = (): void => {
    const now = text.toString()
    assert.ok(!LONE_SURROGATE.test(now), `${label}: lone surrogate after op ${ops}`)
  }
  text.insert = (index, s, attrs) => {
    assert.ok(onBoundary(text.toString(), index), `${label}: insert splits a pair at ${index}`)
    assert.ok(!LONE_SURROGATE.test(s), `${label}: inserted string has a lone surrogate`)
    insert(index, s, attrs)
    ops++
    check()
  }
  text.delete = (index, length) => {
    const now = text.toString()
    assert.ok(onBoundary(now, index) && onBoundary(now, index + length), `${label}: delete splits a pair`)
    del(index, length)
    ops++
    check()
  }
  return () => ops
}

// ---- correctness property -------------------------------------------------------------------

const CASES = 3000

test('random (old, new) pairs: the text ends equal to new, replicas agree, no pair split', () => {
  const only = process.env.MESHFS_TEXT_SEED
  const seeds = only !== undefined ? [Number(only)] : Array.from({ length: CASES }, (_, i) => i + 1)
  const stats = { cases: 0, fallbacks: 0, identical: 0, emptyOld: 0, emptyNew: 0, ops: 0 }
  for (const seed of seeds) {
    const rng = seededRandom(seed)
    const shape = int(rng, 10)
    const old = shape === 0 ? '' : shape < 4 ? randomText(rng, int(rng, 60)) : randomDoc(rng, 1 + int(rng, 60))
    const r = rng()
    const next = r < 0.04 ? '' : r < 0.08 ? randomText(rng, int(rng, 60)) : r < 0.1 ? old : mutate(rng, old)
    // Some cases with a zero time limit, so the fallback path is exercised on real inputs too.
    const opts: TextEditOptions = rng() < 0.15 ? { timeLimitMs: 0 } : {}
    const label = `seed ${seed} (MESHFS_TEXT_SEED=${seed})`
    try {
      const a = docWith(old)
      const b = replicaOf(a.doc)
      const opsSeen = guardSurrogates(a.text, label)
      const res = applyTextContent(a.text, next, opts)
      assert.equal(a.text.toString(), next)
      assert.equal(res.kept + res.deleted, old.length)
      assert.equal(res.kept + res.inserted, next.length)
      if (old === next) assert.deepEqual(res, { kept: old.length, deleted: 0, inserted: 0, fallback: false })
      // What went over the wire rebuilds the same text on another replica (no U+FFFD).
      sync(a.doc, b.doc)
      assert.equal(b.text.toString(), next)
      stats.cases++
      stats.ops += opsSeen()
      if (res.fallback) stats.fallbacks++
      if (old === next) stats.identical++
      if (old === '') stats.emptyOld++
      if (next === '') stats.emptyNew++
    } catch (e) {
      console.error(`# failing ${label}\n# old=${JSON.stringify(old)}\n# new=${JSON.stringify(next)}`)
      throw e
    }
  }
  console.log(`# ${JSON.stringify(stats)}`)
  if (only === undefined) {
    // Guards against a vacuous pass: every kind of case really ran.
    assert.ok(stats.fallbacks > 0 && stats.fallbacks < CASES / 5, `fallbacks ${stats.fallbacks}`)
    assert.ok(stats.identical > 0 && stats.emptyOld > 0 && stats.emptyNew > 0)
  }
})

// ---- minimality -----------------------------------------------------------------------------

// Quality tests pass a generous limit: they check what the diff finds, and a cold JIT on a slow
// machine must not turn them into fallbacks.
const GENEROUS: TextEditOptions = { timeLimitMs: 5000 }

test('one character changed in the middle of 100 KB: only that character is replaced', () => {
  const rng = seededRandom(42)
  let base = ''
  while (base.length < 100_000) base += randomDoc(rng, 50)
  const mid = base.length >> 1
  const old = `${base.slice(0, mid)}a${base.slice(mid)}`
  const next = `${base.slice(0, mid)}b${base.slice(mid)}`
  const { text } = docWith(old)
  const res = applyTextContent(text, next, GENEROUS)
  assert.equal(text.toString(), next)
  assert.equal(res.fallback, false)
  assert.deepEqual([res.deleted, res.inserted], [1, 1])
})

test('emoji swapped for one sharing a high or a low surrogate: the whole pair, nothing more', () => {
  // 😀 D83D DE00 / 😁 D83D DE01 share the high half; 😀 / U+10600 D801 DE00 share the low half.
  for (const [x, y] of [
    ['😀', '😁'],
    ['😀', '\u{10600}'],
    ['😀', 'a'],
    ['a', '😀'],
  ] as const) {
    const old = 'x'.repeat(5000) + x + 'y'.repeat(5000)
    const next = 'x'.repeat(5000) + y + 'y'.repeat(5000)
    const { text } = docWith(old)
    guardSurrogates(text, `${x}->${y}`)
    const res = applyTextContent(text, next)
    assert.equal(text.toString(), next)
    assert.deepEqual([res.deleted, res.inserted, res.fallback], [x.length, y.length, false])
  }
})

test('scattered small edits across 100 KB: diffed, not replaced', () => {
  const rng = seededRandom(7)
  const lines: string[] = []
  for (let i = 0; i < 2500; i++) lines.push(`line ${i}: ${randomText(rng, 8).replace(/\r?\n/g, ' ')}\n`)
  const old = lines.join('')
  for (let i = 0; i < 2500; i += 125) lines[i] = lines[i]!.replace(':', ';') // 20 edits
  lines.splice(1000, 0, 'a new line\n')
  const next = lines.join('')
  const { text } = docWith(old)
  const res = applyTextContent(text, next, GENEROUS)
  assert.equal(text.toString(), next)
  assert.equal(res.fallback, false)
  assert.deepEqual([res.deleted, res.inserted], [20, 20 + 'a new line\n'.length])
})

/** 3000 lines of code-like text, ~140 KB. */
const codeLines = (): string[] => Array.from({ length: 3000 }, (_, i) => `  const value${i} = compute(${i}, "x"); // é😀\n`)

test('reformats touching every line (reindent, wrap in a block, CRLF, quotes) stay per-line', () => {
  // No line of the new file equals one of the old: the line diff must not be quadratic in
  // them, and each line's change must be found inside that line.
  const lines = codeLines()
  const old = lines.join('')
  const cases: [string, string, number, number][] = [
    ['reindent', lines.map((l) => `  ${l}`).join(''), 0, 6000],
    ['wrap in a block', ['if (x) {\n', ...lines.map((l) => `  ${l}`), '}\n'].join(''), 0, 6011],
    ['LF to CRLF', old.replace(/\n/g, '\r\n'), 0, 3000],
    ['quotes', old.replace(/"/g, "'"), 6000, 6000],
  ]
  for (const [label, next, deleted, inserted] of cases) {
    const { text } = docWith(old)
    const res = applyTextContent(text, next, GENEROUS)
    assert.equal(text.toString(), next, label)
    assert.deepEqual([res.deleted, res.inserted, res.fallback], [deleted, inserted, false], label)
  }
})

test('single-line texts: the edit is a shortest one (checked against an LCS table)', () => {
  // Without newlines the whole middle is one changed run, diffed by code points: Myers must
  // find a shortest edit script. BMP-only atoms, so code points and code units coincide.
  const atoms = ['a', 'b', 'c', 'ab', 'ba', 'abc', ' ', 'é', '中']
  const lcs = (x: string, y: string): number => {
    let prev = new Array<number>(y.length + 1).fill(0)
    for (let i = 1; i <= x.length; i++) {
      const row = [0]
      for (let j = 1; j <= y.length; j++) row[j] = x[i - 1] === y[j - 1] ? prev[j - 1]! + 1 : Math.max(prev[j]!, row[j - 1]!)
      prev = row
    }
    return prev[y.length]!
  }
  for (let seed = 1; seed <= 600; seed++) {
    const rng = seededRandom(seed * 7919)
    const gen = (): string => Array.from({ length: int(rng, 30) }, () => pick(rng, atoms)).join('')
    const old = gen()
    const next = rng() < 0.5 ? gen() : mutate(rng, old).replace(/[\r\n]|[^\0-\uFFFF]/gu, 'x')
    const { text } = docWith(old)
    const res = applyTextContent(text, next)
    assert.equal(text.toString(), next, `seed ${seed}`)
    assert.equal(res.fallback, false)
    assert.equal(res.deleted + res.inserted, old.length + next.length - 2 * lcs(old, next), `seed ${seed}`)
  }
})

// ---- merge ----------------------------------------------------------------------------------

function numbered(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `line ${i + 1} of the shared file\n`)
}

/** Two replicas of `base`; each saves its whole file; after the exchange both must read `want`. */
function mergeCase(base: string[], editA: (l: string[]) => void, editB: (l: string[]) => void): string {
  const a = docWith(base.join(''))
  const b = replicaOf(a.doc)
  const linesA = [...base]
  const linesB = [...base]
  editA(linesA)
  editB(linesB)
  applyTextContent(a.text, linesA.join(''))
  applyTextContent(b.text, linesB.join(''))
  sync(a.doc, b.doc)
  assert.equal(a.text.toString(), b.text.toString(), 'replicas converge')
  return a.text.toString()
}

test('merge: A rewrites line 3, B rewrites line 40; both edits survive', () => {
  const base = numbered(60)
  const merged = mergeCase(
    base,
    (l) => (l[2] = 'line three, edited on A\n'),
    (l) => (l[39] = 'line forty, edited on B\n'),
  )
  const want = [...base]
  want[2] = 'line three, edited on A\n'
  want[39] = 'line forty, edited on B\n'
  assert.equal(merged, want.join(''))
})

test('merge: A appends at the end while B inserts at the start', () => {
  const base = numbered(30)
  const merged = mergeCase(
    base,
    (l) => l.push('appended on A\n'),
    (l) => l.unshift('#!/bin/sh from B\n'),
  )
  assert.equal(merged, ['#!/bin/sh from B\n', ...base, 'appended on A\n'].join(''))
})

test("merge: edits on both sides of the other replica's edit (needs the diff, not just trimming)", () => {
  const base = numbered(60)
  const merged = mergeCase(
    base,
    (l) => {
      l[2] = 'A3\n'
      l.splice(49, 1) // delete line 50
    },
    (l) => (l[39] = 'B40\n'),
  )
  const want = [...base]
  want[2] = 'A3\n'
  want[39] = 'B40\n'
  want.splice(49, 1)
  assert.equal(merged, want.join(''))
})

test('merge: two edits to different ends of the same line both survive', () => {
  const base = numbered(20)
  const merged = mergeCase(
    base,
    (l) => (l[9] = l[9]!.replace('line', 'LINE')), // start of line 10
    (l) => (l[9] = l[9]!.replace('file', 'file 😀')), // end of line 10
  )
  const want = [...base]
  want[9] = 'LINE 10 of the shared file 😀\n'
  assert.equal(merged, want.join(''))
})

test('merge: A reindents the whole file (format on save) while B edits one line', () => {
  const base = codeLines().slice(0, 200)
  const merged = mergeCase(
    base,
    (l) => {
      for (const [i, line] of l.entries()) l[i] = `\t${line.trimStart()}`
    },
    (l) => (l[99] = l[99]!.replace('compute', 'recompute')),
  )
  const want = base.map((line) => `\t${line.trimStart()}`)
  want[99] = want[99]!.replace('compute', 'recompute')
  assert.equal(merged, want.join(''))
})

// ---- time bound -----------------------------------------------------------------------------

test('80 KB replaced by unrelated 80 KB: falls back within the time limit and stays correct', () => {
  const rng = seededRandom(99)
  const old = randomText(rng, 40_000).slice(0, 80_000)
  const next = randomText(rng, 40_000).slice(0, 80_000)
  for (const opts of [{ timeLimitMs: 5 }, {}]) {
    const { doc, text } = docWith(old)
    const b = replicaOf(doc)
    const t0 = performance.now()
    const res = applyTextContent(text, next, opts)
    const ms = performance.now() - t0
    assert.ok(ms < 5000, `took ${ms} ms`) // hang guard only: an unbounded diff takes ~a minute
    assert.equal(res.fallback, true)
    assert.equal(text.toString(), next)
    sync(doc, b.doc)
    assert.equal(b.text.toString(), next)
  }
})

test('a tiny time limit does not force a fallback when trimming leaves little to diff', () => {
  const old = 'x'.repeat(80_000)
  const { text } = docWith(old)
  const res = applyTextContent(text, `${old.slice(0, 40_000)}y${old.slice(40_000)}`, { timeLimitMs: 0 })
  assert.deepEqual(res, { kept: 80_000, deleted: 0, inserted: 1, fallback: false })
})

// ---- transaction ----------------------------------------------------------------------------

test("one transaction with the caller's origin; no transaction when nothing changed", () => {
  const { doc, text } = docWith('alpha\nbeta\ngamma\ndelta\n')
  const origins: unknown[] = []
  doc.on('afterTransaction', (tr: Y.Transaction) => origins.push(tr.origin))
  let updates = 0
  doc.on('update', () => updates++)
  const origin = { who: 'fuse-write' }
  applyTextContent(text, 'ALPHA\nbeta\ngamma\nDELTA\n', { origin })
  assert.deepEqual(origins, [origin])
  assert.equal(updates, 1)
  applyTextContent(text, 'ALPHA\nbeta\ngamma\nDELTA\n')
  assert.equal(origins.length, 1)
})

// ---- isStrictText ---------------------------------------------------------------------------

test('isStrictText: valid UTF-8 without NUL is text; everything else is binary', () => {
  const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b)
  const enc = new TextEncoder()
  assert.equal(isStrictText(new Uint8Array(0)), true)
  assert.equal(isStrictText(enc.encode('plain ASCII\r\n')), true)
  assert.equal(isStrictText(enc.encode('é ß 中文 😀 👨‍👩‍👧')), true)
  assert.equal(isStrictText(bytes(0xef, 0xbb, 0xbf, 0x61)), true) // BOM + "a"
  assert.equal(isStrictText(bytes(0xf4, 0x8f, 0xbf, 0xbf)), true) // U+10FFFF
  assert.equal(isStrictText(bytes(0x61, 0x00, 0x62)), false) // NUL
  assert.equal(isStrictText(bytes(0x00)), false)
  assert.equal(isStrictText(bytes(0xc3)), false) // truncated sequence
  assert.equal(isStrictText(bytes(0x80)), false) // stray continuation byte
  assert.equal(isStrictText(bytes(0xff, 0xfe)), false) // never valid
  assert.equal(isStrictText(bytes(0xc0, 0xaf)), false) // overlong "/"
  assert.equal(isStrictText(bytes(0xe0, 0x80, 0xaf)), false) // overlong, 3 bytes
  assert.equal(isStrictText(bytes(0xed, 0xa0, 0x80)), false) // encoded lone surrogate U+D800
  assert.equal(isStrictText(bytes(0xf4, 0x90, 0x80, 0x80)), false) // past U+10FFFF
  assert.equal(isStrictText(enc.encode('ok').subarray(0, 1)), true)
})
