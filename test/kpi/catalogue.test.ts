import * as path from 'path';
import { compile, kpiOf, literal, loadCatalogue, parseKpi, positional, validateParameters } from '../../lambda/shared/kpi/catalogue';
import { KpiError } from '../../lambda/shared/kpi/errors';

const catalogue = loadCatalogue(path.join(__dirname, '..', '..', 'queries'));
const limits = { maxRangeDays: 31 };
const byCity = kpiOf(catalogue, 'fuel-by-city');

/** The code and parameter of the KpiError a call throws. */
function failure(call: () => unknown): { code: string; parameter?: string; message: string } {
  try {
    call();
  } catch (error) {
    if (error instanceof KpiError) return { code: error.code, parameter: error.parameter, message: error.message };
    throw error;
  }
  throw new Error('expected a KpiError');
}

describe('the KPI catalogue (queries/*.sql)', () => {
  test('every file parses, with its title and parameters', () => {
    expect(catalogue.map((k) => k.name)).toEqual([
      'daily-fuel',
      'fuel-by-city',
      'fuel-by-customer-segment',
      'fuel-by-temperature-range',
      'fuel-by-weather-condition',
      'low-temperature-metrics',
    ]);
    expect(byCity.title).toBe('Fuel consumption by city: a ratio of sums, never an average of ratios.');
    expect(byCity.parameters).toEqual([
      { name: 'from', type: 'date', optional: false, description: 'first metric date (inclusive)' },
      { name: 'to', type: 'date', optional: false, description: 'last metric date (inclusive)' },
      { name: 'city', type: 'string', optional: true, description: 'only this city (every city when absent)' },
    ]);
  });

  test('a file whose header and SQL disagree is refused, naming each problem', () => {
    expect(() => parseKpi('x.sql', 'SELECT 1')).toThrow("x.sql: the first line must be a -- comment with the KPI's title");
    expect(() => parseKpi('x.sql', '-- T\n-- :from date first\nSELECT :to')).toThrow('x.sql: :from is declared but the SQL does not use it; :to is used but not declared');
    expect(() => parseKpi('x.sql', '-- T\n-- :from datetime first\nSELECT 1')).toThrow("line 2: a parameter line reads '-- :name date|string[?] description'");
    expect(() => parseKpi('x.sql', "-- T\n-- :a string x\nSELECT :a, 'at :a'")).toThrow('a string literal holds a :name');
    expect(() => parseKpi('x.sql', '-- T\nSELECT ?')).toThrow('positional ? markers are made by compile()');
  });
});

describe('parameters', () => {
  test('well-formed values pass; an absent optional one is left out', () => {
    expect(validateParameters(byCity, { from: '2026-11-01', to: '2026-11-07', city: 'Madrid' }, limits)).toEqual({ from: '2026-11-01', to: '2026-11-07', city: 'Madrid' });
    expect(validateParameters(byCity, { from: '2026-11-01', to: '2026-11-01', city: undefined }, limits)).toEqual({ from: '2026-11-01', to: '2026-11-01' });
    expect(validateParameters(byCity, { from: '2026-11-01', to: '2026-11-01', city: "L'Hospitalet" }, limits).city).toBe("L'Hospitalet");
  });

  test.each([
    [{ from: '2026-11-01', to: '2026-11-07', town: 'Madrid' }, 'UNKNOWN_PARAMETER', 'town'],
    [{ to: '2026-11-07' }, 'MISSING_PARAMETER', 'from'],
    [{ from: '2026-11-01', to: '2026-02-30' }, 'BAD_PARAMETER', 'to'],
    [{ from: '01/11/2026', to: '2026-11-07' }, 'BAD_PARAMETER', 'from'],
    [{ from: '2026-11-01', to: '2026-11-07', city: 'Madrid; DROP TABLE x' }, 'BAD_PARAMETER', 'city'],
    [{ from: '2026-11-07', to: '2026-11-01' }, 'INVERTED_RANGE', 'from'],
    [{ from: '2026-01-01', to: '2026-11-01' }, 'RANGE_TOO_LONG', 'to'],
  ])('%j is refused: %s on %s', (given, code, parameter) => {
    expect(failure(() => validateParameters(byCity, given, limits))).toMatchObject({ code, parameter });
  });

  test('an unknown KPI is refused with the known ones listed', () => {
    expect(failure(() => kpiOf(catalogue, 'fuel-by-moon'))).toMatchObject({ code: 'UNKNOWN_QUERY', message: expect.stringContaining('known: daily-fuel, fuel-by-city') });
  });
});

describe('compiling for Athena', () => {
  test('markers become positional ? and values literals in their order, an absent optional one as an empty literal', () => {
    const { sql, executionParameters } = compile(byCity, { from: '2026-11-01', to: '2026-11-07' });
    expect(sql).toContain("WHERE metric_date BETWEEN CAST(? AS date) AND CAST(? AS date)\n  AND (? = '' OR city = ?)");
    expect(executionParameters).toEqual(["'2026-11-01'", "'2026-11-07'", "''", "''"]);
    expect(positional(byCity).order).toEqual(['from', 'to', 'city', 'city']);
  });

  test("a quote in a value is doubled, so the value stays one literal", () => {
    expect(literal("O'Higgins' OR '1'='1")).toBe("'O''Higgins'' OR ''1''=''1'");
    expect(compile(byCity, { from: '2026-11-01', to: '2026-11-07', city: "L'Hospitalet" }).executionParameters[2]).toBe("'L''Hospitalet'");
  });
});
