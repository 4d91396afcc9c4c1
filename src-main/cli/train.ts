/**
 * Training commands of the `hist` CLI, over the same runs service as the app:
 *   hist train --dataset <id|path|demo> [--preset ...] [--loss ...] [--epochs N] [--frozen|--fine-tune] ...
 *   hist eval --run <id> [--json]
 *   hist runs [--json]
 *   hist resume --run <id> [--json]
 *   hist export --run <id> --out <dir>
 *   hist import-run <dir>
 * Progress goes to stderr (a cli-progress bar, unless --json); results go to stdout.
 */
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import type { Command } from 'commander'
import type { Metrics } from '../../src-preload/contract/common'
import { LossName, type TrainConfigInput } from '../../src-preload/contract/runs'
import { ensureDemo } from '../datasets/demo'
import { importDataset } from '../datasets/importer'
import {
  applyTrainPreset,
  isPresetName,
  TRAIN_PRESETS,
  type PresetName
} from '../../src-preload/contract/presets'
import { evaluateRun } from '../runs/evaluateRun'
import { importRunBundle } from '../runs/export'
import { closeContext, type AppContext } from '../app/context'
import { createRunsService } from '../services/runs'
import { backendLabel, initBackend } from '../ml/backend'
import { deviceOption, EXIT, openCliContext, printResult, setExitCode, UsageError } from './common'
import { invoke } from '../dispatch'
import { collect, runsListInput, SORT_HELP, type RunsListOptions } from './runsQuery'
import { announceAdopted, describeRun, followRun, formatMetrics, orphanNote } from './follow'
import { parseSeedList, trainSeeds } from './seeds'

/** Options of `hist train`. */
export interface TrainOptions {
  dataset: string
  preset?: string
  loss?: string
  epochs?: string
  frozen?: boolean
  fineTune?: boolean
  backbone?: string
  seed?: string
  batchSize?: string
  sampler?: string
  ipc?: string
  microBatch?: string
  lr?: string
  name?: string
  modelSelection?: string
  seeds?: string
  device?: string
  json?: boolean
}

function intOption(name: string, v: string | undefined, min = 1): number | undefined {
  if (v === undefined) return undefined
  const n = Number(v)
  if (!Number.isInteger(n) || n < min)
    throw new UsageError(`--${name} must be an integer ≥ ${min}, got "${v}"`)
  return n
}

/** Resolves --dataset: 'demo', a dataset id, or a folder/list file to import first. */
async function resolveDataset(
  ctx: AppContext,
  text: string,
  log: (s: string) => void
): Promise<number> {
  if (text === 'demo') {
    log('Preparing the built-in Fashion-MNIST demo dataset…')
    return (await ensureDemo(ctx)).id
  }
  if (/^\d+$/.test(text)) return Number(text)
  const path = resolve(text)
  if (!existsSync(path))
    throw new UsageError(
      `--dataset: "${text}" is neither a dataset id, "demo", nor an existing path`
    )
  log(`Importing ${path}…`)
  const res = await importDataset(ctx, { path, format: 'auto' })
  log(
    `Dataset #${res.dataset.id} ${res.dataset.name}: ${res.dataset.classCount} classes, ${res.dataset.imageCount} images.`
  )
  return res.dataset.id
}

// formatMetrics lives in ./follow (with the rest of following a run); re-exported for sweep.
export { formatMetrics }

/** Checks the config options of `hist train` (shared by `hist sweep`); throws UsageError. */
function checkTrainOptions(o: TrainOptions): void {
  if (o.frozen && o.fineTune) throw new UsageError('--frozen and --fine-tune exclude each other')
  if (o.preset && !isPresetName(o.preset))
    throw new UsageError(`--preset must be one of ${Object.keys(TRAIN_PRESETS).join(', ')}`)
  if (o.loss && !LossName.safeParse(o.loss).success)
    throw new UsageError(`--loss must be one of ${LossName.options.join(', ')}`)
  if (o.sampler && !['random', 'balanced'].includes(o.sampler))
    throw new UsageError('--sampler must be random or balanced')
  if (o.backbone && !['mobilenetv2', 'small-cnn'].includes(o.backbone))
    throw new UsageError('--backbone must be mobilenetv2 or small-cnn')
  if (o.modelSelection && !['refit', 'val', 'test'].includes(o.modelSelection))
    throw new UsageError('--model-selection must be refit, val or test')
  if (o.seeds !== undefined && o.seed !== undefined)
    throw new UsageError('--seed and --seeds exclude each other')
  if (o.seeds !== undefined) parseSeedList(o.seeds)
}

