/** Optimisers and learning-rate schedules. */
export {
  GroupedAdam,
  stepLr,
  type AdamGroup,
  type AdamState,
  type GroupedAdamOptions
} from './groupedAdam'
export { hasFusedAdam } from '../kernels/adam'
