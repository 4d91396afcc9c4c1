import js from '@eslint/js'
import prettier from 'eslint-config-prettier'
import vue from 'eslint-plugin-vue'
import globals from 'globals'
import tseslint from 'typescript-eslint'

/**
 * The floors of the backend, lowest first; a file may import only its own floor and those below
 * (README "Architecture"). Each entry: the folders (or files) of a floor under src-main.
 * `no-restricted-imports` below forbids, per floor, every folder of the floors above it.
 */
const FLOORS = [
  ['ml'],
  ['app', 'db', 'common'],
  ['datasets'],
  ['trainer'],
  ['runs'],
  ['retrieval'],
  ['audit'],
  ['experiments'],
  ['services'],
  ['dispatch'],
  ['server', 'shell'],
  ['cli']
]

const ELECTRON = {
  name: 'electron',
  message: 'Only src-main/shell and the entry points import electron (the preload too).'
}

/** A pattern that matches a relative import of one of `folders` (e.g. '../services/index'). */
function folderPattern(folders, message) {
  return { regex: `^(\\.{1,2}/)+(\\.\\./)*(${folders.join('|')})(/|$)`, message }
}

/** no-restricted-imports for floor `i`: no folder of a higher floor, no electron (except shell). */
function floorRule(i, { electron = false } = {}) {
  const above = FLOORS.slice(i + 1).flat()
  return {
    paths: electron ? [] : [ELECTRON],
    patterns: above.length
      ? [
          folderPattern(
            above,
            `src-main/${FLOORS[i].join(', ')} is below ${above.join(', ')}: import only downward (README "Architecture").`
          )
        ]
      : []
  }
}

/** ml never imports from the floors above it, nor electron; the HIST loss builds on the baselines' base, not on their registry. */
const layerConfigs = FLOORS.flatMap((folders, i) =>
  folders.map((folder) => ({
    files: [`src-main/${folder}/**`],
    rules: { 'no-restricted-imports': ['error', floorRule(i, { electron: folder === 'shell' })] }
  }))
)

/** The contract runs in every process: zod and itself only. */
const contractRule = {
  patterns: [
    {
      regex: '^(?!zod$|\\./)',
      message:
        'src-preload/contract imports only zod and itself (it runs in main, preload and renderer).'
    }
  ]
}

export default tseslint.config(
  {
    ignores: [
      'out/**',
      'dist/**',
      'node_modules/**',
      'bench/results/**',
      'e2e/screenshots/**',
      'test-results/**'
    ]
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...vue.configs['flat/recommended'],
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser } }
  },
  {
    languageOptions: { globals: { ...globals.node }, ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }
      ],
      'vue/multi-word-component-names': 'off'
    }
  },
  {
    files: ['src-renderer/**'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/src-main/**', 'electron', 'node:*'],
              message: 'The renderer talks to the backend only through the typed API.'
            }
          ]
        }
      ]
    }
  },
  // The floors of the backend (see FLOORS): imports only go downward.
  ...layerConfigs,
  {
    files: ['src-main/ml/losses/**'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [ELECTRON],
          patterns: [
            folderPattern(FLOORS.slice(1).flat(), 'src-main/ml imports only ml and the contract.'),
            {
              regex: '^\\.\\./hist(/|$)',
              message:
                'ml/hist builds on ml/losses, not the reverse; the registry of both is ml/lossRegistry.ts.'
            }
          ]
        }
      ]
    }
  },
  {
    files: ['src-preload/contract/**'],
    rules: { 'no-restricted-imports': ['error', contractRule] }
  },
  {
    // Its tests may use vitest too.
    files: ['src-preload/contract/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ ...contractRule.patterns[0], regex: '^(?!zod$|vitest$|\\./)' }] }
      ]
    }
  },
  {
    files: ['src-preload/index.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!electron$|\\./contract(/|$))',
              message: 'The preload imports only electron and the contract.'
            }
          ]
        }
      ]
    }
  },
  prettier
)
