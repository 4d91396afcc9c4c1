/**
 * Experiment commands of the `hist` CLI, over the same experiments service as the app:
 *   hist sweep --dataset … --param tau --values 4,8,16,32,64 [--param2 alpha --values2 …]
 *              [every config option of `hist train`] [--json]
 *   hist ablation --dataset … [--variants hist,hist-ds-only,…] [train options] [--json]
 *   hist results --dataset <id> [--format markdown|csv|latex|json]
 * Sweeps and ablation sets train in frozen mode (the head on cached backbone features) unless
 * --fine-tune is given: that is what makes many runs practical on a CPU.
 */
import type { Command } from 'commander'
import {
  AblationVariant,
  isSweepParam,
  parseSweepValues,
  SWEEP_PARAMS,
  SweepValuesError,
  type ExperimentDetail,
  type SweepAxis
} from '../../src-preload/contract/experiments'
import type { TrainConfigInput } from '../../src-preload/contract/runs'
import { closeContext, type AppContext } from '../app/context'
import { createExperimentsService } from '../services/experiments'
import { createRunsService } from '../services/runs'
import { openCliContext, printResult, UsageError } from './common'
import {
  addTrainConfigOptions,
  formatMetrics,
  trainInputFromOptions,
  type TrainOptions
} from './train'
import { invoke } from '../dispatch'

interface SweepOptions extends TrainOptions {
  param: string
  values: string
  param2?: string
  values2?: string
}

interface AblationOptions extends TrainOptions {
  variants?: string
}

/** Parses one axis of --param/--values; bad input is a UsageError naming the option. */
export function parseAxis(param: string, values: string, flag: string): SweepAxis {
  if (!isSweepParam(param))
    throw new UsageError(`--${flag}: "${param}" cannot be swept; one of ${SWEEP_PARAMS.join(', ')}`)
  try {
    return { param, values: parseSweepValues(param, values) }
  } catch (err) {
    if (err instanceof SweepValuesError) throw new UsageError(`--values: ${err.message}`)
    throw err
  }
}

/** Frozen mode unless the user asked for fine-tuning (said on stderr). */
function frozenByDefault(
  o: TrainOptions,
  input: Partial<TrainConfigInput>,
  log: (s: string) => void
) {
  if (o.fineTune) return input
  if (!o.frozen)
    log(
      'Frozen mode (the default for experiments): each run trains the head on cached backbone features; pass --fine-tune to train the backbone too.'
    )
  return { ...input, frozen: true }
}

/** The JSON a finished experiment prints: each point with its values, run id and metrics. */
export function experimentResult(e: ExperimentDetail): unknown {
  return {
    experimentId: e.id,
    kind: e.kind,
    name: e.name,
    status: e.status,
    axes: e.axes,
    points: e.points.map((p) => ({
      label: p.label,
      values: p.values,
      variant: p.variant,
      runId: p.runId,
      status: p.status,
      baselineMetrics: p.baselineMetrics,
      testMetrics: p.testMetrics
    }))
  }
}

function describeExperiment(e: ExperimentDetail): string {
  const pct = (x: number | undefined): string => (x === undefined ? '—' : (x * 100).toFixed(1))
  const lines = [`${e.kind === 'sweep' ? 'Sweep' : 'Ablation set'} #${e.id} ${e.name}: ${e.status}`]
  for (const p of e.points)
    lines.push(
      `  ${p.label.padEnd(22)} run #${p.runId ?? '—'}  ${p.status.padEnd(9)}  R@1 ${pct(p.baselineMetrics?.recall['1'])} → ${pct(p.testMetrics?.recall['1'])}  MAP@R ${pct(p.testMetrics?.mapAtR)}`
    )
  return lines.join('\n')
}

/** Creates an experiment with `make`, follows its runs to the end and prints the result. */
async function runExperiment(
  cmd: Command,
  o: TrainOptions,
  make: (
    svc: ReturnType<typeof createExperimentsService>,
    base: TrainConfigInput
  ) => Promise<ExperimentDetail>
): Promise<void> {
  const ctx: AppContext = openCliContext(cmd)
  const log = (s: string): void => void process.stderr.write(`${s}\n`)
  const quiet = (s: string): void => (o.json ? undefined : log(s))
  const runs = createRunsService(ctx)
  try {
    const base = frozenByDefault(o, await trainInputFromOptions(ctx, o, quiet), log)
    const experiments = createExperimentsService(ctx, runs)
    const created = await make(experiments, base as TrainConfigInput)
    const labelOf = new Map(created.points.map((p) => [p.runId, p.label]))
    log(
      `${created.kind === 'sweep' ? 'Sweep' : 'Ablation set'} #${created.id}: ${created.total} runs queued.`
    )
    const off = ctx.events.on((ev) => {
      if (ev.type === 'run.epoch' && labelOf.has(ev.runId) && !o.json)
        log(
          `${labelOf.get(ev.runId)} epoch ${ev.record.epoch}: ${formatMetrics(ev.record.metrics)}`
        )
      else if (ev.type === 'run.status' && labelOf.has(ev.runId))
        log(
          `${labelOf.get(ev.runId)} (run #${ev.runId}): ${ev.status}${ev.message ? ` (${ev.message})` : ''}`
        )
    })
    let interrupts = 0
    const onSigint = (): void => {
      if (++interrupts > 1) process.exit(130)
      log('\nCancelling the experiment (Ctrl-C again to quit at once)…')
      void experiments.cancel({ id: created.id }).catch(() => undefined)
    }
    process.on('SIGINT', onSigint)
    for (const p of created.points) if (p.runId !== null) await runs.waitFor(p.runId)
    process.off('SIGINT', onSigint)
    off()
    const final = await experiments.get({ id: created.id })
    printResult(o.json, experimentResult(final), () => describeExperiment(final))
    process.exitCode = final.status === 'completed' ? 0 : final.status === 'cancelled' ? 130 : 1
  } finally {
    await runs.shutdown()
    closeContext(ctx)
  }
}