/** `--micro-batch auto|N`. */
function microBatchOption(v: string | undefined): 'auto' | number | undefined {
  if (v === undefined || v === 'auto') return v
  const n = Number(v)
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(`--micro-batch must be "auto" or an integer ≥ 1, got "${v}"`)
  return n
}

/**
 * The training config the options of `hist train` describe (preset under explicit values),
 * importing --dataset first when it is a path. `hist sweep` builds its base config with this.
 */
export async function trainInputFromOptions(
  ctx: AppContext,
  o: TrainOptions,
  log: (s: string) => void
): Promise<Partial<TrainConfigInput>> {
  checkTrainOptions(o)
  const epochs = intOption('epochs', o.epochs)
  const seed = intOption('seed', o.seed, Number.MIN_SAFE_INTEGER)
  const batchSize = intOption('batch-size', o.batchSize, 4)
  const ipc = intOption('ipc', o.ipc, 2)
  const microBatch = microBatchOption(o.microBatch)
  const lr = o.lr === undefined ? undefined : Number(o.lr)
  if (lr !== undefined && !(lr > 0))
    throw new UsageError(`--lr must be a positive number, got "${o.lr}"`)
  const datasetId = await resolveDataset(ctx, o.dataset, log)
  return applyTrainPreset(o.preset as PresetName | undefined, {
    datasetId,
    loss: o.loss as LossName | undefined,
    epochs,
    frozen: o.fineTune ? false : o.frozen ? true : undefined,
    backbone: o.backbone
      ? o.backbone === 'small-cnn'
        ? { kind: 'small-cnn', inputSize: 32 }
        : { kind: 'mobilenetv2' }
      : undefined,
    seed,
    batchSize,
    sampler: o.sampler as 'random' | 'balanced' | undefined,
    ipc,
    microBatch,
    lr,
    name: o.name,
    modelSelection: o.modelSelection as 'refit' | 'val' | 'test' | undefined,
    device: o.device === undefined ? undefined : deviceOption(o.device)
  })
}

/** Probes for a GPU in this process; throws NoDeviceError (every backend's reason) when none works. */
async function checkGpu(log: (s: string) => void): Promise<void> {
  const report = await initBackend({ device: 'gpu' })
  log(`Device: ${backendLabel(report)}.`)
  if (report.adapter?.software)
    log(
      'Note: this WebGPU adapter is a software one (a CPU implementation): slower than --device cpu.'
    )
}

async function trainCommand(cmd: Command, o: TrainOptions): Promise<void> {
  checkTrainOptions(o)
  const ctx = openCliContext(cmd)
  const log = (s: string): void => void process.stderr.write(`${s}\n`)
  const quiet = (s: string): void => (o.json ? undefined : log(s))
  let service: ReturnType<typeof createRunsService> | null = null
  try {
    const input = await trainInputFromOptions(ctx, o, quiet)
    // --device gpu with no usable GPU is an error here, before a run is queued, not a CPU run.
    if (input.device === 'gpu') await checkGpu(quiet)
    // Runs an earlier owner left behind (killed, crashed) resume first: say so.
    service = createRunsService(ctx, { noRecover: true })
    announceAdopted(ctx, service, service.recover(), quiet)
    if (o.seeds !== undefined) {
      const runs = await trainSeeds(
        service,
        input as TrainConfigInput,
        parseSeedList(o.seeds),
        quiet
      )
      printResult(o.json, runs, () => runs.map(describeRun).join('\n'))
      setExitCode(runs.every((r) => r.status === 'completed') ? EXIT.ok : EXIT.failed)
      return
    }
    const run = await invoke('runs', service, 'start', input)
    quiet(
      `Run #${run.id} queued: ${run.name} (${run.config.epochs} epoch${run.config.epochs === 1 ? '' : 's'}, ${run.config.frozen ? 'frozen backbone' : 'fine-tuning'}, ${run.config.backbone.kind}).`
    )
    setExitCode(await followRun(ctx, service, run.id, { json: o.json }))
  } finally {
    if (service) await service.shutdown()
    closeContext(ctx)
  }
}

async function evalCommand(
  cmd: Command,
  o: { run: string; json?: boolean; device?: string }
): Promise<void> {
  const id = intOption('run', o.run)!
  // Embedding the test split runs in this process: on the asked device (else HIST_DEVICE/auto).
  if (o.device) await initBackend({ device: deviceOption(o.device) })
  const ctx = openCliContext(cmd)
  try {
    const service = createRunsService(ctx, { noRecover: true })
    const run = service.repo.get(id)
    const metrics = await evaluateRun(ctx, id)
    printResult(
      o.json,
      { runId: id, status: run.status, baselineMetrics: run.baselineMetrics, metrics },
      () =>
        [
          `Run #${id} ${run.name} (${run.status})`,
          `  before training: ${formatMetrics(run.baselineMetrics)}`,
          `  evaluated now:   ${formatMetrics(metrics)}`
        ].join('\n')
    )
  } finally {
    closeContext(ctx)
  }
}

