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

/** Applies a preset's values to the form (in place). */
export function applyPreset(form: TrainForm, id: Preset['id']): void {
  const p = PRESETS.find((x) => x.id === id)
  if (!p) return
  const { backboneKind, smallInputSize, ...rest } = p.values
  Object.assign(form, rest)
  if (backboneKind) form.backbone.kind = backboneKind
  if (smallInputSize !== undefined) form.backbone.smallInputSize = smallInputSize
}

/** The preset whose values all match the form, or 'custom'. */
export function presetOf(form: TrainForm): Preset['id'] | 'custom' {
  for (const p of PRESETS) {
    const { backboneKind, smallInputSize, ...rest } = p.values
    if (backboneKind && form.backbone.kind !== backboneKind) continue
    if (smallInputSize !== undefined && form.backbone.smallInputSize !== smallInputSize) continue
    const ok = Object.entries(rest).every(
      ([k, v]) => (form as unknown as Record<string, unknown>)[k] === v
    )
    if (ok) return p.id
  }
  return 'custom'
}

/** The losses offered, with a one-line explanation each. */
export const LOSSES: { value: LossName; label: string; help: string }[] = [
  {
    value: 'hist',
    label: 'HIST (hypergraph semantic tuplets)',
    help: 'Prototypical distributions + a hypergraph network over the classes in each batch.'
  },
  {
    value: 'proxy-anchor',
    label: 'Proxy-Anchor',
    help: 'One learnable proxy per class, pulled towards its images and pushed from others.'
  },
  {
    value: 'normalized-softmax',
    label: 'Normalized softmax',
    help: 'A cosine classifier over the training classes with a temperature.'
  },
  {
    value: 'multi-similarity',
    label: 'Multi-similarity',
    help: 'Weights every pair in the batch by how hard it is; needs several images per class.'
  },
  {
    value: 'triplet',
    label: 'Triplet (semi-hard)',
    help: 'Anchor–positive closer than anchor–negative by a margin; needs several images per class.'
  }
]

/** Backbone choices shown in the wizard. */
export const BACKBONES: { value: BackboneForm['kind']; label: string; help: string }[] = [
  {
    value: 'mobilenetv2',
    label: 'MobileNetV2 (ImageNet, offline)',
    help: 'Pretrained on ImageNet, shipped with the app: good features for photos, 224×224 input.'
  },
  {
    value: 'small-cnn',
    label: 'Small CNN (from scratch)',
    help: 'A few convolution layers with random start; fast, for small images like Fashion-MNIST.'
  },
  {
    value: 'local',
    label: 'Local TF.js model',
    help: 'A model.json on this computer; name the layer whose output is the feature map.'
  },
  {
    value: 'download',
    label: 'Downloadable backbone',
    help: 'An ImageNet model fetched once from its official TF.js hosting and cached.'
  }
]

/** Losses that learn class proxies/distributions with their own learning rate (lrDs). */
export function usesLrDs(loss: LossName): boolean {
  return loss === 'hist' || loss === 'proxy-anchor' || loss === 'normalized-softmax'
}
/** Losses with a margin parameter. */
export function usesMargin(loss: LossName): boolean {
  return loss === 'proxy-anchor' || loss === 'triplet' || loss === 'multi-similarity'
}
/** Losses with a scale parameter. */
export function usesScale(loss: LossName): boolean {
  return loss === 'proxy-anchor' || loss === 'normalized-softmax' || loss === 'multi-similarity'
}

