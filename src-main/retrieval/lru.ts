/**
 * A tiny least-recently-used map that calls `onEvict` for each entry it drops, so that cached
 * galleries are released and cached models disposed.
 */
export class Lru<K, V> {
  private map = new Map<K, V>()

  constructor(
    /** Most entries kept at once. */
    readonly capacity: number,
    private onEvict: (value: V, key: K) => void = () => {}
  ) {
    if (!(capacity >= 1)) throw new Error(`LRU capacity must be at least 1, got ${capacity}`)
  }

  /** The value for `key`, marking it most recently used. */
  get(key: K): V | undefined {
    const v = this.map.get(key)
    if (v === undefined) return undefined
    this.map.delete(key)
    this.map.set(key, v)
    return v
  }

  /** Stores `value`, evicting the least recently used entries beyond capacity. */
  set(key: K, value: V): void {
    const old = this.map.get(key)
    this.map.delete(key)
    if (old !== undefined && old !== value) this.onEvict(old, key)
    this.map.set(key, value)
    while (this.map.size > this.capacity) {
      const [k, v] = this.map.entries().next().value as [K, V]
      this.map.delete(k)
      this.onEvict(v, k)
    }
  }

  /** Drops `key` (evicting it) if present. */
  delete(key: K): void {
    const v = this.map.get(key)
    if (v === undefined) return
    this.map.delete(key)
    this.onEvict(v, key)
  }

  /** Drops every entry. */
  clear(): void {
    for (const k of [...this.map.keys()]) this.delete(k)
  }

  /** Number of entries held. */
  get size(): number {
    return this.map.size
  }

  /** Keys, least recently used first. */
  keys(): K[] {
    return [...this.map.keys()]
  }
}
