/** The errno code a promise rejects with, or 'no error': lets a test assert failures in one line. */
export async function errnoOf(p: Promise<unknown>): Promise<string> {
  try {
    await p
    return 'no error'
  } catch (err) {
    return (err as { code?: string }).code ?? String(err)
  }
}
