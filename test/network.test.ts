import { egressOf, ENVIRONMENTS, joinedText, resourcesOf, synthesize } from './helpers/platform';
import { AWS_OWNED_BUCKETS_REACHED_FROM_THE_VPC, INTERFACE_ENDPOINTS } from '../lib/constructs/platform-network';

describe.each(ENVIRONMENTS)('network (%s)', (envName) => {
  const { templates, config } = synthesize(envName);
  const t = templates.network;
  const azs = config.network.availabilityZoneCount;

  const allSubnets = resourcesOf(t, 'AWS::EC2::Subnet');
  const warehouseIds = Object.keys(allSubnets).filter((id) => id.startsWith('NetworkWarehouseSubnet'));

  test(`spans ${azs} availability zones with public, private and isolated subnets`, () => {
    const subnets = Object.entries(allSubnets).filter(([id]) => !warehouseIds.includes(id)).map(([, s]) => s);
    expect(subnets).toHaveLength(3 * azs);
    const zones = new Set(subnets.map((s) => JSON.stringify(s.Properties.AvailabilityZone)));
    expect(zones.size).toBe(azs);
    const kinds = subnets.map((s) => s.Properties.Tags.find((tag: any) => tag.Key === 'aws-cdk:subnet-name').Value);
    expect(kinds.filter((k) => k === 'isolated')).toHaveLength(azs);
    expect(kinds.filter((k) => k === 'private')).toHaveLength(azs);
    for (const s of subnets) expect(s.Properties.MapPublicIpOnLaunch).toBe(false);
  });

  test("the warehouse's three isolated subnets: three zones, the VPC's last /24, S3's gateway routes and no other route", () => {
    expect(warehouseIds).toHaveLength(3);
    const octets = config.network.vpcCidr.split('/')[0].split('.');
    const last = Number(octets[2]) + 2 ** (32 - Number(config.network.vpcCidr.split('/')[1])) / 256 - 1;
    expect(warehouseIds.map((id) => allSubnets[id].Properties.CidrBlock)).toEqual([0, 64, 128].map((o) => `${octets[0]}.${octets[1]}.${last}.${o}/26`));
    expect(new Set(warehouseIds.map((id) => JSON.stringify(allSubnets[id].Properties.AvailabilityZone))).size).toBe(3);
    const gateway = Object.values(resourcesOf(t, 'AWS::EC2::VPCEndpoint')).find((e) => e.Properties.VpcEndpointType === 'Gateway')!;
    for (const n of [1, 2, 3]) expect(JSON.stringify(gateway.Properties.RouteTableIds)).toContain(`NetworkWarehouseSubnet${n}RouteTable`);
    const routes = Object.keys(resourcesOf(t, 'AWS::EC2::Route')).filter((id) => id.startsWith('NetworkWarehouseSubnet'));
    expect(routes).toEqual([]);
  });

  test('has the configured NAT gateways', () => {
    t.resourceCountIs('AWS::EC2::NatGateway', config.network.natGateways);
  });

  test('reaches S3 through a gateway endpoint and AWS APIs through interface endpoints', () => {
    const endpoints = Object.values(resourcesOf(t, 'AWS::EC2::VPCEndpoint'));
    const services = endpoints.map((e) => JSON.stringify(e.Properties.ServiceName));
    expect(endpoints.filter((e) => e.Properties.VpcEndpointType === 'Gateway')).toHaveLength(1);
    expect(services.some((s) => s.includes('.s3'))).toBe(true);
    const interfaces = endpoints.filter((e) => e.Properties.VpcEndpointType === 'Interface');
    expect(interfaces).toHaveLength(Object.keys(INTERFACE_ENDPOINTS).length);
    for (const name of ['kms', 'sts', 'logs', 'monitoring', 'kinesis-streams', 'kinesis-firehose', 'glue', 'secretsmanager', 'sns']) {
      expect(services.filter((s) => s.endsWith(`.${name}"`))).toHaveLength(1);
    }
    for (const e of interfaces) expect(e.Properties.PrivateDnsEnabled).toBe(true);
  });

  test('endpoints accept HTTPS from the VPC only', () => {
    const groups = Object.values(resourcesOf(t, 'AWS::EC2::SecurityGroup'));
    const endpointGroup = groups.find((g) => g.Properties.GroupDescription.startsWith('Interface VPC endpoints'));
    expect(endpointGroup!.Properties.SecurityGroupIngress).toEqual([
      expect.objectContaining({ CidrIp: config.network.vpcCidr, FromPort: 443, ToPort: 443, IpProtocol: 'tcp' }),
    ]);
  });

  test('records all traffic in an encrypted flow-log group with the configured retention', () => {
    t.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs' });
    // The flow logs' group, and the S3 prefix-list lookup's: both encrypted, kept as long.
    const groups = Object.values(resourcesOf(t, 'AWS::Logs::LogGroup'));
    expect(groups).toHaveLength(2);
    for (const g of groups) {
      expect(g.Properties.RetentionInDays).toBe(config.network.flowLogRetentionDays);
      expect(g.Properties.KmsKeyId).toBeDefined();
    }
  });

  const endpoints = Object.values(resourcesOf(t, 'AWS::EC2::VPCEndpoint'));
  const thisAccount = { Ref: 'AWS::AccountId' };

  test("every interface endpoint admits this account's principals, on this account's resources only", () => {
    const interfaces = endpoints.filter((e) => e.Properties.VpcEndpointType === 'Interface');
    expect(interfaces).toHaveLength(Object.keys(INTERFACE_ENDPOINTS).length);
    for (const e of interfaces) {
      expect(e.Properties.PolicyDocument.Statement).toEqual([
        {
          Sid: 'ThisAccountOnly',
          Effect: 'Allow',
          Principal: { AWS: '*' },
          Action: '*',
          Resource: '*',
          Condition: { StringEquals: { 'aws:PrincipalAccount': thisAccount }, StringEqualsIfExists: { 'aws:ResourceAccount': thisAccount } },
        },
      ]);
    }
  });

  test("the S3 gateway endpoint admits this account's principals to the three lake buckets and their objects, and no AWS-owned bucket", () => {
    const gateway = endpoints.find((e) => e.Properties.VpcEndpointType === 'Gateway')!;
    expect(AWS_OWNED_BUCKETS_REACHED_FROM_THE_VPC).toEqual([]);
    const [statement, ...others] = gateway.Properties.PolicyDocument.Statement;
    expect(others).toEqual([]);
    expect(statement).toMatchObject({ Effect: 'Allow', Principal: { AWS: '*' }, Action: 's3:*' });
    expect(statement.Condition).toEqual({ StringEquals: { 'aws:PrincipalAccount': thisAccount, 'aws:ResourceAccount': thisAccount } });
    const resources = statement.Resource.map((r: unknown) => joinedText(r));
    // The lake's zones, and the partner landing bucket where partner files are on (the check reads it from the VPC).
    const buckets = ['raw', 'processed', 'aggregated', ...(config.ingestion.partnerFiles.enabled ? ['partner-landing'] : [])].map((name) => `${config.resourcePrefix}-${name}-TOKEN-${config.region}`);
    expect(resources.sort()).toEqual(buckets.flatMap((b) => [`arn:aws:s3:::${b}`, `arn:aws:s3:::${b}/*`]).sort());
  });

  test("the region's S3 prefix list is read at deploy, for the rules that let HTTPS reach S3 and no other address", () => {
    const lookups = Object.values(resourcesOf(t, 'Custom::S3PrefixListLookup'));
    expect(lookups).toHaveLength(1);
    const call = JSON.parse(joinedText(lookups[0].Properties.Update));
    expect(call).toMatchObject({
      service: 'EC2',
      action: 'DescribeManagedPrefixLists',
      parameters: { Filters: [{ Name: 'prefix-list-name', Values: [`com.amazonaws.${config.region}.s3`] }] },
      outputPaths: ['PrefixLists.0.PrefixListId'],
    });
  });

  test('strips every rule from the default security group', () => {
    t.resourceCountIs('Custom::VpcRestrictDefaultSG', 1);
  });
});

