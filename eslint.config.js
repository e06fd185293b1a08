// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import boundaries from 'eslint-plugin-boundaries';
import { elements, elementTypesRule } from './tools/boundaries.mjs';

export default tseslint.config(
  {
    // tmp/: git-ignored scratch (tools/create-box's and tools/test/examples' tests write there).
    ignores: ['**/dist/**', '**/node_modules/**', 'docs/api/**', '**/.turbo/**', '**/fixtures/lint/**', 'tmp/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.{ts,mts,cts,js,mjs,cjs}'],
    languageOptions: {
      ecmaVersion: 2024,
      sourceType: 'module',
      globals: {
        console: 'readonly', process: 'readonly', URL: 'readonly', WebAssembly: 'readonly',
        SharedArrayBuffer: 'readonly', Atomics: 'readonly', performance: 'readonly',
        setTimeout: 'readonly', clearTimeout: 'readonly', queueMicrotask: 'readonly',
        TextEncoder: 'readonly', TextDecoder: 'readonly', globalThis: 'readonly',
      },
    },
    plugins: { boundaries },
    settings: {
      'boundaries/elements': elements,
      'boundaries/include': ['packages/**/*', 'apps/**/*', 'examples/**/*', 'tools/**/*', 'boxes-contrib/**/*'],
      'import/resolver': {
        typescript: {
          conditionNames: ['@hakmem/source', 'types', 'import', 'require', 'node', 'default'],
          project: ['tools/tsconfig.base.json'],
          alwaysTryTypes: true,
        },
      },
    },
    rules: {
      'boundaries/element-types': elementTypesRule,
      // A workspace package must be imported by its name, never by a path into it.
      'boundaries/no-private': 0,
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
