/**
 * Node identity: the ed25519 key pair a node proves in the handshake and signs invitations with,
 * plus one key pair per namespace membership (Calimero's `get_namespace_identity`).
 *
 * Storage: `<dataDir>/identity.json`, mode 0600, pretty JSON so `cat` shows the public keys:
 *
 *   { "version": 1,
 *     "node": { "publicKey": B64U(32), "privateKey": B64U(32 seed) },
 *     "namespaces": { "<namespace id>": { "publicKey": ..., "privateKey": ... } } }
 *
 * Keys are base64url (no padding) of the raw 32 bytes; a node's id is its public key.
 *
 * Rules, and why:
 * - Created atomically (temp file 0600 + fsync + link/rename + dir fsync): a crash never leaves a
 *   half-written key, and a key is never readable by others even for a moment.
 * - First creation uses link(2), which fails if the file exists, so two processes racing on a new
 *   data dir end up with one key, not two nodes that each believe they own the dir.
 * - A file that does not parse, or whose public key does not match its private key, is an error
 *   naming the file and is never overwritten: silently minting a new key would change the node's
 *   id and drop it from every namespace.
 * - A file readable or writable by group/other is refused (code 'insecure-mode'), as ssh does for
 *   private keys: the key may already be leaked and the user should know. `allowInsecureMode`
 *   loads it anyway and reports `insecureMode: true`, for filesystems without POSIX modes.
 * - One writer per data dir (the daemon); concurrent namespaceIdentity() calls from two processes
 *   could lose one of the two new entries.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign as edSign, verify as edVerify } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

export const IDENTITY_FILE = 'identity.json'
const MAX_NAMESPACE_ID_LENGTH = 256

export type IdentityErrorCode = 'corrupt' | 'insecure-mode' | 'invalid-argument'

export class IdentityError extends Error {
  override readonly name = 'IdentityError'
  constructor(
    readonly code: IdentityErrorCode,
    message: string,
    readonly file?: string,
  ) {
    super(message)
  }
}

/** Anything that can prove a key: the node identity, a namespace identity, an ephemeral key. */
export interface Signer {
  /** base64url of the 32 raw public key bytes. */
  readonly publicKey: string
  readonly publicKeyBytes: Uint8Array
  sign(data: Uint8Array): Uint8Array
}

// DER wrappers around raw ed25519 keys (RFC 8410): fixed prefixes, so raw <-> KeyObject is a concat.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')

/** An in-memory ed25519 key pair. */
export class KeyPair implements Signer {
  readonly publicKey: string
  readonly publicKeyBytes: Uint8Array

  private constructor(
    private readonly privateKey: KeyObject,
    /** the 32-byte seed, kept only to persist it */
    private readonly seed: Uint8Array,
  ) {
    const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' })
    this.publicKeyBytes = new Uint8Array(spki.subarray(SPKI_PREFIX.length))
    this.publicKey = toBase64url(this.publicKeyBytes)
  }

  static generate(): KeyPair {
    const { privateKey } = generateKeyPairSync('ed25519')
    const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' })
    return new KeyPair(privateKey, new Uint8Array(pkcs8.subarray(PKCS8_PREFIX.length)))
  }

  static fromSeed(seed: Uint8Array): KeyPair {
    if (seed.length !== 32) throw new IdentityError('invalid-argument', `ed25519 seed must be 32 bytes, got ${seed.length}`)
    const key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' })
    return new KeyPair(key, Uint8Array.from(seed))
  }

  sign(data: Uint8Array): Uint8Array {
    return new Uint8Array(edSign(null, data, this.privateKey))
  }

  /** For persistence only. */
  toJSON(): StoredKey {
    return { publicKey: this.publicKey, privateKey: toBase64url(this.seed) }
  }
}

export interface NamespaceIdentity extends Signer {
  readonly namespaceId: string
}

/**
 * True iff `sig` is a valid ed25519 signature of `data` by `publicKey` (base64url string or 32
 * raw bytes). Never throws: any malformed key or signature is simply "not valid".
 */
