import { settingsFromEnvironment } from '../lambda/shared/settings';
import { PARTNER_FILE_CHECK_SETTINGS, partnerFileCheckSettings } from '../lambda/partner-file-check/settings';
import { ConfigError, EnvironmentConfig, loadConfig } from '../lib/config';
import { environmentConfigSchema } from '../lib/config/schema';
import { checkMemoryMiB, SFTP_SECURITY_POLICY } from '../lib/constructs/partner-file-drops';
import { joinedText, resourcesOf, synthesize } from './helpers/platform';

/** Partner file drops over SFTP (issue 18): dev enables them with one partner; staging and prod have none until partners are onboarded. */
describe('partner file drops (dev)', () => {
  const { templates, config } = synthesize('dev');
  const t = templates.ingestion;
  const partnerFiles = config.ingestion.partnerFiles;
  const [server] = Object.values(resourcesOf(t, 'AWS::Transfer::Server'));
  const users = Object.values(resourcesOf(t, 'AWS::Transfer::User'));
  const roles = resourcesOf(t, 'AWS::IAM::Role');
  const policies = Object.values(resourcesOf(t, 'AWS::IAM::Policy'));
  const policyOf = (roleId: string) => policies.filter((p) => JSON.stringify(p.Properties.Roles).includes(roleId)).flatMap((p) => p.Properties.PolicyDocument.Statement);

  test('one SFTP server: a VPC endpoint in the private subnets, service-managed users, a policy without old ciphers, structured logs to an encrypted log group', () => {
    expect(server.Properties).toMatchObject({
      Domain: 'S3',
      Protocols: ['SFTP'],
      IdentityProviderType: 'SERVICE_MANAGED',
      EndpointType: 'VPC',
      SecurityPolicyName: SFTP_SECURITY_POLICY,
    });
    expect(SFTP_SECURITY_POLICY).toMatch(/^TransferSecurityPolicy-20(2[4-9])-\d\d$/);
    expect(JSON.stringify(server.Properties.EndpointDetails.SubnetIds)).toMatch(/privateSubnet/i);
    const logGroupId = server.Properties.StructuredLogDestinations[0]['Fn::GetAtt'][0];
    expect(resourcesOf(t, 'AWS::Logs::LogGroup')[logGroupId].Properties.KmsKeyId).toBeDefined();
  });

  test("the server's security group admits port 22 from the configured networks only, and sends nothing", () => {
    const sgId = server.Properties.EndpointDetails.SecurityGroupIds[0]['Fn::GetAtt'][0];
    const sg = resourcesOf(t, 'AWS::EC2::SecurityGroup')[sgId].Properties;
    expect(sg.SecurityGroupIngress.map((r: any) => [r.CidrIp, r.FromPort, r.ToPort])).toEqual(partnerFiles.allowedCidrs.map((c) => [c, 22, 22]));
    expect(sg.SecurityGroupEgress).toEqual([expect.objectContaining({ CidrIp: '255.255.255.255/32' })]); // CDK's "no egress" rule
  });

  test('each partner is a user with its keys, jailed to its own folder, through a role that reaches that folder alone', () => {
    expect(users.map((u) => u.Properties.UserName)).toEqual(partnerFiles.partners.map((p) => p.name));
    for (const partner of partnerFiles.partners) {
      const user = users.find((u) => u.Properties.UserName === partner.name)!.Properties;
      expect(user.SshPublicKeys).toEqual(partner.sshPublicKeys);
      expect(user.HomeDirectoryType).toBe('LOGICAL');
      expect(user.HomeDirectoryMappings).toHaveLength(1);
      expect(user.HomeDirectoryMappings[0].Entry).toBe('/');
      expect(joinedText(user.HomeDirectoryMappings[0].Target)).toMatch(new RegExp(`/${partner.name}$`));
      const roleId = user.Role['Fn::GetAtt'][0];
      const trust = roles[roleId].Properties.AssumeRolePolicyDocument.Statement[0];
      expect(trust.Principal).toEqual({ Service: 'transfer.amazonaws.com' });
      expect(Object.keys(trust.Condition).sort()).toEqual(['ArnLike', 'StringEquals']);
      const statements = policyOf(roleId);
      const s3Resources = statements.filter((s: any) => JSON.stringify(s.Action).includes('s3:')).flatMap((s: any) => [s.Resource].flat().map((r: unknown) => JSON.stringify(r)));
      // The landing bucket itself (List, by prefix) or the partner's folder of it; nothing else.
      for (const resource of s3Resources) expect(resource).toMatch(new RegExp(`Landing.*("\\]\\}|/${partner.name}/\\*"\\]\\]\\})$`));
      const list = statements.find((s: any) => s.Action === 's3:ListBucket');
      expect(list.Condition).toEqual({ StringLike: { 's3:prefix': [`${partner.name}/`, `${partner.name}/*`] } });
    }
  });

  test("the landing bucket is under its own key and sends its Object Created events to EventBridge, which runs the check for the partners' folders", () => {
    const buckets = Object.entries(resourcesOf(t, 'AWS::S3::Bucket')).filter(([id]) => id.includes('Landing'));
    expect(buckets).toHaveLength(1);
    const bucket = buckets[0][1].Properties;
    expect(bucket.NotificationConfiguration).toEqual({ EventBridgeConfiguration: { EventBridgeEnabled: true } });
    expect(JSON.stringify(bucket.BucketEncryption)).toContain('PartnerFilesKey');
    const rules = Object.values(resourcesOf(t, 'AWS::Events::Rule')).filter((r) => JSON.stringify(r.Properties.EventPattern ?? {}).includes('Object Created'));
    expect(rules).toHaveLength(1);
    expect(rules[0].Properties.EventPattern.detail.object.key).toEqual(partnerFiles.partners.map((p) => ({ prefix: `${p.name}/` })));
    expect(rules[0].Properties.Targets[0].DeadLetterConfig).toBeDefined();
  });

  test("the check's settings parse with its handler's schema, name every partner's dataset, and size its memory from the inflate limit", () => {
    const fn = Object.values(resourcesOf(t, 'AWS::Lambda::Function')).find((f) => f.Properties.FunctionName === `${config.resourcePrefix}-partner-file-check`)!;
    const text = joinedText(fn.Properties.Environment.Variables[PARTNER_FILE_CHECK_SETTINGS]);
    const settings = settingsFromEnvironment(PARTNER_FILE_CHECK_SETTINGS, partnerFileCheckSettings, { [PARTNER_FILE_CHECK_SETTINGS]: text.replace(/\$\{[^}]+\}/g, 'tokenbucket') });
    expect(settings.partners).toEqual(Object.fromEntries(partnerFiles.partners.map((p) => [p.name, p.dataset])));
    expect(settings.limits).toEqual({ maxFileBytes: partnerFiles.maxFileMiB * 1_048_576, maxUncompressedBytes: partnerFiles.maxUncompressedMiB * 1_048_576, maxRecords: partnerFiles.maxRecordsPerFile });
    expect(fn.Properties.MemorySize).toBe(checkMemoryMiB(partnerFiles));
    const invokeConfig = Object.values(resourcesOf(t, 'AWS::Lambda::EventInvokeConfig'))[0].Properties;
    expect(invokeConfig.MaximumRetryAttempts).toBe(2);
    expect(invokeConfig.DestinationConfig.OnFailure.Destination).toBeDefined();
  });

  test("the check writes the raw zone under its partners' datasets' prefixes only", () => {
    const fnRole = Object.keys(roles).find((id) => id.includes('PartnerFilesFunctionRole'))!;
    const rawPuts = policyOf(fnRole)
      .filter((s: any) => [s.Action].flat().includes('s3:PutObject'))
      .flatMap((s: any) => [s.Resource].flat().map(joinedText))
      .filter((r: string) => r.includes('raw/'));
    expect(rawPuts.map((r: string) => r.replace(/^.*?(raw\/)/, '$1')).sort()).toEqual(['raw/iot/telematics/*']);
  });

  test('a refused file alarms per partner; a failed check and a dead-lettered event alarm too', () => {
    const alarms = Object.values(resourcesOf(templates.monitoring, 'AWS::CloudWatch::Alarm'));
    for (const partner of partnerFiles.partners) {
      const alarm = alarms.find((a) => a.Properties.MetricName === 'PartnerFilesRejected' && JSON.stringify(a.Properties.Dimensions).includes(partner.name));
      expect(alarm?.Properties.Threshold).toBe(1);
    }
    const descriptions = alarms.map((a) => joinedText(a.Properties.AlarmDescription));
    expect(descriptions.some((d) => d.includes('partner-file-check: a check failed'))).toBe(true);
    expect(descriptions.some((d) => d.includes("an upload's event exhausted its retries"))).toBe(true);
  });

  test("the VPC's S3 gateway endpoint admits the landing bucket, which the check reads from the private subnets", () => {
    const [endpoint] = Object.values(resourcesOf(templates.network, 'AWS::EC2::VPCEndpoint')).filter((e) => JSON.stringify(e.Properties.ServiceName).includes('.s3'));
    const landing = Object.values(resourcesOf(t, 'AWS::S3::Bucket')).find((b) => JSON.stringify(b.Properties.BucketName ?? '').includes('partner-landing'))!;
    const name = joinedText(landing.Properties.BucketName);
    expect(name).toBe(`${config.resourcePrefix}-partner-landing-TOKEN-${config.region}`);
    const admitted = endpoint.Properties.PolicyDocument.Statement.flatMap((s: any) => [s.Resource ?? []].flat().map((r: unknown) => joinedText(r)));
    expect(admitted).toEqual(expect.arrayContaining([`arn:aws:s3:::${name}`, `arn:aws:s3:::${name}/*`]));
  });

  test('staging and prod have no partner yet: no server', () => {
    for (const env of ['staging', 'prod'] as const) expect(loadConfig(env).ingestion.partnerFiles.enabled).toBe(false);
  });
});

