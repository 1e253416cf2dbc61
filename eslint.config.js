// Lint configuration: the layer boundaries of src/ (docs/architecture.md), then typescript-eslint's
// type-checked rules over src, test, bench.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// ---------------------------------------------------------------------------------------------
// Layers: which src/ folders each folder may import (docs/architecture.md). Everything else in
// src/ is forbidden, type-only imports included. Tests (*.test.ts) are exempt: they wire real
// pieces together and read files.
// ---------------------------------------------------------------------------------------------

const LAYERS = [
  'core',
  'protocol',
  'runtime',
  'pages',
  'config',
  'store',
  'client',
  'sdk',
  'factors',
  'authenticator',
  'proxy',
  'gateway',
  'operations',
  'service',
  'cli',
];

/** @type {Record<string, string[]>} folder -> the folders it may import */
const MAY_IMPORT = {
  core: [],
  protocol: [],
  runtime: ['core', 'protocol'],
  // The login pages' shared catalogue, look and layout: the hosted prompt's and the gateway's.
  pages: ['core'],
  config: ['core', 'protocol', 'runtime'],
  store: ['core', 'protocol', 'runtime', 'config'],
  client: ['core', 'protocol', 'runtime'],
  // The public Web SDK (airlock/sdk): never the service or the store, so it runs in any web app.
  sdk: ['core', 'protocol', 'runtime', 'client'],
  factors: ['core', 'protocol', 'runtime', 'config'],
  authenticator: ['core', 'protocol', 'runtime', 'client'],
  proxy: ['core', 'protocol', 'runtime', 'config', 'client'],
  // The gateway authenticates primary credentials with the proxy's [ad_client] code (proxy/primary/)
  // and nothing else of the proxy: see EXTRA_PATTERNS.
  gateway: ['core', 'protocol', 'runtime', 'pages', 'config', 'client', 'proxy'],
  operations: ['core', 'protocol', 'runtime', 'config', 'store', 'factors'],
  service: ['core', 'protocol', 'runtime', 'pages', 'config', 'store', 'factors', 'operations'],
  // src/cli: may import every layer but src/service; that rule is added with src/operations/.
};

// core/ and protocol/ are pure: no I/O, no randomness, no ambient time.
const IO_MODULES = [
  'fs',
  'fs/promises',
  'dgram',
  'http',
  'https',
  'http2',
  'tls',
  'dns',
  'dns/promises',
  'os',
  'child_process',
  'worker_threads',
  'cluster',
  'readline',
  'process',
  'stream',
  'timers',
  'timers/promises',
];
const IO_PACKAGES = [
  'better-sqlite3',
  'pg',
  'kysely',
  'fastify',
  'ldapts',
  'pino',
  'prom-client',
  'rotating-file-stream',
  'commander',
  'qrcode',
  '@peculiar/x509',
  '@node-rs/argon2',
];
const RANDOM_NAMES = [
  'randomBytes',
  'randomFill',
  'randomFillSync',
  'randomInt',
  'randomUUID',
  'getRandomValues',
  'generateKey',
  'generateKeySync',
  'generateKeyPair',
  'generateKeyPairSync',
  'generatePrime',
  'generatePrimeSync',
];
const escapeRegex = (text) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const PURE_IMPORT_RULES = {
  paths: ['crypto', 'node:crypto'].map((name) => ({
    name,
    importNames: RANDOM_NAMES,
    message: 'pure code takes randomness as a parameter (src/runtime/random.ts).',
  })),
  patterns: [
    {
      regex: `^(node:)?(${IO_MODULES.map(escapeRegex).join('|')})$`,
      message: 'src/core and src/protocol are pure: I/O lives in src/runtime and the layers above.',
    },
    {
      regex: `^(${IO_PACKAGES.map(escapeRegex).join('|')})(/|$)`,
      message: 'src/core and src/protocol are pure: I/O lives in src/runtime and the layers above.',
    },
    {
      // Address parsing only; sockets live in src/runtime and the layers above.
      regex: '^(node:)?net$',
      allowImportNames: ['isIP', 'isIPv4', 'isIPv6'],
      message: 'src/core and src/protocol may take only isIP/isIPv4/isIPv6 from node:net.',
    },
  ],
};

// Only src/runtime reads the system clock or Math.random; everything else is given a Clock/Random.
const NO_AMBIENT_TIME = {
  'no-restricted-properties': [
    'error',
    { object: 'Date', property: 'now', message: 'take a Clock (src/runtime/clock.ts).' },
    { object: 'Math', property: 'random', message: 'take a Random (src/runtime/random.ts).' },
  ],
};

/** Narrower rules of a layer beyond its folder list. */
const EXTRA_PATTERNS = {
  gateway: [
    {
      regex: '^(\\.\\./)+(src/)?proxy/(?!primary/)',
      message:
        'src/gateway may import only src/proxy/primary/ of the proxy (docs/architecture.md).',
    },
  ],
};

/** The lint block of one layer: the src/ folders it may not import, purity, the injected clock. */
function layerBoundary(layer) {
  const mayImport = MAY_IMPORT[layer];
  const forbidden = LAYERS.filter((other) => other !== layer && !mayImport.includes(other));
  const pure = layer === 'core' || layer === 'protocol';
  const rule =
    mayImport.length > 0
      ? `src/${layer} may import only src/{${mayImport.join(',')}} (docs/architecture.md).`
      : `src/${layer} imports no other src folder (docs/architecture.md).`;
  return {
    files: [`src/${layer}/**/*.ts`],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: pure ? PURE_IMPORT_RULES.paths : [],
          patterns: [
            // A relative path that climbs out into a forbidden folder: ../store/x.ts, ../../proxy/x.ts
            { regex: `^(\\.\\./)+(src/)?(${forbidden.join('|')})(/|$)`, message: rule },
            ...(pure ? PURE_IMPORT_RULES.patterns : []),
            ...(EXTRA_PATTERNS[layer] ?? []),
          ],
        },
      ],
      ...(layer === 'runtime' ? {} : NO_AMBIENT_TIME),
    },
  };
}

const LAYER_BOUNDARIES = Object.keys(MAY_IMPORT).map(layerBoundary);

// The CLI's boundary goes here: src/cli may import every layer but src/service (it calls
// src/operations, as the Admin API does).

export default tseslint.config(
  ...LAYER_BOUNDARIES,
  { ignores: ['node_modules/**', 'data/**', 'coverage/**', 'dist/**', '.tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: {
          allowDefaultProject: ['eslint.config.js', 'bin/*.js', 'examples/*/*.js'],
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      // node:test's describe/it return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] },
          ],
        },
      ],
    },
  },
  {
    // One concern per file (docs/architecture.md): a source file past 1,000 lines holds several;
    // new code goes into a new file. Tests are exempt (one file per subject, however many cases).
    files: ['src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: { 'max-lines': ['error', { max: 1000 }] },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: { process: 'readonly', URL: 'readonly', console: 'readonly' } },
  },
  {
    // Browser files of the web authenticator and plain Node build scripts: no type information.
    files: ['src/service/authenticator-web/**/*.js', 'scripts/**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // Layers, operations helper: the CLI parses, calls src/operations (or core, store, client) and
    // prints; it never imports the service's internals. `airlock serve`/`start` load the service
    // with a lazy import() as the composition root, which this rule does not see by design.
    // A test (src/operations/cli-import-rule.test.ts) proves the rule fires.
    files: ['src/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)service/',
              message:
                'src/cli must not import src/service: call src/operations (or move the code down to core/operations).',
            },
          ],
        },
      ],
    },
  },
);
