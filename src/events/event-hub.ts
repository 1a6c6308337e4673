// Per-namespace event streams (put, remove, move, member joined/left, notify, sync state): the
// one place producers publish and the faces (the `events` control file, the client's
// subscribeNamespace) subscribe. Delivery is synchronous and never blocks a producer: each
// subscriber keeps its own bounded queue (events-queue.ts).

export type NamespaceEvent =
  | { type: 'put'; path: string; id: string; kind: 'file' | 'group' | 'symlink' }
  | { type: 'remove'; path: string; id: string; kind: 'file' | 'group' | 'symlink' }
  | { type: 'move'; from: string; to: string; id: string; kind: 'file' | 'group' | 'symlink' }
  | { type: 'member-joined'; member: string; role: string }
  | { type: 'member-left'; member: string }
  | { type: 'notify'; from: string; data: string }
  | { type: 'sync'; peer: string; state: 'connected' | 'disconnected' | 'reconciled' }

/** An event as delivered: which namespace, when, and a sequence number per hub. */
export type StampedEvent = NamespaceEvent & { ns: string; seq: number; atMs: number }

export type EventListener = (event: StampedEvent) => void

export class EventHub {
  private readonly listeners = new Map<string, Set<EventListener>>()
  private seq = 0

  emit(ns: string, event: NamespaceEvent): void {
    const set = this.listeners.get(ns)
    const stamped = { ...event, ns, seq: ++this.seq, atMs: Date.now() } as StampedEvent
    if (!set) return
    for (const l of [...set]) l(stamped)
  }

  subscribe(ns: string, listener: EventListener): () => void {
    let set = this.listeners.get(ns)
    if (!set) this.listeners.set(ns, (set = new Set()))
    set.add(listener)
    return () => {
      set!.delete(listener)
      if (set!.size === 0) this.listeners.delete(ns)
    }
  }
}
