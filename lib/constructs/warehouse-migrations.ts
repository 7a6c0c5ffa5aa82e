import { CustomResource, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { WarehouseMigration } from '../warehouse-sql';
import { migrationsProvider } from './migrations-provider';
import { StatefulConstruct } from './removal';
import { grantDataApiStatements } from './warehouse-data-api';

export interface WarehouseMigrationsProps {
  readonly namePrefix: string;
  readonly workgroupName: string;
  readonly workgroupArn: string;
  readonly databaseName: string;
  /** The namespace's managed admin secret: migrations create schemas and roles, which only the admin may. */
  readonly adminSecretArn: string;
  /** Encrypts the admin secret. */
  readonly warehouseKey: kms.IKey;
  /** Redshift's own selection of warehouse/migrations (lib/warehouse-sql.ts), rendered with the stack's names. */
  readonly migrations: readonly WarehouseMigration[];
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets: ec2.SubnetSelection;
  readonly logsKey: kms.IKey;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The warehouse's migrations, applied at deploy (issue 12): a custom resource whose properties
 * carry every migration's statements, so a new file in warehouse/migrations/ changes them and
 * CloudFormation runs the handler again (lambda/warehouse-migrations). The handler applies, through
 * the Redshift Data API as the admin, each migration not yet recorded in public.schema_migrations,
 * with its record in one transaction; a failure fails the deploy with the statement's error.
 */
export class WarehouseMigrations extends StatefulConstruct {
  readonly resource: CustomResource;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: WarehouseMigrationsProps) {
    super(scope, id, props);
    const provider = migrationsProvider(this, { ...props, name: 'warehouse-migrations', what: 'the warehouse', through: 'the Redshift Data API as its admin' });
    this.role = provider.role;
    grantDataApiStatements(this.role, props.workgroupArn, ['redshift-data:BatchExecuteStatement', 'redshift-data:ExecuteStatement']);
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [props.adminSecretArn] }));
    props.warehouseKey.grantDecrypt(this.role);

    this.resource = new CustomResource(this, 'Migrations', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::WarehouseMigrations',
      properties: {
        WorkgroupName: props.workgroupName,
        Database: props.databaseName,
        SecretArn: props.adminSecretArn,
        Migrations: props.migrations.map((m) => ({ Version: m.version, Statements: m.statements })),
      },
    });
  }
}
