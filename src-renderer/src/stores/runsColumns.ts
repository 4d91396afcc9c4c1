/** Columns of the runs table: what each shows and the `runs.list` sort key behind it. */
import { isRunListKey, type RunSummary } from '../../../src-preload/contract'
import { formatDate, formatPercent } from '../format'

export interface RunsColumn {
  key: string
  label: string
  value: (r: RunSummary) => string
  numeric?: boolean
}

const hp = (key: string, label: string): RunsColumn => ({
  key,
  label,
  numeric: true,
  value: (r) => {
    const v = (r.config as unknown as Record<string, unknown>)[key]
    return v === undefined ? '—' : String(v)
  }
})

export const RUNS_COLUMNS: RunsColumn[] = [
  { key: 'status', label: 'Status', value: (r) => r.status },
  { key: 'dataset', label: 'Dataset', value: (r) => r.datasetName },
  { key: 'loss', label: 'Loss', value: (r) => r.config.loss },
  {
    key: 'backbone',
    label: 'Backbone',
    value: (r) => ('name' in r.config.backbone ? r.config.backbone.name : r.config.backbone.kind)
  },
  { key: 'device', label: 'Device', value: (r) => r.backend },
  hp('lr', 'lr'),
  hp('batchSize', 'Batch'),
  hp('embeddingSize', 'Embedding'),
  hp('epochs', 'Epochs'),
  hp('seed', 'Seed'),
  {
    key: 'r1',
    label: 'R@1 (test)',
    numeric: true,
    value: (r) => formatPercent(r.testMetrics?.recall['1'])
  },
  {
    key: 'mapAtR',
    label: 'MAP@R (test)',
    numeric: true,
    value: (r) => formatPercent(r.testMetrics?.mapAtR)
  },
  { key: 'created', label: 'Created', value: (r) => formatDate(r.createdAt) }
]

export const DEFAULT_COLUMNS = ['status', 'dataset', 'loss', 'backbone', 'r1', 'mapAtR', 'created']

/** Parses the filter box: `key=value` pairs and `tag:name`, separated by spaces. */
export function parseFilter(text: string): {
  filters: { key: string; value: string }[]
  tag?: string
  error?: string
} {
  const filters: { key: string; value: string }[] = []
  let tag: string | undefined
  for (const tok of text.split(/\s+/).filter(Boolean)) {
    if (tok.startsWith('tag:') && tok.length > 4) tag = tok.slice(4)
    else if (tok.indexOf('=') > 0) {
      const eq = tok.indexOf('=')
      const key = tok.slice(0, eq)
      if (!isRunListKey(key))
        return {
          filters,
          tag,
          error: `"${key}" is not a column or setting to filter by: try status, dataset, loss, backbone, device, or a setting such as lr, epochs, batchSize, seed`
        }
      filters.push({ key, value: tok.slice(eq + 1) })
    } else return { filters, tag, error: `"${tok}": write key=value (loss=hist) or tag:name` }
  }
  return { filters, tag }
}
