/**
 * The training wizard's form: presets, defaults, conversion to the contract's TrainConfig,
 * validation with the contract's own zod schema, and the "unwise choice" warnings. Pure (no DOM,
 * no Vue), so it is unit-tested directly.
 */
import {
  TRAIN_PRESETS,
  TrainConfig,
  type BackboneSpec,
  type PresetName,
  type TrainConfigInput,
  type DatasetDetail,
  type DatasetSummary,
  type LossName
} from '../../../src-preload/contract'
import { mapIssues, type FieldErrors } from './issues'
import {
  defaultSplitForm,
  splitFormFrom,
  splitInput,
  validateSplit,
  type SplitForm
} from './splitForm'

/** A numeric field while it is being edited ('' = empty input). */
export type NumField = number | ''

/** Backbone choices, with every kind's entries kept while the user switches between them. */
export interface BackboneForm {
  kind: BackboneSpec['kind']
  /** Input size of the small CNN. */
  smallInputSize: NumField
  modelPath: string
  featureNode: string
  /** Input size of a local model. */
  localInputSize: NumField
  mean: [NumField, NumField, NumField]
  std: [NumField, NumField, NumField]
  /** Name of a downloadable backbone. */
  downloadName: string
}

/** Everything the wizard edits; `toConfigInput` turns it into a TrainConfig input. */
export interface TrainForm {
  datasetId: number | null
  split: SplitForm
  backbone: BackboneForm
  frozen: boolean
  embeddingSize: NumField
  loss: LossName
  epochs: NumField
  batchSize: NumField
  lr: NumField
  lrDs: NumField
  lrHgnnFactor: NumField
  weightDecay: NumField
  optimizer: 'adam' | 'adamw'
  lrDecayStep: NumField
  lrDecayGamma: NumField
  warm: NumField
  bnFreeze: boolean
  tau: NumField
  alpha: NumField
  ls: NumField
  hgnnHidden: NumField
  sampler: 'random' | 'balanced'
  ipc: NumField
  seed: NumField
  modelSelection: 'refit' | 'val' | 'test'
  valRatio: NumField
  acceptSmallValidation: boolean
  margin: NumField
  scale: NumField
  name: string
}

/** Keys of TrainForm that hold plain values (not the nested split/backbone). */
export type FlatKey = Exclude<keyof TrainForm, 'split' | 'backbone' | 'datasetId'>

const DEFAULTS = TrainConfig.parse({ datasetId: 1 })

/** The form with the contract's defaults (the official HIST CUB recipe). */
export function defaultForm(): TrainForm {
  const d = DEFAULTS
  return {
    datasetId: null,
    split: defaultSplitForm(),
    backbone: {
      kind: 'mobilenetv2',
      smallInputSize: 32,
      modelPath: '',
      featureNode: '',
      localInputSize: 224,
      mean: [0, 0, 0],
      std: [1, 1, 1],
      downloadName: ''
    },
    frozen: d.frozen,
    embeddingSize: d.embeddingSize,
    loss: d.loss,
    epochs: d.epochs,
    batchSize: d.batchSize,
    lr: d.lr,
    lrDs: d.lrDs,
    lrHgnnFactor: d.lrHgnnFactor,
    weightDecay: d.weightDecay,
    optimizer: d.optimizer,
    lrDecayStep: d.lrDecayStep,
    lrDecayGamma: d.lrDecayGamma,
    warm: d.warm,
    bnFreeze: d.bnFreeze,
    tau: d.tau,
    alpha: d.alpha,
    ls: d.ls,
    hgnnHidden: d.hgnnHidden,
    sampler: d.sampler,
    ipc: d.ipc,
    seed: d.seed,
    modelSelection: d.modelSelection,
    valRatio: d.valRatio,
    acceptSmallValidation: d.acceptSmallValidation,
    margin: d.margin,
    scale: d.scale,
    name: ''
  }
}

/** A preset fills some fields; the form shows it as selected while all of them still match. */
export interface Preset {
  id: PresetName
  label: string
  description: string
  values: Partial<Omit<TrainForm, 'backbone' | 'split'>> & {
    backboneKind?: BackboneForm['kind']
    smallInputSize?: number
  }
}

