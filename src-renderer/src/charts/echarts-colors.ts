/** Series colours that read well on light and dark backgrounds (colour-blind friendly order). */
export const SERIES_COLORS = [
  '#3a6fd8',
  '#e07b00',
  '#1d9a6c',
  '#c8407a',
  '#8a63d2',
  '#b59a00',
  '#2aa1c0',
  '#d04a2f'
]

/** Neutral colour for data without a category (e.g. a class that is in no split yet). */
export const NEUTRAL_COLOR = '#8c939d'
