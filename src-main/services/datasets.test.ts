import { cpSync, existsSync, readdirSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { AppEvent } from '../../src-preload/contract'
import { resolveMedia } from '../datasets/media'
import {
  jpegBytes,
  makeFolderDataset,
  put,
  tempContext,
  tempDir
} from '../datasets/datasets.testutil'
import { createDatasetsService } from './datasets'
import { atEdge, type AtEdge } from './services.testutil'

const ctxs: ReturnType<typeof tempContext>[] = []
function setup(): {
  c: ReturnType<typeof tempContext>
  svc: AtEdge<'datasets', ReturnType<typeof createDatasetsService>>
  events: AppEvent[]
} {
  const c = tempContext()
  ctxs.push(c)
  const events: AppEvent[] = []
  c.events.on((e) => events.push(e))
  return { c, svc: atEdge('datasets', createDatasetsService(c)), events }
}
afterEach(() => {
  while (ctxs.length) ctxs.pop()!.dispose()
})

describe('datasets service', () => {
  it('imports as a background job with progress events, then datasets.changed', async () => {
    const { c, svc, events } = setup()
    const root = tempDir()
    await makeFolderDataset(root, ['Greek__alpha', 'Greek__beta', 'Latin__a'], 4)
    const { jobId } = await svc.startImport({ path: root })
    const end = await c.jobs.wait(jobId)
    expect(end.status).toBe('completed')
    expect(end.message).toMatch(/Imported .*3 classes, 12 images, 0 problems/)
    const jobEvents = events.filter((e) => e.type === 'job')
    expect(jobEvents.length).toBeGreaterThanOrEqual(2)
    expect(events.some((e) => e.type === 'datasets.changed')).toBe(true)
    const list = await svc.list()
    expect(list).toHaveLength(1)
    expect(end.targetId).toBe(list[0].id)
    const d = await svc.get({ id: list[0].id })
    expect(d.groups).toEqual(['Greek', 'Latin'])
    expect(d.classes.map((k) => [k.name, k.group, k.imageCount, k.split])).toEqual([
      ['Greek__alpha', 'Greek', 4, null],
      ['Greek__beta', 'Greek', 4, null],
      ['Latin__a', 'Latin', 4, null]
    ])
  })

  it('fails fast on a missing path or a forced format that does not fit (invalid_payload)', async () => {
    const { svc } = setup()
    await expect(svc.startImport({ path: '/definitely/not/here' })).rejects.toMatchObject({
      code: 'invalid_payload',
      message: expect.stringMatching(/no such file or folder/)
    })
    const root = tempDir()
    await makeFolderDataset(root, ['a', 'b'], 1)
    await expect(svc.startImport({ path: root, format: 'cub' })).rejects.toMatchObject({
      code: 'invalid_payload',
      message: expect.stringMatching(/is not a cub dataset/)
    })
  })

  it('cancelJob cancels an import and nothing is stored', async () => {
    const { c, svc } = setup()
    const root = tempDir()
    await makeFolderDataset(root, ['a', 'b'], 20)
    const { jobId } = await svc.startImport({ path: root })
    await svc.cancelJob({ jobId })
    expect((await c.jobs.wait(jobId)).status).toBe('cancelled')
    expect(await svc.list()).toEqual([])
    await expect(svc.cancelJob({ jobId: 'nope' })).rejects.toMatchObject({ code: 'not_found' })
  })

  it('pages, filters and searches images', async () => {
    const { c, svc } = setup()
    const root = tempDir()
    await makeFolderDataset(root, ['Apple', 'banana', 'Cherry'], 5)
    const { jobId } = await svc.startImport({ path: root })
    const id = (await c.jobs.wait(jobId)).targetId!
    const all = await svc.images({ datasetId: id, limit: 4 })
    expect(all.total).toBe(15)
    expect(all.images.map((i) => i.relPath)).toEqual([
      'Apple/img0.png',
      'Apple/img1.png',
      'Apple/img2.png',
      'Apple/img3.png'
    ])
    const page2 = await svc.images({ datasetId: id, limit: 4, offset: 4 })
    expect(page2.images[0]).toMatchObject({
      relPath: 'Apple/img4.png',
      className: 'Apple',
      datasetId: id
    })
    const banana = (await svc.get({ id })).classes.find((k) => k.name === 'banana')!
    const byClass = await svc.images({ datasetId: id, classId: banana.id })
    expect(byClass.total).toBe(5)
    expect((await svc.images({ datasetId: id, search: 'BANANA' })).total).toBe(5)
    expect((await svc.images({ datasetId: id, search: 'img3' })).total).toBe(3)
    expect((await svc.images({ datasetId: id, search: '%' })).total).toBe(0)
    await svc.setSplit({ id, split: { kind: 'class-range', train: [1, 2], test: [3, 3] } })
    // class order is code-point order (ImageFolder): Apple, Cherry, banana
    expect(
      (await svc.images({ datasetId: id, split: 'test' })).images.every(
        (i) => i.className === 'banana'
      )
    ).toBe(true)
    expect((await svc.images({ datasetId: id, split: 'train' })).total).toBe(10)
    await expect(svc.images({ datasetId: 999 })).rejects.toMatchObject({ code: 'not_found' })
  })

  it('setSplit writes classes.split and refuses a spec that does not fit', async () => {
    const { c, svc } = setup()
    const root = tempDir()
    await makeFolderDataset(root, ['G1__a', 'G1__b', 'G2__a', 'G3__a'], 2)
    const { jobId } = await svc.startImport({ path: root })
    const id = (await c.jobs.wait(jobId)).targetId!
    const s = await svc.setSplit({
      id,
      split: { kind: 'group', train: ['G1'], test: ['G2', 'G3'] }
    })
    expect(s.splits).toEqual([
      { name: 'train', classCount: 2, imageCount: 4 },
      { name: 'test', classCount: 2, imageCount: 4 }
    ])
    await expect(
      svc.setSplit({ id, split: { kind: 'group', train: ['G1'], test: ['G9'] } })
    ).rejects.toMatchObject({
      code: 'invalid_payload',
      message: expect.stringMatching(/unknown group\(s\): G9/)
    })
    // the failed call changed nothing
    expect((await svc.get({ id })).classes.map((k) => k.split)).toEqual([
      'train',
      'train',
      'test',
      'test'
    ])
    const r = await svc.setSplit({ id, split: { kind: 'class-ratio', trainRatio: 0.5, seed: 3 } })
    expect(r.splits.map((x) => x.classCount)).toEqual([2, 2])
  })

  it('renames, relinks (checking the files) and removes without touching user files', async () => {
    const { c, svc } = setup()
    const parent = tempDir()
    const root = join(parent, 'data')
    put(root, 'a/big1.jpg', await jpegBytes(1, 300, 200))
    put(root, 'a/big2.jpg', await jpegBytes(2, 300, 200))
    put(root, 'b/big3.jpg', await jpegBytes(3, 300, 200))
    put(root, 'b/big4.jpg', await jpegBytes(4, 300, 200))
    const { jobId } = await svc.startImport({ path: root })
    const id = (await c.jobs.wait(jobId)).targetId!
    expect((await svc.rename({ id, name: 'Cars at home' })).name).toBe('Cars at home')

    // move the folder: the dataset reports its root missing, relink fixes it
    const moved = join(parent, 'moved')
    renameSync(root, moved)
    expect((await svc.get({ id })).rootExists).toBe(false)
    const wrong = tempDir()
    await makeFolderDataset(wrong, ['a', 'b'], 2)
    await expect(svc.relink({ id, root: wrong })).rejects.toThrow(/do not match/)
    await expect(svc.relink({ id, root: join(parent, 'nowhere') })).rejects.toThrow(
      /no such folder/
    )
    const relinked = await svc.relink({ id, root: moved })
    expect(relinked).toMatchObject({ root: moved, rootExists: true })

    // a thumbnail exists, then remove deletes it but not the images
    const img = (await svc.images({ datasetId: id, limit: 1 })).images[0]
    const thumb = await resolveMedia(c, `thumb/${img.id}`)
    expect(thumb.ok).toBe(true)
    expect(readdirSync(join(c.paths.thumbnails, String(id)))).toHaveLength(1)
    await svc.remove({ id })
    expect(await svc.list()).toEqual([])
    expect(existsSync(join(c.paths.thumbnails, String(id)))).toBe(false)
    expect(readdirSync(join(moved, 'a'))).toEqual(['big1.jpg', 'big2.jpg'])
    await expect(svc.get({ id })).rejects.toMatchObject({ code: 'not_found' })
  })

  it('relink names the missing file', async () => {
    const { c, svc } = setup()
    const root = tempDir()
    await makeFolderDataset(root, ['a', 'b'], 3)
    const { jobId } = await svc.startImport({ path: root })
    const id = (await c.jobs.wait(jobId)).targetId!
    const copy = tempDir()
    cpSync(root, copy, { recursive: true })
    rmSync(join(copy, 'b', 'img2.png'))
    await expect(svc.relink({ id, root: copy })).rejects.toThrow(/b\/img2\.png \(missing\)/)
  })
})
