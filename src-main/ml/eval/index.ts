/**
 * Evaluation: exact kNN engine, retrieval metrics (Recall@K, R-precision, MAP@R, NMI), gallery
 * embedding files. Plain TypeScript, usable from the trainer, the services and the CLI.
 *
 *   const r = await evaluate(emb, n, d, labels, { ks: RECALL_KS, nmi: true, seed, perQuery: true })
 *   runs.test_metrics = toMetrics(r); run_queries ← r.perQuery (ap = AP@R: r.perQuery.apAtR)
 *   writeGallery(file, emb, n, d) / readGallery(file, { n, d })
 *   const index = new RetrievalIndex(g.data, g.n, g.d, { labels })  // once per loaded gallery
 *   index.detail(row, k) → neighbours + missed positives + AP;  index.search(vector, k)
 *   knn(queries, nq, gallery, ng, d, k, { excludeSelf }) for batch neighbour lists
 */
export {
  l2NormalizeRows,
  l2NormalizeRows64,
  getEngine,
  releaseEngineCaches,
  type EngineChoice,
  type Precision,
  type SimEngine
} from './engine'
export { knn, TopK, type KnnOptions, type KnnResult } from './knn'
export {
  evaluate,
  queryDetail,
  RetrievalIndex,
  toMetrics,
  worstQueries,
  RECALL_KS,
  RECALL_KS_SOP,
  type EvalOptions,
  type EvalReport,
  type PerQueryResults,
  type ClassRecallAt1,
  type QueryDetail,
  type NeighbourHit,
  type MissedPositive,
  type RankedHit,
  type RetrievalIndexOptions
} from './metrics'
export { kmeans, type KMeansOptions, type KMeansResult } from './kmeans'
export { normalizedMutualInfo, type NmiAverage } from './nmi'
export {
  writeGallery,
  readGallery,
  readGalleryHeader,
  GALLERY_VERSION,
  type Gallery,
  type GalleryHeader
} from './gallery'
export { loadNativeKernel, type NativeStatus } from './native'
