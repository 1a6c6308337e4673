import assert from 'node:assert/strict'
import { test } from 'node:test'
import { checkName, isWithin, longestPrefix, normalizePath, relativeTo, splitPath } from '../../src/vfs/path.js'

const code = (fn: () => unknown) => {
  try {
    fn()
  } catch (err) {
    return (err as { code?: string }).code
  }
  return 'no error'
}

test('normalise: empty segments and dots go, .. never climbs above the root', () => {
  assert.equal(normalizePath('//a/./b//'), '/a/b')
  assert.equal(normalizePath('/a/b/../c'), '/a/c')
  assert.equal(normalizePath('/../../x'), '/x')
  assert.equal(normalizePath('a/../..'), '/')
  assert.deepEqual(splitPath('/'), [])
})

test('names: NUL, slash, dot names and over-long names are refused with their errno', () => {
  assert.equal(
    code(() => checkName('a\0b')),
    'EINVAL',
  )
  assert.equal(
    code(() => normalizePath('/a\0/b')),
    'EINVAL',
  )
  assert.equal(
    code(() => checkName('a/b')),
    'EINVAL',
  )
  assert.equal(
    code(() => checkName('..')),
    'EINVAL',
  )
  assert.equal(
    code(() => checkName('')),
    'EINVAL',
  )
  assert.equal(
    code(() => checkName('x'.repeat(255))),
    'no error',
  )
  assert.equal(
    code(() => checkName('x'.repeat(256))),
    'ENAMETOOLONG',
  )
  // 255 is a byte limit: 85 three-byte characters fit, 86 do not.
  assert.equal(
    code(() => checkName('€'.repeat(85))),
    'no error',
  )
  assert.equal(
    code(() => checkName('€'.repeat(86))),
    'ENAMETOOLONG',
  )
})

test('within and relative: segment-wise, never by string prefix', () => {
  assert.equal(isWithin('/apple', '/a'), false)
  assert.equal(isWithin('/a/b', '/a'), true)
  assert.equal(isWithin('/a', '/a'), true)
  assert.equal(isWithin('/anything', '/'), true)
  assert.equal(relativeTo('/a/b/c', '/a'), '/b/c')
  assert.equal(relativeTo('/a', '/a'), '/')
  assert.equal(relativeTo('/a/b', '/'), '/a/b')
  assert.equal(
    code(() => relativeTo('/apple', '/a')),
    'EINVAL',
  )
})

test("longest prefix follows Fan's Sys.ns examples", () => {
  const mounts = ['/', '/apple', '/a', '/a/b/c']
  assert.equal(longestPrefix(mounts, '/app'), '/')
  assert.equal(longestPrefix(mounts, '/apple'), '/apple')
  assert.equal(longestPrefix(mounts, '/a'), '/a')
  assert.equal(longestPrefix(mounts, '/a/b'), '/a')
  assert.equal(longestPrefix(mounts, '/a/b/chump'), '/a')
  assert.equal(longestPrefix(mounts, '/a/b/c'), '/a/b/c')
  assert.equal(longestPrefix(mounts, '/a/b/c/d'), '/a/b/c')
  assert.equal(longestPrefix(['/x'], '/y'), undefined)
})
