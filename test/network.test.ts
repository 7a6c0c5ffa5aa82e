import { ENVIRONMENTS, resourcesOf, synthesize } from './helpers/platform';
import { INTERFACE_ENDPOINTS } from '../lib/constructs/platform-network';

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
    const groups = Object.values(resourcesOf(t, 'AWS::Logs::LogGroup'));
    expect(groups).toHaveLength(1);
    expect(groups[0].Properties.RetentionInDays).toBe(config.network.flowLogRetentionDays);
    expect(groups[0].Properties.KmsKeyId).toBeDefined();
  });

  test('strips every rule from the default security group', () => {
    t.resourceCountIs('Custom::VpcRestrictDefaultSG', 1);
  });
});
