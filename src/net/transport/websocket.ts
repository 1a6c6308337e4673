// The WebSocket adapter of the peer protocol: it listens, dials, pings, and enforces the frame,
// and flood limits, moving binary frames between a socket and a ConnectionHandler. It knows
// nothing of handshakes, Yjs or namespaces. Connections to any path but `/` are stock Yjs clients
// opening rooms and go to `clients` (yws/endpoint.ts).

import type { IncomingMessage } from 'node:http'
import { WebSocket, WebSocketServer, type RawData } from 'ws'
import type { Logger } from '../../util/log.js'
import { FloodGate } from './flood-gate.js'

/** One connection as the layers above see it. */
export interface Connection {
  /** The URL this node dialed; undefined for a connection the peer opened. */
  readonly dialedUrl: string | undefined
  readonly isOpen: boolean
  send(bytes: Uint8Array): void
  close(code: number, reason: string): void
  terminate(): void
  once(event: 'open' | 'close', listener: () => void): void
  once(event: 'error', listener: (err: Error) => void): void
}

/** What runs over a connection (the peer link): the transport calls it, never the reverse. */
export interface ConnectionHandler {
  /** Who is at the other end, for log lines: undefined before the handshake. */
  peerKey(): string | undefined
  /** The connection can carry frames (at once for an accepted one; on open for a dialed one). */
  opened(): void
  /** A binary frame; what it throws is the handler's to catch. */
  message(bytes: Uint8Array): void
  /** Closed, for whatever reason; `lastError` is the socket error that preceded it, if any. */
  closed(lastError: string): void
}

/** Takes the connections whose path is not `/`: stock Yjs clients opening rooms (yws-endpoint.ts). */
export interface ClientConnections {
  accept(ws: WebSocket, req: IncomingMessage): void
  stop(): void
}

export interface TransportOptions {
  listenHost: string
  listenPort: number
  /** Largest frame accepted; larger ones close the connection. */
  maxFrameBytes: number
  /** Messages per second a connection may send before it is closed as a flood. */
  maxMessagesPerSecond: number
}

/**
 * Every connection is pinged this often and dropped when it answered nothing since the ping
 * before: a peer whose network went away silently (a cable pulled, a laptop asleep) is noticed
 * within two periods instead of TCP's minutes, and dialing it again starts.
 */
export const HEARTBEAT_MS = 5_000

type MakeHandler = (conn: Connection) => ConnectionHandler

class WsConnection implements Connection {
  /** Heard from since the last heartbeat ping (a pong or any message). */
  alive = true
  handler!: ConnectionHandler

  constructor(
    readonly ws: WebSocket,
    readonly dialedUrl: string | undefined,
    private readonly log: Logger,
  ) {}

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN
  }

  send(bytes: Uint8Array): void {
    if (this.isOpen) this.ws.send(bytes)
  }

  close(code: number, reason: string): void {
    const key = this.handler.peerKey()
    this.log.info(`closing connection${key ? ` with ${key.slice(0, 8)}` : ''}: ${reason}`)
    this.ws.close(code, reason.slice(0, 120))
  }

  terminate(): void {
    this.ws.terminate()
  }

  once(event: 'open' | 'close' | 'error', listener: (err: Error) => void): void {
    this.ws.once(event, listener)
  }
}

export class WsTransport {
  private server: WebSocketServer | undefined
  private readonly connections = new Set<WsConnection>()
  private heartbeatTimer: NodeJS.Timeout | undefined
  url = ''

  constructor(
    private readonly opts: TransportOptions,
    private readonly log: Logger,
    private readonly accept: MakeHandler,
    private readonly clients: () => ClientConnections | undefined,
  ) {}

  async listen(): Promise<void> {
    const server = new WebSocketServer({ host: this.opts.listenHost, port: this.opts.listenPort, maxPayload: this.opts.maxFrameBytes })
    this.server = server
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve)
      server.once('error', reject)
    })
    const addr = server.address()
    if (typeof addr === 'object' && addr) this.url = `ws://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`
    server.on('connection', (ws, req) => {
      if ((req.url ?? '/').split('?')[0] === '/') return this.attach(new WsConnection(ws, undefined, this.log), this.accept)
      const clients = this.clients()
      if (clients) return clients.accept(ws, req)
      ws.close(4404, 'this node serves no rooms')
    })
    this.heartbeatTimer = setInterval(() => this.heartbeat(), HEARTBEAT_MS)
    this.heartbeatTimer.unref()
  }

  dial(url: string, make: MakeHandler): Connection {
    const conn = new WsConnection(new WebSocket(url, { maxPayload: this.opts.maxFrameBytes }), url, this.log)
    this.attach(conn, make)
    return conn
  }

  async stop(): Promise<void> {
    clearInterval(this.heartbeatTimer)
    for (const c of this.connections) c.terminate()
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()))
  }

  private attach(conn: WsConnection, make: MakeHandler): void {
    const handler = (conn.handler = make(conn))
    this.connections.add(conn)
    const ws = conn.ws
    const dialed = conn.dialedUrl !== undefined
    ws.binaryType = 'nodebuffer'
    const flood = new FloodGate(this.opts.maxMessagesPerSecond)
    let lastError = ''
    if (dialed) ws.once('open', () => handler.opened())
    else handler.opened()
    ws.on('pong', () => (conn.alive = true))
    ws.on('message', (data: RawData, isBinary: boolean) => {
      conn.alive = true
      if (!flood.admit()) return conn.close(1008, 'flood: too many messages')
      if (!isBinary) return conn.close(4400, 'protocol error: text frame')
      handler.message(toBytes(data))
    })
    ws.on('error', (err) => {
      lastError = err.message
      // A node we dial may simply be down (its failures are counted); what an incoming
      // connection does wrong (an oversized frame, a broken stream) is worth a line.
      if (dialed) this.log.debug(`connection error: ${err.message}`)
      else this.log.info(`connection from ${handler.peerKey()?.slice(0, 8) ?? 'an unknown peer'} closed: ${err.message}`)
    })
    ws.on('close', () => {
      this.connections.delete(conn)
      handler.closed(lastError)
    })
  }

  private heartbeat(): void {
    for (const c of this.connections) {
      if (!c.isOpen) continue
      if (!c.alive) {
        this.log.info(
          `peer ${c.handler.peerKey()?.slice(0, 8) ?? '?'} answered nothing for ${(2 * HEARTBEAT_MS) / 1000} s: dropping the connection`,
        )
        c.terminate()
        continue
      }
      c.alive = false
      c.ws.ping()
    }
  }
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data))
  return data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
}
