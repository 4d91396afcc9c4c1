import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { dataDirArg } from './args'
import { appPageUrl, isAppUrl } from './security'

const indexFile = join('/opt', 'hist', 'out', 'renderer', 'index.html')
const fileUrl = pathToFileURL(indexFile).href

describe('isAppUrl', () => {
  it('accepts only the built index.html (any hash or query) without a dev server', () => {
    const page = { indexFile }
    expect(appPageUrl(page)).toBe(fileUrl)
    expect(isAppUrl(fileUrl, page)).toBe(true)
    expect(isAppUrl(`${fileUrl}#/runs/3`, page)).toBe(true)
    expect(isAppUrl(`${fileUrl}?x=1`, page)).toBe(true)
    for (const bad of [
      pathToFileURL(join('/opt', 'hist', 'out', 'renderer', 'other.html')).href,
      'file:///etc/passwd',
      'http://localhost:5173/',
      'https://example.com/',
      'about:blank',
      'data:text/html,hi',
      'hist-media://image/1',
      '',
      undefined,
      null,
      'not a url'
    ]) {
      expect(isAppUrl(bad, page), String(bad)).toBe(false)
    }
  })

  it('accepts only the dev server origin in development', () => {
    const page = { devUrl: 'http://localhost:5173/', indexFile }
    expect(appPageUrl(page)).toBe('http://localhost:5173/')
    expect(isAppUrl('http://localhost:5173/src/main.ts', page)).toBe(true)
    expect(isAppUrl('http://localhost:5174/', page)).toBe(false)
    expect(isAppUrl('http://127.0.0.1:5173/', page)).toBe(false)
    expect(isAppUrl('ws://localhost:5173/', page)).toBe(false)
    expect(isAppUrl(fileUrl, page)).toBe(false)
  })
})

describe('dataDirArg', () => {
  it('reads --data-dir=<dir> and --data-dir <dir>', () => {
    expect(dataDirArg(['electron', '.', '--data-dir=/tmp/a'])).toBe('/tmp/a')
    expect(dataDirArg(['electron', '.', '--data-dir', '/tmp/b'])).toBe('/tmp/b')
    expect(dataDirArg(['electron', '.'])).toBeUndefined()
    expect(dataDirArg(['--data-dir='])).toBeUndefined()
    expect(dataDirArg(['--data-dir', '--inspect'])).toBeUndefined()
  })
})
