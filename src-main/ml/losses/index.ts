/**
 * The metric-loss interface, its base class and shared ops, and the baseline losses. HIST
 * (ml/hist) builds on these; the registry that names them all is ml/lossRegistry.ts, above both.
 */
export type { LossName, LossOptions, MetricLoss, ParamGroup } from './types'
export { BaseMetricLoss, checkInputs } from './base'
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
