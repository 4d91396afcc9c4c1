/**
 * The Experiments view's form: a base config (defaults + preset, or a copy of an existing run's
 * config) and either the swept axes or the ablation variants. Pure functions, unit-tested.
 */
import {
  applyTrainPreset,
  isPresetName,
  parseSweepValues,
  SweepValuesError,
  type PresetName,
  type RunSummary,
  type SweepAxis,
  type SweepParam,
  type TrainConfigInput
} from '../../../src-preload/contract'

export interface ExperimentForm {
  /** 0: build the base from dataset + preset + backbone; else copy that run's config. */
  fromRunId: number
  datasetId: number | null
  preset: PresetName | ''
  backbone: 'mobilenetv2' | 'small-cnn'
  epochs: number
  seed: number
  /** Frozen mode, the default for experiments. */
  frozen: boolean
  param: SweepParam
  values: string
  grid: boolean
  param2: SweepParam
  values2: string
  name: string
}

export function defaultExperimentForm(): ExperimentForm {
  return {
    fromRunId: 0,
    datasetId: null,
    preset: 'cub',
    backbone: 'mobilenetv2',
    epochs: 10,
    seed: 1,
    frozen: true,
    param: 'tau',
    values: '4,8,16,32,64',
    grid: false,
    param2: 'alpha',
    values2: '0.5,1.1,2',
    name: ''
  }
}

/** The values of one axis, or the parse error in words. */
export function previewAxis(
  param: SweepParam,
  text: string
): { values: number[] } | { error: string } {
  try {
    return { values: parseSweepValues(param, text) }
  } catch (err) {
    if (err instanceof SweepValuesError) return { error: err.message }
    throw err
  }
}

/** The swept axes of the form, or the first error. */
export function formAxes(f: ExperimentForm): { axes: SweepAxis[] } | { error: string } {
  const a = previewAxis(f.param, f.values)
  if ('error' in a) return a
  const axes: SweepAxis[] = [{ param: f.param, values: a.values }]
  if (f.grid) {
    if (f.param2 === f.param) return { error: 'the two parameters of a grid must differ' }
    const b = previewAxis(f.param2, f.values2)
    if ('error' in b) return { error: `second parameter: ${b.error}` }
    axes.push({ param: f.param2, values: b.values })
  }
  return { axes }
}

/** The base config of the form, or an error; a copied run keeps its whole config. */
export function formBase(
  f: ExperimentForm,
  runs: RunSummary[]
): { base: TrainConfigInput } | { error: string } {
  if (!Number.isInteger(f.epochs) || f.epochs < 1)
    return { error: 'epochs must be a whole number ≥ 1' }
  if (f.fromRunId) {
    const run = runs.find((r) => r.id === f.fromRunId)
    if (!run) return { error: `run #${f.fromRunId} is gone` }
    const { name: _name, ...config } = run.config
    return { base: { ...config, epochs: f.epochs, frozen: f.frozen } }
  }
  if (f.datasetId === null) return { error: 'choose a dataset' }
  const input = applyTrainPreset(f.preset && isPresetName(f.preset) ? f.preset : undefined, {
    datasetId: f.datasetId,
    epochs: f.epochs,
    seed: f.seed,
    backbone:
      f.backbone === 'small-cnn' ? { kind: 'small-cnn', inputSize: 32 } : { kind: 'mobilenetv2' }
  })
  return { base: { ...input, frozen: f.frozen } as TrainConfigInput }
}
