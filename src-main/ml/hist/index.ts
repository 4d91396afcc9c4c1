/** HIST: prototypical distributions, hypergraph, HGNN and the loss. */
export { mahalanobisDistances, distributionLoss } from './distributions'
export {
  classesWithinBatch,
  presentClasses,
  incidenceMatrix,
  compactIncidence,
  propagationMatrix
} from './hypergraph'
export {
  hgnnForward,
  linearWide,
  BN_EPS,
  BN_MOMENTUM,
  LEAKY_SLOPE,
  type HgnnParams,
  type HgnnOutput
} from './hgnn'
export {
  histForward,
  HistLoss,
  type HistConfig,
  type HistParams,
  type HistOutputs
} from './histLoss'
