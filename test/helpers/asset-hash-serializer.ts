/**
 * Snapshot serializer that replaces asset hashes (64 hex characters, as in S3 keys of bundled
 * code) with a fixed marker, so a dependency bump that changes bundled bytes does not churn every
 * snapshot while every property that matters is still compared.
 */
const ASSET_HASH = /[0-9a-f]{64}/g;
const MARKER = '[ASSET-HASH]';

module.exports = {
  test(value: unknown): boolean {
    return typeof value === 'string' && ASSET_HASH.test(value) && !value.includes(MARKER);
  },
  serialize(value: string, config: unknown, indentation: string, depth: number, refs: unknown, printer: (v: unknown, ...rest: unknown[]) => string): string {
    ASSET_HASH.lastIndex = 0;
    return printer(value.replace(ASSET_HASH, MARKER), config, indentation, depth, refs);
  },
};
