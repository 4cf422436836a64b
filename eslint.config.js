import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

// The embedded launcher (apps/platform) starts the service apps in one process through their entry points.
const APP_ENTRY_POINTS = [
  '@tengine/gateway',
  '@tengine/registry',
  '@tengine/identity',
  '@tengine/executor',
  '@tengine/audit',
];
const OTHER_SCOPES = ['gateway', 'registry', 'identity', 'executor', 'audit'];

/** Module boundaries. Test files may also use the testing lib. */
function constraints(inTests) {
  const testing = inTests ? ['type:testing'] : [];
  // Tests drive the platform the way customers do, with the published SDK.
  const sdkInTests = inTests ? ['type:sdk'] : [];
  return [
    { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: [] },
    { sourceTag: 'type:sdk', onlyDependOnLibsWithTags: [] },
    {
      sourceTag: 'type:util',
      onlyDependOnLibsWithTags: ['type:contracts', 'type:util', 'type:data', ...testing],
    },
    {
      sourceTag: 'type:data',
      onlyDependOnLibsWithTags: ['type:contracts', 'type:util', ...testing],
    },
    {
      sourceTag: 'type:testing',
      onlyDependOnLibsWithTags: ['type:contracts', 'type:util', 'type:data'],
    },
    {
      sourceTag: 'type:app',
      // Apps may use the SDK: the executor signs with the same canonical request the SDK verifies.
      onlyDependOnLibsWithTags: [
        'type:contracts',
        'type:util',
        'type:data',
        'type:sdk',
        ...testing,
      ],
    },
    {
      sourceTag: 'type:launcher',
      onlyDependOnLibsWithTags: [
        'type:app',
        'type:contracts',
        'type:util',
        'type:data',
        ...testing,
        ...sdkInTests,
      ],
    },
    ...OTHER_SCOPES.map((scope) => ({
      sourceTag: `scope:${scope}`,
      notDependOnLibsWithTags: OTHER_SCOPES.filter((other) => other !== scope).map(
        (other) => `scope:${other}`,
      ),
    })),
  ];
}

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '.nx/**',
      '.tengine/**',
      'coverage/**',
      'bench/**',
      '*.config.js',
    ],
  },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        project: ['./tsconfig.spec.json', './libs/*/tsconfig.json', './apps/*/tsconfig.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { '@nx': nx, 'import-x': importX },
    settings: {
      'import-x/resolver-next': [
        createTypeScriptImportResolver({
          noWarnOnMultipleProjects: true,
          project: ['tsconfig.spec.json', 'libs/*/tsconfig.json', 'apps/*/tsconfig.json'],
        }),
      ],
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'import-x/no-cycle': 'error',
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@tengine/*/src/*', '@tengine/*/dist/*'],
              message: 'Import a lib from its root entry point only.',
            },
            {
              group: ['../../../*'],
              message: 'Do not reach across projects with relative imports; use @tengine/*.',
            },
          ],
        },
      ],
      '@nx/enforce-module-boundaries': ['error', { allow: [], depConstraints: constraints(false) }],
    },
  },
  {
    files: ['**/*.spec.ts', '**/test/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': ['error', { allow: [], depConstraints: constraints(true) }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    // Only the launcher may import the service apps, through their entry points.
    files: ['apps/platform/src/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        { allow: APP_ENTRY_POINTS, depConstraints: constraints(false) },
      ],
    },
  },
  {
    files: ['apps/platform/test/**/*.ts', 'apps/platform/src/**/*.spec.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        { allow: APP_ENTRY_POINTS, depConstraints: constraints(true) },
      ],
    },
  },
  { files: ['**/*.mjs'], ...tseslint.configs.disableTypeChecked },
  prettier,
);
