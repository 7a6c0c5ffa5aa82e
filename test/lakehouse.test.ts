import { ENVIRONMENTS, resourcesOf, synthesize } from './helpers/platform';
import { loadContracts, rawColumns } from '../lib/contracts';

describe.each(ENVIRONMENTS)('lakehouse (%s)', (envName) => {
  const { templates, config } = synthesize(envName);
  const t = templates.lakehouse;
  const dbPrefix = config.resourcePrefix.replace(/-/g, '_');
  const roles = resourcesOf(t, 'AWS::IAM::Role');
  const policies = Object.values(resourcesOf(t, 'AWS::IAM::Policy'));
  const bucketIds = Object.keys(resourcesOf(t, 'AWS::S3::Bucket'));
  const zoneBucketId = (zone: string) => bucketIds.find((id) => id.startsWith(`Storage${zone}Zone`))!;
  /** The statements of the policies attached to the role whose logical id starts with `prefix`. */
  const statementsOf = (prefix: string) => {
    const roleId = Object.keys(roles).find((id) => id.startsWith(prefix))!;
    return policies
      .filter((p) => JSON.stringify(p.Properties.Roles).includes(`"${roleId}"`))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
  };

  test('a Glue database per zone', () => {
    const names = Object.values(resourcesOf(t, 'AWS::Glue::Database')).map((d) => d.Properties.DatabaseInput.Name);
    expect(names.sort()).toEqual([`${dbPrefix}_aggregated`, `${dbPrefix}_processed`, `${dbPrefix}_raw`]);
  });

  test('a raw table per contract with a raw layout, columns derived from the contract', () => {
    const tables = Object.values(resourcesOf(t, 'AWS::Glue::Table'));
    const withRaw = loadContracts().filter((c) => c.raw);
    expect(tables.map((x) => x.Properties.TableInput.Name).sort()).toEqual(withRaw.map((c) => c.dataset).sort());
    for (const contract of withRaw) {
      const table = tables.find((x) => x.Properties.TableInput.Name === contract.dataset)!;
      expect(table.Properties.DatabaseName).toBe(`${dbPrefix}_raw`);
      const columns = table.Properties.TableInput.StorageDescriptor.Columns.map((c: any) => [c.Name, c.Type]);
      expect(columns).toEqual(rawColumns(contract).map((c) => [c.name.toLowerCase(), c.type]));
      expect(table.Properties.TableInput.PartitionKeys.map((p: any) => p.Name)).toEqual(contract.raw!.partitions.map((p) => p.name));
    }
  });

  test('raw tables use partition projection over the raw-zone layout', () => {
    const tables = Object.values(resourcesOf(t, 'AWS::Glue::Table'));
    const telematics = tables.find((x) => x.Properties.TableInput.Name === 'telematics')!.Properties.TableInput;
    expect(telematics.Parameters).toMatchObject({
      'projection.enabled': 'true',
      'projection.ingest_date.type': 'date',
      'projection.ingest_date.format': 'yyyy-MM-dd',
      'projection.ingest_date.range': `${config.catalog.rawProjectionStartDate},NOW`,
      'projection.ingest_hour.type': 'integer',
      'projection.ingest_hour.range': '0,23',
      'projection.ingest_hour.digits': '2',
    });
    expect(JSON.stringify(telematics.Parameters['storage.location.template'])).toContain('/raw/iot/telematics/ingest_date=${ingest_date}/ingest_hour=${ingest_hour}/');
    const customers = tables.find((x) => x.Properties.TableInput.Name === 'customers')!.Properties.TableInput;
    // DMS date partitioning writes the date alone as the folder name.
    expect(JSON.stringify(customers.Parameters['storage.location.template'])).toContain('/raw/crm/customers/${ingest_date}/');
    expect(customers.StorageDescriptor.SerdeInfo.SerializationLibrary).toBe('org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe');
  });

  test('one raw writer role per source, trusted by its writing service and scoped to its prefix', () => {
    const expected: Record<string, string> = {
      crm: 'dms.amazonaws.com',
      legacy_sql: 'dms.amazonaws.com',
      iot: 'firehose.amazonaws.com',
      weather: 'lambda.amazonaws.com',
      sensors: 'lambda.amazonaws.com',
    };
    for (const [source, service] of Object.entries(expected)) {
      const id = Object.keys(roles).find((r) => r.startsWith(`AccessRawWriter${source.replace('_', '')}`))!;
      expect(roles[id].Properties.AssumeRolePolicyDocument.Statement[0].Principal).toEqual({ Service: service });
      const resources = JSON.stringify(statementsOf(id).filter((s: any) => [s.Action].flat().some((a: string) => a.startsWith('s3:Put'))).map((s: any) => s.Resource));
      expect(resources).toContain(`/raw/${source}/*`);
      for (const other of Object.keys(expected).filter((o) => o !== source)) expect(resources).not.toContain(`/raw/${other}/`);
    }
  });

  test('the analyst role reads the aggregated zone only', () => {
    const statements = statementsOf('AccessAnalyst');
    const text = JSON.stringify(statements);
    expect(text).toContain(zoneBucketId('Aggregated'));
    expect(text).not.toContain(zoneBucketId('Raw'));
    expect(text).not.toContain(zoneBucketId('Processed'));
    expect(text).toContain(`${dbPrefix}_aggregated`);
    expect(text).not.toContain(`${dbPrefix}_raw`);
    expect(text).not.toContain(`${dbPrefix}_processed`);
    const writes = statements.filter((s: any) => [s.Action].flat().some((a: string) => /^s3:(Put|Delete)/.test(a)));
    expect(JSON.stringify(writes.map((s: any) => s.Resource))).not.toContain(zoneBucketId('Aggregated'));
  });

  test("the analyst role is assumed by the account's Identity Center roles only, unless config names its principals", () => {
    const [, analyst] = Object.entries(resourcesOf(t, 'AWS::IAM::Role')).find(([id]) => id.startsWith('AccessAnalyst'))!;
    const [trust] = analyst.Properties.AssumeRolePolicyDocument.Statement;
    expect(trust.Condition).toEqual({ ArnLike: { 'aws:PrincipalArn': { 'Fn::Join': ['', ['arn:aws:iam::', { Ref: 'AWS::AccountId' }, ':role/aws-reserved/sso.amazonaws.com/*']] } } });
    // no role is left that nothing uses (Iceberg maintenance runs as the ETL role, which may delete)
    expect(Object.keys(resourcesOf(t, 'AWS::IAM::Role')).filter((id) => id.startsWith('AccessCatalog'))).toEqual([]);
  });

  test('named analyst principals replace the Identity Center default', () => {
    const named = 'arn:aws:iam::123456789012:role/fleet-analysts';
    const { templates: custom } = synthesize(envName, (c) => ({ ...c, security: { ...c.security, analystPrincipalArns: [named] } }));
    const [, analyst] = Object.entries(resourcesOf(custom.lakehouse, 'AWS::IAM::Role')).find(([id]) => id.startsWith('AccessAnalyst'))!;
    expect(analyst.Properties.AssumeRolePolicyDocument.Statement).toEqual([{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { AWS: named } }]);
  });

  test('the ETL role reads raw and writes processed, quarantine and aggregated, never writes raw', () => {
    const statements = statementsOf('AccessEtl');
    const writes = statements.filter((s: any) => [s.Action].flat().some((a: string) => a.startsWith('s3:Put')));
    const writeTargets = JSON.stringify(writes.map((s: any) => s.Resource));
    expect(writeTargets).toContain('/processed/*');
    expect(writeTargets).toContain('/quarantine/*');
    expect(writeTargets).toContain('/aggregated/*');
    expect(writeTargets).not.toContain(zoneBucketId('Raw'));
  });
});
