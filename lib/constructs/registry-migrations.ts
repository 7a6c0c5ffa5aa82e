import { CustomResource, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { RegistryMigration } from '../registry-sql';
import { migrationsProvider } from './migrations-provider';
import { StatefulConstruct } from './removal';

export interface RegistryMigrationsProps {
  readonly namePrefix: string;
  readonly clusterArn: string;
  readonly databaseName: string;
  /** The master secret RDS keeps: migrations create the schema, extensions and functions. */
  readonly masterSecretArn: string;
  /** Encrypts the master secret. */
  readonly registryKey: kms.IKey;
  /** registry/migrations, split into statements (lib/registry-sql.ts). */
  readonly migrations: readonly RegistryMigration[];
  /** Logins a migration made without a password, each signed in with its secret's (a SCRAM verifier set at deploy). */
  readonly logins?: readonly { readonly role: string; readonly secret: secretsmanager.ISecret }[];
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets: ec2.SubnetSelection;
  readonly logsKey: kms.IKey;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/** The Data API calls a migration makes: a transaction, its statements, its end. */
export const RDS_DATA_TRANSACTION_ACTIONS = ['rds-data:BeginTransaction', 'rds-data:ExecuteStatement', 'rds-data:CommitTransaction', 'rds-data:RollbackTransaction'];

/**
 * The device registry's migrations, applied at deploy (issue 15): a custom resource whose
 * properties carry every migration's statements, so a new file in registry/migrations/ changes
 * them and CloudFormation runs the handler again (lambda/registry-migrations). The handler applies,
 * through the RDS Data API as the master, each migration not yet recorded in
 * public.registry_migrations, with its record in one transaction; a failure fails the deploy with
 * the statement's error and leaves nothing of that migration. Then it sets each login's password
 * from its secret, as a SCRAM verifier (the password never reaches the database's log).
 */
export class RegistryMigrations extends StatefulConstruct {
  readonly resource: CustomResource;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: RegistryMigrationsProps) {
    super(scope, id, props);
    const provider = migrationsProvider(this, { ...props, name: 'registry-migrations', what: 'the device registry', through: 'the RDS Data API as its master' });
    this.role = provider.role;
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: RDS_DATA_TRANSACTION_ACTIONS, resources: [props.clusterArn] }));
    // The master secret, and each login's (all encrypted with the registry key, which the role may
    // decrypt; a secret's grantRead would put the role in the key's policy, in the security stack).
    const secrets = [props.masterSecretArn, ...(props.logins ?? []).map((l) => l.secret.secretArn)];
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: secrets }));
    props.registryKey.grantDecrypt(this.role);
    this.resource = new CustomResource(this, 'Migrations', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::RegistryMigrations',
      properties: {
        ClusterArn: props.clusterArn,
        Database: props.databaseName,
        SecretArn: props.masterSecretArn,
        Migrations: props.migrations.map((m) => ({ Version: m.version, Statements: m.statements })),
        Logins: (props.logins ?? []).map((l) => ({ Role: l.role, SecretArn: l.secret.secretArn })),
      },
    });
  }
}
