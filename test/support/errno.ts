// The one way tests check how something failed: by the `code` of the error (an errno such as
// 'ENOENT', or a module's own code such as TreeError's), optionally its class and message.
import assert from 'node:assert/strict'

/** The code a promise rejects with, or 'no error': lets a test assert failures in one line. */
export async function errnoOf(p: Promise<unknown>): Promise<string> {
  try {
    await p
    return 'no error'
  } catch (err) {
    return (err as { code?: string }).code ?? String(err)
  }
}

export interface CodeExpectation {
  /** The class the error must be an instance of. */
  type?: abstract new (
    ...args: never[]
  ) => Error
  /** A pattern the error's message must match. */
  message?: RegExp
}

/**
 * An assert.throws / assert.rejects validator: the error has `code` (and `type`, `message`). A
 * mismatch fails with what the error actually was, not just "validation failed".
 */
export function hasCode(code: string, { type, message }: CodeExpectation = {}): (err: unknown) => true {
  return (err) => {
    if (type !== undefined) assert.ok(err instanceof type, `expected a ${type.name}, got ${String(err)}`)
    assert.equal((err as { code?: unknown }).code, code, `expected code ${code}, got: ${String(err)}`)
    if (message !== undefined) assert.match((err as Error).message, message)
    return true
  }
}

/** `fn` throws an error with `code`. */
export function throwsCode(fn: () => unknown, code: string, expected?: CodeExpectation): void {
  assert.throws(fn, hasCode(code, expected))
}

/** `p` rejects with an error with `code`. */
export async function rejectsCode(p: Promise<unknown>, code: string, expected?: CodeExpectation): Promise<void> {
  await assert.rejects(p, hasCode(code, expected))
}
