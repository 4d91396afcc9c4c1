import { describe, expect, it } from 'vitest'
import { AUDIT_LARGE_SHARE, AUDIT_WEAK_R1, auditCaution } from './audit'

describe('auditCaution', () => {
  it('is null for a strong model that flags few images', () => {
    expect(auditCaution({ testRecall1: 0.9, candidates: 30, images: 3000 })).toBeNull()
    expect(auditCaution({ testRecall1: null, candidates: 0, images: 0 })).toBeNull()
    // Exactly at the limits is not yet a caution.
    expect(
      auditCaution({
        testRecall1: AUDIT_WEAK_R1,
        candidates: AUDIT_LARGE_SHARE * 1000,
        images: 1000
      })
    ).toBeNull()
  })

  it('names a low test R@1', () => {
    expect(auditCaution({ testRecall1: 0.312, candidates: 10, images: 3000 })).toMatch(
      /^This list is only as good as the model: its test R@1 is 31\.2 %\. /
    )
  })

  it('names a large share of flagged images, and both reasons together', () => {
    // The weak one-epoch demo run of the report: 923 of 3,000 images.
    expect(auditCaution({ testRecall1: 0.7, candidates: 923, images: 3000 })).toMatch(
      /only as good as the model: it flags 923 of 3,000 images \(31 %\)\./
    )
    expect(auditCaution({ testRecall1: 0.4, candidates: 923, images: 3000 })).toMatch(
      /its test R@1 is 40\.0 % and it flags 923 of 3,000 images/
    )
  })
})
