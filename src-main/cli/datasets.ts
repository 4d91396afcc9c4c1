/**
 * Dataset commands of the `hist` CLI:
 *   hist import <path> [--format F] [--name N] [--split-groups a,b:c,d] [--max-image-pixels N] [--json]
 *   hist datasets [--json]
 *   hist demo [--json]
 * Bad input (missing path, unknown format, a group split that does not fit) exits with code 2.
 */
import cliProgress from 'cli-progress'
import type { Command } from 'commander'
import {
  DatasetFormat,
  type DatasetProblem,
  type DatasetSummary,
  type ImportResult
} from '../../src-preload/contract'
import { ensureDemo } from '../datasets/demo'
import { importDataset } from '../datasets/importer'
import { datasetDetail, listDatasets } from '../datasets/queries'
import { InvalidError } from '../../src-preload/contract/errors'
import { MAX_IMAGE_PIXELS_ENV, parsePixelLimit } from '../ml/data/imageLimits'
import { closeContext } from '../app/context'
import { applySplit } from '../services/datasets'
import { openCliContext, printResult, UsageError } from './common'

/** Options of `hist import`. */
interface ImportCliOptions {
  /** Dataset format, or auto-detection. */
  format: string
  /** Display name. */
  name?: string
  /** Group split as "train1,train2:test1,test2". */
  splitGroups?: string
  /** Print JSON instead of text. */
  json?: boolean
  /** Largest image (pixels) imported, e.g. "300M". */
  maxImagePixels?: string
}

/** Parses `--split-groups train1,train2:test1,test2` into a group SplitSpec. */
export function parseSplitGroups(text: string): { kind: 'group'; train: string[]; test: string[] } {
  const parts = text.split(':')
  const list = (s: string): string[] =>
    s
      .split(',')
      .map((g) => g.trim())
      .filter(Boolean)
  if (parts.length !== 2 || list(parts[0]).length === 0 || list(parts[1]).length === 0) {
    throw new UsageError(`--split-groups must look like "train1,train2:test1,test2", got "${text}"`)
  }
  return { kind: 'group', train: list(parts[0]), test: list(parts[1]) }
}

function splitsLine(d: DatasetSummary): string {
  if (d.splits.length === 0) return 'no split (all classes unsplit)'
  return d.splits
    .map((s) => `${s.name} ${s.classCount} classes / ${s.imageCount} images`)
    .join('; ')
}

function problemLines(problems: DatasetProblem[], max = 50): string[] {
  const lines = problems
    .slice(0, max)
    .map(
      (p) => `    ${p.kind.padEnd(18)} ${p.relPath}: ${p.message}${p.excluded ? ' [excluded]' : ''}`
    )
  if (problems.length > max)
    lines.push(`    ... and ${problems.length - max} more (use --json for all)`)
  return lines
}

/** The human-readable summary of an import. */
export function formatImport(res: ImportResult, groups: string[]): string {
  const d = res.dataset
  const lines = [
    res.message,
    `dataset ${d.id} "${d.name}" (${d.format}) at ${d.root}`,
    `  classes: ${d.classCount}${groups.length ? ` in ${groups.length} groups` : ''}`,
    `  images: ${d.imageCount}`,
    `  splits: ${splitsLine(d)}`
  ]
  if (res.changes) {
    const c = res.changes
    lines.push(
      `  changes: ${c.added} added, ${c.removed} removed, ${c.modified} modified, ${c.unchanged} unchanged`
    )
  }
  lines.push(`  problems: ${res.problems.length}`)
  lines.push(...problemLines(res.problems))
  return lines.join('\n')
}

function makeBar(enabled: boolean): {
  update: (d: number, t: number, m: string) => void
  stop: () => void
} {
  if (!enabled || !process.stderr.isTTY) return { update: () => undefined, stop: () => undefined }
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: '{bar} {value}/{total} {msg}',
      hideCursor: true,
      clearOnComplete: true
    },
    cliProgress.Presets.shades_classic
  )
  let started = false
  return {
    update: (done, total, msg) => {
      if (total <= 0) return
      if (!started) {
        bar.start(total, 0, { msg })
        started = true
      }
      bar.setTotal(total)
      bar.update(done, { msg })
    },
    stop: () => {
      if (started) bar.stop()
    }
  }
}

