/** The CSV reader on malformed quoting: the bad row is named, the other rows are kept. */
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { importDataset } from '../importer'
import { pngBytes, put, tempContext, tempDir } from '../datasets.testutil'
import { MAX_BAD_CSV_RECORDS, parseCsvRecords } from './csv'

const ctxs: ReturnType<typeof tempContext>[] = []
afterEach(() => {
  while (ctxs.length) ctxs.pop()!.dispose()
})

/** A folder of 16 images in 4 classes and the CSV rows that list them (header first). */
async function sixteen(root: string): Promise<string[]> {
  const rows = ['label,path,split,is_query,is_gallery']
  for (let i = 0; i < 16; i++) {
    put(root, `images/${i}.png`, await pngBytes(600 + i))
    rows.push(`${i % 4},images/${i}.png,${i % 4 < 2 ? 'train' : 'validation'},1,1`)
  }
  return rows
}

describe('CSV with an unterminated quote', () => {
  for (const badAt of [12, 2]) {
    it(`names line ${badAt} and keeps the other 15 rows`, async () => {
      const root = tempDir()
      const rows = await sixteen(root)
      // rows[k] is on line k + 1; open a quote on that line and never close it.
      rows[badAt - 1] = rows[badAt - 1].replace('images/', '"images/')
      put(root, 'list.csv', rows.join('\n') + '\n')
      const c = tempContext()
      ctxs.push(c)
      const res = await importDataset(c, { path: join(root, 'list.csv') })
      expect(res.problems).toContainEqual({
        kind: 'unreadable',
        relPath: `list.csv line ${badAt}`,
        message: `list.csv line ${badAt}: unterminated quoted field`,
        excluded: true
      })
      expect(res.dataset.imageCount).toBe(15)
    })
  }
})

describe('parseCsvRecords', () => {
  it('handles quoted commas, doubled quotes and newlines inside quotes, with line numbers', () => {
    const { records, bad } = parseCsvRecords([
      'label,path',
      '',
      '1,"a, b.png"',
      '2,"say ""hi"".png"',
      '3,"two',
      'lines.png"',
      '4,d.png'
    ])
    expect(bad).toEqual([])
    expect(records).toEqual([
      { line: 1, fields: ['label', 'path'] },
      { line: 3, fields: ['1', 'a, b.png'] },
      { line: 4, fields: ['2', 'say "hi".png'] },
      { line: 5, fields: ['3', 'two\nlines.png'] },
      { line: 7, fields: ['4', 'd.png'] }
    ])
  })

  it('names text after a closing quote and an unclosed quote, and keeps going', () => {
    const { records, bad } = parseCsvRecords([
      'label,path',
      '1,"a"x.png',
      '2,b.png',
      '3,"c.png',
      '4,d.png',
      '5,e.png'
    ])
    expect(bad).toEqual([
      { line: 2, message: 'malformed quoted field (text after the closing quote)' },
      { line: 4, message: 'unterminated quoted field' }
    ])
    expect(records.map((r) => [r.line, r.fields[0]])).toEqual([
      [1, 'label'],
      [3, '2'],
      [5, '4'],
      [6, '5']
    ])
  })

  it('gives up after too many malformed rows', () => {
    const lines = ['label,path', ...Array.from({ length: 300 }, (_, i) => `${i},"x${i}.png`)]
    const { bad, gaveUp } = parseCsvRecords(lines)
    expect(gaveUp).toBe(true)
    expect(bad).toHaveLength(MAX_BAD_CSV_RECORDS)
  })
})
