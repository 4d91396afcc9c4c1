/**
 * The datasets module: import, validation, storage, splits, thumbnails, media and the demo.
 * What other parts of the app use:
 * - importDataset(ctx, req, { signal, onProgress })       import or re-import (CLI, tests)
 * - getDatasetItems(ctx, id, selection?, spec?)            images + 0-based labels (trainer)
 * - getDatasetClasses(ctx, id, selection?, spec?)          the classes of that selection
 * - openRgb(absPath)                                       decode any image as 3-channel sRGB
 * - resolveMedia(ctx, urlPath)                             media URL → file (transports)
 * - ensureDemo(ctx)                                        the built-in Fashion-MNIST demo
 */
export { openRgb } from './decode'
export { DEMO_DATASET_ATTRIBUTION, ensureDemo } from './demo'
export { importDataset, type ImportOptions } from './importer'
export { resolveMedia, type MediaResult } from './media'
export {
  datasetDetail,
  datasetSummary,
  getDatasetClasses,
  getDatasetItems,
  listDatasets,
  listImages,
  type DatasetClassInfo,
  type DatasetItem,
  type ItemSelection
} from './queries'
export { relinkDataset } from './relink'
export { computeSplit } from './split'
