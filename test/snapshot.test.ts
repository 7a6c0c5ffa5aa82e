import { ENVIRONMENTS, synthesize } from './helpers/platform';

/**
 * One snapshot per stack per environment, so a reviewer sees every template change in the diff.
 * Asset hashes are normalised (test/helpers/asset-hash-serializer.ts); security properties are
 * asserted on their own in security.test.ts, never left to the snapshot alone.
 */
describe.each(ENVIRONMENTS)('snapshots (%s)', (envName) => {
  const { templates } = synthesize(envName);
  test.each(Object.keys(templates) as (keyof typeof templates)[])('%s stack', (layer) => {
    expect(templates[layer].toJSON()).toMatchSnapshot();
  });
});
