/**
 * Metric losses behind one interface: HIST and the baselines. The trainer calls
 * `createLoss(name, opts)` and uses `forward`, `paramGroups`, `getWeights`/`setWeights`.
 */
import { HistLoss } from '../hist/histLoss'
import { MultiSimilarityLoss } from './multiSimilarity'
import { NormalizedSoftmaxLoss } from './normalizedSoftmax'
import { ProxyAnchorLoss } from './proxyAnchor'
import { TripletLoss } from './triplet'
import type { LossName, LossOptions, MetricLoss } from './types'

export type { LossName, LossOptions, MetricLoss, ParamGroup } from './types'
export { BaseMetricLoss, checkInputs } from './base'
export { HistLoss } from '../hist/histLoss'
export { NormalizedSoftmaxLoss, normalizedSoftmaxLogits } from './normalizedSoftmax'
export {
  ProxyAnchorLoss,
  proxyAnchorTerms,
  PROXY_ANCHOR_DEFAULTS,
  type ProxyAnchorConfig
} from './proxyAnchor'
export {
  MultiSimilarityLoss,
  multiSimilarityTerms,
  MULTI_SIMILARITY_DEFAULTS,
  type MultiSimilarityConfig
} from './multiSimilarity'
export { TripletLoss, tripletSemiHard, normalizedDistances } from './triplet'

/** Every loss name, in menu order. */
export const LOSS_NAMES: readonly LossName[] = [
  'hist',
  'proxy-anchor',
  'normalized-softmax',
  'multi-similarity',
  'triplet'
]

/** Builds a loss by name; throws on an unknown name or invalid options. */
export function createLoss(name: LossName, opts: LossOptions): MetricLoss {
  switch (name) {
    case 'hist':
      return new HistLoss(opts)
    case 'proxy-anchor':
      return new ProxyAnchorLoss(opts)
    case 'normalized-softmax':
      return new NormalizedSoftmaxLoss(opts)
    case 'multi-similarity':
      return new MultiSimilarityLoss(opts)
    case 'triplet':
      return new TripletLoss(opts)
    default:
      throw new Error(`unknown loss "${name as string}" (expected one of ${LOSS_NAMES.join(', ')})`)
  }
}