async function runsCommand(cmd: Command, o: RunsListOptions & { json?: boolean }): Promise<void> {
  const query = runsListInput(o)
  const ctx = openCliContext(cmd)
  try {
    const service = createRunsService(ctx, { noRecover: true })
    const runs = await invoke('runs', service, 'list', query)
    const json = runs.map((r) => ({ ...r, interrupted: orphanNote(service.repo, r) }))
    printResult(o.json, json, () => {
      if (!runs.length) {
        const narrowed = (query.filters?.length ?? 0) > 0 || query.tag !== undefined
        return narrowed ? 'No runs match.' : 'No runs yet. Try: npm run demo'
      }
      const pct = (m: Metrics | null): string => (m ? (m.recall['1'] * 100).toFixed(1) : '—')
      const notes: string[] = []
      const rows = runs.map((r) => {
        const orphan = orphanNote(service.repo, r)
        if (orphan) notes.push(`* run #${r.id} is ${orphan}.`)
        return [
          `#${r.id}`,
          `${r.status}${orphan ? '*' : ''}`.padEnd(9),
          `${r.epochsDone}/${r.config.epochs}`.padEnd(7),
          `R@1 ${pct(r.baselineMetrics)} → ${pct(r.testMetrics)}`.padEnd(20),
          `${r.name}${r.datasetId === null ? ` (dataset ${r.datasetName} removed)` : ''}` +
            (r.tags.length ? `  [${r.tags.join(', ')}]` : '')
        ].join('  ')
      })
      return ['id   status     epochs   R@1 before → after    name', ...rows, ...notes].join('\n')
    })
  } finally {
    closeContext(ctx)
  }
}

/** `hist resume`: a paused run resumes, a failed one is retried from its last good checkpoint. */
async function resumeCommand(cmd: Command, o: { run: string; json?: boolean }): Promise<void> {
  const id = intOption('run', o.run)!
  const ctx = openCliContext(cmd)
  const log = (s: string): void => (o.json ? undefined : void process.stderr.write(`${s}\n`))
  let service: ReturnType<typeof createRunsService> | null = null
  try {
    service = createRunsService(ctx, { noRecover: true })
    const run = service.repo.get(id)
    const adopted = service.recover()
    announceAdopted(
      ctx,
      service,
      adopted.filter((a) => a !== id),
      log
    )
    // The queue may start the run (and log where it resumes from) before followRun listens.
    const early = ctx.events.on((ev) => {
      if (ev.type === 'run.log' && ev.runId === id) log(`[${ev.entry.level}] ${ev.entry.message}`)
    })
    try {
      if (adopted.includes(id)) log(`Run #${id} was interrupted; resuming it.`)
      else if (run.status === 'paused') await service.resume({ id })
      else if (run.status === 'failed') await service.retry({ id })
      else
        throw new UsageError(
          `run ${id} is ${run.status}; only a paused, failed or interrupted run can be resumed`
        )
    } finally {
      early()
    }
    setExitCode(await followRun(ctx, service, id, { json: o.json }))
  } finally {
    if (service) await service.shutdown()
    closeContext(ctx)
  }
}

async function exportCommand(
  cmd: Command,
  o: { run: string; out: string; format: string; json?: boolean }
): Promise<void> {
  const id = intOption('run', o.run)!
  if (o.format !== 'bundle' && o.format !== 'tfjs')
    throw new UsageError(`--format must be bundle or tfjs, got '${o.format}'`)
  const ctx = openCliContext(cmd)
  try {
    const service = createRunsService(ctx, { noRecover: true })
    const res = await invoke('runs', service, 'exportRun', {
      id,
      outDir: resolve(o.out),
      format: o.format
    })
    const what = o.format === 'tfjs' ? 'the embedding model (TF.js LayersModel) of run' : 'run'
    printResult(o.json, res, () => `Exported ${what} #${id} to ${res.path}`)
  } finally {
    closeContext(ctx)
  }
}

async function importRunCommand(cmd: Command, dir: string, o: { json?: boolean }): Promise<void> {
  const ctx = openCliContext(cmd)
  try {
    const res = importRunBundle(ctx, resolve(dir))
    printResult(
      o.json,
      res,
      () =>
        `Imported run as #${res.id} ${res.name}${res.warnings.length ? `\n${res.warnings.map((w) => `  warning: ${w}`).join('\n')}` : ''}`
    )
  } finally {
    closeContext(ctx)
  }
}

