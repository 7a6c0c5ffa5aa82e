import { REDSHIFT_DB_ROLES_TAG } from '../lib/constructs/warehouse-load';
import { ENVIRONMENTS, synthesize } from './helpers/platform';

describe.each(ENVIRONMENTS)('tags and names (%s)', (envName) => {
  const { templates, platform, config } = synthesize(envName);

  test('every stack name carries the environment', () => {
    expect(Object.values(platform).map((s) => s.stackName)).toEqual(
      ['Security', 'Network', 'Lakehouse', 'Ingestion', 'Streaming', 'Processing', 'Operations', 'Warehouse', 'Registry', 'Serving', 'Monitoring'].map((layer) => `TelemetryLakehouse-${envName}-${layer}`),
    );
  });

  test('every taggable resource carries project, environment, owner and cost centre', () => {
    const expected = [
      { Key: 'cost-center', Value: config.tags.costCenter },
      { Key: 'environment', Value: envName },
      { Key: 'owner', Value: config.tags.owner },
      { Key: 'project', Value: 'telemetry-lakehouse' },
    ];
    // A tag a service reads (not a label): the database role of the daily pipeline's role, and only there.
    const functional = new Set([REDSHIFT_DB_ROLES_TAG]);
    const functionalOn: string[] = [];
    let checked = 0;
    for (const template of Object.values(templates)) {
      for (const [id, resource] of Object.entries(template.toJSON().Resources as Record<string, any>)) {
        const tags = resource.Properties?.Tags;
        if (!Array.isArray(tags)) continue;
        checked++;
        if (tags.some((t: any) => functional.has(t.Key))) functionalOn.push(id);
        expect({ id, tags: tags.filter((t: any) => !t.Key.startsWith('aws-cdk:') && t.Key !== 'Name' && !functional.has(t.Key)) }).toEqual({ id, tags: expected });
      }
    }
    expect(checked).toBeGreaterThan(30);
    expect(functionalOn).toEqual([expect.stringMatching(/^OrchestrationStateMachineRole/)]);
  });

  test('prod stacks have termination protection, others do not', () => {
    for (const stack of Object.values(platform)) expect(stack.terminationProtection).toBe(envName === 'prod');
  });
});
