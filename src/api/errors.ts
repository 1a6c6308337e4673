// How the control API fails: a 4xx/5xx answer `{"error": {"code", "message"}}`. The code is an
// errno name (`ENOENT`, `EACCES`, ...) so every face (CLI, client, files) reports it one way.

export interface ApiErrorBody {
  /** An errno name: `ENOENT`, `EINVAL`, `EACCES`, ...; `EIO` for a daemon bug. */
  code: string
  message: string
}

/** The body of a one-shot answer: a result, or an error. */
export type ApiReply<T> = { result: T } | { error: ApiErrorBody }

/** Codes that mean "the request itself is wrong" (the CLI exits 2 on them, as on bad flags). */
export const USAGE_ERROR_CODES: readonly string[] = ['EINVAL', 'ENAMETOOLONG']
