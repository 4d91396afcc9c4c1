/**
 * ECharts option builders, one file per chart: plain functions from contract data to chart
 * options (no DOM), so the views stay small and the data shaping is unit-tested.
 */
export { MAX_POINTS, palette, percentAxis, type ChartOption } from './common'
export { lossOption } from './loss'
export { lrOption } from './lr'
export { metricsOption, recallKeys } from './metrics'
export { classSizeOption, sizeBins } from './classSize'
export { perClassOption } from './perClass'
export { compareLossOption, compareMetricOption } from './compare'
