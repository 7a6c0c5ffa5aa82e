import * as fs from 'fs';
import * as path from 'path';
import * as athena from 'aws-cdk-lib/aws-athena';
import { Construct } from 'constructs';

export interface NamedQueriesProps {
  /** Prefix of the query names, e.g. `tlh-dev`; each is `<prefix>-<file name with dashes>`. */
  readonly namePrefix: string;
  /** Folder of `.sql` files, one query each; the first line, a `--` comment, is its description. */
  readonly directory: string;
  /** The database the queries run against. */
  readonly database: string;
  readonly workGroup: string;
}

/**
 * The analysts' saved Athena queries, one per `.sql` file of a folder, so that a query is
 * reviewed, tested (glue-scripts/tests/test_queries.py) and deployed as a file.
 */
export class NamedQueries extends Construct {
  readonly queries: athena.CfnNamedQuery[] = [];

  constructor(scope: Construct, id: string, props: NamedQueriesProps) {
    super(scope, id);
    for (const file of fs.readdirSync(props.directory).filter((f) => f.endsWith('.sql')).sort()) {
      const name = file.replace(/\.sql$/, '');
      const text = fs.readFileSync(path.join(props.directory, file), 'utf8');
      const description = text.split('\n')[0];
      if (!description.startsWith('--')) throw new Error(`${file}: the first line must be a -- comment describing the query`);
      const query = new athena.CfnNamedQuery(this, name, {
        name: `${props.namePrefix}-${name.replace(/_/g, '-')}`,
        description: description.replace(/^--\s*/, ''),
        database: props.database,
        workGroup: props.workGroup,
        queryString: text.trim(),
      });
      // Keep the logical ID the stack gave it (`Query-<name>`): a new one would replace the query
      // and change the ID analysts have saved.
      query.overrideLogicalId(`Query${name.replace(/[^A-Za-z0-9]/g, '')}`);
      this.queries.push(query);
    }
  }
}
