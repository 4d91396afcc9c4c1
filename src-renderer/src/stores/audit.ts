import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { AUDIT_DEFAULTS, type AuditReport } from '../../../src-preload/contract'
import { errorMessage, getApi } from '../api'
import { useJobsStore } from './jobs'

/** The audit of a run's dataset (label-mistake candidates, near duplicates) and its settings. */
export const useAuditStore = defineStore('audit', () => {
  const runId = ref<number | null>(null)
  const k = ref<number | ''>(AUDIT_DEFAULTS.k)
  const threshold = ref<number | ''>(AUDIT_DEFAULTS.threshold)
  const report = ref<AuditReport | null>(null)
  const loading = ref(false)
  const error = ref<string | null>(null)
  const jobs = useJobsStore()
  let seq = 0

  /** The running audit job of the shown run, for its progress bar. */
  const progress = computed(() => {
    const id = runId.value
    return (
      Object.values(jobs.jobs).find(
        (j) => j.kind === 'audit' && j.targetId === id && j.status === 'running'
      ) ?? null
    )
  })

  /** Audits run `id` with the current k and threshold (the first call embeds every image). */
  async function load(id: number): Promise<void> {
    const my = ++seq
    if (runId.value !== id) report.value = null
    runId.value = id
    loading.value = true
    error.value = null
    try {
      const r = await getApi().audit.report({
        runId: id,
        k: k.value === '' ? undefined : k.value,
        threshold: threshold.value === '' ? undefined : threshold.value
      })
      if (my === seq) report.value = r
    } catch (err) {
      if (my === seq) error.value = errorMessage(err)
    } finally {
      if (my === seq) loading.value = false
    }
  }

  /** Cancels the running audit of the shown run (its call then fails with a conflict). */
  async function cancel(): Promise<void> {
    const job = progress.value
    if (!job) return
    seq++
    loading.value = false
    const err = await jobs.cancel(job.jobId)
    error.value = err ?? 'Audit cancelled.'
  }

  return { runId, k, threshold, report, loading, error, progress, load, cancel }
})
