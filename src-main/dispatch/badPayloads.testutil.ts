/**
 * Payloads the edge refuses (the contract schemas say why), shared by the dispatch test (the
 * path of Electron IPC and the CLI's `invoke`) and the web-mode server test (HTTP 400): one
 * table, so both transports are held to the same answer. Services never see these payloads;
 * they take the validated output (see src-preload/contract/define.ts).
 */
import { vi } from 'vitest'
import { apiSchemas, type ServiceName, type Services } from '../../src-preload/contract'
import { smallConfig } from '../runs/smallRuns.testutil'

/** One refused payload: the channel, the payload, the field paths and a message pattern. */
export interface BadPayload {
  channel: string
  payload: unknown
  paths: string[]
  message: RegExp
}

export const BAD_PAYLOADS: BadPayload[] = [
  {
    channel: 'retrieval.query',
    payload: { runId: 1, imageId: 2, k: 0 },
    paths: ['k'],
    message: /k: Too small/
  },
  {
    channel: 'retrieval.query',
    payload: { runId: 1, imageId: 2, gallery: 'everything', classIds: [] },
    paths: ['gallery', 'classIds'],
    message: /gallery: Invalid option.*classIds: Too small/
  },
  {
    channel: 'retrieval.testImages',
    payload: { runId: 1, gallery: 'train ' },
    paths: ['gallery'],
    message: /gallery: Invalid option/
  },
  {
    channel: 'retrieval.prepareGallery',
    payload: { runId: 1, gallery: 'validation' },
    paths: ['gallery'],
    message: /gallery: Invalid option/
  },
  {
    channel: 'retrieval.compare',
    payload: { runIds: [1] },
    paths: ['runIds'],
    message: /runIds: Too small/
  },
  {
    channel: 'retrieval.embeddingMap',
    payload: { runId: 1, scope: 'everything', method: 'tsne' },
    paths: ['method', 'scope'],
    message:
      /method: Invalid option: expected one of "pca"\|"umap".*scope: Invalid option: expected one of "test"\|"dataset"/
  },
  {
    channel: 'retrieval.embeddingMap',
    payload: { runId: 1, scop: 'dataset' },
    paths: ['(payload)'],
    message: /Unrecognized key: "scop"/
  },
  {
    channel: 'retrieval.queryExternal',
    payload: { runId: 1 },
    paths: ['path'],
    message: /path: give either path or dataBase64/
  },
  {
    channel: 'experiments.createSweep',
    payload: { base: smallConfig(1), axes: [{ param: 'tau', values: [4, -1] }] },
    paths: ['axes.0.values'],
    message: /tau = -1 is out of range/
  },
  {
    channel: 'experiments.createSweep',
    payload: { base: smallConfig(1), axes: [{ param: 'batchSize', values: [2] }] },
    paths: ['axes.0.values'],
    message: /batchSize = 2 is out of range/
  },
  {
    channel: 'experiments.createAblation',
    payload: { base: smallConfig(1, { epochs: 0 }), variants: ['hist'] },
    paths: ['base.epochs'],
    message: /base\.epochs: Too small/
  },
  {
    channel: 'runs.start',
    payload: { datasetId: 1, epochs: 0, lr: 'fast' },
    paths: ['epochs', 'lr'],
    message: /epochs: Too small.*lr: /
  },
  {
    channel: 'datasets.setSplit',
    payload: { id: 1, split: { kind: 'class-ratio', trainRatio: 1.5 } },
    paths: ['split.trainRatio'],
    message: /split\.trainRatio: Too big/
  },
  {
    channel: 'audit.report',
    payload: { runId: 1, k: 0, threshold: 1.5 },
    paths: ['k', 'threshold'],
    message: /k: Too small.*threshold: Too big/
  }
]

/** Every service with every method a spy that resolves to null (so a call would be seen). */
export function spyServices(): Services {
  return Object.fromEntries(
    Object.entries(apiSchemas).map(([name, methods]) => [
      name,
      Object.fromEntries(Object.keys(methods).map((m) => [m, vi.fn(async () => null)]))
    ])
  ) as unknown as Services
}

/** The spy of one channel's method in `spyServices()`. */
export function spyOf(services: Services, channel: string): ReturnType<typeof vi.fn> {
  const [service, method] = channel.split('.') as [ServiceName, string]
  return (services[service] as unknown as Record<string, ReturnType<typeof vi.fn>>)[method]
}
