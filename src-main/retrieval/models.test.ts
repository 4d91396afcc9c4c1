import { describe, expect, it } from 'vitest'
import { ModelCache, type RunModel } from './models'

function fakeLoader() {
  const disposed: string[] = []
  const loads: string[] = []
  const load = async (key: string): Promise<RunModel> => {
    loads.push(key)
    if (key.startsWith('bad')) throw new Error(`cannot load ${key}`)
    return { dim: 2, embed: async () => new Float32Array(2), dispose: () => disposed.push(key) }
  }
  return { load, loads, disposed }
}

const tick = () => new Promise((r) => setTimeout(r, 0))

describe('ModelCache', () => {
  it('loads once per key, evicts the least recently used and disposes it', async () => {
    const f = fakeLoader()
    const cache = new ModelCache(f.load, 2)
    await cache.use('a', async () => 0)
    await cache.use('b', async () => 0)
    await cache.use('a', async () => 0)
    await cache.use('c', async () => 0)
    await tick()
    expect(f.loads).toEqual(['a', 'b', 'c'])
    expect(f.disposed).toEqual(['b'])
    expect(cache.keys()).toEqual(['a', 'c'])
    cache.clear()
    await tick()
    expect(f.disposed.sort()).toEqual(['a', 'b', 'c'])
  })

  it('does not dispose a model while a query is using it', async () => {
    const f = fakeLoader()
    const cache = new ModelCache(f.load, 1)
    let release!: () => void
    const busy = cache.use('a', () => new Promise<void>((r) => (release = r)))
    await tick()
    await cache.use('b', async () => 0)
    await tick()
    expect(f.disposed).toEqual([])
    release()
    await busy
    await tick()
    expect(f.disposed).toEqual(['a'])
  })

  it('does not cache a failed load', async () => {
    const f = fakeLoader()
    const cache = new ModelCache(f.load, 2)
    await expect(cache.use('bad1', async () => 0)).rejects.toThrow(/cannot load bad1/)
    await expect(cache.use('bad1', async () => 0)).rejects.toThrow(/cannot load bad1/)
    expect(f.loads).toEqual(['bad1', 'bad1'])
    expect(cache.keys()).toEqual([])
  })
})
