import { DatasetContract } from './index';

/**
 * The DQDL ruleset of a processed table, derived from its contract: the same rules, in the same
 * order and words, as glue-scripts/lakehouse/dq.py (which the jobs evaluate); test/contracts.test.ts
 * fails if the two differ. Primary key; required columns complete; their ranges and allowed values.
 */
export function dqdlRules(contract: DatasetContract): string[] {
  const rules = [`IsPrimaryKey ${contract.key.map((k) => `"${k}"`).join(' ')}`];
  for (const c of contract.columns) {
    if (!c.required || contract.key.includes(c.name)) continue;
    rules.push(`IsComplete "${c.name}"`);
    if (c.min !== undefined) rules.push(`ColumnValues "${c.name}" >= ${c.min}`);
    if (c.max !== undefined) rules.push(`ColumnValues "${c.name}" <= ${c.max}`);
    if (c.allowed) rules.push(`ColumnValues "${c.name}" in [${c.allowed.map((v) => JSON.stringify(v)).join(', ')}]`);
  }
  return rules;
}

export function dqdlRuleset(contract: DatasetContract): string {
  return `Rules = [\n    ${dqdlRules(contract).join(',\n    ')}\n]`;
}
