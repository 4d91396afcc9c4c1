import { describe, expect, it } from 'vitest'
import { parsePreference, resolveTheme } from './useTheme'

describe('theme', () => {
  it('follows the OS unless the user chose light or dark', () => {
    expect(resolveTheme('system', true)).toBe('dark')
    expect(resolveTheme('system', false)).toBe('light')
    expect(resolveTheme('light', true)).toBe('light')
    expect(resolveTheme('dark', false)).toBe('dark')
  })

  it('reads a stored choice, anything else is "system"', () => {
    expect(parsePreference('dark')).toBe('dark')
    expect(parsePreference('light')).toBe('light')
    expect(parsePreference('blue')).toBe('system')
    expect(parsePreference(null)).toBe('system')
  })
})
