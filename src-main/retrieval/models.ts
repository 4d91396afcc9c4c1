/**
 * A small cache of loaded run models for external queries. Loading a model (backbone + head) is
 * slow and holds tensors, so the last one or two stay loaded; an evicted model is disposed as
 * soon as no query is using it.
 */
import { Lru } from './lru'

/** What the runs module's loadRunModel gives back. */
export interface RunModel {
  /** Embeds images (paths or encoded bytes) to an (inputs × dim) row-major matrix. */
  embed(inputs: (string | Buffer)[]): Promise<Float32Array>
  dim: number
  dispose(): void
}

interface Entry {
  promise: Promise<RunModel>
  users: number
  evicted: boolean
}

const disposeWhenLoaded = (e: Entry): void => {
  e.promise.then(
    (m) => m.dispose(),
    () => {}
  )
}

/** LRU of loaded models keyed by a string (run id plus what changes when it is re-trained). */
export class ModelCache {
  private lru: Lru<string, Entry>

  constructor(
    private load: (key: string) => Promise<RunModel>,
    /** Most models kept loaded. */
    capacity = 2
  ) {
    this.lru = new Lru<string, Entry>(capacity, (e) => {
      e.evicted = true
      if (e.users === 0) disposeWhenLoaded(e)
    })
  }

  /** Runs `fn` with the model for `key`, loading it if needed; the model stays valid during fn. */
  async use<T>(key: string, fn: (m: RunModel) => Promise<T>): Promise<T> {
    let e = this.lru.get(key)
    if (!e) {
      e = { promise: this.load(key), users: 0, evicted: false }
      this.lru.set(key, e)
    }
    const entry = e
    entry.users++
    try {
      let model: RunModel
      try {
        model = await entry.promise
      } catch (err) {
        // A failed load is not cached: the next query tries again.
        if (this.lru.get(key) === entry) this.lru.delete(key)
        throw err
      }
      return await fn(model)
    } finally {
      entry.users--
      if (entry.evicted && entry.users === 0) disposeWhenLoaded(entry)
    }
  }

  /** Keys of the loaded models, least recently used first. */
  keys(): string[] {
    return this.lru.keys()
  }

  /** Disposes every model (on shutdown). */
  clear(): void {
    this.lru.clear()
  }
}
