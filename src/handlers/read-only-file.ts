import type { OpenFile } from '../vfs/handler.js'

/** An open of content fixed at open time: what the reader opened is its copy (close-to-open). */
export function snapshotFile(content: Buffer): OpenFile {
  return {
    async read(position, length) {
      return content.subarray(Math.min(position, content.length), Math.min(position + length, content.length))
    },
    async release() {},
  }
}
