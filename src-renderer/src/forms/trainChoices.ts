/** The wizard's choices (losses, backbones) and the one-line help of every field. */
import type { LossName } from '../../../src-preload/contract'
import type { BackboneForm } from './trainForm'

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
  acceptSmallValidation:
    'Pick the epoch on a validation split under 5 classes or 50 images anyway, without a warning (the demo preset does: its 5 training classes leave 2). Off: such a run is warned, and refit trains all classes without selection.',
  margin: 'Margin of Proxy-Anchor, triplet or multi-similarity.',
  scale: 'Scale (inverse temperature) of Proxy-Anchor, normalized softmax or multi-similarity.',
  name: 'A name to find the run again; empty = automatic.'
}
