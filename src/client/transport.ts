// One request of the control API over the daemon's Unix socket, typed by the contract's verb
// table: a call answers once; a stream answers with JSON lines until closed. Every failure comes
// back as a MeshfsError with an errno-like code.

import http from 'node:http'
import type { ApiErrorBody } from '../api/errors.js'
import { socketPathOf, VERB_PATH_PREFIX } from '../api/socket.js'
import type { CallVerb, EventOf, RequestOf, ResponseOf, StreamVerb } from '../api/verbs.js'

export class MeshfsError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
    this.name = 'MeshfsError'
  }
}

/** `hint` follows the "no daemon" message: how to start one, for a one-off call. */
function post(
  dataDir: string,
  verb: string,
  body: object,
  hint: string,
  onResponse: (res: http.IncomingMessage) => void,
  onError: (err: MeshfsError) => void,
): http.ClientRequest {
  const payload = JSON.stringify(body)
  const req = http.request(
    {
      socketPath: socketPathOf(dataDir),
      path: VERB_PATH_PREFIX + verb,
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
    },
    onResponse,
  )
  req.on('error', (err: NodeJS.ErrnoException) => onError(socketError(err, dataDir, hint)))
  req.end(payload)
  return req
}

/** No socket, or nobody listening on it, means no daemon: say how to start one. */
function socketError(err: NodeJS.ErrnoException, dataDir: string, hint: string): MeshfsError {
  if (err.code !== 'ENOENT' && err.code !== 'ECONNREFUSED') return new MeshfsError('EIO', `control socket: ${err.message}`)
  return new MeshfsError('ENOTCONN', `no meshfs daemon is running for data directory ${dataDir}${hint}`)
}

/** The error an answer that is not `{result}` carries. */
function answerError(text: string, verb: string, status: number | undefined): MeshfsError {
  let error: ApiErrorBody | undefined
  try {
    error = (JSON.parse(text) as { error?: ApiErrorBody }).error
  } catch {
    // Not JSON: the daemon (or whatever listens there) is broken; the status says the rest.
  }
  return new MeshfsError(error?.code ?? 'EIO', error?.message ?? `the daemon answered ${verb} with status ${status}`)
}

/** One request to the control API. */
export function call<V extends CallVerb>(dataDir: string, verb: V, body: RequestOf<V>): Promise<ResponseOf<V>> {
  return new Promise((resolve, reject) => {
    post(
      dataDir,
      verb,
      body,
      ` (start one with: meshfs mount MOUNTPOINT --data ${dataDir})`,
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          let parsed: { result?: ResponseOf<V>; error?: ApiErrorBody }
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'))
          } catch {
            return reject(new MeshfsError('EIO', `the daemon answered ${verb} with something that is not JSON`))
          }
          if (parsed.error) reject(new MeshfsError(parsed.error.code, parsed.error.message))
          else resolve(parsed.result as ResponseOf<V>)
        })
      },
      reject,
    )
  })
}

/**
 * A streaming request: resolves once the daemon is streaming (from then on nothing is missed), or
 * rejects with its error. Values are handed out as their lines arrive; `return()` on the iterator
 * (a `break` out of `for await`) closes the request.
 */
export function stream<V extends StreamVerb>(dataDir: string, verb: V, body: RequestOf<V>): Promise<AsyncIterableIterator<EventOf<V>>> {
  return new Promise((resolve, reject) => {
    const req = post(
      dataDir,
      verb,
      body,
      '',
      (res) => {
        res.setEncoding('utf8')
        if (res.statusCode !== 200) {
          let text = ''
          res.on('data', (c: string) => (text += c))
          res.on('end', () => reject(answerError(text, verb, res.statusCode)))
          return
        }
        resolve(lines<EventOf<V>>(res, () => req.destroy(), verb))
      },
      reject,
    )
  })
}

/** The JSON lines of a streaming response as an async iterator. */
function lines<T>(res: http.IncomingMessage, close: () => void, verb: string): AsyncIterableIterator<T> {
  const queue: T[] = []
  let failure: Error | undefined
  let ended = false
  let wake: (() => void) | undefined
  const notify = () => {
    wake?.()
    wake = undefined
  }
  let buffered = ''
  res.on('data', (chunk: string) => {
    buffered += chunk
    let nl: number
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl)
      buffered = buffered.slice(nl + 1)
      if (line.trim() === '') continue
      try {
        queue.push(JSON.parse(line) as T)
      } catch {
        failure = new MeshfsError('EIO', `the daemon sent a line that is not JSON on ${verb}`)
      }
    }
    notify()
  })
  const end = () => {
    ended = true
    notify()
  }
  res.on('end', end)
  res.on('error', end)
  res.on('close', end)
  const iterator: AsyncIterableIterator<T> = {
    async next() {
      for (;;) {
        if (queue.length > 0) return { value: queue.shift()!, done: false }
        if (failure) {
          const f = failure
          failure = undefined
          close()
          throw f
        }
        if (ended) return { value: undefined, done: true }
        await new Promise<void>((r) => (wake = r))
      }
    },
    async return() {
      ended = true
      close()
      notify()
      return { value: undefined, done: true }
    },
    [Symbol.asyncIterator]() {
      return iterator
    },
  }
  return iterator
}