/** What the wizard says about each preset; the values themselves come from the contract. */
const PRESET_TEXT: Record<PresetName, { label: string; description: string }> = {
  cub: {
    label: 'CUB-200-2011 (HIST paper)',
    description: 'τ 32, α 1.1, 40 epochs, lr 1.2e-4, lr_ds 0.1, HGNN ×5, decay every 5 epochs.'
  },
  cars: {
    label: 'Cars196 (HIST paper)',
    description: 'τ 32, α 0.9, 50 epochs, lr 1e-4, lr_ds 0.1, HGNN ×10, decay every 10 epochs.'
  },
  sop: {
    label: 'Stanford Online Products (HIST paper)',
    description:
      'τ 16, α 2, 60 epochs, lr 1e-4, lr_ds 0.01, HGNN ×10, decay every 10, BN not frozen.'
  },
  demo: {
    label: 'Demo (Fashion-MNIST)',
    description:
      'Small CNN from scratch at 24 px, 128-d, 8 epochs, lr 3e-3 (as `hist train --preset demo`): a few minutes on a CPU.'
  }
}

/** The form's view of a contract preset (the backbone becomes the form's backbone fields). */
function presetValues(p: Partial<TrainConfigInput>): Preset['values'] {
  const { backbone, split: _split, datasetId: _datasetId, name: _name, ...rest } = p
  const values: Preset['values'] = { ...(rest as Preset['values']) }
  if (backbone) {
    values.backboneKind = backbone.kind
    if (backbone.kind === 'small-cnn' && backbone.inputSize !== undefined) {
      values.smallInputSize = backbone.inputSize
    }
  }
  return values
}

/** The official HIST presets (README of the authors' code) and the quick demo setting. */
export const PRESETS: Preset[] = (Object.keys(TRAIN_PRESETS) as PresetName[]).map((id) => ({
  id,
  ...PRESET_TEXT[id],
  values: presetValues(TRAIN_PRESETS[id])
}))

/**
 * The fields a preset owns: the whole training recipe of steps 2 and 3 (model and
 * hyperparameters). The dataset, split, seed and run name are the user's and stay.
 */
export const RECIPE_KEYS = [
  'frozen',
  'embeddingSize',
  'loss',
  'epochs',
  'batchSize',
  'lr',
  'lrDs',
  'lrHgnnFactor',
  'weightDecay',
  'optimizer',
  'lrDecayStep',
  'lrDecayGamma',
  'warm',
  'bnFreeze',
  'tau',
  'alpha',
  'ls',
  'hgnnHidden',
  'sampler',
  'ipc',
  'modelSelection',
  'valRatio',
  'acceptSmallValidation',
  'margin',
  'scale'
] as const satisfies readonly FlatKey[]

/** Everything a preset implies: the contract's defaults under the preset's own values. */
export function presetRecipe(id: Preset['id']): TrainForm {
  const f = defaultForm()
  const p = PRESETS.find((x) => x.id === id)
  if (!p) return f
  const { backboneKind, smallInputSize, ...rest } = p.values
  Object.assign(f, rest)
  if (backboneKind) f.backbone.kind = backboneKind
  if (smallInputSize !== undefined) f.backbone.smallInputSize = smallInputSize
  return f
}

/**
 * Applies a preset (in place): every recipe field and the backbone choice take the preset's
 * value, or the default when the preset does not name it, so nothing of an earlier preset stays.
 */
export function applyPreset(form: TrainForm, id: Preset['id']): void {
  if (!PRESETS.some((x) => x.id === id)) return
  const r = presetRecipe(id)
  const target = form as unknown as Record<string, unknown>
  for (const k of RECIPE_KEYS) target[k] = r[k]
  form.backbone.kind = r.backbone.kind
  form.backbone.smallInputSize = r.backbone.smallInputSize
}

/** The preset whose whole recipe matches the form, or 'custom'. */
export function presetOf(form: TrainForm): Preset['id'] | 'custom' {
  for (const p of PRESETS) {
    const r = presetRecipe(p.id)
    if (form.backbone.kind !== r.backbone.kind) continue
    if (
      r.backbone.kind === 'small-cnn' &&
      form.backbone.smallInputSize !== r.backbone.smallInputSize
    )
      continue
    if (RECIPE_KEYS.every((k) => form[k] === r[k])) return p.id
  }
  return 'custom'
}

/** Builds the TrainConfig input (unvalidated) from the form. */
export function toConfigInput(form: TrainForm): Record<string, unknown> {
  const b = form.backbone
  let backbone: unknown
  switch (b.kind) {
    case 'mobilenetv2':
      backbone = { kind: 'mobilenetv2' }
      break
    case 'small-cnn':
      backbone = { kind: 'small-cnn', inputSize: b.smallInputSize }
      break
    case 'local':
      backbone = {
        kind: 'local',
        modelPath: b.modelPath.trim(),
        featureNode: b.featureNode.trim(),
        inputSize: b.localInputSize,
        mean: b.mean,
        std: b.std
      }
      break
    case 'download':
      backbone = { kind: 'download', name: b.downloadName.trim() }
      break
  }
  const { split, backbone: _b, name, datasetId, ...flat } = form
  void _b
  const out: Record<string, unknown> = {
    ...flat,
    datasetId: datasetId ?? undefined,
    split: splitInput(split),
    backbone
  }
  if (name.trim()) out.name = name.trim()
  return out
}

