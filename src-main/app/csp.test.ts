import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { CONTENT_SECURITY_POLICY, META_CONTENT_SECURITY_POLICY } from './csp'

describe('Content-Security-Policy', () => {
  it('the renderer page carries exactly the shared meta policy', () => {
    const html = readFileSync(new URL('../../src-renderer/index.html', import.meta.url), 'utf8')
    const meta = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)
    expect(meta?.[1]).toBe(META_CONTENT_SECURITY_POLICY)
  })

  it('allows no eval, no inline script and no framing', () => {
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-eval/)
    expect(CONTENT_SECURITY_POLICY).toMatch(/script-src 'self'(;|$)/)
    expect(CONTENT_SECURITY_POLICY).toMatch(/frame-ancestors 'none'/)
  })
})
