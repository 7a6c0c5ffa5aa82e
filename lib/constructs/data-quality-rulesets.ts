import * as glue from 'aws-cdk-lib/aws-glue';
import { Construct } from 'constructs';
import { DatasetContract, processedTableName } from '../contracts';
import { dqdlRuleset } from '../contracts/dqdl';

export interface DataQualityRulesetsProps {
  /** Prefix of the ruleset names, e.g. `tlh-dev`; each is `<prefix>-<dataset>`. */
  readonly namePrefix: string;
  /** The processed zone's Glue database, where the tables the rulesets target live. */
  readonly databaseName: string;
  /** The processed datasets (one ruleset each), from the job registry. */
  readonly contracts: readonly DatasetContract[];
}

/**
 * The data-quality rules the Glue jobs evaluate, published in the catalog as one Glue Data
 * Quality ruleset per processed Iceberg table, each in DQDL derived from the dataset's contract
 * (lib/contracts/dqdl.ts): what a job checks and what the console shows cannot differ.
 */
export class DataQualityRulesets extends Construct {
  readonly rulesets: Record<string, glue.CfnDataQualityRuleset> = {};

  constructor(scope: Construct, id: string, props: DataQualityRulesetsProps) {
    super(scope, id);
    for (const contract of props.contracts) {
      const tableName = processedTableName(contract);
      const ruleset = new glue.CfnDataQualityRuleset(this, contract.dataset, {
        name: `${props.namePrefix}-${contract.dataset}`,
        description: `Data-quality rules of ${props.databaseName}.${tableName}, from its contract`,
        ruleset: dqdlRuleset(contract),
        targetTable: { databaseName: props.databaseName, tableName },
      });
      // A ruleset's name is unique: keep the logical ID it had when the stack built it
      // (`Rules-<dataset>`), or an update would create a second ruleset of that name and fail.
      ruleset.overrideLogicalId(`Rules${contract.dataset.replace(/[^A-Za-z0-9]/g, '')}`);
      this.rulesets[contract.dataset] = ruleset;
    }
  }
}
