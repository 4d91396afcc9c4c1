/**
 * Every metric loss by name: HIST (ml/hist) and the baselines (ml/losses). It sits above both
 * folders so that neither imports the other's registry (hist builds on losses/base and ops). The
 * trainer calls `createLoss(name, opts)` and uses `forward`, `paramGroups`, `getWeights`/`setWeights`.
 */
import { LossName } from '../../src-preload/contract/runs'
import { HistLoss } from './hist/histLoss'
import {
  MultiSimilarityLoss,
  NormalizedSoftmaxLoss,
  ProxyAnchorLoss,
  TripletLoss,
  type LossOptions,
  type MetricLoss
} from './losses'

/** Every loss name, in menu order (the contract's enum). */
export const LOSS_NAMES: readonly LossName[] = LossName.options

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
