/**
 * The one API contract of HIST Studio. Each service's signatures are derived from its payload
 * schemas (`ServiceOf` in define.ts; only result types are named by hand), and `apiSchemas`
 * holds the runtime schema of every payload, so both transports (Electron IPC,
 * web mode) validate at the edge with the same code (`validatePayload`, called once by the
 * dispatch; services receive the parsed output and do not validate it again). Channels are `${service}.${method}`.
 */
import { z } from 'zod'
import type { ClientOf } from './define'
import { InvalidError, type WireError } from './errors'
import { auditSchemas, type AuditService } from './audit'
import { datasetsSchemas, type DatasetsService } from './datasets'
import { experimentsSchemas, type ExperimentsService } from './experiments'
import { explainSchemas, type ExplainService } from './explain'
import type { AppEvent } from './events'
import { retrievalSchemas, type RetrievalService } from './retrieval'
import { runsSchemas, type RunsService } from './runs'
import { systemSchemas, type SystemService } from './system'

export * from './audit'
export * from './common'
export * from './datasets'
export * from './errors'
export * from './events'
export * from './experiments'
export * from './explain'
export * from './presets'
export * from './retrieval'
export * from './runs'
export * from './selection'
export * from './system'

export interface Services {
  system: SystemService
  datasets: DatasetsService
  runs: RunsService
  retrieval: RetrievalService
  experiments: ExperimentsService
  explain: ExplainService
  audit: AuditService
}

export const apiSchemas = {
  system: systemSchemas,
  datasets: datasetsSchemas,
  runs: runsSchemas,
  retrieval: retrievalSchemas,
  experiments: experimentsSchemas,
  explain: explainSchemas,
  audit: auditSchemas
} as const satisfies { [S in keyof Services]: { [M in keyof Services[S]]: z.ZodType } }

export type ServiceName = keyof Services

/**
 * Every service as a caller across a transport sees it: payloads of the schemas' INPUT types
 * (defaults may be left out), the same results. `Services` (the implementations) take the
 * OUTPUT types, the payload after the dispatch validated it.
 */
export type ServiceClients = {
  [S in ServiceName]: ClientOf<(typeof apiSchemas)[S], Services[S]>
}

/**
 * The reply envelope of one call over either transport: the result, or a plain error. The
 * preload passes it through as is; the renderer's client (src-renderer/src/api) unwraps it and
 * raises the same typed error for both transports.
 */
export type CallReply = { result?: unknown } | { error: WireError }

/** The API the renderer programs against (built over `window.api` in Electron, HTTP in web mode). */
export type HistApi = ServiceClients & {
  /** Subscribes to backend events; returns the unsubscribe function. */
  onEvent(listener: (event: AppEvent) => void): () => void
  /** URL of an image file of a registered dataset, or of its thumbnail. */
  mediaUrl(kind: 'image' | 'thumb', imageId: number): string
}

/** `window.api` as the preload exposes it: every method answers with its reply envelope. */
export type PreloadApi = {
  [S in ServiceName]: { [M in keyof Services[S]]: (payload?: unknown) => Promise<CallReply> }
} & Pick<HistApi, 'onEvent' | 'mediaUrl'>

/** Every channel name, for the preload's allow-list and the transports. */
export const channels: string[] = Object.entries(apiSchemas).flatMap(([service, methods]) =>
  Object.keys(methods).map((m) => `${service}.${m}`)
)

/** The event channel over Electron IPC. */
export const EVENT_CHANNEL = 'hist:event'

/** Splits a channel into its service and method, or returns null for an unknown channel. */
export function resolveChannel(channel: string): { service: ServiceName; method: string } | null {
  const dot = channel.indexOf('.')
  if (dot < 0) return null
  const service = channel.slice(0, dot)
  const method = channel.slice(dot + 1)
  if (!Object.hasOwn(apiSchemas, service)) return null
  const methods = apiSchemas[service as ServiceName] as Record<string, z.ZodType>
  if (!Object.hasOwn(methods, method)) return null
  return { service: service as ServiceName, method }
}

/**
 * Validates a payload against its channel's schema and returns the parsed value (defaults
 * applied). Throws InvalidError naming each bad field, e.g. `runs.start: epochs: Too small`.
 */
export function validatePayload(channel: string, payload: unknown): unknown {
  const target = resolveChannel(channel)
  if (!target) throw new InvalidError(`unknown channel "${channel}"`)
  const schema = (apiSchemas[target.service] as Record<string, z.ZodType>)[target.method]
  const result = schema.safeParse(payload ?? undefined)
  if (result.success) return result.data
  const issues = result.error.issues.map((i) => ({
    path: i.path.length ? i.path.join('.') : '(payload)',
    message: i.message
  }))
  const text = issues.map((i) => `${i.path}: ${i.message}`).join('; ')
  throw new InvalidError(`${channel}: invalid payload: ${text}`, issues)
}
