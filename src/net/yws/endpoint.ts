// Where stock Yjs clients connect: y-websocket's WebsocketProvider (or anything speaking its
// protocol) opens a room on the node's listening port, `ws://HOST:PORT/ROOM?token=TOKEN`.
// SyncNode hands over every connection whose path is not `/` (the peer protocol's).
//
// Rooms. A doc's room name is its immutable id: `NSID/RESOURCEID`, a text resource's content
// doc (the 32-hex namespace id and the 16-hex resource id, `getfattr -n user.meshfs.id`). The
// document holds one Y.Text named `t`: `doc.getText('t')` is the file's content. Only live
// resources whose content is text (or still empty) have a room: a binary resource has no Y.Text
// to edit, and the tree doc (`NSID`, `NSID/tree`) is refused, because a client writing structure
// or membership would bypass every check the mount and the peers make.
//
// Tokens (client-token.ts) are checked before anything else: missing, malformed, tampered or
// expired ones are accepted as WebSocket upgrades and closed with 4401, a valid token for another
// namespace, an unknown room, or a write with a read-only token with 4403. y-websocket treats
// 4400-4499 as final and stops reconnecting; a close it does not understand (an HTTP 401) would
// make it retry forever.
//
// Messages, one per binary frame, as y-websocket: varUint type, then
//   0 sync       varUint kind (0 step 1 state vector, 1 step 2, 2 update), varUint8Array payload
//   1 awareness  varUint8Array awareness update
//   3 query awareness (answered with every state of the room)
// On connect the node sends its step 1 (and the room's awareness states); a client's step 1 is
// answered with step 2 from the replica, which reads the doc from the store when it is not
// loaded. A client's step 2 or update goes through NamespaceReplica.applyRemote, the path peers'
// updates take: stored before it is applied anywhere else, then passed on to the peers and the
// other clients of the room (never echoed to its sender). Updates stored from other sources (the
// mount, peers) reach the room's clients the same way.
//
// The tree records a text resource's size and mtime; a stock client edits only the text, so the
// node records them for it (host.textEdited), at most once per EDIT_RECORD_MS per room (size and
// mtime are hot metadata: alternating writers grow a Yjs doc fast) and when the room empties.
// When the resource is removed or turns binary, its room's clients are closed with 4403.
//
// Awareness: one Awareness per room, holding the clients' states only. Every update is broadcast
// to every connection of the room, the sender's included: the stock client counts its own
// renewals (every 15 s) as proof of life and reconnects after 30 s without a message. A client's
// states are removed (and that is broadcast) when it disconnects.
//
// Hostile input: a text frame, an unknown message type, a malformed or truncated message or one
// with trailing bytes, or an update Yjs cannot decode closes the connection with 4400 and a log
// line; frames beyond SyncNode's maxFrameBytes are refused by the server; more than
// maxMessagesPerSecond messages in a second close with 1008. If the store refuses an update the
// connection closes with 1011; the client reconnects and offers it again.

import type { IncomingMessage } from 'node:http'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate, removeAwarenessStates } from 'y-protocols/awareness'
import { WebSocket, type RawData } from 'ws'
import type { Logger } from '../../util/log.js'
import { isFsError } from '../../vfs/errors.js'
import { ClientTokenError, verifyClientToken } from './client-token.js'
import type { SyncReplica } from '../protocol/sync-host.js'

/** What the endpoint needs of the node (the daemon provides it). */
export interface ClientRoomHost {
  /** This node's public key: a client token is valid only if this node signed it. */
  readonly publicKey: string
  replica(ns: string): SyncReplica | undefined
  /** Whether `resourceId` is a live resource of `ns` whose content is its Y.Text (or empty). */
  isTextResource(ns: string, resourceId: string): boolean
  /** A client changed the text of `resourceId`: record it as the resource's content. */
  textEdited(ns: string, resourceId: string): void
}

export interface ClientEndpointOptions {
  maxMessagesPerSecond: number
}

