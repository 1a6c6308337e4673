// How big each run is. `full` is the reference run (about 8 minutes on 2 cores); `quick` keeps
// every measure but shrinks sizes and runs one round to stay under 2 minutes; `tiny` is a smoke
// run for CI that only proves the bench still works end to end: its figures mean nothing.

export type ProfileName = 'tiny' | 'quick' | 'full'

export interface Profile {
  name: ProfileName
  /**
   * Each measure runs this many times, the targets interleaved within each round, and the
   * table shows the median: on a small VM a FUSE round trip's cost swings with where the
   * scheduler puts the client, the FUSE thread and the JS thread, and one round can be 2x off.
   */
  rounds: number
  /** Size of the sequential-throughput file. */
  seqFileMiB: number
  /** Duration of each random 4 KiB job; 0 means one pass over the file instead. */
  randomSeconds: number
  /** Files in the small-file metadata measure (one directory). */
  smallFiles: number
  /** Bytes written into each small file. */
  smallFileBytes: number
  /** The package under node_modules/ that is tarred up for the untar / cp -r measure. */
  sourceTreePackage: string
  /** Atomic saves timed by the editor-save measure. */
  editorSaves: number
  /** Files created before reading the serving process's RSS. */
  memoryFiles: number
}

export const PROFILES: Record<ProfileName, Profile> = {
  tiny: {
    name: 'tiny',
    rounds: 1,
    seqFileMiB: 4,
    randomSeconds: 0,
    smallFiles: 200,
    smallFileBytes: 100,
    sourceTreePackage: 'memfs',
    editorSaves: 20,
    memoryFiles: 200,
  },
  quick: {
    name: 'quick',
    rounds: 1,
    seqFileMiB: 64,
    randomSeconds: 3,
    smallFiles: 2_000,
    smallFileBytes: 100,
    sourceTreePackage: 'typescript',
    editorSaves: 200,
    memoryFiles: 2_000,
  },
  full: {
    name: 'full',
    rounds: 3,
    seqFileMiB: 256,
    randomSeconds: 15,
    smallFiles: 10_000,
    smallFileBytes: 100,
    sourceTreePackage: 'typescript',
    editorSaves: 200,
    memoryFiles: 10_000,
  },
}

/** The per-op timeout both FUSE servers are started with (meshfs's default), for fairness. */
export const OP_TIMEOUT_SECONDS = 120
