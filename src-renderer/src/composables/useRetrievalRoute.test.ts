import { describe, expect, it } from 'vitest'
import { parseClassIds, parseGallery } from './useRetrievalRoute'

describe('retrieval route parameters', () => {
  it('reads the gallery, defaulting to the test split for anything unknown', () => {
    expect(parseGallery('train')).toBe('train')
    expect(parseGallery('all')).toBe('all')
    expect(parseGallery('test')).toBe('test')
    expect(parseGallery(undefined)).toBe('test')
    expect(parseGallery('ALL')).toBe('test')
    expect(parseGallery(['all'])).toBe('test')
  })

  it('reads class ids, dropping bad entries and duplicates but keeping the order', () => {
    expect(parseClassIds('3,1,2')).toEqual([3, 1, 2])
    expect(parseClassIds('3,x,-1,0,3,1.5,7')).toEqual([3, 7])
    expect(parseClassIds('')).toEqual([])
    expect(parseClassIds(undefined)).toEqual([])
  })
})
