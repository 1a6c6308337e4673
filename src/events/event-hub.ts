// Per-namespace event streams (put, remove, move, member joined/left, notify, sync state): the
// one place producers publish and the faces (the `events` control file, the client's
// subscribeNamespace) subscribe. Delivery is synchronous and never blocks a producer.
//
// Some producers cost work per change (diffing a namespace's tree), so they run only while
// someone listens: a source registered for a namespace is started by its first subscriber and
// stopped when the last one leaves.

// The events are the control API's stream events (api/events.ts): declared once, there.
import type { EntryKind, NamespaceChange } from '../api/events.js'

export type { EntryKind }
export type NamespaceEvent = NamespaceChange

/** An event as delivered: which namespace, when, and a sequence number per hub. */
export type StampedEvent = NamespaceEvent & { ns: string; seq: number; atMs: number }

export type EventListener = (event: StampedEvent) => void

/** Starts producing a namespace's events; returns how to stop. */
export type EventSource = (emit: (event: NamespaceEvent) => void) => () => void

export class EventHub {
  private readonly listeners = new Map<string, Set<EventListener>>()
  private readonly sources = new Map<string, EventSource>()
  private readonly running = new Map<string, () => void>()
  private seq = 0

  emit(ns: string, event: NamespaceEvent): void {
    const set = this.listeners.get(ns)
    if (!set) return
    const stamped = { ...event, ns, seq: ++this.seq, atMs: Date.now() } as StampedEvent
    for (const l of [...set]) l(stamped)
  }

  subscribe(ns: string, listener: EventListener): () => void {
    let set = this.listeners.get(ns)
    if (!set) this.listeners.set(ns, (set = new Set()))
    set.add(listener)
    this.startSource(ns)
    return () => {
      if (!set!.delete(listener) || set!.size > 0) return
      this.listeners.delete(ns)
      this.running.get(ns)?.()
      this.running.delete(ns)
    }
  }

  /** Register the costly producer of a namespace (replacing any earlier one). */
  setSource(ns: string, source: EventSource | undefined): void {
    this.running.get(ns)?.()
    this.running.delete(ns)
    if (source) this.sources.set(ns, source)
    else this.sources.delete(ns)
    if (this.listeners.has(ns)) this.startSource(ns)
  }

  private startSource(ns: string): void {
    const source = this.sources.get(ns)
    if (!source || this.running.has(ns)) return
    this.running.set(
      ns,
      source((e) => this.emit(ns, e)),
    )
  }
}
