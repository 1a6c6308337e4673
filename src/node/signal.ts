// A typed event with many listeners: a module announces what happened, and whoever composed it
// subscribes, so nothing assigns callback properties after construction.

export class Signal<T> {
  private readonly listeners = new Set<(value: T) => void>()

  /** Returns how to stop listening. */
  on(listener: (value: T) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  emit(value: T): void {
    for (const l of [...this.listeners]) l(value)
  }
}
