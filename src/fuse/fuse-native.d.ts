// The part of the stock fuse-native (2.2.x, which ships no types) that the benchmark's bare file
// system uses (scripts/bench/bare-fuse.ts); meshfs itself mounts through its own fork (binding.ts).
// Callbacks take a negative errno, or 0 followed by the result; read/write/getxattr answer a
// byte count instead.
declare module 'fuse-native' {
  export type Cb = (err: number, ...result: unknown[]) => void

  export interface FuseOps {
    init?(cb: Cb): void
    getattr?(path: string, cb: Cb): void
    fgetattr?(path: string, fd: number, cb: Cb): void
    readdir?(path: string, cb: Cb): void
    open?(path: string, flags: number, cb: Cb): void
    create?(path: string, mode: number, cb: Cb): void
    read?(path: string, fd: number, buf: Buffer, len: number, pos: number, cb: (n: number) => void): void
    write?(path: string, fd: number, buf: Buffer, len: number, pos: number, cb: (n: number) => void): void
    flush?(path: string, fd: number, cb: Cb): void
    fsync?(path: string, datasync: number, fd: number, cb: Cb): void
    release?(path: string, fd: number, cb: Cb): void
    truncate?(path: string, size: number, cb: Cb): void
    ftruncate?(path: string, fd: number, size: number, cb: Cb): void
    mkdir?(path: string, mode: number, cb: Cb): void
    rmdir?(path: string, cb: Cb): void
    unlink?(path: string, cb: Cb): void
    rename?(src: string, dest: string, cb: Cb): void
    link?(src: string, dest: string, cb: Cb): void
    symlink?(target: string, path: string, cb: Cb): void
    readlink?(path: string, cb: Cb): void
    chmod?(path: string, mode: number, cb: Cb): void
    chown?(path: string, uid: number, gid: number, cb: Cb): void
    utimens?(path: string, atime: number, mtime: number, cb: Cb): void
    statfs?(path: string, cb: Cb): void
    getxattr?(path: string, name: string, position: number, cb: Cb): void
    listxattr?(path: string, cb: Cb): void
    setxattr?(path: string, name: string, value: Buffer, position: number, flags: number, cb: Cb): void
    removexattr?(path: string, name: string, cb: Cb): void
  }

  export interface FuseOpts {
    force?: boolean
    mkdir?: boolean
    debug?: boolean
    timeout?: number | false
    allowOther?: boolean
    defaultPermissions?: boolean
    fsname?: string
    subtype?: string
    attrTimeout?: string | number
    entryTimeout?: string | number
  }

  class Fuse {
    constructor(mnt: string, ops: FuseOps, opts?: FuseOpts)
    mnt: string
    mount(cb: (err: Error | null) => void): void
    unmount(cb: (err: Error | null) => void): void
    /** Replaced by meshfs: fuse-native calls `fusermount -uz`, absent on a fresh Debian. */
    static unmount(mnt: string, cb: (err: Error | null) => void): void
    protected _fuseOptions(): string
  }

  export default Fuse
}
