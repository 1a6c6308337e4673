// The node-to-node wire format, after the handshake (handshake.ts). One WebSocket binary frame
// per message, lib0 encoding:
//
//   NAMESPACES  1  varUint n, n × varString namespaceId       the namespaces I hold
//   SYNC        2  varString ns, varString docKey, varUint kind, varUint8Array payload
//                  kind as y-protocols' sync messages: 0 step 1 (state vector), 1 step 2 (update
//                  answering a step 1), 2 update; docKey is 'tree' or a text resource's id
//   BLOB_WANT   3  varString hash                              send me this blob
//   BLOB        4  varString hash, varUint8Array bytes
//   JOINED      5  varString namespaceId                       your invitation was accepted
//   ERROR       6  varString code, varString message           then the sender closes
//   AGENT_INFOS 7  varString ns, varUint n (<= 256), n × agent info:
//                  varString agent, varUint nUrls (<= 8), nUrls × varString url,
//                  varUint createdAtMs, varUint expiresAtMs, varUint isTombstone (0|1),
//                  varUint8Array sig (64)                   signed infos of members of ns
//                  (agent-info.ts); every one's space is ns
//   NOTIFY      8  varString ns, varUint8Array data (UTF-8, <= 64 KiB)   send_notify
//
// Decoding never trusts the peer: any malformed, truncated or trailing input is a
// PeerProtocolError, and the connection is closed with a log line.

import { MAX_NOTIFY_BYTES } from '../../api/verbs.js'
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { AgentInfoError, checkAgentInfo, MAX_URLS, type SignedAgentInfo } from '../peers/agent-info.js'
import { decodeBase64url, toBase64url } from '../trust/identity.js'

export const MSG = { namespaces: 1, sync: 2, blobWant: 3, blob: 4, joined: 5, error: 6, agentInfos: 7, notify: 8 } as const
export const SYNC_STEP1 = 0
export const SYNC_STEP2 = 1
export const SYNC_UPDATE = 2

export type PeerMessage =
  | { type: 'namespaces'; ids: string[] }
  | { type: 'sync'; ns: string; docKey: string; kind: 0 | 1 | 2; payload: Uint8Array }
  | { type: 'blobWant'; hash: string }
  | { type: 'blob'; hash: string; bytes: Uint8Array }
  | { type: 'joined'; ns: string }
  | { type: 'error'; code: string; message: string }
  | { type: 'agentInfos'; ns: string; infos: SignedAgentInfo[] }
  | { type: 'notify'; ns: string; data: string }

export class PeerProtocolError extends Error {}

const NS_ID = /^[0-9a-f]{32}$/
const DOC_KEY = /^(tree|[0-9a-f]{16})$/
const HASH = /^[0-9a-f]{64}$/
const MAX_NAMESPACES = 10_000
export const MAX_INFOS_PER_MESSAGE = 256
const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

export function encodeMessage(m: PeerMessage): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, MSG[m.type])
  switch (m.type) {
    case 'namespaces':
      encoding.writeVarUint(e, m.ids.length)
      for (const id of m.ids) encoding.writeVarString(e, id)
      break
    case 'sync':
      encoding.writeVarString(e, m.ns)
      encoding.writeVarString(e, m.docKey)
      encoding.writeVarUint(e, m.kind)
      encoding.writeVarUint8Array(e, m.payload)
      break
    case 'blobWant':
      encoding.writeVarString(e, m.hash)
      break
    case 'blob':
      encoding.writeVarString(e, m.hash)
      encoding.writeVarUint8Array(e, m.bytes)
      break
    case 'joined':
      encoding.writeVarString(e, m.ns)
      break
    case 'error':
      encoding.writeVarString(e, m.code)
      encoding.writeVarString(e, m.message)
      break
    case 'agentInfos':
      encoding.writeVarString(e, m.ns)
      encoding.writeVarUint(e, m.infos.length)
      for (const i of m.infos) {
        encoding.writeVarString(e, i.agent)
        encoding.writeVarUint(e, i.urls.length)
        for (const u of i.urls) encoding.writeVarString(e, u)
        encoding.writeVarUint(e, i.createdAtMs)
        encoding.writeVarUint(e, i.expiresAtMs)
        encoding.writeVarUint(e, i.isTombstone ? 1 : 0)
        encoding.writeVarUint8Array(e, decodeBase64url(i.sig, 64)!)
      }
      break
    case 'notify':
      encoding.writeVarString(e, m.ns)
      encoding.writeVarUint8Array(e, new TextEncoder().encode(m.data))
      break
  }
  return encoding.toUint8Array(e)
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new PeerProtocolError(what)
}

