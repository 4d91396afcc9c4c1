/** The retrieval service's queries, worst queries, per-class R@1 and test images, on a fixture. */
import { existsSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { writeGallery } from '../ml/eval/gallery'
import { galleryPath } from '../runs/paths'
import {
  D,
  dir,
  ctx,
  svc,
  imageIds,
  classOf,
  classNames,
  naiveRanking,
  naiveQueries,
  insertRun,
  runA,
  runB,
  runNoQueries,
  runSubset,
  runQueued,
  galleryA,
  useRetrievalFixture
} from './retrieval.testutil'

useRetrievalFixture()

describe('retrieval.query', () => {
  it('returns the top K by cosine, self excluded, with correct flags, missed list and AP', async () => {
    for (let q = 0; q < imageIds.length; q++) {
      const res = await svc.query({ runId: runA, imageId: imageIds[q], k: 3 })
      const ref = naiveRanking(galleryA, q)
      expect(res.query?.id).toBe(imageIds[q])
      expect(res.neighbours.map((n) => n.image.id)).toEqual(
        ref.slice(0, 3).map((r) => imageIds[r.row])
      )
      expect(res.neighbours.map((n) => n.rank)).toEqual([1, 2, 3])
      expect(res.neighbours.some((n) => n.image.id === imageIds[q])).toBe(false)
      res.neighbours.forEach((n, i) => {
        expect(n.similarity).toBeCloseTo(ref[i].sim, 5)
        if (i > 0) expect(n.similarity).toBeLessThanOrEqual(res.neighbours[i - 1].similarity)
        expect(n.correct).toBe(classOf.get(n.image.id) === classOf.get(imageIds[q]))
        expect(n.image.className).toBe(classNames.get(n.image.classId))
      })
      const cls = classOf.get(imageIds[q])
      const expectedMissed = imageIds.filter(
        (id, row) =>
          row !== q && classOf.get(id) === cls && !res.neighbours.some((n) => n.image.id === id)
      )
      expect(res.missed.map((m) => m.image.id).sort()).toEqual(expectedMissed.sort())
      // Each missed image's rank is its 1-based place in the naive ranking (beyond K).
      for (const m of res.missed) {
        const place = ref.findIndex((r) => imageIds[r.row] === m.image.id)
        expect(m.rank).toBe(place + 1)
        expect(m.rank).toBeGreaterThan(3)
        expect(m.similarity).toBeCloseTo(ref[place].sim, 5)
      }
      expect(res.missed.map((m) => m.rank)).toEqual(
        [...res.missed.map((m) => m.rank)].sort((a, b) => a - b)
      )
      const stored = naiveQueries(galleryA, imageIds).find((r) => r.imageId === imageIds[q])
      if (stored) expect(res.ap).toBeCloseTo(stored.ap, 10)
      else expect(res.ap).toBeNull()
    }
  })

  it('reports the AP@R computed from the gallery, whatever AP the run stored', async () => {
    const doctored = insertRun({
      name: 'doctored',
      gallery: { ids: imageIds, data: galleryA, storeQueries: true },
      storedAp: 0.125
    })
    for (const r of naiveQueries(galleryA, imageIds)) {
      const res = await svc.query({ runId: doctored, imageId: r.imageId, k: 1 })
      expect(res.ap).toBeCloseTo(r.ap, 6)
    }
  })

  it('reads the gallery from the folder recorded in runs.dir', async () => {
    const res = await svc.query({ runId: runNoQueries, imageId: imageIds[0], k: 2 })
    expect(res.neighbours.map((n) => n.image.id)).toEqual(
      naiveRanking(galleryA, 0)
        .slice(0, 2)
        .map((r) => imageIds[r.row])
    )
    expect(existsSync(join(dir, 'elsewhere', 'gallery.bin'))).toBe(true)
  })

  it('applies the default K and caps K at the gallery size', async () => {
    const res = await svc.query({ runId: runA, imageId: imageIds[0] })
    expect(res.neighbours.length).toBe(imageIds.length - 1)
  })

  it('fails clearly for an unknown run, a run without gallery and an image not in the gallery', async () => {
    await expect(svc.query({ runId: 9999, imageId: imageIds[0] })).rejects.toMatchObject({
      code: 'not_found',
      message: expect.stringMatching(/no run with id 9999/)
    })
    await expect(svc.query({ runId: runQueued, imageId: imageIds[0] })).rejects.toMatchObject({
      code: 'unavailable',
      message: expect.stringMatching(/has not finished its test evaluation: it is still running/)
    })
    await expect(svc.query({ runId: runSubset, imageId: imageIds[0] })).rejects.toMatchObject({
      code: 'not_found',
      message: expect.stringMatching(/not in the test gallery of run/)
    })
  })

  it('gives the same clear errors from every method', async () => {
    const calls = (runId: number) => [
      svc.worst({ runId }),
      svc.perClass({ runId }),
      svc.testImages({ runId }),
      svc.embeddingMap({ runId }),
      svc.flipped({ runA: runId, runB: runA })
    ]
    for (const call of calls(31337)) {
      await expect(call).rejects.toMatchObject({
        code: 'not_found',
        message: expect.stringMatching(/no run with id 31337/)
      })
    }
    for (const call of calls(runQueued)) {
      await expect(call).rejects.toMatchObject({
        code: 'unavailable',
        message: expect.stringMatching(/has not finished its test evaluation/)
      })
    }
  })

  it('reports a missing or inconsistent gallery file', async () => {
    const broken = insertRun({
      name: 'broken',
      gallery: { ids: imageIds, data: galleryA, storeQueries: false }
    })
    const file = galleryPath(ctx, broken)
    writeGallery(file, galleryA.slice(D), imageIds.length - 1, D)
    await expect(svc.query({ runId: broken, imageId: imageIds[0] })).rejects.toThrow(
      /has 10 rows but the run lists 11/
    )
    // A damaged file is refused with the reader's reason.
    writeFileSync(file, Buffer.from('not a gallery'))
    await expect(svc.query({ runId: broken, imageId: imageIds[0] })).rejects.toThrow(
      /gallery embeddings of run \d+ cannot be read: .*bad magic|truncated/
    )
    rmSync(file)
    await expect(svc.query({ runId: broken, imageId: imageIds[0] })).rejects.toThrow(
      /gallery embeddings of run \d+ are missing/
    )
  })

  it('keeps at most two galleries in memory', async () => {
    for (const runId of [runA, runB, runNoQueries, runA])
      await svc.query({ runId, imageId: imageIds[1], k: 1 })
    expect(svc.loadedGalleries().length).toBeLessThanOrEqual(2)
    expect(svc.loadedGalleries()).toEqual([runNoQueries, runA])
  })
})

describe('retrieval.worst and perClass', () => {
  it('lists the lowest-AP queries first, with the R@1 flag', async () => {
    const ref = naiveQueries(galleryA, imageIds).sort(
      (a, b) => a.ap - b.ap || a.imageId - b.imageId
    )
    const worst = await svc.worst({ runId: runA, limit: 4 })
    expect(worst.map((w) => w.image.id)).toEqual(ref.slice(0, 4).map((r) => r.imageId))
    expect(worst.map((w) => w.recallAt1)).toEqual(ref.slice(0, 4).map((r) => r.correctAt1))
    for (let i = 1; i < worst.length; i++)
      expect(worst[i].ap).toBeGreaterThanOrEqual(worst[i - 1].ap)
    // The singleton class has no query row.
    expect((await svc.worst({ runId: runA, limit: 100 })).length).toBe(imageIds.length - 1)
    // A run without stored rows computes the same list from its gallery.
    const computed = await svc.worst({ runId: runNoQueries, limit: 4 })
    expect(computed.map((w) => w.image.id)).toEqual(ref.slice(0, 4).map((r) => r.imageId))
  })

  it('gives Recall@1 per class from the query rows, worst class first', async () => {
    const ref = naiveQueries(galleryA, imageIds)
    const per = await svc.perClass({ runId: runA })
    expect(per.map((c) => c.className).sort()).toEqual(['finch', 'gull_50%', 'wren'])
    for (const c of per) {
      const rows = ref.filter((r) => classOf.get(r.imageId) === c.classId)
      expect(c.count).toBe(rows.length)
      expect(c.recallAt1).toBeCloseTo(rows.filter((r) => r.correctAt1).length / rows.length, 12)
    }
    for (let i = 1; i < per.length; i++)
      expect(per[i].recallAt1).toBeGreaterThanOrEqual(per[i - 1].recallAt1)
  })
})

describe('retrieval.testImages', () => {
  it('pages the gallery images and searches class names and paths literally', async () => {
    const all = await svc.testImages({ runId: runA })
    expect(all.total).toBe(imageIds.length)
    expect(all.images.map((i) => i.className).slice(0, 4)).toEqual(['wren', 'wren', 'wren', 'wren'])
    const page = await svc.testImages({ runId: runA, offset: 4, limit: 3 })
    expect(page.total).toBe(imageIds.length)
    expect(page.images.map((i) => i.id)).toEqual(all.images.slice(4, 7).map((i) => i.id))
    const finch = await svc.testImages({ runId: runA, search: 'FINCH' })
    expect(finch.total).toBe(3)
    expect(finch.images.every((i) => i.className === 'finch')).toBe(true)
    // '%' and '_' are literal, not LIKE wildcards.
    expect((await svc.testImages({ runId: runA, search: '50%' })).total).toBe(3)
    expect((await svc.testImages({ runId: runA, search: 'img_3' })).total).toBe(1)
    expect((await svc.testImages({ runId: runA, search: 'l_nely' })).total).toBe(0)
    expect((await svc.testImages({ runId: runSubset })).total).toBe(imageIds.length - 1)
    await expect(svc.testImages({ runId: runQueued })).rejects.toThrow(
      /has not finished its test evaluation/
    )
  })
})
