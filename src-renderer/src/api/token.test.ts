import { describe, expect, it } from 'vitest'
import { takeToken, TOKEN_STORAGE_KEY, type TokenEnv } from './token'

function env(href: string, stored: Record<string, string> = {}) {
  const store = new Map(Object.entries(stored))
  const replaced: string[] = []
  const e: TokenEnv = {
    location: { href },
    history: { state: null, replaceState: (_d, _u, url) => replaced.push(String(url)) },
    sessionStorage: {
      getItem: (k) => store.get(k) ?? null,
      setItem: (k, v) => void store.set(k, v)
    }
  }
  return { e, store, replaced }
}

describe('takeToken', () => {
  it('reads the token from the URL, stores it and removes it from the address bar', () => {
    const { e, store, replaced } = env('http://127.0.0.1:5000/?token=abc&x=1#/runs/3')
    expect(takeToken(e)).toBe('abc')
    expect(store.get(TOKEN_STORAGE_KEY)).toBe('abc')
    expect(replaced).toEqual(['/?x=1#/runs/3'])
  })

  it('falls back to the stored token after a reload', () => {
    const { e, replaced } = env('http://h/#/datasets', { [TOKEN_STORAGE_KEY]: 'old' })
    expect(takeToken(e)).toBe('old')
    expect(replaced).toEqual([])
  })

  it('returns null when there is no token anywhere', () => {
    expect(takeToken(env('http://h/').e)).toBeNull()
  })
})