/** Registers `import`, `datasets` and `demo` on the program. */
export function registerDatasetCommands(program: Command): void {
  program
    .command('import')
    .description(
      'import (or re-import) a dataset: a class-per-folder tree, CUB, SOP, In-Shop, Cars196 or a CSV'
    )
    .argument('<path>', 'dataset folder, or its CSV / list / .mat file')
    .option('--format <format>', `one of ${DatasetFormat.options.join(', ')}`, 'auto')
    .option('--name <name>', 'display name (default: the folder name)')
    .option('--split-groups <train:test>', 'split by group, e.g. "Greek,Latin:Korean,Tagalog"')
    .option(
      '--max-image-pixels <n>',
      `refuse images above n pixels (width × height; default ${MAX_IMAGE_PIXELS_ENV} or 100M)`
    )
    .option('--json', 'print the result as JSON')
    .action(async (path: string, opts: ImportCliOptions, cmd: Command) => {
      const format = DatasetFormat.safeParse(opts.format)
      if (!format.success) {
        throw new UsageError(
          `unknown format "${opts.format}"; use one of ${DatasetFormat.options.join(', ')}`
        )
      }
      if (opts.name !== undefined && !opts.name.trim())
        throw new UsageError('--name must not be empty')
      const split = opts.splitGroups !== undefined ? parseSplitGroups(opts.splitGroups) : null
      let maxImagePixels: number | undefined
      if (opts.maxImagePixels !== undefined) {
        maxImagePixels = parsePixelLimit(opts.maxImagePixels) ?? undefined
        if (maxImagePixels === undefined)
          throw new UsageError(
            `--max-image-pixels must be a positive pixel count such as 100000000 or 100M, got "${opts.maxImagePixels}"`
          )
      }
      const ctx = openCliContext(cmd)
      const bar = makeBar(!opts.json)
      try {
        let res: ImportResult
        try {
          res = await importDataset(
            ctx,
            { path, format: format.data, name: opts.name },
            { onProgress: (d, t, m) => bar.update(d, t, m), maxImagePixels }
          )
        } catch (err) {
          if (err instanceof InvalidError) throw new UsageError(err.message)
          throw err
        } finally {
          bar.stop()
        }
        if (split) {
          try {
            res = { ...res, dataset: applySplit(ctx, res.dataset.id, split) }
          } catch (err) {
            if (err instanceof InvalidError) {
              throw new UsageError(
                `dataset ${res.dataset.id} was imported, but --split-groups: ${err.message}`
              )
            }
            throw err
          }
        }
        const groups = datasetDetail(ctx, res.dataset.id).groups
        printResult(opts.json, { ...res, groups }, () => formatImport(res, groups))
      } finally {
        closeContext(ctx)
      }
    })

  program
    .command('datasets')
    .description('list the imported datasets')
    .option('--json', 'print the list as JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const ctx = openCliContext(cmd)
      try {
        const list = listDatasets(ctx)
        printResult(opts.json, list, () =>
          list.length === 0
            ? 'no datasets yet: hist import <folder> or hist demo'
            : list
                .map(
                  (d) =>
                    `${String(d.id).padStart(3)}  ${d.name}  [${d.format}${d.builtIn ? ', built-in' : ''}]  ` +
                    `${d.classCount} classes, ${d.imageCount} images, ${d.problemCount} problems; ` +
                    `${splitsLine(d)}\n     ${d.root}${d.rootExists ? '' : '  (MISSING: relink it)'}`
                )
                .join('\n')
        )
      } finally {
        closeContext(ctx)
      }
    })

  program
    .command('demo')
    .description('create (if needed) the built-in Fashion-MNIST demo dataset')
    .option('--json', 'print the dataset as JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const ctx = openCliContext(cmd)
      try {
        const d = await ensureDemo(ctx)
        printResult(
          opts.json,
          d,
          () =>
            `dataset ${d.id} "${d.name}": ${d.classCount} classes, ${d.imageCount} images; ${splitsLine(d)}\n  ${d.root}`
        )
      } finally {
        closeContext(ctx)
      }
    })
}
