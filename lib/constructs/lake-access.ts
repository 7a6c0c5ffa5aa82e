import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct, IConstruct } from 'constructs';
import { LakeZone } from '../config/naming';
import { DatasetContract, RawLayout } from '../contracts';
import { acknowledgeWildcards, escapeRegExp, GRANT_ACTION_GROUPS, WildcardAllowance } from '../nag/acknowledgements';
import { QUERY_RESULTS_PREFIX } from './query-workgroup';

export interface LakeAccessProps {
  readonly zoneBuckets: Record<LakeZone, s3.IBucket>;
  readonly queryResultsBucket: s3.IBucket;
  readonly databaseNames: Record<LakeZone, string>;
  readonly workgroupArn: string;
  /** The raw-zone writers come from the contracts: one role per source, trusted by its writer. */
  readonly contracts: readonly DatasetContract[];
  /**
   * IAM roles (exact ARNs) that may assume the analyst role.
   * @default - none named: the account's IAM Identity Center permission-set roles may
   */
  readonly analystPrincipalArns?: readonly string[];
}

/** Where rejected records of a dataset go, in the processed bucket, with their reason. */
export const QUARANTINE_PREFIX = 'quarantine/';

const WRITER_PRINCIPALS: Record<RawLayout['writer'], string> = {
  dms: 'dms.amazonaws.com',
  firehose: 'firehose.amazonaws.com',
  lambda: 'lambda.amazonaws.com',
};

const ATHENA_QUERY_ACTIONS = [
  'athena:StartQueryExecution',
  'athena:StopQueryExecution',
  'athena:GetQueryExecution',
  'athena:GetQueryResults',
  'athena:GetQueryRuntimeStatistics',
  'athena:BatchGetQueryExecution',
  'athena:ListQueryExecutions',
  'athena:GetWorkGroup',
  'athena:GetNamedQuery',
  'athena:BatchGetNamedQuery',
  'athena:ListNamedQueries',
];
const GLUE_READ_ACTIONS = ['glue:GetDatabase', 'glue:GetTable', 'glue:GetTables', 'glue:GetPartition', 'glue:GetPartitions', 'glue:BatchGetPartition'];
const GLUE_WRITE_ACTIONS = [
  'glue:CreateTable',
  'glue:UpdateTable',
  'glue:DeleteTable',
  'glue:GetTableVersions',
  'glue:BatchCreatePartition',
  'glue:CreatePartition',
  'glue:UpdatePartition',
  'glue:DeletePartition',
  'glue:BatchDeletePartition',
];

/**
 * One IAM role per component that touches the lake, each built from grant*() calls scoped to the
 * prefixes and catalog databases that component needs, and nothing else:
 *
 * | role | S3 | catalog |
 * |---|---|---|
 * | raw writer, one per source | put (DMS: also delete, list) under raw/<source>/ | none |
 * | ETL (Glue jobs, Iceberg maintenance included) | read raw/, write and delete processed/ quarantine/ aggregated/ | read raw, write processed + aggregated |
 * | analyst (Athena) | read aggregated/ only; results under athena-results/ | read aggregated only |
 *
 * Glue job and Lambda specifics (scripts, log groups, streams) are added where those are built.
 */
export class LakeAccess extends Construct {
  readonly etlRole: iam.Role;
  readonly analystRole: iam.Role;
  private readonly rawWriters = new Map<string, iam.Role>();

