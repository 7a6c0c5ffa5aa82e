import * as athena from 'aws-cdk-lib/aws-athena';
import * as dms from 'aws-cdk-lib/aws-dms';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
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

/**
 * Issue 16, finding 9: each zone's data is under its own key. Writers that name a key name their
 * target bucket's key (token for token, in the construct tree), and the zone buckets refuse a
 * write that names any other. The Iceberg writes, which name none, are checked against moto in
 * glue-scripts/tests/test_zone_encryption.py.
 */
describe.each(ENVIRONMENTS)('each zone under its own key (%s)', (envName) => {
  const { platform, templates } = synthesize(envName);
  const keys = platform.security.keys;
  const { zoneBuckets, queryResultsBucket } = platform.lakehouse.storage;
  const keyOfBucket = new Map<string, string>();
  for (const [bucket, key] of [[zoneBuckets.raw, keys.raw], [zoneBuckets.processed, keys.processed], [zoneBuckets.aggregated, keys.aggregated], [queryResultsBucket, keys.queryResults]] as const) {
    keyOfBucket.set(bucket.bucketName, key.keyArn);
    keyOfBucket.set(bucket.bucketArn, key.keyArn);
  }
  const cfn = <T>(type: new (...args: any[]) => T) => platform.lakehouse.node.root.node.findAll().filter((c): c is any => c instanceof type) as T[];

  test('the zone buckets and the query results bucket refuse a write under any other key', () => {
    const t = templates.lakehouse;
    const policies = Object.values(resourcesOf(t, 'AWS::S3::BucketPolicy'));
    const buckets = resourcesOf(t, 'AWS::S3::Bucket');
    const guarded = Object.entries(buckets).filter(([id]) => /^Storage(RawZone|ProcessedZone|AggregatedZone|QueryResults)Bucket/.test(id));
    expect(guarded).toHaveLength(4);
    for (const [id, bucket] of guarded) {
      const statements = policies.find((p) => p.Properties.Bucket.Ref === id)!.Properties.PolicyDocument.Statement;
      const bucketKey = bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.KMSMasterKeyID;
      const refusal = (sid: string) => statements.find((s: any) => s.Sid === sid);
      expect(refusal('RefuseOtherEncryption')).toMatchObject({
        Effect: 'Deny', Principal: { AWS: '*' }, Action: 's3:PutObject',
        Condition: { StringNotEqualsIfExists: { 's3:x-amz-server-side-encryption': 'aws:kms' } },
      });
      expect(refusal('RefuseOtherKeys')).toMatchObject({
        Effect: 'Deny', Principal: { AWS: '*' }, Action: 's3:PutObject',
        Condition: { StringNotEqualsIfExists: { 's3:x-amz-server-side-encryption-aws-kms-key-id': bucketKey } },
      });
    }
  });

  test("the Glue jobs' EMRFS writes (temporary files, quarantine) go to the processed zone, under its key", () => {
    const [securityConfiguration] = cfn(glue.CfnSecurityConfiguration);
    const s3Encryption = (securityConfiguration.encryptionConfiguration as any).s3Encryptions[0];
    expect(s3Encryption).toEqual({ s3EncryptionMode: 'SSE-KMS', kmsKeyArn: keys.processed.keyArn });
    const jobs = cfn(glue.CfnJob);
    expect(jobs.length).toBeGreaterThan(0);
    for (const job of jobs) {
      const args = job.defaultArguments as Record<string, string>;
      for (const written of ['--TempDir', '--quarantine_root'].filter((a) => a in args)) {
        expect(args[written]).toContain(zoneBuckets.processed.bucketName);
      }
    }
  });

  test('DMS, Firehose and Athena name the key of the bucket they write to', () => {
    const pairs: Array<[string, string | undefined, string]> = [];
    for (const endpoint of cfn(dms.CfnEndpoint).filter((e) => e.s3Settings)) {
      const settings = endpoint.s3Settings as dms.CfnEndpoint.S3SettingsProperty;
      pairs.push([endpoint.node.path, settings.serverSideEncryptionKmsKeyId, settings.bucketName!]);
    }
    for (const stream of cfn(firehose.CfnDeliveryStream)) {
      const destination = stream.extendedS3DestinationConfiguration as firehose.CfnDeliveryStream.ExtendedS3DestinationConfigurationProperty;
      const kms = (destination.encryptionConfiguration as any).kmsEncryptionConfig.awskmsKeyArn;
      pairs.push([stream.node.path, kms, destination.bucketArn]);
    }
    for (const workgroup of cfn(athena.CfnWorkGroup)) {
      const results = (workgroup.workGroupConfiguration as any).resultConfiguration;
      const bucket = [...keyOfBucket.keys()].find((b) => String(results.outputLocation).includes(b));
      pairs.push([workgroup.node.path, results.encryptionConfiguration.kmsKey, bucket ?? results.outputLocation]);
    }
    expect(pairs.length).toBeGreaterThanOrEqual(4);
    for (const [writer, key, bucket] of pairs) {
      expect({ writer, key }).toEqual({ writer, key: keyOfBucket.get(bucket) });
    }
  });
});
