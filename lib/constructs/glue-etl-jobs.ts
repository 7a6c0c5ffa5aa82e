import * as fs from 'fs';
import * as path from 'path';
import { ArnFormat, AssetHashType, DockerImage, Stack, Validations } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { acknowledgeWildcards } from '../nag/acknowledgements';
import { GLUE_METRICS_NAMESPACE } from '../config/metrics';
import { PATHS } from '../paths';

const GLUE_SCRIPTS = PATHS.glueScripts;

/** One Glue job: its entry point under glue-scripts/jobs/ and its fixed arguments. */

export interface EtlJobSpec {
  readonly script: string;
  readonly arguments: Record<string, string>;
}

export interface GlueEtlJobsProps {
  readonly namePrefix: string;
  /** The ETL role (lakehouse stack); imported here so grants become this stack's policies. */
  readonly role: iam.IRole;
  readonly jobs: Record<string, EtlJobSpec>;
  /** Warehouse of the Iceberg catalog, s3://<processed bucket>/processed/ */
  readonly warehouse: string;
  /** Bucket and prefix Glue uses for temporary files. */
  readonly tempBucket: s3.IBucket;
  readonly dataKey: kms.IKey;
  readonly logsKey: kms.IKey;
  readonly workerType: string;
  readonly maxWorkers: number;
  readonly timeoutMinutes: number;
}

/** The Glue version the scripts are written and tested for: Spark 3.5.6, Python 3.11, Iceberg 1.10.0. */
export const GLUE_VERSION = '5.1';
const TEMP_PREFIX = 'glue-temp/';

/**
 * The Glue 5.1 PySpark jobs of the lakehouse, one per entry point in glue-scripts/jobs/, sharing
 * the `lakehouse` package (with the dataset contracts inside) as --extra-py-files. Iceberg through
 * the Glue Data Catalog (--datalake-formats iceberg), job metrics, observability metrics and
 * continuous logging, auto scaling up to maxWorkers, and a security configuration that encrypts
 * what Glue writes to S3, CloudWatch Logs and job bookmarks with KMS.
 */
export class GlueEtlJobs extends Construct {
  readonly jobs: Record<string, glue.CfnJob> = {};
  readonly securityConfiguration: glue.CfnSecurityConfiguration;

  constructor(scope: Construct, id: string, props: GlueEtlJobsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const library = new s3assets.Asset(this, 'Library', {
      path: GLUE_SCRIPTS,
      assetHashType: AssetHashType.OUTPUT,
      bundling: {
        image: DockerImage.fromRegistry('unused-local-bundling-only'),
        local: {
          // The lakehouse package with the contracts inside (lakehouse/_contracts), zipped by CDK.
          tryBundle(outputDir: string): boolean {
            fs.cpSync(path.join(GLUE_SCRIPTS, 'lakehouse'), path.join(outputDir, 'lakehouse'), {
              recursive: true,
              filter: (src) => !src.includes('__pycache__'),
            });
            fs.cpSync(PATHS.contracts, path.join(outputDir, 'lakehouse', '_contracts'), { recursive: true });
            return true;
          },
        },
      },
    });

    this.securityConfiguration = new glue.CfnSecurityConfiguration(this, 'SecurityConfiguration', {
      name: `${props.namePrefix}-etl`,
      encryptionConfiguration: {
        s3Encryptions: [{ s3EncryptionMode: 'SSE-KMS', kmsKeyArn: props.dataKey.keyArn }],
        cloudWatchEncryption: { cloudWatchEncryptionMode: 'SSE-KMS', kmsKeyArn: props.logsKey.keyArn },
        jobBookmarksEncryption: { jobBookmarksEncryptionMode: 'CSE-KMS', kmsKeyArn: props.logsKey.keyArn },
      },
    });

    const policy = new iam.Policy(this, 'JobPolicy', { roles: [props.role] });
    // Exactly the library object, not the whole bootstrap asset bucket (scripts likewise below).
    // One statement per object, each with its own Sid: merged statements would sort the objects
    // by asset hash, and every code change would reorder the policy.
    const readObject = (sid: string, asset: s3assets.Asset) =>
      policy.addStatements(new iam.PolicyStatement({ sid, actions: ['s3:GetObject', 's3:GetObjectVersion'], resources: [asset.bucket.arnForObjects(asset.s3ObjectKey)] }));
    readObject('ReadLibrary', library);
    props.tempBucket.grantReadWrite(props.role, `${TEMP_PREFIX}*`);
    props.logsKey.grantEncryptDecrypt(props.role);
    policy.addStatements(
      // Glue's own log groups, encrypted through the security configuration.
      new iam.PolicyStatement({
        actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:AssociateKmsKey'],
        resources: [stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: '/aws-glue/*', arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
      }),
      new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringEquals: { 'cloudwatch:namespace': ['Glue', 'Glue Data Quality', GLUE_METRICS_NAMESPACE] } },
      }),
      new iam.PolicyStatement({
        actions: ['glue:PublishDataQuality'],
        resources: [stack.formatArn({ service: 'glue', resource: 'dataQualityRuleset', resourceName: '*' })],
      }),
    );
    Validations.of(policy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'CloudWatch PutMetricData has no resource-level permissions; the statement is limited to the job namespaces by condition.',
    });
    acknowledgeWildcards(props.role, [
      { finding: /^Resource::.*\/glue-temp\/\*$/, reason: 'Temporary files of the Glue jobs under their own prefix of the processed bucket.' },
    ]);
    acknowledgeWildcards(this, [
      { finding: /^Resource::arn:[^:]+:logs:[^:]+:(<AWS::AccountId>|\d{12}):log-group:\/aws-glue\/\*$/, reason: 'Glue writes job logs to log groups under /aws-glue/, which it names per job run.' },
      { finding: /^Resource::arn:[^:]+:glue:[^:]+:(<AWS::AccountId>|\d{12}):dataQualityRuleset\/\*$/, reason: 'Glue Data Quality publishes results of the rulesets evaluated inside the jobs, which it names by evaluation context.' },
    ]);

    for (const [name, spec] of Object.entries(props.jobs)) {
      const script = new s3assets.Asset(this, `Script-${name}`, { path: path.join(GLUE_SCRIPTS, 'jobs', spec.script) });
      readObject(`ReadScript${name.replace(/[^A-Za-z0-9]/g, '')}`, script);
      const job = new glue.CfnJob(this, name, {
        name: `${props.namePrefix}-${name}`,
        role: props.role.roleArn,
        glueVersion: GLUE_VERSION,
        command: { name: 'glueetl', pythonVersion: '3', scriptLocation: script.s3ObjectUrl },
        workerType: props.workerType,
        numberOfWorkers: props.maxWorkers,
        timeout: props.timeoutMinutes,
        maxRetries: 0, // the state machine retries, once, with backoff
        executionProperty: { maxConcurrentRuns: 1 },
        securityConfiguration: this.securityConfiguration.ref,
        defaultArguments: {
          '--datalake-formats': 'iceberg',
          '--extra-py-files': library.s3ObjectUrl,
          '--additional-python-modules': 'jsonschema==4.26.0',
          '--enable-metrics': 'true',
          '--enable-observability-metrics': 'true',
          '--enable-continuous-cloudwatch-log': 'true',
          '--enable-auto-scaling': 'true',
          '--job-language': 'python',
          '--TempDir': props.tempBucket.s3UrlForObject(TEMP_PREFIX),
          '--warehouse': props.warehouse,
          ...spec.arguments,
        },
      });
      job.node.addDependency(policy);
      this.jobs[name] = job;
    }
  }
}
