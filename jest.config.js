/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // Type checking is tsc's job (scripts/test.sh runs it first); jest only transpiles.
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  snapshotSerializers: ['<rootDir>/test/helpers/asset-hash-serializer.ts'],
  testTimeout: 120000,
};