export function decodeMessage(bytes: Uint8Array): PeerMessage {
  const d = decoding.createDecoder(bytes)
  let m: PeerMessage
  try {
    const type = decoding.readVarUint(d)
    switch (type) {
      case MSG.namespaces: {
        const n = decoding.readVarUint(d)
        check(n <= MAX_NAMESPACES, 'too many namespaces')
        const ids: string[] = []
        for (let i = 0; i < n; i++) ids.push(decoding.readVarString(d))
        check(
          ids.every((id) => NS_ID.test(id)),
          'bad namespace id',
        )
        m = { type: 'namespaces', ids }
        break
      }
      case MSG.sync: {
        const ns = decoding.readVarString(d)
        const docKey = decoding.readVarString(d)
        const kind = decoding.readVarUint(d)
        const payload = decoding.readVarUint8Array(d)
        check(NS_ID.test(ns) && DOC_KEY.test(docKey) && (kind === 0 || kind === 1 || kind === 2), 'bad sync header')
        m = { type: 'sync', ns, docKey, kind: kind as 0 | 1 | 2, payload: Uint8Array.from(payload) }
        break
      }
      case MSG.blobWant: {
        const hash = decoding.readVarString(d)
        check(HASH.test(hash), 'bad hash')
        m = { type: 'blobWant', hash }
        break
      }
      case MSG.blob: {
        const hash = decoding.readVarString(d)
        const blob = decoding.readVarUint8Array(d)
        check(HASH.test(hash), 'bad hash')
        m = { type: 'blob', hash, bytes: Uint8Array.from(blob) }
        break
      }
      case MSG.joined: {
        const ns = decoding.readVarString(d)
        check(NS_ID.test(ns), 'bad namespace id')
        m = { type: 'joined', ns }
        break
      }
      case MSG.error:
        m = { type: 'error', code: decoding.readVarString(d).slice(0, 64), message: decoding.readVarString(d).slice(0, 1000) }
        break
      case MSG.agentInfos: {
        const ns = decoding.readVarString(d)
        check(NS_ID.test(ns), 'bad namespace id')
        const n = decoding.readVarUint(d)
        check(n <= MAX_INFOS_PER_MESSAGE, 'too many agent infos')
        const infos: SignedAgentInfo[] = []
        for (let i = 0; i < n; i++) infos.push(readAgentInfo(d, ns))
        m = { type: 'agentInfos', ns, infos }
        break
      }
      case MSG.notify: {
        const ns = decoding.readVarString(d)
        const bytes = decoding.readVarUint8Array(d)
        check(NS_ID.test(ns), 'bad namespace id')
        check(bytes.length <= MAX_NOTIFY_BYTES, 'notify data too large')
        m = { type: 'notify', ns, data: strictUtf8.decode(bytes) }
        break
      }
      default:
        throw new PeerProtocolError(`unknown message type ${type}`)
    }
  } catch (err) {
    if (err instanceof PeerProtocolError) throw err
    throw new PeerProtocolError(`malformed message: ${(err as Error).message}`)
  }
  check(!decoding.hasContent(d), 'trailing bytes')
  return m
}

/** One agent info, shape-checked (its signature is the peer store's business). */
function readAgentInfo(d: decoding.Decoder, space: string): SignedAgentInfo {
  const agent = decoding.readVarString(d)
  const nUrls = decoding.readVarUint(d)
  check(nUrls <= MAX_URLS, 'too many URLs in an agent info')
  const urls: string[] = []
  for (let i = 0; i < nUrls; i++) urls.push(decoding.readVarString(d))
  const createdAtMs = decoding.readVarUint(d)
  const expiresAtMs = decoding.readVarUint(d)
  const tomb = decoding.readVarUint(d)
  const sig = decoding.readVarUint8Array(d)
  check(tomb === 0 || tomb === 1, 'bad tombstone flag')
  check(sig.length === 64, 'bad agent info signature length')
  try {
    return checkAgentInfo({ agent, space, urls, createdAtMs, expiresAtMs, isTombstone: tomb === 1, sig: toBase64url(sig) })
  } catch (err) {
    if (err instanceof AgentInfoError) throw new PeerProtocolError(err.message)
    throw err
  }
}
