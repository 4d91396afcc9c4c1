/**
 * Validate once, at the edge: the dispatch parses every payload with its contract schema and a
 * service only ever sees the parsed output (defaults applied). A bad payload is refused with
 * its field issues before any service runs, the same for Electron IPC (which returns the
 * dispatch's reply as is) and for the CLI's `invoke`; server.test.ts holds web mode to the
 * same table.
 */
import { describe, expect, it } from 'vitest'
import { InvalidError, TrainConfig } from '../../src-preload/contract'
import { smallConfig } from '../runs/smallRuns.testutil'
import { BAD_PAYLOADS, spyOf, spyServices } from './badPayloads.testutil'
import { dispatch, invoke } from './index'

describe('validation at the edge', () => {
  it.each(BAD_PAYLOADS)(
    '$channel refuses a bad payload with its field issues, service not called',
    async ({ channel, payload, paths, message }) => {
      const s = spyServices()
      const reply = await dispatch(s, channel, payload)
      expect(reply).toMatchObject({ error: { code: 'invalid_payload' } })
      const err = (reply as { error: { message: string; issues: { path: string }[] } }).error
      expect(err.message.startsWith(`${channel}: invalid payload: `)).toBe(true)
      expect(err.message).toMatch(message)
      expect(err.issues.map((i) => i.path).sort()).toEqual([...paths].sort())
      expect(spyOf(s, channel)).not.toHaveBeenCalled()
    }
  )

  it.each(BAD_PAYLOADS)(
    '$channel: the CLI (invoke) gets the same InvalidError',
    async ({ channel, payload, paths }) => {
      const s = spyServices()
      const [name, method] = channel.split('.') as ['runs', 'start']
      const err = await invoke(name, s[name], method, payload).then(
        () => null,
        (e: unknown) => e
      )
      expect(err).toBeInstanceOf(InvalidError)
      expect((err as InvalidError).issues.map((i) => i.path).sort()).toEqual([...paths].sort())
      expect(spyOf(s, channel)).not.toHaveBeenCalled()
    }
  )

  it('hands the service the parsed output: defaults applied, nested configs included', async () => {
    const s = spyServices()
    await dispatch(s, 'retrieval.query', { runId: 3, imageId: 4 })
    expect(spyOf(s, 'retrieval.query')).toHaveBeenCalledWith({
      runId: 3,
      imageId: 4,
      k: 16,
      gallery: 'test'
    })
    await dispatch(s, 'runs.start', smallConfig(2))
    expect(spyOf(s, 'runs.start')).toHaveBeenCalledWith(TrainConfig.parse(smallConfig(2)))
    const sweep = { base: smallConfig(2), axes: [{ param: 'tau', values: [4, 8] }] }
    await dispatch(s, 'experiments.createSweep', sweep)
    const got = spyOf(s, 'experiments.createSweep').mock.calls[0][0] as { base: TrainConfig }
    expect(got.base).toEqual(TrainConfig.parse(smallConfig(2)))
    await dispatch(s, 'datasets.setSplit', {
      id: 1,
      split: { kind: 'class-ratio', trainRatio: 0.5 }
    })
    expect(spyOf(s, 'datasets.setSplit')).toHaveBeenCalledWith({
      id: 1,
      split: { kind: 'class-ratio', trainRatio: 0.5, seed: 1 }
    })
  })
})
