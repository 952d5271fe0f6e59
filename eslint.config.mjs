import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The doors of src/ that a person sees in the editor as they type the import
// (docs/architecture.md). The whole floor plan, circles included, is checked by
// dependency-cruiser (.dependency-cruiser.cjs, `npm run deps`).
// ESLint takes the last matching `no-restricted-imports` for a file, not the union, so each
// room's rule repeats the restrictions of the rooms that hold it.
const FRONT_ENDS = ['**/debugAdapter/**', '**/extension/**', '**/cli/**'];
const EDITOR_AND_DAP = ['vscode', '@vscode/debugadapter', '@vscode/debugprotocol'];
const emulator = (why, ...patterns) => ({
  'no-restricted-imports': [
    'error',
    {
      paths: EDITOR_AND_DAP.map((name) => ({
        name,
        message: 'The machine knows nothing of DAP or VS Code.',
      })),
      patterns: [
        { group: FRONT_ENDS, message: 'The machine knows nothing of its front ends (doors open one way).' },
        ...(patterns.length ? [{ group: patterns, message: why }] : []),
      ],
    },
  ],
});

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // The emulator's software models are generators that yield after every bus access;
      // `yield` results are typed `any` by TypeScript's Generator protocol.
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    // The machine must stay free of editor and protocol dependencies (architecture: doors open one way).
    files: ['src/emulator/**/*.ts'],
    rules: emulator(''),
  },
  {
    files: ['src/emulator/hostSoftware/**/*.ts'],
    rules: emulator(
      'Host and card software meet only at the emulated hardware and the shared virtio layout.',
      '**/cardSoftware/**',
    ),
  },
  {
    files: ['src/emulator/cardSoftware/**/*.ts'],
    rules: emulator(
      'Host and card software meet only at the emulated hardware and the shared virtio layout.',
      '**/hostSoftware/**',
    ),
  },
  {
    files: ['src/emulator/card/**/*.ts'],
    rules: emulator(
      'The X100 hardware imports no software: what runs on it hooks in through CardCpu.',
      '**/hostSoftware/**',
      '**/cardSoftware/**',
    ),
  },
  {
    // The adapter also serves other DAP clients (nvim-dap, dape) from its own process.
    files: ['src/debugAdapter/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'vscode',
              message: 'The debug adapter never imports vscode: it runs outside the editor too.',
            },
          ],
          patterns: [
            {
              group: ['**/extension/**', '**/cli/**'],
              message: 'The debug adapter never imports the extension or the CLI.',
            },
          ],
        },
      ],
    },
  },
);
