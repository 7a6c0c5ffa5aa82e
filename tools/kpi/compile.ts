/**
 * ts-node tools/kpi/compile.ts '<values as JSON>'
 *
 * Prints, as JSON, every KPI of the catalogue as Athena receives it for those values: the SQL with
 * positional markers and the literal of each execution parameter (lambda/shared/kpi/catalogue.ts,
 * `compile`). The tests and the local run feed exactly these to a local Trino, so the statements
 * checked are the ones the kpi command and the API send, not a copy.
 */
import * as path from 'path';
import { compile, loadCatalogue, validateParameters } from '../../lambda/shared/kpi/catalogue';

const values = JSON.parse(process.argv[2] ?? '{}') as Record<string, string>;
const catalogue = loadCatalogue(path.join(__dirname, '..', '..', 'queries'));
const compiled = Object.fromEntries(
  catalogue.map((kpi) => {
    const given = Object.fromEntries(Object.entries(values).filter(([name]) => kpi.parameters.some((p) => p.name === name)));
    return [kpi.name, { file: kpi.file, ...compile(kpi, validateParameters(kpi, given, { maxRangeDays: 3660 })) }];
  }),
);
process.stdout.write(JSON.stringify(compiled));