/** Result of validating the whole form. */
export interface FormCheck {
  config: TrainConfig | null
  errors: FieldErrors
}

/**
 * Validates the form with the contract's TrainConfig schema plus the split checks that need the
 * dataset; every error is keyed by field and says what is allowed.
 */
export function validateForm(form: TrainForm, dataset: DatasetSummary | null): FormCheck {
  const input = toConfigInput(form)
  const errors: FieldErrors = {}
  if (form.datasetId === null) errors.datasetId = 'Choose a dataset.'
  const r = TrainConfig.safeParse({ ...input, datasetId: form.datasetId ?? 1 })
  if (!r.success) {
    const mapped = mapIssues(r.error.issues, TrainConfig, input)
    for (const [k, v] of Object.entries(mapped)) errors[k] ??= v
  }
  const split = validateSplit(form.split, dataset ? dataset.classCount : null)
  for (const [k, v] of Object.entries(split.errors)) errors[`split.${k}`] ??= v
  if (form.split.kind === 'group' && dataset && dataset.classCount > 0) {
    const detail = dataset as Partial<DatasetDetail>
    if (detail.groups && detail.groups.length === 0)
      errors['split.train'] ??= 'This dataset has no groups; choose another kind of split.'
  }
  const ok = Object.keys(errors).length === 0 && r.success
  return { config: ok && r.success ? r.data : null, errors }
}

/** The wizard's steps, in order. */
export const STEPS = ['dataset', 'model', 'hyper', 'review', 'train'] as const
export type StepId = (typeof STEPS)[number]

/** Which step shows the field with this error key. */
export function stepOfField(key: string): StepId {
  if (key === 'datasetId' || key.startsWith('split')) return 'dataset'
  if (key.startsWith('backbone') || key === 'frozen' || key === 'embeddingSize') return 'model'
  return 'hyper'
}

/** Errors belonging to one step. */
export function errorsOfStep(errors: FieldErrors, step: StepId): FieldErrors {
  return Object.fromEntries(Object.entries(errors).filter(([k]) => stepOfField(k) === step))
}

/** localStorage key of the last wizard entries. */
export const FORM_STORAGE_KEY = 'hist.wizard.form'

/** Restores saved entries over the defaults, ignoring anything malformed. */
export function restoreForm(json: string | null): TrainForm {
  const base = defaultForm()
  if (!json) return base
  try {
    const saved = JSON.parse(json) as Partial<TrainForm>
    if (!saved || typeof saved !== 'object') return base
    const out: TrainForm = { ...base }
    for (const key of Object.keys(base) as (keyof TrainForm)[]) {
      if (!(key in saved)) continue
      const v = saved[key]
      if (key === 'split' && v && typeof v === 'object')
        out.split = { ...base.split, ...(v as SplitForm) }
      else if (key === 'backbone' && v && typeof v === 'object')
        out.backbone = { ...base.backbone, ...(v as BackboneForm) }
      else if (
        typeof v === typeof base[key] ||
        v === '' ||
        (key === 'datasetId' && (v === null || typeof v === 'number'))
      )
        (out as unknown as Record<string, unknown>)[key] = v
    }
    return out
  } catch {
    return base
  }
}

/** A form from a run's stored config (for "train again with these settings"). */
export function formFromConfig(config: TrainConfig): TrainForm {
  const f = defaultForm()
  const { split, backbone, name, ...flat } = config
  Object.assign(f, flat)
  f.name = name ?? ''
  f.split = splitFormFrom(split)
  f.backbone.kind = backbone.kind
  if (backbone.kind === 'small-cnn') f.backbone.smallInputSize = backbone.inputSize
  if (backbone.kind === 'local') {
    f.backbone.modelPath = backbone.modelPath
    f.backbone.featureNode = backbone.featureNode
    f.backbone.localInputSize = backbone.inputSize
    f.backbone.mean = [...backbone.mean]
    f.backbone.std = [...backbone.std]
  }
  if (backbone.kind === 'download') f.backbone.downloadName = backbone.name
  return f
}