/** One-line explanations of the fields, shown under each input. */
export const FIELD_HELP: Record<string, string> = {
  datasetId: 'The images to learn from. Import one under Datasets, or add the demo dataset.',
  split: 'Which classes train the model and which test it; no class is in both.',
  'backbone.kind': 'The network that turns an image into a feature map.',
  'backbone.inputSize': 'Images are resized to this many pixels per side.',
  'backbone.modelPath': 'Full path of the model.json file.',
  'backbone.featureNode': 'Name of the layer whose output is used as features (e.g. out_relu).',
  'backbone.mean': 'Per-channel mean subtracted from pixels in [0, 1].',
  'backbone.std': 'Per-channel standard deviation pixels are divided by.',
  'backbone.name': 'Name of the downloadable model.',
  frozen:
    'Frozen: train only the embedding head on cached features (fast). Fine-tune: train the backbone too.',
  embeddingSize: 'Length of the embedding vector (the paper uses 512).',
  loss: 'What the training minimises.',
  epochs: 'Passes over the training images.',
  batchSize: 'Images per training step (the paper uses 32).',
  lr: 'Learning rate of the backbone and the embedding layer.',
  lrDs: 'Learning rate of the class distributions (HIST) or proxies.',
  lrHgnnFactor: 'The hypergraph network learns this many times faster than lr.',
  weightDecay: 'L2 penalty on the weights.',
  optimizer: 'Adam adds weight decay to the gradient (as the paper); AdamW decouples it.',
  lrDecayStep: 'The learning rate halves (× decay factor) every this many epochs.',
  lrDecayGamma: 'Factor applied to the learning rate at each decay step.',
  warm: 'Epochs at the start that train only the new layers, with the backbone frozen.',
  bnFreeze: "Keep the backbone's batch-norm statistics fixed.",
  tau: 'τ, temperature of the distribution loss (32; 16 for SOP).',
  alpha: 'α, how sharply the hypergraph favours close classes (1.1 CUB, 0.9 Cars, 2 SOP).',
  ls: 'λ_s, weight of the hypergraph cross-entropy in the total loss.',
  hgnnHidden: 'Hidden size of the hypergraph network.',
  sampler:
    'Random batches (as the paper), or balanced batches with a fixed number of images per class.',
  ipc: 'Images per class in a balanced batch.',
  seed: 'Random seed; the same seed and settings repeat a run.',
  modelSelection:
    'Refit (default): pick the epoch count on a validation split, then train on all training classes for that many epochs. Validation: keep the best validation epoch (trained without the validation classes). Test: as the paper (optimistic).',
  valRatio: 'Share of training classes held out to pick the best epoch.',
  margin: 'Margin of Proxy-Anchor, triplet or multi-similarity.',
  scale: 'Scale (inverse temperature) of Proxy-Anchor, normalized softmax or multi-similarity.',
  name: 'A name to find the run again; empty = automatic.'
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

/** How many classes the training part will have, as far as the renderer can tell. */
export function trainClassEstimate(config: TrainConfig, dataset: DatasetSummary): number | null {
  let train: number | null = null
  const split = config.split
  if (split.kind === 'preset') {
    // Without a standard split the backend trains on a seeded half of the classes.
    train =
      dataset.splits.find((s) => s.name === 'train')?.classCount ??
      Math.round(dataset.classCount / 2)
  } else if (split.kind === 'class-range') {
    train = split.train[1] - split.train[0] + 1
  } else if (split.kind === 'class-ratio') {
    train = Math.round(dataset.classCount * split.trainRatio)
  } else {
    const groups = (dataset as Partial<DatasetDetail>).classes
    if (groups)
      train = groups.filter((c) => c.group !== null && split.train.includes(c.group)).length
  }
  if (train === null) return null
  if (config.modelSelection === 'val')
    train = Math.max(0, train - Math.round(train * config.valRatio))
  return train
}

/** Warnings about choices that are allowed but unwise; each is a sentence for the user. */
export function configWarnings(config: TrainConfig, dataset: DatasetSummary | null): string[] {
  const out: string[] = []
  if (dataset) {
    const train = trainClassEstimate(config, dataset)
    if (config.sampler === 'balanced' && train !== null) {
      const need = Math.ceil(config.batchSize / config.ipc)
      if (need > train)
        out.push(
          `A balanced batch of ${config.batchSize} with ${config.ipc} images per class needs ${need} classes, ` +
            `but training has only about ${train}. Lower the batch size or raise images per class.`
        )
    }
    if (train !== null && train < 2)
      out.push(
        `Training would have ${train} class${train === 1 ? '' : 'es'}; metric learning needs at least 2.`
      )
  }
  if (config.modelSelection === 'test')
    out.push(
      'The best epoch is chosen on the test split (as the official code does), so the test ' +
        'metrics will be optimistic. Choose a validation split for honest numbers.'
    )
  if (config.backbone.kind === 'small-cnn' && config.frozen)
    out.push(
      'A small CNN starts from random weights; frozen, its backbone never learns. Choose fine-tune.'
    )
  if (
    (config.loss === 'triplet' || config.loss === 'multi-similarity') &&
    config.sampler === 'random'
  )
    out.push(
      'Pair-based losses need several images of each class in a batch; random batches may have none. ' +
        'Use the balanced sampler.'
    )
  if (config.epochs > 1 && config.lrDecayStep >= config.epochs && config.lrDecayGamma < 1) {
    // harmless, only informative: the decay never happens
    out.push(
      `The learning rate never decays: the decay step (${config.lrDecayStep}) is not below the epoch count.`
    )
  }
  return out
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