describe('partner file drops: configuration that is refused', () => {
  const dev = () => loadConfig('dev');
  const withPartnerFiles = (change: (p: EnvironmentConfig['ingestion']['partnerFiles']) => object) => (c: EnvironmentConfig) =>
    ({ ...c, ingestion: { ...c.ingestion, partnerFiles: { ...c.ingestion.partnerFiles, ...change(c.ingestion.partnerFiles) } } }) as EnvironmentConfig;
  const schemaProblems = (partnerFiles: object) => {
    const raw = { ...dev(), ingestion: { ...dev().ingestion, partnerFiles: { ...dev().ingestion.partnerFiles, ...partnerFiles } } };
    const parsed = environmentConfigSchema.safeParse(raw);
    return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  test('SFTP open to every address, no partner, no network, a bad key, a short name, a repeated name', () => {
    expect(schemaProblems({ allowedCidrs: ['0.0.0.0/0'] })).toEqual(['ingestion.partnerFiles.allowedCidrs.0: must not open SFTP to every address']);
    expect(schemaProblems({ partners: [] })).toEqual(['ingestion.partnerFiles.partners: an enabled partner file drop needs at least one partner']);
    expect(schemaProblems({ allowedCidrs: [] })).toEqual(['ingestion.partnerFiles.allowedCidrs: an enabled partner file drop needs the networks allowed to reach it']);
    const partner = dev().ingestion.partnerFiles.partners[0];
    expect(schemaProblems({ partners: [{ ...partner, sshPublicKeys: ['ssh-dss AAAAB3NzaC1kc3M='] }] })[0]).toMatch(/^ingestion\.partnerFiles\.partners\.0\.sshPublicKeys\.0: must be an OpenSSH public key line/);
    expect(schemaProblems({ partners: [{ ...partner, name: 'ab' }] })[0]).toMatch(/^ingestion\.partnerFiles\.partners\.0\.name: /);
    expect(schemaProblems({ partners: [partner, partner] })).toEqual(['ingestion.partnerFiles.partners: partner names must be unique: each is a user and a folder']);
  });

  test('a partner of a dataset that does not take partner files fails synth naming the field', () => {
    const wrong = withPartnerFiles((p) => ({ partners: [{ ...p.partners[0], dataset: 'shipments' }] }));
    expect(() => synthesize('dev', wrong)).toThrow(ConfigError);
    expect(() => synthesize('dev', wrong)).toThrow(/ingestion\.partnerFiles\.partners\.0\.dataset: shipments does not take partner files; those that do: telematics, weather/);
  });
});
