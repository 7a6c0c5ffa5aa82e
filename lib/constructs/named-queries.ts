import * as athena from 'aws-cdk-lib/aws-athena';
import { Construct } from 'constructs';
import { describeParameters, loadCatalogue, positional } from '../../lambda/shared/kpi/catalogue';

export interface NamedQueriesProps {
  /** Prefix of the query names, e.g. `tlh-dev`; each is `<prefix>-<KPI name>`. */
  readonly namePrefix: string;
  /** The KPI catalogue's folder (queries/): one `.sql` file per KPI, its header the title and parameters. */
  readonly directory: string;
  /** The database the queries run against. */
  readonly database: string;
  readonly workGroup: string;
}

/**
 * The KPI catalogue as saved Athena queries, for analysts in the console: each with positional
 * parameters (the console asks for their values, in the order the description gives), the same SQL
 * the KPI command and API run, reviewed and tested as a file (glue-scripts/tests/test_queries.py).
 */
export class NamedQueries extends Construct {
  readonly queries: athena.CfnNamedQuery[] = [];

  constructor(scope: Construct, id: string, props: NamedQueriesProps) {
    super(scope, id);
    for (const kpi of loadCatalogue(props.directory)) {
      const { sql, order } = positional(kpi);
      const query = new athena.CfnNamedQuery(this, kpi.file.replace(/\.sql$/, ''), {
        name: `${props.namePrefix}-${kpi.name}`,
        description: `${kpi.title} Parameters: ${describeParameters(kpi)}; the console asks for them in this order: ${order.join(', ')} ('' for an absent optional one).`.slice(0, 1024),
        database: props.database,
        workGroup: props.workGroup,
        queryString: sql,
      });
      // Keep the logical ID the stack gave it (`Query-<file>`): a new one would replace the query
      // and change the ID analysts have saved.
      query.overrideLogicalId(`Query${kpi.file.replace(/\.sql$/, '').replace(/[^A-Za-z0-9]/g, '')}`);
      this.queries.push(query);
    }
  }
}
