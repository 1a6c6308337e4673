// The backup revival window. Editors save by renaming the original to a backup name and writing
// a new file of the old name (vim: `f` -> `f~`, new `f`, delete `f~`). The backup name is
// ignored, so the resource would leave the namespace and come back as a new one, losing its id
// and history. Instead it is hidden here, under its old parent and name, for a short while: when
// a new file of that name comes, it *is* the resource again (same id, the new content an edit);
// when none comes in time, the resource is removed from the namespace.

/** How long a hidden resource waits for a new file of its old name. */
export const REVIVE_WINDOW_MS = 10_000

export class RevivalWindow {
  /** By old parent id and name. */
  private readonly waiting = new Map<string, { id: string; timer: NodeJS.Timeout }>()
  private readonly hidden = new Set<string>()

  /**
   * `isLive` says whether a resource still exists (a peer may remove it meanwhile); `remove`
   * takes an unrevived one out of the namespace.
   */
  constructor(
    private readonly isLive: (id: string) => boolean,
    private readonly remove: (id: string) => void,
    private readonly windowMs = REVIVE_WINDOW_MS,
  ) {}

  /** Whether `id` is hidden, waiting to be revived: no path shows it. */
  isHidden(id: string): boolean {
    return this.hidden.has(id)
  }

  /** Hide resource `id`, which was `name` in group `parentId`, until revived or removed. */
  hold(parentId: string, name: string, id: string): void {
    const key = keyOf(parentId, name)
    this.hidden.add(id)
    const timer = setTimeout(() => {
      if (this.waiting.get(key)?.id !== id) return
      this.waiting.delete(key)
      this.expire(id)
    }, this.windowMs)
    timer.unref()
    this.waiting.set(key, { id, timer })
  }

  /** The resource waiting at parentId/name, made visible again, or undefined. */
  revive(parentId: string, name: string): string | undefined {
    const key = keyOf(parentId, name)
    const waiting = this.waiting.get(key)
    if (!waiting) return undefined
    clearTimeout(waiting.timer)
    this.waiting.delete(key)
    this.hidden.delete(waiting.id)
    return this.isLive(waiting.id) ? waiting.id : undefined
  }

  /** Unmount: settle every wait now, so the namespace says what the user did. */
  settle(): void {
    for (const [key, { id, timer }] of this.waiting) {
      clearTimeout(timer)
      this.waiting.delete(key)
      this.expire(id)
    }
  }

  private expire(id: string): void {
    this.hidden.delete(id)
    // Removed elsewhere meanwhile is the same outcome; anything else is the store refusing,
    // which leaves the resource in place: visible again, nothing lost.
    if (this.isLive(id)) this.remove(id)
  }
}

function keyOf(parentId: string, name: string): string {
  return `${parentId}/${name}`
}
