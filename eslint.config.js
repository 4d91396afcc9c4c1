import js from '@eslint/js'
import prettier from 'eslint-config-prettier'
import vue from 'eslint-plugin-vue'
import globals from 'globals'
import tseslint from 'typescript-eslint'

const noElectron = {
  paths: [{ name: 'electron', message: 'This layer must not import electron (keep it plain TypeScript).' }]
}

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'bench/results/**', 'e2e/screenshots/**', 'test-results/**'] },
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
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
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
            { group: ['**/src-main/**', 'electron', 'node:*'], message: 'The renderer talks to the backend only through the typed API.' }
          ]
        }
      ]
    }
  },
  // The ML code and the shared contract never import electron.
  { files: ['src-main/ml/**', 'src-preload/contract/**', 'src-main/services/**', 'src-main/server/**', 'src-main/db/**', 'src-main/trainer/**', 'src-main/cli.ts'], rules: { 'no-restricted-imports': ['error', noElectron] } },
  // Only the shell and the preload may touch ipcMain / ipcRenderer.
  {
    files: ['src-main/**'],
    ignores: ['src-main/shell/**', 'src-main/index.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'electron', message: 'Only src-main/shell and src-main/index.ts import electron.' }] }
      ]
    }
  },
  prettier
)
