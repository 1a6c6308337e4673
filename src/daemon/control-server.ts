// The local control API: HTTP + JSON over a Unix socket in the data directory (mode 0600, so only
// this node's owner can drive it). One route per verb, `POST /v1/<verb>` with a JSON body; an
// answer is `{"result": ...}` or, with a 4xx/5xx status, `{"error": {"code", "message"}}`.
// A route that streams (subscribeNamespace) answers 200 with one JSON value per line
// (`application/x-ndjson`) for as long as the client keeps the request open.

import { chmodSync, rmSync } from 'node:fs'
import http from 'node:http'
import type { ApiErrorBody } from '../api/errors.js'
import { VERB_PATH_PREFIX } from '../api/socket.js'
import type { EventStream } from '../api/verbs.js'
import { TreeError } from '../model/tree/errors.js'
import { StoreError } from '../store/errors.js'
import type { Logger } from '../util/log.js'
import { FsError } from '../vfs/errors.js'

export type ControlRoute = (body: Record<string, unknown>) => Promise<unknown>

/** An error a route throws on purpose: its code and message reach the client as they are. */
export class ControlError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message)
  }
}

/** What a streaming route returns: `start` begins sending and returns how to stop. */
export class ControlStream<E> implements EventStream<E> {
  constructor(readonly start: (send: (event: E) => void) => () => void) {}
}

/**
 * The errors the layers below throw on purpose, each with an errno code: they reach the client
 * as a 400 with that code. Anything else is a daemon bug (500, EIO, logged).
 */
function expectedError(err: unknown): ControlError | undefined {
  if (err instanceof ControlError) return err
  if (err instanceof FsError || err instanceof TreeError || err instanceof StoreError) return new ControlError(err.code, err.message)
  return undefined
}

/** A client that does not read its stream is cut off once this much is queued for it. */
const MAX_STREAM_BACKLOG = 4 << 20

const MAX_BODY = 1 << 20

export async function startControlServer(socketPath: string, routes: Record<string, ControlRoute>, log: Logger): Promise<http.Server> {
  // A socket file left by a daemon that was killed would make listen fail with EADDRINUSE;
  // the data directory lock already guarantees no live daemon owns it.
  rmSync(socketPath, { force: true })
  const server = http.createServer((req, res) => {
    const reply = (status: number, payload: { result: unknown } | { error: ApiErrorBody }) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(payload))
    }
    const verb = req.url?.startsWith(VERB_PATH_PREFIX) ? req.url.slice(VERB_PATH_PREFIX.length) : undefined
    const route = verb !== undefined && Object.hasOwn(routes, verb) ? routes[verb] : undefined
    if (req.method !== 'POST' || !route)
      return reply(404, { error: { code: 'ENOTSUP', message: `no such control verb: ${req.method} ${req.url}` } })
    let size = 0
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => {
      size += c.length
      if (size > MAX_BODY) req.destroy()
      else chunks.push(c)
    })
    req.on('end', () => {
      let body: Record<string, unknown>
      try {
        const text = Buffer.concat(chunks).toString('utf8')
        body = text ? (JSON.parse(text) as Record<string, unknown>) : {}
        if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error('the body must be a JSON object')
      } catch (err) {
        return reply(400, { error: { code: 'EINVAL', message: `bad request body: ${(err as Error).message}` } })
      }
      route(body).then(
        (result) => {
          if (!(result instanceof ControlStream)) return reply(200, { result: result ?? null })
          res.writeHead(200, { 'content-type': 'application/x-ndjson' })
          const stop = result.start((value) => {
            if (res.writableLength > MAX_STREAM_BACKLOG) return res.destroy()
            res.write(`${JSON.stringify(value)}\n`)
          })
          res.on('close', stop)
          // The headers go out once the subscription is live: a client that has them misses nothing.
          res.flushHeaders()
        },
        (err: unknown) => {
          const expected = expectedError(err)
          if (expected) return reply(expected.status, { error: { code: expected.code, message: expected.message } })
          log.error(`control ${verb}: ${(err as Error)?.stack ?? String(err)}`)
          reply(500, { error: { code: 'EIO', message: (err as Error)?.message ?? String(err) } })
        },
      )
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(socketPath, () => resolve())
  })
  chmodSync(socketPath, 0o600)
  return server
}
