/** A tiny promise pool: runs `fn` over items with bounded concurrency, in order of results. */
import { CancelledError } from '../app/jobs'

/**
 * Maps `items` through async `fn` with at most `concurrency` calls in flight. Stops starting
 * new calls once `signal` aborts and then rejects with CancelledError.
 */
export async function mapPool<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<R>,
  signal?: AbortSignal
): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      if (signal?.aborted) throw new CancelledError()
      const i = next++
      results[i] = await fn(items[i], i)
    }
  }
  const n = Math.max(1, Math.min(concurrency, items.length))
  await Promise.all(Array.from({ length: n }, worker))
  if (signal?.aborted) throw new CancelledError()
  return results
}
