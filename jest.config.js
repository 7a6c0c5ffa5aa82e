/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // Type checking is tsc's job (scripts/test.sh runs it first); jest only transpiles.
  transform: {
    '^.+\\.ts$': ['ts-jest', { diagnostics: false }],
    // hyparquet and hyparquet-writer are published as ES modules only; jest loads CommonJS.
    '^.+/node_modules/hyparquet(-writer)?/.+\\.js$': ['ts-jest', { diagnostics: false, tsconfig: { allowJs: true } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(hyparquet|hyparquet-writer)/)'],
  snapshotSerializers: ['<rootDir>/test/helpers/asset-hash-serializer.ts'],
  testTimeout: 120000,
  // Every temporary file of the run under one folder, removed at the end (test/helpers/temp-root.js).
  globalSetup: '<rootDir>/test/helpers/temp-setup.js',
  globalTeardown: '<rootDir>/test/helpers/temp-teardown.js',
};
