import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { StatefulConstruct } from './removal';

export interface QueryWorkgroupProps {
  readonly workgroupName: string;
  readonly resultsBucket: s3.IBucket;
  readonly resultsKey: kms.IKey;
  /** Athena cancels a query that scans more than this many bytes. */
  readonly bytesScannedCutoffPerQuery: number;
  readonly removalPolicy: RemovalPolicy;
}

/** Prefix of the results bucket under which the workgroup writes query results. */
export const QUERY_RESULTS_PREFIX = 'athena-results/';

/**
 * The analysts' Athena workgroup: engine version 3, its settings enforced over any client-side
 * setting (so nobody can write unencrypted results elsewhere or lift the scan cutoff), results
 * encrypted with the results key in the results bucket, and per-query metrics in CloudWatch.
 */
export class QueryWorkgroup extends StatefulConstruct {
  readonly workgroup: athena.CfnWorkGroup;
  readonly workgroupName: string;
  readonly workgroupArn: string;

  constructor(scope: Construct, id: string, props: QueryWorkgroupProps) {
    super(scope, id, props);
    this.workgroupName = props.workgroupName;
    this.workgroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: props.workgroupName,
      description: 'Telemetry lakehouse analysts: KPI queries over the aggregated zone',
      state: 'ENABLED',
      // With DESTROY the workgroup and its saved queries go with the stack; otherwise keep them.
      recursiveDeleteOption: props.removalPolicy === RemovalPolicy.DESTROY,
      workGroupConfiguration: {
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: props.bytesScannedCutoffPerQuery,
        requesterPaysEnabled: false,
        resultConfiguration: {
          outputLocation: props.resultsBucket.s3UrlForObject(QUERY_RESULTS_PREFIX),
          expectedBucketOwner: Stack.of(this).account,
          encryptionConfiguration: { encryptionOption: 'SSE_KMS', kmsKey: props.resultsKey.keyArn },
          aclConfiguration: { s3AclOption: 'BUCKET_OWNER_FULL_CONTROL' },
        },
      },
    });
    this.workgroup.applyRemovalPolicy(props.removalPolicy);
    this.workgroupArn = Stack.of(this).formatArn({ service: 'athena', resource: 'workgroup', resourceName: props.workgroupName });
  }
}
