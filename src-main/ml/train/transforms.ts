/**
 * Which deterministic transform a backbone's features and evaluations use. MobileNetV2 from
 * nsfwjs is fed whole images resized to 224 × 224 (as nsfwjs does, and as the Omniglot reference
 * protocol does), and the small CNN whole small images; ImageNet-style backbones (downloaded or
 * local) get the ResNet test recipe (resize to 256/224 of the size, centre crop).
 */
import type { BackboneSpec } from '../../../src-preload/contract/runs'
import type { EmbedMode } from '../data/embed'

/** The transform for cached features, evaluation and inference with this backbone. */
export function evalTransform(spec: BackboneSpec): EmbedMode {
  return spec.kind === 'mobilenetv2' || spec.kind === 'small-cnn' ? 'cover' : 'test'
}
