import { AUDIT_FINDINGS } from '../lib/constructs/audit-trail';
import { Match } from 'aws-cdk-lib/assertions';
import { ENVIRONMENTS, resourcesOf, synthesize } from './helpers/platform';

/**
 * The security properties of the platform, asserted on the synthesized templates of every
 * environment. Snapshots record everything else; these fail with a reason when a property breaks.
 */
describe.each(ENVIRONMENTS)('security properties (%s)', (envName) => {
  const { templates, config } = synthesize(envName);
  const all = Object.values(templates);
  const buckets = all.flatMap((t) => Object.entries(resourcesOf(t, 'AWS::S3::Bucket')));
  const policies = all.flatMap((t) => Object.values(resourcesOf(t, 'AWS::S3::BucketPolicy')));
  const policyOf = (bucketId: string) =>
    policies.find((p) => JSON.stringify(p.Properties.Bucket).includes(`"${bucketId}"`))?.Properties.PolicyDocument.Statement ?? [];

  test('the platform has its buckets: 3 zones, results, 2 access-log buckets, trail, and the partner landing where partner files are on', () => {
    expect(buckets).toHaveLength(config.ingestion.partnerFiles.enabled ? 8 : 7);
    expect(buckets.some(([id]) => id.startsWith('PartnerFilesLanding'))).toBe(config.ingestion.partnerFiles.enabled);
  });

  test.each(['BlockPublicAcls', 'BlockPublicPolicy', 'IgnorePublicAcls', 'RestrictPublicBuckets'])('every bucket sets %s', (flag) => {
    for (const [, b] of buckets) expect(b.Properties.PublicAccessBlockConfiguration[flag]).toBe(true);
  });

  test('every bucket is versioned and bucket-owner-enforced', () => {
    for (const [, b] of buckets) {
      expect(b.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
      expect(b.Properties.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    }
  });

  test('every bucket is encrypted: SSE-KMS with a bucket key, SSE-S3 only for access-log targets', () => {
    for (const [id, b] of buckets) {
      const rule = b.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0];
      if (b.Properties.LoggingConfiguration) {
        expect(rule.ServerSideEncryptionByDefault.SSEAlgorithm).toBe('aws:kms');
        expect(rule.ServerSideEncryptionByDefault.KMSMasterKeyID).toBeDefined();
        expect(rule.BucketKeyEnabled).toBe(true);
      } else {
        // S3 cannot deliver server access logs to an SSE-KMS bucket.
        expect(id).toMatch(/AccessLogs/);
        expect(rule.ServerSideEncryptionByDefault.SSEAlgorithm).toBe('AES256');
      }
    }
  });

  test('every bucket denies plain HTTP and TLS older than 1.2', () => {
    for (const [id] of buckets) {
      const statements = policyOf(id);
      expect(statements).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
        ]),
      );
    }
  });

  test('every bucket expires noncurrent versions and aborts incomplete uploads after 7 days', () => {
    for (const [, b] of buckets) {
      expect(b.Properties.LifecycleConfiguration.Rules).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
            NoncurrentVersionExpiration: { NoncurrentDays: config.lifecycle.noncurrentVersionExpirationDays },
            Status: 'Enabled',
          }),
        ]),
      );
    }
  });

  test('the raw zone moves to Standard-IA after 30 days and Glacier after 90', () => {
    templates.lakehouse.hasResourceProperties('AWS::S3::Bucket', {
      BucketName: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([`${config.resourcePrefix}-raw-`])] }),
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({
            Transitions: [
              { StorageClass: 'STANDARD_IA', TransitionInDays: 30 },
              { StorageClass: 'GLACIER', TransitionInDays: 90 },
            ],
          }),
        ]),
      },
    });
  });

  test('stateful resources are retained unless the environment allows DESTROY', () => {
    const expected = config.removalPolicy === 'destroy' ? 'Delete' : 'Retain';
    for (const type of ['AWS::S3::Bucket', 'AWS::KMS::Key', 'AWS::Logs::LogGroup']) {
      const resources = all.flatMap((t) => Object.values(resourcesOf(t, type)));
      expect(resources.length).toBeGreaterThan(0);
      for (const r of resources) {
        expect(r.DeletionPolicy).toBe(expected);
        expect(r.UpdateReplacePolicy).toBe(expected);
      }
    }
  });

  test('every KMS key rotates yearly', () => {
    const keys = Object.values(resourcesOf(templates.security, 'AWS::KMS::Key'));
    // One per trust boundary, and the backup vault's own where backups are on.
    expect(keys).toHaveLength(config.backup.enabled ? 11 : 10);
    for (const k of keys) {
      expect(k.Properties.EnableKeyRotation).toBe(true);
      expect(k.Properties.RotationPeriodInDays).toBe(365);
    }
  });

  test('the alerts key lets CloudWatch Alarms and EventBridge publish to the encrypted topic', () => {
    const alertsKey = Object.values(resourcesOf(templates.security, 'AWS::KMS::Key')).find((k) => k.Properties.Description.includes('alert'));
    const statements = alertsKey!.Properties.KeyPolicy.Statement;
    for (const service of ['cloudwatch.amazonaws.com', 'events.amazonaws.com']) {
      expect(statements).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            Effect: 'Allow',
            Principal: { Service: service },
            Action: expect.arrayContaining(['kms:Decrypt', 'kms:GenerateDataKey*']),
          }),
        ]),
      );
    }
  });

  test('the logs key serves CloudWatch Logs of this account and region only, and the audit trail', () => {
    const logsKey = Object.values(resourcesOf(templates.security, 'AWS::KMS::Key')).find((k) => k.Properties.Description.startsWith('CloudWatch Logs'));
    const statements = logsKey!.Properties.KeyPolicy.Statement;
    const logs = statements.find((s: any) => s.Sid === 'CloudWatchLogsOfThisAccount');
    expect(logs.Principal).toEqual({ Service: `logs.${config.region}.amazonaws.com` });
    expect(JSON.stringify(logs.Condition.ArnLike)).toContain(`:logs:${config.region}:`);
    const trail = statements.find((s: any) => s.Sid === 'CloudTrailEncryptLogFiles');
    expect(JSON.stringify(trail.Condition.StringEquals['aws:SourceArn'])).toContain(`trail/${config.resourcePrefix}-lake-audit`);
  });

  test('the alert topic is KMS-encrypted and refuses plain HTTP', () => {
    templates.monitoring.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    templates.monitoring.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
    const subscriptions = Object.values(resourcesOf(templates.monitoring, 'AWS::SNS::Subscription'));
    expect(subscriptions.map((s) => [s.Properties.Protocol, s.Properties.Endpoint])).toEqual(config.monitoring.alertEmails.map((e) => ['email', e]));
  });

  test('every log group is KMS-encrypted and has a retention', () => {
    const groups = all.flatMap((t) => Object.values(resourcesOf(t, 'AWS::Logs::LogGroup')));
    expect(groups.length).toBeGreaterThan(0);
    for (const g of groups) {
      expect(g.Properties.KmsKeyId).toBeDefined();
      expect(g.Properties.RetentionInDays).toBeGreaterThan(0);
    }
  });

  test('the Athena workgroup enforces engine v3, KMS-encrypted results and the scan cutoff', () => {
    templates.lakehouse.hasResourceProperties('AWS::Athena::WorkGroup', {
      WorkGroupConfiguration: {
        EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
        EnforceWorkGroupConfiguration: true,
        PublishCloudWatchMetricsEnabled: true,
        BytesScannedCutoffPerQuery: config.athena.bytesScannedCutoffPerQuery,
        ResultConfiguration: Match.objectLike({ EncryptionConfiguration: { EncryptionOption: 'SSE_KMS', KmsKey: Match.anyValue() } }),
      },
    });
  });

  const trailNamed = (suffix: string) => Object.values(resourcesOf(templates.security, 'AWS::CloudTrail::Trail')).find((r) => r.Properties.TrailName === `${config.resourcePrefix}-${suffix}`)!;

  test('CloudTrail records read and write data events on exactly the three lake buckets, in a trail of their own', () => {
    const trail = trailNamed('lake-data-events');
    expect(trail.Properties.EnableLogFileValidation).toBe(true);
    expect(trail.Properties.KMSKeyId).toBeDefined();
    expect(trail.Properties.CloudWatchLogsLogGroupArn).toBeUndefined(); // every Glue read would be a log event
    expect(trail.Properties.EventSelectors).toHaveLength(1);
    const selector = trail.Properties.EventSelectors.find((s: any) => s.DataResources);
    expect(selector).toMatchObject({ ReadWriteType: 'All', IncludeManagementEvents: false });
    const resources = JSON.stringify(selector.DataResources[0].Values);
    for (const zone of ['raw', 'processed', 'aggregated']) expect(resources).toContain(`${config.resourcePrefix}-${zone}-`);
    expect(selector.DataResources[0].Values).toHaveLength(3);
  });

  test("the management trail records reads and writes in every region, into an encrypted log group whose filters page on the account's risky activity", () => {
    const trail = trailNamed('lake-audit');
    expect(trail.Properties).toMatchObject({ IsMultiRegionTrail: true, IncludeGlobalServiceEvents: true, EnableLogFileValidation: true });
    expect(trail.Properties.EventSelectors).toEqual([{ IncludeManagementEvents: true, ReadWriteType: 'All' }]);
    const groupId = trail.Properties.CloudWatchLogsLogGroupArn['Fn::GetAtt'][0];
    const group = resourcesOf(templates.security, 'AWS::Logs::LogGroup')[groupId].Properties;
    expect(JSON.stringify(group.KmsKeyId)).toMatch(/Keyslogs/);
    expect(group.RetentionInDays).toBe(config.monitoring.logRetentionDays);
    const filters = Object.values(resourcesOf(templates.security, 'AWS::Logs::MetricFilter')).map((f) => f.Properties);
    expect(filters.map((f) => f.MetricTransformations[0].MetricName).sort()).toEqual(AUDIT_FINDINGS.map((f) => f.metricName).sort());
    for (const f of filters) {
      expect(f.LogGroupName).toEqual({ Ref: groupId });
      expect(f.MetricTransformations[0]).toMatchObject({ MetricNamespace: 'TelemetryLakehouse/Audit', MetricValue: '1' });
    }
    const root = filters.find((f) => f.MetricTransformations[0].MetricName === 'RootAccountUsage')!;
    expect(root.FilterPattern).toBe('{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }');
    const alarms = Object.values(resourcesOf(templates.monitoring, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties).filter((a) => a.Namespace === 'TelemetryLakehouse/Audit');
    expect(alarms.map((a) => a.MetricName).sort()).toEqual(AUDIT_FINDINGS.map((f) => f.metricName).sort());
    for (const a of alarms) expect(a).toMatchObject({ Threshold: 1, Statistic: 'Sum', ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
  });

  test('the logs key encrypts the log files of the two trails, and of no other trail', () => {
    const key = Object.values(resourcesOf(templates.security, 'AWS::KMS::Key')).find((k) => k.Properties.Description.startsWith('CloudWatch Logs and CloudTrail'))!;
    const statement = key.Properties.KeyPolicy.Statement.find((s: any) => s.Sid === 'CloudTrailEncryptLogFiles');
    const arns = JSON.stringify(statement.Condition.StringEquals['aws:SourceArn']);
    expect(arns).toContain(`trail/${config.resourcePrefix}-lake-audit`);
    expect(arns).toContain(`trail/${config.resourcePrefix}-lake-data-events`);
  });

  test('the account-level DMS roles exist exactly where the environment creates them', () => {
    const names = Object.values(resourcesOf(templates.security, 'AWS::IAM::Role')).map((r) => r.Properties.RoleName).filter(Boolean);
    if (config.security.createDmsServiceRoles) expect(names.sort()).toEqual(['dms-cloudwatch-logs-role', 'dms-vpc-role']);
    else expect(names).toEqual([]);
  });

  test('no IAM statement allows every action', () => {
    for (const t of all) {
      for (const p of Object.values(resourcesOf(t, 'AWS::IAM::Policy'))) {
        for (const s of p.Properties.PolicyDocument.Statement) {
          expect([s.Action].flat()).not.toContain('*');
        }
      }
    }
  });
});

/**
 * The data of record (the raw zone's CDC history, the registry, the alerts and their
 * acknowledgements) is backed up daily into a locked vault where config enables backups, which
 * the schema allows to be off in dev alone; prod's trail bucket is under Object Lock.
 */
describe.each(ENVIRONMENTS)('backups and retention locks (%s)', (envName) => {
  const { templates, config } = synthesize(envName);
  const all = Object.entries(templates);
  const ofType = (type: string) => all.flatMap(([layer, t]) => Object.entries(resourcesOf(t, type)).map(([id, r]) => ({ layer, id, ...r })));
  const selections = ofType('AWS::Backup::BackupSelection');

  if (!config.backup.enabled) {
    test('no vault, plan or selection where backups are off', () => {
      for (const type of ['AWS::Backup::BackupVault', 'AWS::Backup::BackupPlan', 'AWS::Backup::BackupSelection']) expect(ofType(type)).toEqual([]);
    });
    return;
  }

  test('one vault, encrypted with a key of its own, locked for the retention, refusing recovery-point deletion, retained', () => {
    const vaults = ofType('AWS::Backup::BackupVault');
    expect(vaults).toHaveLength(1);
    const [vault] = vaults;
    expect(vault.layer).toBe('security');
    expect(vault.DeletionPolicy).toBe('Retain');
    expect(vault.Properties.BackupVaultName).toBe(`${config.resourcePrefix}-backup`);
    const keyId = vault.Properties.EncryptionKeyArn['Fn::GetAtt'][0];
    const key = resourcesOf(templates.security, 'AWS::KMS::Key')[keyId];
    expect(key.Properties.Description).toContain('backup vault');
    expect(key.DeletionPolicy).toBe('Retain');
    expect(vault.Properties.LockConfiguration).toEqual(
      config.backup.vaultLock === 'none'
        ? undefined
        : { MinRetentionDays: config.backup.retentionDays, ...(config.backup.vaultLock === 'compliance' ? { ChangeableForDays: 3 } : {}) },
    );
    const deny = vault.Properties.AccessPolicy.Statement.find((s: any) => s.Effect === 'Deny');
    expect(deny.Action).toEqual(expect.arrayContaining(['backup:DeleteRecoveryPoint']));
  });

  test('a daily plan keeps each recovery point for the configured days', () => {
    const plans = ofType('AWS::Backup::BackupPlan');
    expect(plans).toHaveLength(1);
    expect(plans[0].Properties.BackupPlan.BackupPlanRule).toEqual([
      expect.objectContaining({ ScheduleExpression: config.backup.schedule, Lifecycle: { DeleteAfterDays: config.backup.retentionDays } }),
    ]);
  });

  test('the raw zone, the registry cluster and the alerts table are each selected, in the stack that owns them, and nothing else', () => {
    const selected = Object.fromEntries(selections.map((s) => [s.Properties.BackupSelection.SelectionName, { layer: s.layer, resources: s.Properties.BackupSelection.Resources }]));
    const prefix = config.resourcePrefix;
    expect(Object.keys(selected).sort()).toEqual([`${prefix}-alerts`, `${prefix}-raw-zone`, `${prefix}-registry`]);
    const target = (name: string) => selected[`${prefix}-${name}`];
    const only = (name: string) => target(name).resources.map((r: any) => r['Fn::GetAtt']?.[0] ?? JSON.stringify(r));
    expect(target('raw-zone').layer).toBe('lakehouse');
    expect(only('raw-zone')).toEqual([expect.stringMatching(/^StorageRawZoneBucket/)]);
    expect(resourcesOf(templates.lakehouse, 'AWS::S3::Bucket')[only('raw-zone')[0]]).toBeDefined();
    expect(target('alerts').layer).toBe('operations');
    expect(resourcesOf(templates.operations, 'AWS::DynamoDB::Table')[only('alerts')[0]]).toBeDefined();
    expect(target('registry').layer).toBe('registry');
    expect(JSON.stringify(target('registry').resources)).toContain(':cluster:');
    // AWS Backup assumes one role, which only AWS Backup may assume; no selection attaches policies of its own.
    for (const s of selections) expect(s.Properties.BackupSelection.IamRoleArn).toEqual(selections[0].Properties.BackupSelection.IamRoleArn);
    const role = Object.values(resourcesOf(templates.security, 'AWS::IAM::Role')).find((r) => JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('backup.amazonaws.com'))!;
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toHaveLength(1);
    expect(all.flatMap(([, t]) => Object.values(resourcesOf(t, 'AWS::IAM::Policy'))).filter((p) => JSON.stringify(p.Properties.Roles).includes('BackupRole'))).toHaveLength(1);
  });
});

describe.each(ENVIRONMENTS)('the trail bucket under Object Lock (%s)', (envName) => {
  const { templates, config } = synthesize(envName);
  test(config.security.trailObjectLock ? 'locked in governance mode for the trail retention' : 'not locked', () => {
    const locked = Object.values(resourcesOf(templates.security, 'AWS::S3::Bucket')).filter((b) => b.Properties.ObjectLockEnabled);
    if (!config.security.trailObjectLock) {
      expect(locked).toEqual([]);
      return;
    }
    expect(locked).toHaveLength(1);
    expect(locked[0].Properties.ObjectLockConfiguration).toEqual({
      ObjectLockEnabled: 'Enabled',
      Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: config.security.trailRetentionDays } },
    });
    expect(locked[0].DeletionPolicy).toBe('Retain');
  });
});
