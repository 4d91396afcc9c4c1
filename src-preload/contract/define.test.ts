import { describe, expect, expectTypeOf, it } from 'vitest'
import { z } from 'zod'
import type { ClientOf, ServiceOf } from './define'
import type { HistApi, RunsService, RunSummary, TrainConfig, TrainConfigInput } from './index'

const schemas = {
  list: z.object({}).strict().optional(),
  get: z.object({ id: z.number(), page: z.number().default(0) })
}

describe('ServiceOf', () => {
  it('takes each payload type from its schema (output side: validated, defaults applied)', () => {
    type S = ServiceOf<typeof schemas, { list: string[]; get: { id: number } }>
    expect(schemas.get.parse({ id: 1 })).toEqual({ id: 1, page: 0 })
    expectTypeOf<Parameters<S['get']>[0]>().toEqualTypeOf<{ id: number; page: number }>()
    expectTypeOf<S['list']>().toBeCallableWith()
    expectTypeOf<ReturnType<S['get']>>().toEqualTypeOf<Promise<{ id: number }>>()
  })

  it('gives callers across a transport the input side (defaults optional), same results', () => {
    type S = ServiceOf<typeof schemas, { list: string[]; get: { id: number } }>
    type C = ClientOf<typeof schemas, S>
    expectTypeOf<Parameters<C['get']>[0]>().toEqualTypeOf<{ id: number; page?: number }>()
    expectTypeOf<C['list']>().toBeCallableWith()
    expectTypeOf<ReturnType<C['get']>>().toEqualTypeOf<Promise<{ id: number }>>()
  })

  it('refuses a results map that misses or adds a method', () => {
    // @ts-expect-error: `get` has no result type
    type Missing = ServiceOf<typeof schemas, { list: string[] }>
    // @ts-expect-error: `extra` is not a method of the schemas
    type Extra = ServiceOf<typeof schemas, { list: string[]; get: number; extra: number }>
    expectTypeOf<Missing | Extra>().not.toBeNever()
  })

  it('derives the real services from the contract schemas', () => {
    expectTypeOf<Parameters<RunsService['start']>[0]>().toEqualTypeOf<TrainConfig>()
    expectTypeOf<ReturnType<RunsService['start']>>().toEqualTypeOf<Promise<RunSummary>>()
    expectTypeOf<Parameters<HistApi['runs']['start']>[0]>().toEqualTypeOf<TrainConfigInput>()
    expectTypeOf<ReturnType<HistApi['runs']['start']>>().toEqualTypeOf<Promise<RunSummary>>()
  })
})