/** Adds the training-config options of `hist train` to a command (`hist sweep` reuses them). */
export function addTrainConfigOptions(cmd: Command): Command {
  return cmd
    .requiredOption(
      '--dataset <id|path|demo>',
      'a dataset id, a folder or list file to import, or "demo"'
    )
    .option('--preset <name>', `hyperparameter preset: ${Object.keys(TRAIN_PRESETS).join(', ')}`)
    .option('--loss <name>', `loss: ${LossName.options.join(', ')}`)
    .option('--epochs <n>', 'number of epochs')
    .option('--frozen', 'train the head on cached backbone features (fast)')
    .option('--fine-tune', 'train the backbone too (slow on a CPU)')
    .option('--backbone <name>', 'mobilenetv2 or small-cnn')
    .option('--seed <n>', 'random seed (same seed, same backend: same run)')
    .option('--batch-size <n>', 'images per batch')
    .option(
      '--sampler <random|balanced>',
      'random batches (default) or class-balanced ones (pair losses: triplet, multi-similarity)'
    )
    .option('--ipc <n>', 'balanced sampler: images per class in a batch (default 4)')
    .option(
      '--micro-batch <n|auto>',
      "fine-tuning: images per backbone pass; the step stays exact for the whole batch (default auto: split only when the backend's memory needs it, e.g. wasm at 224 px)"
    )
    .option('--lr <x>', 'learning rate of the backbone and the embedding head')
    .option(
      '--model-selection <refit|val|test>',
      'refit (default): pick the epoch count on a validation split, then train on all classes; val: keep the best validation epoch; test: pick on test (official, optimistic)'
    )
    .option(
      '--device <auto|gpu|cpu>',
      'where to train and embed: auto (a hardware GPU if usable, else the CPU), gpu (fails if none), cpu'
    )
    .option('--name <text>', 'a name for the run')
}

/** Registers train, eval, runs, export and import-run on the program. */
export function registerTrain(program: Command): void {
  const train = program
    .command('train')
    .description(
      'train an embedding model (queued; one training at a time), printing Recall@K before and after'
    )
  addTrainConfigOptions(train)
    .option('--seeds <list>', 'queue one run per seed, e.g. 1,2,3, and print mean ± sd')
    .option('--json', 'print the final run as JSON and no progress bar')
    .action((o: TrainOptions, cmd: Command) => trainCommand(cmd, o))
  program
    .command('eval')
    .description("evaluate a run's model on its test split")
    .requiredOption('--run <id>', 'run id')
    .option('--device <auto|gpu|cpu>', 'where to embed the test images (default: auto)')
    .option('--json', 'print JSON')
    .action((o: { run: string; json?: boolean; device?: string }, cmd: Command) =>
      evalCommand(cmd, o)
    )
  program
    .command('runs')
    .description('list training runs (newest first unless sorted)')
    .option('--sort <key>', SORT_HELP)
    .option('--desc', 'sort descending')
    .option('--filter <key=value>', 'only runs whose column equals value (repeatable)', collect)
    .option('--tag <tag>', 'only runs with this tag')
    .option('--json', 'print JSON')
    .action((o: RunsListOptions & { json?: boolean }, cmd: Command) => runsCommand(cmd, o))
  program
    .command('resume')
    .description(
      'resume a paused or interrupted run, or retry a failed one from its last checkpoint that verifies'
    )
    .requiredOption('--run <id>', 'run id')
    .option('--json', 'print the final run as JSON and no progress bar')
    .action((o: { run: string; json?: boolean }, cmd: Command) => resumeCommand(cmd, o))
  program
    .command('export')
    .description(
      'export a run bundle (config, weights, embeddings as .npy and CSV, metrics) into a folder, or with --format tfjs its embedding network as a TF.js LayersModel'
    )
    .requiredOption('--run <id>', 'run id')
    .requiredOption('--out <dir>', 'folder to write the bundle into')
    .option(
      '--format <format>',
      'bundle (the app run bundle) or tfjs (model.json + weight shards + preprocessing.json)',
      'bundle'
    )
    .option('--json', 'print JSON')
    .action((o: { run: string; out: string; format: string; json?: boolean }, cmd: Command) =>
      exportCommand(cmd, o)
    )
  program
    .command('import-run <dir>')
    .description('import a run bundle written by `hist export`')
    .option('--json', 'print JSON')
    .action((dir: string, o: { json?: boolean }, cmd: Command) => importRunCommand(cmd, dir, o))
}