export function verify(publicKey: string | Uint8Array, data: Uint8Array, sig: Uint8Array): boolean {
  const raw = typeof publicKey === 'string' ? decodeBase64url(publicKey, 32) : publicKey
  if (!(raw instanceof Uint8Array) || raw.length !== 32) return false
  if (!(sig instanceof Uint8Array) || sig.length !== 64 || !(data instanceof Uint8Array)) return false
  try {
    const key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' })
    return edVerify(null, data, key, sig)
  } catch {
    return false // not a point on the curve, etc.
  }
}

export interface LoadIdentityOptions {
  /** Load a key file readable/writable by group or other instead of refusing it. */
  allowInsecureMode?: boolean
}

interface StoredKey {
  publicKey: string
  privateKey: string
}

/** The node's persistent identity. Use `Identity.loadOrCreate(dataDir)`. */
export class Identity implements Signer {
  readonly publicKey: string
  readonly publicKeyBytes: Uint8Array

  private constructor(
    readonly file: string,
    private readonly node: KeyPair,
    private readonly namespaces: Map<string, KeyPair>,
    /** The key file allowed group/other access and was loaded only because the caller allowed it. */
    readonly insecureMode: boolean,
  ) {
    this.publicKey = node.publicKey
    this.publicKeyBytes = node.publicKeyBytes
  }

  /** The node id (same as publicKey). */
  get nodeId(): string {
    return this.publicKey
  }

  static loadOrCreate(dataDir: string, options: LoadIdentityOptions = {}): Identity {
    const file = path.join(dataDir, IDENTITY_FILE)
    const loaded = Identity.tryLoad(file, options)
    if (loaded) return loaded

    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 })
    const fresh = new Identity(file, KeyPair.generate(), new Map(), false)
    if (writeAtomic(file, fresh.serialize(), 'create')) return fresh
    // Another process created it between our look and our link: theirs wins.
    return Identity.tryLoad(file, options) ?? fail('corrupt', `${file}: vanished while being created`, file)
  }

  sign(data: Uint8Array): Uint8Array {
    return this.node.sign(data)
  }

  /**
   * This node's key pair for its membership in `namespaceId`: created on first use and persisted
   * before it is returned, so a public key handed to peers always survives a crash.
   */
  namespaceIdentity(namespaceId: string): NamespaceIdentity {
    if (typeof namespaceId !== 'string' || namespaceId.length === 0 || namespaceId.length > MAX_NAMESPACE_ID_LENGTH) {
      throw new IdentityError('invalid-argument', `namespace id must be a non-empty string of at most ${MAX_NAMESPACE_ID_LENGTH} chars`)
    }
    let pair = this.namespaces.get(namespaceId)
    if (!pair) {
      pair = KeyPair.generate()
      this.namespaces.set(namespaceId, pair)
      try {
        writeAtomic(this.file, this.serialize(), 'replace')
      } catch (err) {
        this.namespaces.delete(namespaceId)
        throw err
      }
    }
    const p = pair
    return { namespaceId, publicKey: p.publicKey, publicKeyBytes: p.publicKeyBytes, sign: (data) => p.sign(data) }
  }

  /** Namespace ids that have an identity, in creation order. */
  namespaceIds(): string[] {
    return [...this.namespaces.keys()]
  }

  private serialize(): string {
    const body = {
      version: 1,
      node: this.node.toJSON(),
      // fromEntries defines own properties, so even an id like "__proto__" round-trips.
      namespaces: Object.fromEntries([...this.namespaces].map(([id, kp]) => [id, kp.toJSON()])),
    }
    return `${JSON.stringify(body, null, 2)}\n`
  }

  private static tryLoad(file: string, options: LoadIdentityOptions): Identity | undefined {
    let fd: number
    try {
      fd = fs.openSync(file, 'r')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw err
    }
    let text: string
    let insecure = false
    try {
      const st = fs.fstatSync(fd)
      if (!st.isFile()) fail('corrupt', `${file}: not a regular file`, file)
      // Windows has no POSIX modes; its reported bits mean nothing here.
      insecure = process.platform !== 'win32' && (st.mode & 0o077) !== 0
      if (insecure && !options.allowInsecureMode) {
        fail(
          'insecure-mode',
          `${file}: private key file has mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}, which lets other users read or change it; ` +
            `run "chmod 600 ${file}" (and consider the key leaked if others could read it)`,
          file,
        )
      }
      text = fs.readFileSync(fd, 'utf8')
    } finally {
      fs.closeSync(fd)
    }
    return Identity.parse(file, text, insecure)
  }

  private static parse(file: string, text: string, insecure: boolean): Identity {
    const bad = (why: string): never =>
      fail(
        'corrupt',
        `${file}: corrupt identity file (${why}); it was left untouched — restore it from a backup or move it away to create a new identity`,
        file,
      )
    let doc: unknown
    try {
      doc = JSON.parse(text)
    } catch (err) {
      bad(`not JSON: ${(err as Error).message}`)
    }
    if (!isPlainObject(doc)) return bad('not a JSON object')
    if (doc.version !== 1) return bad(`unsupported version ${JSON.stringify(doc.version)}`)
    const node = parseStoredKey(doc.node, 'node', bad)
    const namespaces = new Map<string, KeyPair>()
    const nsDoc = doc.namespaces ?? {}
    if (!isPlainObject(nsDoc)) return bad('"namespaces" is not an object')
    for (const [id, entry] of Object.entries(nsDoc)) namespaces.set(id, parseStoredKey(entry, `namespaces[${JSON.stringify(id)}]`, bad))
    return new Identity(file, node, namespaces, insecure)
  }
}

