// Writing to stdout and stderr when their reader may be gone. `meshfs mount X 2>&1 | tee log`
// and Ctrl-C: the terminal's SIGINT kills `tee` too, and the daemon's next log line hits a closed
// pipe. Node reports that EPIPE as an 'error' event, uncaught unless someone listens; the
// daemon's uncaught-exception handler then logs it, to the same closed pipe, and so on: 100% CPU
// and an event loop that never drains, long after the mount is gone. A lost reader only loses
// the lines meant for it.

const lost = new WeakSet<NodeJS.WritableStream>()

/** From here on, a closed stdout or stderr silences that stream instead of raising an error. */
export function tolerateLostReaders(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', () => {
      // EPIPE, or any other failure to write: nobody can be told on this stream any more.
      lost.add(stream)
    })
  }
}

/** Write `text` unless the stream's reader is gone. */
export function writeTo(stream: NodeJS.WriteStream, text: string): void {
  if (lost.has(stream) || stream.destroyed || stream.writableEnded) return
  stream.write(text)
}
