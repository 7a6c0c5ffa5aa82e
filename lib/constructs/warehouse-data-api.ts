import * as iam from 'aws-cdk-lib/aws-iam';

/**
 * The IAM a caller of the Redshift Data API needs on one workgroup: the statement actions on the
 * workgroup; DescribeStatement and GetStatementResult, which authorize on no resource, limited by
 * the service's condition to the statements this role started. The condition names the role's
 * unique id and any session of it: Step Functions signs its calls with a session name of its own
 * making, so the exact `${aws:userid}` of one call need not be the one that started the statement.
 */
export function grantDataApiStatements(role: iam.Role, workgroupArn: string, actions: readonly ('redshift-data:BatchExecuteStatement' | 'redshift-data:ExecuteStatement')[]): void {
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: [...actions], resources: [workgroupArn] }));
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['redshift-data:DescribeStatement', 'redshift-data:GetStatementResult'],
      resources: ['*'],
      conditions: { StringLike: { 'redshift-data:statement-owner-iam-userid': `${role.roleId}:*` } },
    }),
  );
}
