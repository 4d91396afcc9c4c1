/**
 * Service signatures derived from the payload schemas, so that a method's argument is written
 * once (its zod schema) and only its result type is named by hand. A service is
 * `ServiceOf<typeof xSchemas, { method: ResultType, … }>`: each method takes its schema's OUTPUT
 * type (the payload as the dispatch hands it over: validated, defaults applied; optional only
 * when the schema's output admits undefined) and resolves to its result type. Callers on the
 * other side of a transport (the renderer, `ClientOf`) send the schema's INPUT type. The
 * payload is validated once, at the edge (src-main/dispatch); services do not parse it again.
 * The results map must name exactly the schema's methods.
 */
import type { z } from 'zod'

/** The payload schema of every method of one service. */
export type MethodSchemas = Record<string, z.ZodType>

/** The signatures of a service: validated payload types (schema output) from `S`, results from `R`. */
export type ServiceOf<
  S extends MethodSchemas,
  R extends { [M in keyof S]: unknown } & Record<Exclude<keyof R, keyof S>, never>
> = {
  [M in keyof S]: undefined extends z.output<S[M]>
    ? (p?: z.output<S[M]>) => Promise<R[M]>
    : (p: z.output<S[M]>) => Promise<R[M]>
}

/** A service's methods as a caller across a transport sees them: what it may send (schema input). */
export type ClientOf<S extends MethodSchemas, Svc> = {
  [M in keyof S]: undefined extends z.input<S[M]>
    ? (p?: z.input<S[M]>) => Promise<ResultOf<M extends keyof Svc ? Svc[M] : never>>
    : (p: z.input<S[M]>) => Promise<ResultOf<M extends keyof Svc ? Svc[M] : never>>
}

/** What a service method resolves to. */
export type ResultOf<F> = F extends (...a: never[]) => Promise<infer R> ? R : never
