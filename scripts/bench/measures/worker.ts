// Run one fs-worker job (see ../fs-worker.ts) in its own process and parse its JSON answer.

import { FS_WORKER } from '../paths.js'
import { runCommand } from '../proc.js'

export async function runFsWorker<T>(args: Array<string | number>, timeoutMs = 600_000): Promise<T> {
  const { stdout } = await runCommand(process.execPath, [FS_WORKER, ...args.map(String)], { timeoutMs })
  return JSON.parse(stdout) as T
}
