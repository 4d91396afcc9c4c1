/** Small formatting helpers shared by the views (pure, no DOM). */

/** "1 h 02 min", "3 min 05 s", "12 s"; an em dash for unknown. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—'
  const s = Math.max(0, Math.round(seconds))
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const sec = s % 60
  if (h > 0) return `${h} h ${String(m).padStart(2, '0')} min`
  if (m > 0) return `${m} min ${String(sec).padStart(2, '0')} s`
  return `${sec} s`
}

/** A 0..1 value as a percentage with one decimal ("61.5 %"); em dash for missing. */
export function formatPercent(v: number | null | undefined, digits = 1): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—'
  return `${(v * 100).toFixed(digits)} %`
}

/** Local date and time without seconds. */
export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '—'
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  return d.toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit'
  })
}

/** A number for tables: integers as is, others with up to 4 significant digits. */
export function formatNumber(v: unknown): string {
  if (v === null || v === undefined) return '—'
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return String(v)
    if (Number.isInteger(v)) return v.toLocaleString()
    const a = Math.abs(v)
    if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2)
    return String(Number(v.toPrecision(4)))
  }
  if (typeof v === 'boolean') return v ? 'yes' : 'no'
  if (typeof v === 'object') return JSON.stringify(v)
  return String(v)
}

/** "1 image" / "3 images". */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n.toLocaleString()} ${n === 1 ? word : many}`
}

/** The split on which a run picks its best epoch: its per-epoch metrics are measured there. */
export function selectionSplit(config: { modelSelection: string }): string {
  return config.modelSelection === 'test' ? 'test split' : 'validation split'
}

/** The compute backend of a run for its header; a placeholder until the trainer reports it. */
export function backendLabel(backend: string | null | undefined): string {
  return backend ? `backend ${backend}` : 'backend not known yet'
}

/**
 * Whether a run's test R@1 fell below its untrained baseline: the backend's `belowBaseline` flag
 * (trustcore) when present, else computed from the two metrics.
 */
export function isBelowBaseline(run: {
  belowBaseline?: boolean
  testMetrics: { recall: Record<string, number> } | null
  baselineMetrics: { recall: Record<string, number> } | null
}): boolean {
  if (run.belowBaseline !== undefined) return run.belowBaseline
  const after = run.testMetrics?.recall['1']
  const before = run.baselineMetrics?.recall['1']
  return after !== undefined && before !== undefined && after < before
}

/**
 * A job's progress line: its message, then "— done of total" when that says something: not for
 * a one-step job (total ≤ 1, e.g. a PCA reported as step 0 of 1) and not when the message
 * already counts (a UMAP job says "epoch 10 of 200" itself).
 */
export function progressText(p: { message: string; done: number; total: number }): string {
  if (p.total <= 1 || p.message.includes(`${p.done} of ${p.total}`)) return p.message
  return `${p.message} — ${p.done.toLocaleString()} of ${p.total.toLocaleString()}`
}