  constructor(scope: Construct, id: string, props: LakeAccessProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { raw, processed, aggregated } = props.zoneBuckets;
    const catalogArn = stack.formatArn({ service: 'glue', resource: 'catalog' });
    const databaseArn = (zone: LakeZone) => stack.formatArn({ service: 'glue', resource: 'database', resourceName: props.databaseNames[zone] });
    const tablesArn = (zone: LakeZone) => stack.formatArn({ service: 'glue', resource: 'table', resourceName: `${props.databaseNames[zone]}/*` });
    const catalogResources = (zones: LakeZone[]) => [catalogArn, ...zones.flatMap((z) => [databaseArn(z), tablesArn(z)])];

    // Raw writers, one per source.
    const sources = new Map<string, RawLayout['writer']>();
    for (const c of props.contracts) {
      if (!c.raw) continue;
      const known = sources.get(c.source);
      if (known && known !== c.raw.writer) throw new Error(`Source ${c.source} has two writers: ${known} and ${c.raw.writer}`);
      sources.set(c.source, c.raw.writer);
    }
    for (const [source, writer] of sources) {
      const prefix = `raw/${source}/`;
      const role = new iam.Role(this, `RawWriter-${source}`, {
        assumedBy: new iam.ServicePrincipal(WRITER_PRINCIPALS[writer]),
        description: `Writes ${source} data into ${prefix} of the raw zone (${writer}).`,
      });
      raw.grantPut(role, `${prefix}*`);
      if (writer !== 'lambda') {
        // DMS and Firehose list their target prefix; DMS also replaces files it wrote.
        role.addToPrincipalPolicy(
          new iam.PolicyStatement({
            actions: ['s3:ListBucket', 's3:GetBucketLocation', 's3:ListBucketMultipartUploads'],
            resources: [raw.bucketArn],
            conditions: { StringLike: { 's3:prefix': [`${prefix}*`] } },
          }),
        );
      }
      if (writer === 'dms') raw.grantDelete(role, `${prefix}*`);
      // Multipart uploads (DMS and Firehose write large files) read back the data key.
      if (writer !== 'lambda') raw.encryptionKey?.grantDecrypt(role);
      this.rawWriters.set(source, role);
    }

    this.etlRole = new iam.Role(this, 'Etl', {
      assumedBy: new iam.ServicePrincipal('glue.amazonaws.com'),
      description: 'Glue ETL: reads the raw zone, writes the processed (and quarantine) and aggregated zones.',
    });
    raw.grantRead(this.etlRole, 'raw/*');
    processed.grantReadWrite(this.etlRole, 'processed/*');
    processed.grantReadWrite(this.etlRole, `${QUARANTINE_PREFIX}*`);
    aggregated.grantReadWrite(this.etlRole, 'aggregated/*');
    this.etlRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: GLUE_READ_ACTIONS, resources: catalogResources(['raw', 'processed', 'aggregated']) }));
    this.etlRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: GLUE_WRITE_ACTIONS, resources: catalogResources(['processed', 'aggregated']) }));

    // Analysts come through named roles (config security.analystPrincipalArns), or, where none
    // are named, through the account's IAM Identity Center permission-set roles only: never any
    // principal of the account that happens to be allowed sts:AssumeRole on `*`.
    this.analystRole = new iam.Role(this, 'Analyst', {
      assumedBy:
        (props.analystPrincipalArns ?? []).length > 0
          ? new iam.CompositePrincipal(...props.analystPrincipalArns!.map((arn) => new iam.ArnPrincipal(arn)))
          : new iam.AccountRootPrincipal().withConditions({
              ArnLike: { 'aws:PrincipalArn': stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: 'aws-reserved/sso.amazonaws.com/*' }) },
            }),
      description: 'Analysts: Athena queries in the platform workgroup over the aggregated zone only.',
    });
    this.grantAggregatedQueries = (grantee: iam.IGrantable) => {
      aggregated.grantRead(grantee, 'aggregated/*');
      // Athena writes and reads the results with the caller's credentials; it never deletes them (the lifecycle expires them).
      props.queryResultsBucket.grantRead(grantee, `${QUERY_RESULTS_PREFIX}*`);
      props.queryResultsBucket.grantPut(grantee, `${QUERY_RESULTS_PREFIX}*`);
      iam.Grant.addToPrincipal({ grantee, actions: GLUE_READ_ACTIONS, resourceArns: catalogResources(['aggregated']) });
      iam.Grant.addToPrincipal({ grantee, actions: ATHENA_QUERY_ACTIONS, resourceArns: [props.workgroupArn] });
      if (grantee !== this.analystRole) {
        // From another stack the buckets' ARNs are references of any form; the folders are what is granted.
        acknowledgeWildcards(grantee.grantPrincipal as unknown as IConstruct, [GRANT_ACTION_GROUPS, QUERY_FOLDERS_ALLOWANCE, tableAllowance(props)]);
      }
    };
    this.grantAggregatedQueries(this.analystRole);
    this.grantWarehouseReads = (grantee: iam.IGrantable) => {
      processed.grantRead(grantee, 'processed/*');
      aggregated.grantRead(grantee, 'aggregated/*');
      iam.Grant.addToPrincipal({ grantee, actions: GLUE_READ_ACTIONS, resourceArns: catalogResources(['processed', 'aggregated']) });
      acknowledgeWildcards(grantee.grantPrincipal as unknown as IConstruct, [GRANT_ACTION_GROUPS, WAREHOUSE_FOLDERS_ALLOWANCE, tableAllowance(props)]);
    };

    acknowledgeWildcards(this, [GRANT_ACTION_GROUPS, PREFIX_ALLOWANCE, tableAllowance(props)]);
  }

  /**
   * What the analyst role may do, for another principal that reads the KPIs (the KPI API's
   * function, QuickSight's data source role): Athena queries in the platform workgroup over the
   * aggregated zone only, their results under athena-results/.
   */
  readonly grantAggregatedQueries: (grantee: iam.IGrantable) => void;

  /**
   * What the warehouse's namespace role reads through Redshift Spectrum: the processed and
   * aggregated tables through the Glue catalog, their objects, and those two zones' keys (the
   * buckets' grants add Decrypt on their keys); nothing in raw.
   */
  readonly grantWarehouseReads: (grantee: iam.IGrantable) => void;

  /** The role that writes `source`'s data into raw/<source>/; fails naming the known sources. */
  rawWriterRole(source: string): iam.IRole {
    const role = this.rawWriters.get(source);
    if (!role) throw new Error(`No raw writer for source '${source}'; known: ${[...this.rawWriters.keys()].join(', ')}`);
    return role;
  }

  /** `source`'s raw writer as used by a component of another stack, e.g. the function that pulls it (see `roleIn`). */
  rawWriterIn(scope: Construct, source: string): iam.IRole {
    return roleIn(scope, `${source.charAt(0).toUpperCase()}${source.slice(1)}WriterRole`, this.rawWriterRole(source));
  }

  /** The ETL role as used by the Glue jobs of another stack (see `roleIn`). */
  etlRoleIn(scope: Construct): iam.IRole {
    return roleIn(scope, 'EtlRole', this.etlRole);
  }
}

