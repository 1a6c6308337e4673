// The Handler interface: Fan's `sys::Namespace` for a filesystem. A handler serves one branch of
// the tree; every path it is given is relative to its mount point ('/' is the mount point itself),
// normalised, with every name already checked (vfs/path.ts).
//
// Only the "get" verbs are required: `stat`, `list` and `open` (for reading). Every other verb is
// optional, in the spirit of go-fuse's one-method interfaces: the namespace asks whether a handler
// has a verb and, when it does not, answers the errno documented on that verb: EROFS for verbs
// that change the tree, ENOTSUP for extended attributes. A missing verb is never a crash and never
// a silent success.

export type NodeKind = 'file' | 'dir' | 'symlink'

export interface Stat {
  kind: NodeKind
  /** Permission bits only (0o7777); the file-type bits come from `kind`. */
  mode: number
  size: number
  atimeMs: number
  mtimeMs: number
  ctimeMs: number
  nlink?: number
  uid?: number
  gid?: number
}

export interface StatFs {
  blockSize: number
  blocks: number
  blocksFree: number
  blocksAvailable: number
  files: number
  filesFree: number
}

/** Who asks: the process behind a request (FUSE's request context), when known. */
export interface Caller {
  uid: number
  gid: number
  /** The calling thread's id, as the kernel gives it. */
  pid: number
}

/** What an `open` asks for, decoded once from the kernel's flags. */
export interface OpenFlags {
  read: boolean
  write: boolean
  /** Every write goes to the end of the file, whatever offset it names. */
  append: boolean
  truncate: boolean
  /** Who opens; a replicated namespace keeps each writer's merge base by it. */
  caller?: Caller
}

/** Attribute changes of `setattr`; only the fields present change. */
export interface AttrChanges {
  mode?: number
  uid?: number
  gid?: number
  size?: number
  atimeMs?: number
  mtimeMs?: number
}

/**
 * An open file. Reads and writes address the handle, not the path, so a handler can give each
 * open its own view (close-to-open consistency: what a reader opened is its snapshot, and a
 * writer publishes on flush/fsync/close).
 */
export interface OpenFile {
  /**
   * Bypass the kernel's page cache for this open: every read(2) reaches `read` with the caller's
   * own offset and length, and a read may wait for data (a stream such as an events file).
   */
  readonly directIo?: boolean
  /** Up to `length` bytes at `position`; fewer (or none) at the end of the file. */
  read(position: number, length: number): Promise<Buffer>
  /** Absent: the handle is read-only (EBADF if written, as for a file opened O_RDONLY). */
  write?(data: Buffer, position: number): Promise<number>
  truncate?(size: number): Promise<void>
  /** Called on every close(2) of a descriptor of this open; publish what was written. */
  flush?(): Promise<void>
  fsync?(dataOnly: boolean): Promise<void>
  /** The last close of the open; after it the handle is dropped. */
  release(): Promise<void>
}

export type XattrSetMode = 'any' | 'create' | 'replace'

export interface ChangeEvent {
  type: 'add' | 'change' | 'remove'
  kind: NodeKind
  /** Relative to the handler's mount point. */
  path: string
}

export interface Handler {
  /** Short kind name shown by `meshfs which` and `.meshfs/mounts`: `memory`, `dir`, `time`, ... */
  readonly kind: string
  /** What this instance serves, e.g. the host folder of a `dir` handler. */
  readonly source?: string

  // -- get: required ---------------------------------------------------------------------
  stat(path: string): Promise<Stat>
  /** Names in a directory, without '.' and '..'. */
  list(path: string): Promise<string[]>
  /** Open an existing file. A read-only handler rejects write access with EROFS. */
  open(path: string, flags: OpenFlags): Promise<OpenFile>

  // -- optional verbs; when absent the namespace answers EROFS -------------------------------
  /** Create a new file and open it (Fan's `create`); EEXIST when the name is taken. */
  create?(path: string, mode: number, flags: OpenFlags): Promise<OpenFile>
  mkdir?(path: string, mode: number): Promise<void>
  /** Remove a file or symlink (Fan's `delete` of a resource). */
  unlink?(path: string): Promise<void>
  /** Remove an empty directory; ENOTEMPTY otherwise. */
  rmdir?(path: string): Promise<void>
  /** POSIX rename within this handler: replaces a file, or an empty directory. */
  rename?(from: string, to: string, caller?: Caller): Promise<void>
  /** chmod, chown, truncate and utimens (Fan's `put` of metadata). */
  setattr?(path: string, changes: AttrChanges): Promise<void>
  symlink?(target: string, path: string): Promise<void>
  readlink?(path: string): Promise<string>

  // -- extended attributes; when absent the namespace answers ENOTSUP --------------------------
  /** ENODATA when the attribute is absent. */
  getxattr?(path: string, name: string): Promise<Buffer>
  listxattr?(path: string): Promise<string[]>
  setxattr?(path: string, name: string, value: Buffer, mode: XattrSetMode): Promise<void>
  removexattr?(path: string, name: string): Promise<void>

  // -- the rest ------------------------------------------------------------------------------
  /** Space figures for `df`; absent: the namespace reports those of the root handler. */
  statfs?(): Promise<StatFs>
  /** Changes made behind the mount's back (a host folder edited directly, a peer's edit). */
  watch?(listener: (event: ChangeEvent) => void): () => void
  /** Release resources when the handler is unmounted. */
  close?(): Promise<void>
}
