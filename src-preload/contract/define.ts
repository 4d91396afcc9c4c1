/**
 * Service signatures derived from the payload schemas, so that a method's argument is written
 * once (its zod schema) and only its result type is named by hand. A service is
 * `ServiceOf<typeof xSchemas, { method: ResultType, … }>`: each method takes its schema's input
 * type (optional when the schema accepts no payload) and resolves to its result type. The
 * results map must name exactly the schema's methods.
 */
import type { z } from 'zod'

/** The payload schema of every method of one service. */
export type MethodSchemas = Record<string, z.ZodType>

/** The signatures of a service: payload types from `S`, result types from `R`. */
export type ServiceOf<
  S extends MethodSchemas,
  R extends { [M in keyof S]: unknown } & Record<Exclude<keyof R, keyof S>, never>
> = {
  [M in keyof S]: undefined extends z.input<S[M]>
    ? (p?: z.input<S[M]>) => Promise<R[M]>
    : (p: z.input<S[M]>) => Promise<R[M]>
}