/**
 * A lake role as seen from the stack of the component that uses it: imported by name as
 * mutable, so that the grants that component adds (its stream, its log group, its scripts)
 * become a policy of the component's stack. Granting on the role object itself would put them
 * in the lakehouse stack and make it depend on every stack that uses a role, a cycle.
 */
function roleIn(scope: Construct, id: string, role: iam.IRole): iam.IRole {
  // Once per scope: two components of a stack that write as one source share the imported role.
  return (scope.node.tryFindChild(id) as iam.IRole | undefined) ?? iam.Role.fromRoleName(scope, id, role.roleName, { mutable: true });
}

/** The object prefixes granted above, each a wildcard over the objects of one component's folder. */
const PREFIX_ALLOWANCE: WildcardAllowance = {
  finding: /^Resource::<[A-Za-z0-9]+\.Arn>\/(raw\/[a-z0-9_]+\/|raw\/|processed\/|quarantine\/|aggregated\/|athena-results\/)\*$/,
  reason:
    'Objects under one zone or source prefix: the wildcard stands for object keys below a folder the component owns, ' +
    "never for another bucket or another component's folder.",
};

/** The two folders the warehouse reads, in buckets referenced from another stack. */
const WAREHOUSE_FOLDERS_ALLOWANCE: WildcardAllowance = {
  finding: /^Resource::.*\/(processed\/|aggregated\/)\*$/,
  reason: 'Objects under the processed and aggregated zones: what the warehouse reads through Spectrum; nothing in raw, no quarantine, no write.',
};

/** The two folders a KPI reader is granted, in buckets referenced from another stack. */
const QUERY_FOLDERS_ALLOWANCE: WildcardAllowance = {
  finding: /^Resource::.*\/(aggregated\/|athena-results\/)\*$/,
  reason: 'Objects under the aggregated zone (read) and the Athena results folder (query results): what the analyst role may touch, and nothing else.',
};

/** Glue resource ARNs: every table of one named database. */
function tableAllowance(props: LakeAccessProps): WildcardAllowance {
  const names = Object.values(props.databaseNames).map(escapeRegExp).join('|');
  return {
    finding: new RegExp(`^Resource::arn:[^:]+:glue:[^:]+:(<AWS::AccountId>|\\d{12}):table\\/(${names})\\/\\*$`),
    reason: 'Glue table ARNs of one platform database: the tables of a zone are created by the jobs over time, so they are granted per database.',
  };
}