const MESSAGE_SYNC = 0
const MESSAGE_AWARENESS = 1
const MESSAGE_QUERY_AWARENESS = 3
const SYNC_STEP1 = 0
const SYNC_STEP2 = 1
const SYNC_UPDATE = 2
const EDIT_RECORD_MS = 1000
const ROOM = /^\/([0-9a-f]{32})\/([0-9a-f]{16})$/

/** A refusal: the upgrade is accepted and closed with `code` (4401, 4403). */
class Refusal extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message)
  }
}

class Malformed extends Error {}

interface Room {
  key: string
  ns: string
  docKey: string
  conns: Set<ClientConn>
  awareness: Awareness
  offStored: () => void
  editTimer: NodeJS.Timeout | undefined
}

interface ClientConn {
  ws: WebSocket
  room: Room
  readOnly: boolean
  /** Awareness client ids this connection set, removed when it goes. */
  controlled: Set<number>
  window: { start: number; count: number }
  label: string
}

export class ClientEndpoint {
  private readonly rooms = new Map<string, Room>()

  constructor(
    private readonly host: ClientRoomHost,
    private readonly opts: ClientEndpointOptions,
    private readonly log: Logger,
  ) {}

  /** A WebSocket connection whose request path names a room. */
  accept(ws: WebSocket, req: IncomingMessage): void {
    ws.binaryType = 'nodebuffer'
    ws.on('error', (err) => this.log.debug(`client connection error: ${err.message}`))
    const from = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`
    let target: { ns: string; docKey: string; readOnly: boolean }
    try {
      target = this.authorize(req)
    } catch (err) {
      // Anything else (the store failing to read the tree) is this node's trouble: the client may retry.
      const code = err instanceof Refusal ? err.code : 1011
      const line = `client ${from} refused (${code}): ${(err as Error).message}`
      if (err instanceof Refusal) this.log.info(line)
      else this.log.warn(line)
      ws.close(code, (err as Error).message.slice(0, 120))
      return
    }
    const room = this.room(target.ns, target.docKey)
    const conn: ClientConn = {
      ws,
      room,
      readOnly: target.readOnly,
      controlled: new Set(),
      window: { start: Date.now(), count: 0 },
      label: `client ${from} in room ${room.key}`,
    }
    room.conns.add(conn)
    this.log.info(`${conn.label} connected${conn.readOnly ? ' (read-only)' : ''}`)
    ws.on('message', (data: RawData, isBinary: boolean) => {
      // Frames that arrive after we decided to close are not acted on.
      if (ws.readyState !== WebSocket.OPEN) return
      try {
        if (!isBinary) throw new Malformed('text frame')
        this.receive(conn, toBytes(data))
      } catch (err) {
        if (err instanceof Refusal) return this.close(conn, err.code, err.message)
        if (err instanceof Malformed) return this.close(conn, 4400, `protocol error: ${err.message}`)
        if (isFsError(err)) {
          this.log.warn(`${conn.label}: ${err.message}`)
          return this.close(conn, 1011, err.message)
        }
        this.close(conn, 4400, `protocol error: ${(err as Error).message}`)
      }
    })
    ws.on('close', () => this.leave(conn))
    try {
      // A read-only client is never asked for its state: it has nothing the node would take.
      if (!conn.readOnly) this.send(conn, syncMessage(SYNC_STEP1, this.replicaOf(room).stateVector(room.docKey)))
      if (room.awareness.getStates().size > 0) this.send(conn, awarenessMessage(room.awareness, [...room.awareness.getStates().keys()]))
    } catch (err) {
      this.log.warn(`${conn.label}: ${(err as Error).message}`)
      this.close(conn, 1011, (err as Error).message)
    }
  }

  /** The namespace is gone from this node: close its rooms without recording anything. */
  dropNamespace(ns: string): void {
    for (const room of [...this.rooms.values()]) {
      if (room.ns !== ns) continue
      clearTimeout(room.editTimer)
      room.editTimer = undefined
      for (const conn of room.conns) this.close(conn, 4403, `namespace ${ns} was deleted from this node`)
      this.closeRoom(room, false)
    }
  }

  /** Record pending edits and drop every client (the node is stopping). */
  stop(): void {
    for (const room of [...this.rooms.values()]) {
      for (const conn of room.conns) conn.ws.terminate()
      this.closeRoom(room, true)
    }
  }

  private authorize(req: IncomingMessage): { ns: string; docKey: string; readOnly: boolean } {
    const target = req.url ?? '/'
    const q = target.indexOf('?')
    const path = q < 0 ? target : target.slice(0, q)
    let claims: ReturnType<typeof verifyClientToken>
    try {
      claims = verifyClientToken(new URLSearchParams(q < 0 ? '' : target.slice(q + 1)).get('token') ?? '', {
        publicKey: this.host.publicKey,
        now: Date.now(),
      })
    } catch (err) {
      if (err instanceof ClientTokenError) throw new Refusal(4401, err.message)
      throw err
    }
    const m = ROOM.exec(path)
    if (!m) throw new Refusal(4403, `no room ${path.slice(0, 80)}: a room is NAMESPACE_ID/RESOURCE_ID of a text resource`)
    const [, ns, docKey] = m as unknown as [string, string, string]
    if (claims.ns !== ns) throw new Refusal(4403, `the token is for namespace ${claims.ns}, not ${ns}`)
    if (!this.host.replica(ns) || !this.host.isTextResource(ns, docKey))
      throw new Refusal(4403, `no text resource ${docKey} in namespace ${ns} on this node`)
    return { ns, docKey, readOnly: claims.ro }
  }

  private receive(conn: ClientConn, data: Uint8Array): void {
    if (++conn.window.count > this.opts.maxMessagesPerSecond) {
      if (Date.now() - conn.window.start < 1000) throw new Refusal(1008, 'flood: too many messages')
      conn.window = { start: Date.now(), count: 1 }
    }
    const room = conn.room
    const d = decoding.createDecoder(data)
    let type: number
    let kind = 0
    let payload: Uint8Array = new Uint8Array(0)
    try {
      type = decoding.readVarUint(d)
      if (type === MESSAGE_SYNC) {
        kind = decoding.readVarUint(d)
        // A copy: the update is stored and passed on, and must not alias the socket's buffer.
        payload = Uint8Array.from(decoding.readVarUint8Array(d))
      } else if (type === MESSAGE_AWARENESS) {
        payload = decoding.readVarUint8Array(d)
      }
    } catch (err) {
      throw new Malformed(`truncated message (${(err as Error).message})`)
    }
    if (decoding.hasContent(d)) throw new Malformed('trailing bytes')
    switch (type) {
      case MESSAGE_SYNC:
        if (kind === SYNC_STEP1) return this.send(conn, syncMessage(SYNC_STEP2, this.replicaOf(room).diff(room.docKey, payload)))
        if (kind === SYNC_STEP2 || kind === SYNC_UPDATE) return this.update(conn, payload)
        throw new Malformed(`unknown sync message kind ${kind}`)
      case MESSAGE_AWARENESS:
        return applyAwarenessUpdate(room.awareness, payload, conn)
      case MESSAGE_QUERY_AWARENESS:
        return this.send(conn, awarenessMessage(room.awareness, [...room.awareness.getStates().keys()]))
      default:
        throw new Malformed(`unknown message type ${type}`)
    }
  }

  private update(conn: ClientConn, update: Uint8Array): void {
    const room = conn.room
    if (conn.readOnly) {
      if (isEmptyUpdate(update)) return
      throw new Refusal(4403, 'the token is read-only: this room may not be changed with it')
    }
    if (!this.host.isTextResource(room.ns, room.docKey)) throw new Refusal(4403, `resource ${room.docKey} is gone, or no longer text`)
    if (!this.replicaOf(room).applyRemote(room.docKey, update, conn)) return
    room.editTimer ??= setTimeout(() => this.recordEdit(room), EDIT_RECORD_MS).unref()
  }

  private recordEdit(room: Room): void {
    clearTimeout(room.editTimer)
    room.editTimer = undefined
    try {
      this.host.textEdited(room.ns, room.docKey)
    } catch (err) {
      this.log.warn(`recording a client's edit of ${room.key}: ${(err as Error).message}`)
    }
  }

  private room(ns: string, docKey: string): Room {
    const key = `${ns}/${docKey}`
    const existing = this.rooms.get(key)
    if (existing) return existing
    // The Awareness needs a doc for its own client id; the room's content is never in it.
    const awareness = new Awareness(new Y.Doc())
    awareness.setLocalState(null)
    const room: Room = { key, ns, docKey, conns: new Set(), awareness, offStored: () => {}, editTimer: undefined }
    room.offStored = this.replicaOf(room).onStored((docKey, update, from) => {
      // A resource removed (here or by a peer) or turned binary has no room any more.
      if (docKey === 'tree' && !this.host.isTextResource(ns, room.docKey)) {
        for (const conn of room.conns) this.close(conn, 4403, `resource ${room.docKey} was removed, or is no longer text`)
        return
      }
      if (docKey !== room.docKey) return
      const message = syncMessage(SYNC_UPDATE, update)
      for (const conn of room.conns) if (conn !== from) this.send(conn, message)
    })
    awareness.on('update', ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }, origin: unknown) => {
      const conn = origin as ClientConn | undefined
      if (conn && room.conns.has(conn)) {
        for (const id of added) conn.controlled.add(id)
        for (const id of removed) conn.controlled.delete(id)
      }
      const message = awarenessMessage(awareness, [...added, ...updated, ...removed])
      for (const c of room.conns) this.send(c, message)
    })
    this.rooms.set(key, room)
    return room
  }

  private leave(conn: ClientConn): void {
    const room = conn.room
    if (!room.conns.delete(conn)) return
    this.log.info(`${conn.label} disconnected`)
    if (conn.controlled.size > 0) removeAwarenessStates(room.awareness, [...conn.controlled], null)
    if (room.conns.size === 0) this.closeRoom(room, true)
  }

  private closeRoom(room: Room, record: boolean): void {
    if (this.rooms.get(room.key) !== room) return
    this.rooms.delete(room.key)
    if (record && room.editTimer !== undefined) this.recordEdit(room)
    clearTimeout(room.editTimer)
    room.offStored()
    room.conns.clear()
    const doc = room.awareness.doc
    room.awareness.destroy()
    doc.destroy()
  }

  private replicaOf(room: Room): SyncReplica {
    const replica = this.host.replica(room.ns)
    if (!replica) throw new Refusal(4403, `namespace ${room.ns} is not on this node`)
    return replica
  }

  private send(conn: ClientConn, message: Uint8Array): void {
    if (conn.ws.readyState === WebSocket.OPEN) conn.ws.send(message)
  }

  private close(conn: ClientConn, code: number, reason: string): void {
    this.log.info(`closing ${conn.label} (${code}): ${reason}`)
    conn.ws.close(code, reason.slice(0, 120))
  }
}

function syncMessage(kind: number, payload: Uint8Array): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, MESSAGE_SYNC)
  encoding.writeVarUint(e, kind)
  encoding.writeVarUint8Array(e, payload)
  return encoding.toUint8Array(e)
}

function awarenessMessage(awareness: Awareness, clients: number[]): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, MESSAGE_AWARENESS)
  encoding.writeVarUint8Array(e, encodeAwarenessUpdate(awareness, clients))
  return encoding.toUint8Array(e)
}

/** An update that carries no change (a read-only client's answer may be one). */
function isEmptyUpdate(update: Uint8Array): boolean {
  const { structs, ds } = Y.decodeUpdate(update)
  return structs.length === 0 && ds.clients.size === 0
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data))
  return data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
}
