import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { JobProgress } from '../../../src-preload/contract'
import { errorMessage, getApi } from '../api'

/** Background jobs (imports …) as last reported by `job` events. */
export const useJobsStore = defineStore('jobs', () => {
  const jobs = ref<Record<string, JobProgress>>({})

  getApi().onEvent((e) => {
    if (e.type === 'job') jobs.value = { ...jobs.value, [e.job.jobId]: e.job }
  })

  /** Asks the backend to cancel a job; returns an error message or null. */
  async function cancel(jobId: string): Promise<string | null> {
    try {
      await getApi().datasets.cancelJob({ jobId })
      return null
    } catch (err) {
      return errorMessage(err)
    }
  }

  return { jobs, cancel }
})