/**
 * The workloads that talk to AWS only (DMS, Flink, the warehouse) send HTTPS to the interface
 * endpoints' security group and, where they need S3, to S3's prefix list: no rule to any address.
 */
describe.each(ENVIRONMENTS)('egress of the AWS-only workloads (%s)', (envName) => {
  const { templates } = synthesize(envName);
  const groups = Object.entries(templates)
    .filter(([, tpl]) => tpl !== undefined)
    .flatMap(([layer, tpl]) =>
      Object.entries(resourcesOf(tpl, 'AWS::EC2::SecurityGroup')).map(([id, g]) => ({ layer, id, GroupDescription: g.Properties.GroupDescription as string, egress: egressOf(tpl, id) })),
    );
  const workloads = groups.filter((g) => /^(DMS |Flink |.*: Redshift from)/.test(g.GroupDescription));

  test('DMS (each replication), Flink and, where enabled, the warehouse: no egress to 0.0.0.0/0', () => {
    const expected = ['Flink', 'DMS'];
    expect(workloads.length).toBeGreaterThanOrEqual(expected.length);
    for (const name of expected) expect(workloads.some((g) => g.GroupDescription.startsWith(name))).toBe(true);
    for (const g of workloads) {
      for (const rule of g.egress) expect(rule.CidrIp).not.toBe('0.0.0.0/0');
      const https = g.egress.filter((r: any) => r.FromPort === 443);
      expect(https.some((r: any) => JSON.stringify(r.DestinationSecurityGroupId).includes('EndpointSecurityGroup'))).toBe(true);
      const toS3 = https.filter((r: any) => r.DestinationPrefixListId);
      // S3 for the writer of the raw zone (DMS to S3) and Spectrum (the warehouse), not for Flink or DMS to Kinesis.
      const needsS3 = g.GroupDescription.includes('Redshift') || (g.GroupDescription.startsWith('DMS') && g.layer === 'ingestion');
      expect(toS3).toHaveLength(needsS3 ? 1 : 0);
      expect(https).toHaveLength(needsS3 ? 2 : 1);
    }
  });
});
