// The local control API: HTTP + JSON over a Unix socket in the data directory (mode 0600, so only
// this node's owner can drive it). One route per verb, `POST /v1/<verb>` with a JSON body; an
// answer is `{"result": ...}` or, with a 4xx/5xx status, `{"error": {"code", "message"}}`.
// A route that streams (subscribeNamespace) answers 200 with one JSON value per line
// (`application/x-ndjson`) for as long as the client keeps the request open.

import { chmodSync, rmSync } from 'node:fs'
import http from 'node:http'
import type { Logger } from '../util/log.js'

export type ControlRoute = (body: Record<string, unknown>) => Promise<unknown>

/** An error a route throws on purpose: its code and message reach the client as they are. */
export class ControlError extends Error {
  constructor(readonly code: string, message: string, readonly status = 400) {
    super(message)
  }
}

/** What a streaming route returns: `start` begins sending and returns how to stop. */
export class ControlStream {
  constructor(readonly start: (send: (value: unknown) => void) => () => void) {}
}

/** A client that does not read its stream is cut off once this much is queued for it. */
const MAX_STREAM_BACKLOG = 4 << 20

const MAX_BODY = 1 << 20

export async function startControlServer(socketPath: string, routes: Record<string, ControlRoute>, log: Logger): Promise<http.Server> {
  // A socket file left by a daemon that was killed would make listen fail with EADDRINUSE;
  // the data directory lock already guarantees no live daemon owns it.
  rmSync(socketPath, { force: true })
  const server = http.createServer((req, res) => {
    const reply = (status: number, payload: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(payload))
    }
    const verb = req.url?.startsWith('/v1/') ? req.url.slice(4) : undefined
    const route = verb !== undefined && Object.hasOwn(routes, verb) ? routes[verb] : undefined
    if (req.method !== 'POST' || !route) return reply(404, { error: { code: 'ENOTSUP', message: `no such control verb: ${req.method} ${req.url}` } })
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
            res.write(JSON.stringify(value) + '\n')
          })
          res.on('close', stop)
          // The headers go out once the subscription is live: a client that has them misses nothing.
          res.flushHeaders()
        },
        (err: unknown) => {
          const code = (err as { code?: unknown }).code
          if (err instanceof ControlError) return reply(err.status, { error: { code: err.code, message: err.message } })
          if (typeof code === 'string' && /^E[A-Z0-9]+$/.test(code)) {
            return reply(400, { error: { code, message: (err as Error).message } })
          }
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