async function sweepCommand(cmd: Command, o: SweepOptions): Promise<void> {
  const axes = [parseAxis(o.param, o.values, 'param')]
  if ((o.param2 === undefined) !== (o.values2 === undefined))
    throw new UsageError('--param2 and --values2 go together (a two-parameter grid)')
  if (o.param2 !== undefined) {
    if (o.param2 === o.param) throw new UsageError('--param2 must differ from --param')
    axes.push(parseAxis(o.param2, o.values2!, 'param2'))
  }
  await runExperiment(cmd, o, (svc, base) =>
    invoke('experiments', svc, 'createSweep', { base, axes, name: o.name })
  )
}

async function ablationCommand(cmd: Command, o: AblationOptions): Promise<void> {
  let variants: AblationVariant[] | undefined
  if (o.variants !== undefined) {
    variants = o.variants.split(',').map((v) => {
      const r = AblationVariant.safeParse(v.trim())
      if (!r.success)
        throw new UsageError(
          `--variants: "${v}" is not one of ${AblationVariant.options.join(', ')}`
        )
      return r.data
    })
  }
  await runExperiment(cmd, o, (svc, base) =>
    invoke('experiments', svc, 'createAblation', { base, variants, name: o.name })
  )
}

async function resultsCommand(cmd: Command, o: { dataset: string; format: string }): Promise<void> {
  if (!/^\d+$/.test(o.dataset)) throw new UsageError('--dataset must be a dataset id')
  if (!['markdown', 'csv', 'latex', 'json'].includes(o.format))
    throw new UsageError('--format must be markdown, csv, latex or json')
  const ctx = openCliContext(cmd)
  try {
    const runs = createRunsService(ctx, { noRecover: true })
    // Through the dispatch like every CLI call: "--dataset abc" is an invalid payload, not NaN.
    const table = await invoke('experiments', createExperimentsService(ctx, runs), 'resultsTable', {
      datasetId: Number(o.dataset)
    })
    if (o.format === 'json') printResult(true, table, () => '')
    else process.stdout.write(table[o.format as 'markdown' | 'csv' | 'latex'])
  } finally {
    closeContext(ctx)
  }
}

/** Registers sweep, ablation and results on the program. */
export function registerExperiments(program: Command): void {
  const sweep = program
    .command('sweep')
    .description(
      'queue one run per value of a hyperparameter (or per cell of a two-parameter grid) and print R@1 / MAP@R per value; frozen mode unless --fine-tune'
    )
    .requiredOption('--param <name>', `hyperparameter to sweep: ${SWEEP_PARAMS.join(', ')}`)
    .requiredOption(
      '--values <spec>',
      'a list 4,8,16 | a range 0.5:2:0.5 | a geometric range 4:64:x2 | a log range 1e-4:1e-2:log5'
    )
    .option('--param2 <name>', 'a second hyperparameter, for a grid')
    .option('--values2 <spec>', 'values of the second hyperparameter')
  addTrainConfigOptions(sweep)
    .option('--json', 'print each value with its run id and metrics as JSON')
    .action((o: SweepOptions, c: Command) => sweepCommand(c, o))
  const ablation = program
    .command('ablation')
    .description(
      "queue the paper's self-evaluation on one dataset: HIST, L_ds only, hypergraph CE only, HIST with a plain graph, Normalized Softmax, Proxy-Anchor, Multi-Similarity"
    )
    .option('--variants <list>', `comma-separated subset of ${AblationVariant.options.join(', ')}`)
  addTrainConfigOptions(ablation)
    .option('--json', 'print each variant with its run id and metrics as JSON')
    .action((o: AblationOptions, c: Command) => ablationCommand(c, o))
  program
    .command('results')
    .description('the best run of each loss on a dataset, as Markdown, CSV or LaTeX')
    .requiredOption('--dataset <id>', 'dataset id')
    .option('--format <format>', 'markdown, csv, latex or json', 'markdown')
    .action((o: { dataset: string; format: string }, c: Command) => resultsCommand(c, o))
}
