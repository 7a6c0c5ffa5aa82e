import { gzipSync } from 'zlib';
import { GetObjectCommand, ListObjectsV2Command, PutBucketVersioningCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { loadContracts, partnerFileDatasets, rawPartitionPathTemplate, rawPrefix } from '../../lib/contracts';
import { checkPartnerFile, MAX_REPORTED_LINES, PartnerFileLimits } from '../../lambda/partner-file-check/file-check';
import { CLAIMS_PREFIX, eventKeyReadings, handleLandedFile, PARTNER_FILE_CONTRACTS, PartnerFileOutcome, rawFolder } from '../../lambda/partner-file-check/core';
import { PartnerFileCheckSettings } from '../../lambda/partner-file-check/settings';
import { createBucket, Moto, motoS3, startMoto } from '../../tools/stand-ins/moto';

const telematics = PARTNER_FILE_CONTRACTS.telematics;
const LIMITS: PartnerFileLimits = { maxFileBytes: 64 * 1024, maxUncompressedBytes: 256 * 1024, maxRecords: 2_000 };
const reading = (i: number, overrides: Record<string, unknown> = {}) => ({
  vehicle_id: 'partner-truck-1',
  ts: 1_793_600_000_000 + i * 1_000,
  latitude: 52.1,
  longitude: 4.3,
  speed_kmh: 60,
  odometer_km: 1000 + i * 0.02,
  fuel_used_l: 100 + i * 0.006,
  load_kg: 8000,
  engine_temp_c: 88,
  ingested_at: 1_793_600_000_500 + i * 1_000,
  ...overrides,
});
const ndjson = (records: unknown[], eol = '\n') => Buffer.from(records.map((r) => JSON.stringify(r)).join(eol) + eol, 'utf8');
const check = (name: string, body: Uint8Array, limits = LIMITS) => checkPartnerFile(telematics, name, body, limits);
const reasonsOf = (name: string, body: Uint8Array, limits = LIMITS) => {
  const verdict = check(name, body, limits);
  if (verdict.accepted) throw new Error(`${name} was accepted`);
  return verdict.reasons;
};

describe('partner file check: the file against its contract (unit)', () => {
  const good = ndjson([reading(0), reading(1), reading(2)]);

  test('an NDJSON file of contract records is accepted, plain or GZIP, with LF or CRLF, by any of its names', () => {
    expect(check('day.json', good)).toEqual({ accepted: true, records: 3, gzip: false, extension: '.json' });
    expect(check('day.jsonl', ndjson([reading(0), reading(1)], '\r\n'))).toMatchObject({ accepted: true, records: 2 });
    expect(check('day.NDJSON.gz', gzipSync(good))).toEqual({ accepted: true, records: 3, gzip: true, extension: '.json.gz' });
  });

  test.each([
    ['a CSV', 'day.csv', Buffer.from('vehicle_id,ts\nx,1\n'), ["format: 'day.csv' is not NDJSON by its name: expected .json, .ndjson or .jsonl, optionally followed by .gz"]],
    ['a .gz that is not GZIP', 'day.json.gz', good, ["format: 'day.json.gz' is named .gz but is not GZIP data"]],
    ['GZIP under a plain name', 'day.json', gzipSync(good), ["format: 'day.json' holds GZIP data but is not named .gz (the raw zone's readers pick the codec by the name)"]],
    ['a file larger than the limit', 'day.json', Buffer.alloc(LIMITS.maxFileBytes + 1, 0x20), [`size: ${LIMITS.maxFileBytes + 1} bytes, above the limit of ${LIMITS.maxFileBytes}`]],
    ['a GZIP bomb', 'day.json.gz', gzipSync(Buffer.alloc(LIMITS.maxUncompressedBytes * 4, 0x20)), [`size: inflates to more than ${LIMITS.maxUncompressedBytes} bytes, the limit`]],
    ['Latin-1 text', 'day.json', Buffer.from('{"vehicle_id":"Citro\xebn"}\n', 'latin1'), ['encoding: not UTF-8']],
    ['a byte-order mark', 'day.json', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), good]), ['encoding: starts with a byte-order mark; write UTF-8 without one']],
    ['an empty file', 'day.json', Buffer.alloc(0), ['content: no records']],
    ['more records than the limit', 'day.json', ndjson(Array.from({ length: 11 }, (_, i) => reading(i))), ['size: more than 10 records, the limit'], { ...LIMITS, maxRecords: 10 }],
  ])('%s is refused whole', (_what, name, body, reasons, limits = LIMITS) => {
    expect(reasonsOf(name as string, body as Uint8Array, limits as PartnerFileLimits)).toEqual(reasons);
  });

  test('a damaged GZIP stream is refused with the inflater\'s reason', () => {
    const damaged = gzipSync(good).subarray(0, 30);
    expect(reasonsOf('day.json.gz', damaged)[0]).toMatch(/^format: the GZIP data is damaged \(/);
  });

  test('every bad record is named by its line, with every problem of the record, and the file refused', () => {
    const body = Buffer.from(
      [
        JSON.stringify(reading(0)),
        '',
        'not json at all',
        '[1, 2]',
        JSON.stringify(reading(3, { speed_kmh: 300, odometer_km: -1 })),
        JSON.stringify(reading(4, { ts: '2026-11-02T10:00:00Z', extra: 1 })),
        JSON.stringify({ ...reading(5), vehicle_id: undefined }),
        JSON.stringify(reading(6, { ts: 2 ** 60 })),
        JSON.stringify(reading(7)),
      ].join('\n') + '\n',
    );
    const verdict = check('day.json', body);
    expect(verdict).toEqual({
      accepted: false,
      records: 8,
      badRecords: 7,
      reasons: [
        'line 2: empty (one record per line, no blank lines)',
        'line 3: not JSON',
        'line 4: not a JSON object',
        'line 5: speed_kmh: 300 is above the maximum 250',
        'line 5: odometer_km: -1 is below the minimum 0',
        'line 6: ts: expected an integer',
        'line 6: extra: not in the contract',
        'line 7: vehicle_id: required',
        'line 8: ts: expected an integer',
      ],
    });
  });

  test(`a file with more than ${MAX_REPORTED_LINES} bad lines lists the first ${MAX_REPORTED_LINES} and counts the rest`, () => {
    const body = ndjson(Array.from({ length: MAX_REPORTED_LINES + 5 }, (_, i) => reading(i, { load_kg: -1 })));
    const verdict = check('day.json', body, { ...LIMITS, maxFileBytes: body.length });
    expect(verdict.accepted).toBe(false);
    if (verdict.accepted) return;
    expect(verdict.badRecords).toBe(MAX_REPORTED_LINES + 5);
    expect(verdict.reasons).toHaveLength(MAX_REPORTED_LINES + 1);
    expect(verdict.reasons[MAX_REPORTED_LINES]).toBe('5 more lines with problems, not listed');
  });

  test('the datasets that take partner files are the contracts whose raw zone holds NDJSON as written, each the contract file itself', () => {
    const contracts = loadContracts();
    expect(Object.keys(PARTNER_FILE_CONTRACTS).sort()).toEqual(partnerFileDatasets(contracts).sort());
    for (const [dataset, contract] of Object.entries(PARTNER_FILE_CONTRACTS)) expect(contract).toEqual(contracts.find((c) => c.dataset === dataset));
  });

  test("a promoted file's folder is the raw layout its dataset's writer uses (lib/contracts), from the upload's time", () => {
    const at = new Date('2026-11-02T07:59:59Z');
    for (const contract of Object.values(PARTNER_FILE_CONTRACTS)) {
      const template = rawPartitionPathTemplate(contract.raw!).replace('${ingest_date}', '2026-11-02').replace('${ingest_hour}', '07');
      expect(rawFolder(contract, at)).toBe(`${rawPrefix(contract)}${template}`);
    }
    expect(rawFolder(telematics, at)).toBe('raw/iot/telematics/ingest_date=2026-11-02/ingest_hour=07/');
  });

  test("an event's key is read as S3 encodes it, and as given", () => {
    expect(eventKeyReadings('acme/day+one%2B.json')).toEqual(['acme/day one+.json', 'acme/day+one%2B.json']);
    expect(eventKeyReadings('acme/day-1.json')).toEqual(['acme/day-1.json']);
    expect(eventKeyReadings('acme/100%.json')).toEqual(['acme/100%.json']);
  });
});