function parseStoredKey(v: unknown, where: string, bad: (why: string) => never): KeyPair {
  if (!isPlainObject(v)) return bad(`${where} is not an object`)
  const seed = typeof v.privateKey === 'string' ? decodeBase64url(v.privateKey, 32) : undefined
  if (!seed) return bad(`${where}.privateKey is not 32 bytes of base64url`)
  const pair = KeyPair.fromSeed(seed)
  // The stored public key is what peers know us by; if it disagrees with the private key one of them is damaged.
  if (v.publicKey !== pair.publicKey) return bad(`${where}.publicKey does not match its private key`)
  return pair
}

/**
 * Write `text` to `file` through a 0600 temp file. 'create' links it into place and returns false
 * if the file already exists; 'replace' renames over the existing file.
 */
function writeAtomic(file: string, text: string, mode: 'create' | 'replace'): boolean {
  const dir = path.dirname(file)
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`)
  const fd = fs.openSync(tmp, 'wx', 0o600)
  try {
    fs.fchmodSync(fd, 0o600) // the umask can only remove bits, but be explicit
    fs.writeSync(fd, text)
    fs.fsyncSync(fd)
  } catch (err) {
    fs.closeSync(fd)
    fs.rmSync(tmp, { force: true })
    throw err
  }
  fs.closeSync(fd)
  try {
    if (mode === 'create') {
      try {
        fs.linkSync(tmp, file)
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code
        if (code === 'EEXIST') return false
        // Filesystems without hard links: fall back to a (non-exclusive) rename.
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EOPNOTSUPP') throw err
        if (fs.existsSync(file)) return false
        fs.renameSync(tmp, file)
      }
    } else {
      fs.renameSync(tmp, file)
    }
  } finally {
    fs.rmSync(tmp, { force: true })
  }
  fsyncDir(dir)
  return true
}

function fsyncDir(dir: string): void {
  let fd: number | undefined
  try {
    fd = fs.openSync(dir, 'r')
    fs.fsyncSync(fd)
  } catch {
    // Some platforms cannot open or fsync a directory; the rename itself still happened.
  } finally {
    if (fd !== undefined) fs.closeSync(fd)
  }
}

function fail(code: IdentityErrorCode, message: string, file: string): never {
  throw new IdentityError(code, message, file)
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

export function toBase64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url')
}

/**
 * Strict base64url (no padding) decoding: Buffer's decoder skips invalid characters and ignores
 * stray trailing bits, which would let two different strings name the same key. Returns
 * undefined unless `text` is the canonical encoding of exactly `length` bytes (when given).
 */
export function decodeBase64url(text: string, length?: number): Uint8Array | undefined {
  if (typeof text !== 'string' || !/^[A-Za-z0-9_-]*$/.test(text)) return undefined
  const bytes = Buffer.from(text, 'base64url')
  if (length !== undefined && bytes.length !== length) return undefined
  if (bytes.toString('base64url') !== text) return undefined
  return new Uint8Array(bytes)
}
