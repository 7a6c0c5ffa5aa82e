import { Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledgeWildcards } from '../nag/acknowledgements';

/**
 * What a function in the VPC needs of its execution role without the AWS managed
 * AWSLambdaVPCAccessExecutionRole: Lambda creates and removes the function's network interfaces
 * with the role. EC2 authorizes the Describe calls only on "*"; creation is limited to this VPC's
 * subnets and the function's security group. The function must depend on the returned policy.
 */
export function networkInterfacesPolicy(scope: Construct, role: iam.IRole, vpc: ec2.IVpc, subnets: ec2.SubnetSelection, securityGroup: ec2.ISecurityGroup): iam.Policy {
  const stack = Stack.of(scope);
  const policy = new iam.Policy(scope, 'NetworkInterfaces', {
    roles: [role],
    statements: [
      new iam.PolicyStatement({
        actions: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses', 'ec2:DeleteNetworkInterface'],
        resources: ['*'],
      }),
      new iam.PolicyStatement({
        actions: ['ec2:CreateNetworkInterface'],
        resources: [
          stack.formatArn({ service: 'ec2', resource: 'network-interface', resourceName: '*' }),
          stack.formatArn({ service: 'ec2', resource: 'security-group', resourceName: securityGroup.securityGroupId }),
          ...vpc.selectSubnets(subnets).subnets.map((s) => stack.formatArn({ service: 'ec2', resource: 'subnet', resourceName: s.subnetId })),
        ],
      }),
    ],
  });
  Validations.of(policy).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: 'EC2 does not support resource-level permissions for DescribeNetworkInterfaces/DescribeSubnets, and Lambda assigns and deletes its interfaces by id; creation is scoped to the subnets and security group.',
  });
  acknowledgeWildcards(policy, [
    {
      finding: /^Resource::arn:[^:]+:ec2:[^:]+:(<AWS::AccountId>|\d{12}):network-interface\/\*$/,
      reason: 'The interface to be created has no id yet; the subnet and security group resources of the same statement bound where it can be.',
    },
  ]);
  return policy;
}