describe('partner file check against moto S3 (integration)', () => {
  const LANDING = 'tlh-test-partner-landing';
  const RAW = 'tlh-test-raw';
  const settings: PartnerFileCheckSettings = { landingBucket: LANDING, rawBucket: RAW, partners: { acme: 'telematics', globex: 'telematics', 'wx-co': 'weather' }, limits: LIMITS };
  const logger = { info: () => undefined, warn: () => undefined };
  let moto: Moto;
  let s3: S3Client;

  beforeAll(async () => {
    moto = await startMoto();
    s3 = motoS3(moto.endpoint);
  }, 60_000);
  afterAll(async () => moto?.stop());
  beforeEach(async () => {
    await moto.reset();
    for (const bucket of [LANDING, RAW]) await createBucket(s3, bucket);
    await s3.send(new PutBucketVersioningCommand({ Bucket: LANDING, VersioningConfiguration: { Status: 'Enabled' } }));
  });

  const TIME = new Date('2026-11-02T07:15:00Z');
  async function upload(key: string, body: Uint8Array, time = TIME): Promise<PartnerFileOutcome> {
    const put = await s3.send(new PutObjectCommand({ Bucket: LANDING, Key: key, Body: body }));
    return handleLandedFile(settings, { key: encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+'), versionId: put.VersionId, size: body.length, time }, { s3, logger });
  }
  const keys = async (bucket: string, prefix = '') => ((await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }))).Contents ?? []).map((o) => o.Key!).sort();
  const bytes = async (bucket: string, key: string) => Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray());
  const good = gzipSync(ndjson([reading(0), reading(1)]));

  test("an accepted file is copied byte for byte into the dataset's raw folder of its upload hour, and leaves the partner's folder", async () => {
    const outcome = await upload('acme/2026-11-02 readings.json.gz', good);
    expect(outcome).toMatchObject({ kind: 'promoted', partner: 'acme', dataset: 'telematics', records: 2 });
    const rawKeys = await keys(RAW);
    expect(rawKeys).toEqual([expect.stringMatching(/^raw\/iot\/telematics\/ingest_date=2026-11-02\/ingest_hour=07\/partner-acme-[0-9a-f]{16}\.json\.gz$/)]);
    expect(await bytes(RAW, rawKeys[0])).toEqual(good);
    expect(await keys(LANDING, 'acme/')).toEqual([]);
  });

  test('a file uploaded twice, under its name or another, by the same partner or another of the dataset, is promoted once', async () => {
    expect((await upload('acme/a.json.gz', good)).kind).toBe('promoted');
    expect((await upload('acme/a.json.gz', good, new Date('2026-11-02T09:00:00Z'))).kind).toBe('repeated');
    expect((await upload('globex/copy-of-a.json.gz', good, new Date('2026-11-03T01:00:00Z'))).kind).toBe('repeated');
    expect(await keys(RAW)).toHaveLength(1);
    expect(await keys(LANDING, 'acme/')).toEqual([]);
    expect(await keys(LANDING, 'globex/')).toEqual([]);
  });

  test('a refused file is kept in the quarantine as uploaded, with a report of every reason, and nothing reaches the raw zone', async () => {
    const body = ndjson([reading(0), reading(1, { speed_kmh: -5 }), reading(2, { fuel_used_l: 'lots' })]);
    const outcome = await upload('acme/bad.json', body);
    expect(outcome).toMatchObject({ kind: 'rejected', partner: 'acme', dataset: 'telematics', records: 3, badRecords: 2 });
    expect(await keys(RAW)).toEqual([]);
    const quarantined = await keys(LANDING, '_quarantine/');
    expect(quarantined).toEqual([expect.stringMatching(/^_quarantine\/acme\/2026-11-02\/[0-9a-f]{16}-bad\.json$/), expect.stringMatching(/-bad\.json\.report\.json$/)]);
    expect(await bytes(LANDING, quarantined[0])).toEqual(body);
    const report = JSON.parse((await bytes(LANDING, quarantined[1])).toString('utf8'));
    expect(report).toMatchObject({ partner: 'acme', dataset: 'telematics', file: 'acme/bad.json', records: 3, badRecords: 2, receivedAt: TIME.toISOString() });
    expect(report.reasons).toEqual(['line 2: speed_kmh: -5 is below the minimum 0', 'line 3: fuel_used_l: expected a finite number']);
    expect(await keys(LANDING, 'acme/')).toEqual([]);
  });

  test("a file refused for its size is quarantined unread; a file of another dataset's partner is checked against that dataset's contract", async () => {
    const big = Buffer.alloc(LIMITS.maxFileBytes + 10, 0x20);
    expect(await upload('acme/huge.json', big)).toMatchObject({ kind: 'rejected', reasons: [`size: ${big.length} bytes, above the limit of ${LIMITS.maxFileBytes}`] });
    expect(await keys(LANDING, '_quarantine/acme/')).toEqual([expect.stringMatching(/unread-\d+-huge\.json$/), expect.stringMatching(/unread-\d+-huge\.json\.report\.json$/)]);
    const weather = ndjson([{ city: 'Amsterdam', observation_hour: '2026-11-02T06:00:00Z', temperature_c: 7.5, condition: 'rain' }]);
    expect(await upload('wx-co/hourly.json', weather)).toMatchObject({ kind: 'promoted', dataset: 'weather', records: 1 });
    expect(await keys(RAW, 'raw/weather/weather/ingest_date=2026-11-02/')).toHaveLength(1);
    expect(await upload('wx-co/readings.json', ndjson([reading(0)]))).toMatchObject({ kind: 'rejected', dataset: 'weather' });
  });

  test('a file outside any partner folder is refused naming the folder; folders and the bookkeeping are ignored', async () => {
    expect(await upload('initech/x.json', ndjson([reading(0)]))).toMatchObject({ kind: 'rejected', partner: 'initech', reasons: ["partner: 'initech' is not a configured partner folder"] });
    expect(await upload('acme.json', ndjson([reading(0)]))).toMatchObject({ kind: 'rejected', partner: '', reasons: ["partner: 'acme.json' is not a configured partner folder"] });
    expect(await keys(LANDING, '_quarantine/_none/')).toHaveLength(2);
    await s3.send(new PutObjectCommand({ Bucket: LANDING, Key: 'acme/incoming/', Body: Buffer.alloc(0) }));
    expect(await handleLandedFile(settings, { key: 'acme/incoming/', size: 0, time: TIME }, { s3, logger })).toMatchObject({ kind: 'ignored' });
    expect(await handleLandedFile(settings, { key: `${CLAIMS_PREFIX}telematics/x.json`, size: 1, time: TIME }, { s3, logger })).toMatchObject({ kind: 'ignored' });
  });

  test('every step is safe to run again: a rerun after the upload is removed does nothing; a rerun after a claim without its copy makes the copy', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: LANDING, Key: 'acme/r.json.gz', Body: good }));
    const event = { key: 'acme/r.json.gz', versionId: put.VersionId, size: good.length, time: TIME };
    const first = await handleLandedFile(settings, event, { s3, logger });
    expect(first.kind).toBe('promoted');
    const rawKey = (first as { rawKey: string }).rawKey;
    expect(await handleLandedFile(settings, event, { s3, logger })).toMatchObject({ kind: 'ignored', reason: expect.stringMatching(/^gone/) });

    // The claim is there, the copy is not (an attempt failed between the two): a retry of that upload makes it.
    const claimKey = (await keys(LANDING, CLAIMS_PREFIX))[0];
    await moto.reset();
    for (const bucket of [LANDING, RAW]) await createBucket(s3, bucket);
    await s3.send(new PutBucketVersioningCommand({ Bucket: LANDING, VersioningConfiguration: { Status: 'Enabled' } }));
    const upload2 = await s3.send(new PutObjectCommand({ Bucket: LANDING, Key: 'acme/r.json.gz', Body: good }));
    await s3.send(new PutObjectCommand({ Bucket: LANDING, Key: claimKey, Body: JSON.stringify({ rawKey, partner: 'acme', sourceKey: 'acme/r.json.gz', sourceVersionId: upload2.VersionId, claimedAt: TIME.toISOString() }) }));
    expect(await handleLandedFile(settings, { ...event, versionId: upload2.VersionId }, { s3, logger })).toMatchObject({ kind: 'promoted', rawKey });
    expect(await keys(RAW)).toEqual([rawKey]);

    // Another upload's claim without its copy: this upload is a repeat, and makes the one copy.
    await moto.reset();
    for (const bucket of [LANDING, RAW]) await createBucket(s3, bucket);
    await s3.send(new PutObjectCommand({ Bucket: LANDING, Key: claimKey, Body: JSON.stringify({ rawKey, partner: 'globex', sourceKey: 'globex/first.json.gz', sourceVersionId: null, claimedAt: TIME.toISOString() }) }));
    expect(await upload('acme/r.json.gz', good)).toMatchObject({ kind: 'repeated', rawKey });
    expect(await keys(RAW)).toEqual([rawKey]);
    expect(await bytes(RAW, rawKey)).toEqual(good);
  });
});
