import { gunzipSync } from 'zlib';
import type { DatasetContract } from '../../lib/contracts';
import { recordProblems } from '../shared/contract-records';

/**
 * The check of one partner file against its dataset's contract, on the file's bytes alone: its
 * name and format (NDJSON, optionally GZIP), its size, and every record (lambda/shared/contract-records:
 * required fields, raw types and encodings, ranges, allowed values, unknown fields). A file passes
 * whole or not at all: it is promoted to the raw zone as one byte-for-byte copy, which the Glue job
 * reads as it reads the source's own objects, so a file with one bad record is refused with every
 * reason, and the partner sends it again corrected.
 */

export interface PartnerFileLimits {
  /** The largest file taken, as uploaded (compressed or not). */
  readonly maxFileBytes: number;
  /** The largest a GZIP file may inflate to: a small file that inflates without end is refused, not read. */
  readonly maxUncompressedBytes: number;
  readonly maxRecords: number;
}

export type FileVerdict =
  | { readonly accepted: true; readonly records: number; readonly gzip: boolean; readonly extension: string }
  | { readonly accepted: false; readonly reasons: readonly string[]; readonly records: number; readonly badRecords: number };

/** The file names taken: NDJSON, plain or GZIP. The promoted copy keeps the extension, by which Spark picks the codec. */
const NAME = /\.(json|ndjson|jsonl)(\.gz)?$/i;
const GZIP_MAGIC = [0x1f, 0x8b];
/** A report lists the problems of this many lines at most, then how many more lines had problems. */
export const MAX_REPORTED_LINES = 1000;

const refused = (reasons: string[], records = 0, badRecords = 0): FileVerdict => ({ accepted: false, reasons, records, badRecords });

export function checkPartnerFile(contract: DatasetContract, fileName: string, body: Uint8Array, limits: PartnerFileLimits): FileVerdict {
  const name = NAME.exec(fileName);
  if (!name) return refused([`format: '${fileName}' is not NDJSON by its name: expected .json, .ndjson or .jsonl, optionally followed by .gz`]);
  if (body.length > limits.maxFileBytes) return refused([`size: ${body.length} bytes, above the limit of ${limits.maxFileBytes}`]);
  const gzip = name[2] !== undefined;
  const looksGzip = body.length >= 2 && body[0] === GZIP_MAGIC[0] && body[1] === GZIP_MAGIC[1];
  if (gzip && !looksGzip) return refused([`format: '${fileName}' is named .gz but is not GZIP data`]);
  if (!gzip && looksGzip) return refused([`format: '${fileName}' holds GZIP data but is not named .gz (the raw zone's readers pick the codec by the name)`]);
  let data: Uint8Array = body;
  if (gzip) {
    try {
      data = gunzipSync(body, { maxOutputLength: limits.maxUncompressedBytes });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ERR_BUFFER_TOO_LARGE') return refused([`size: inflates to more than ${limits.maxUncompressedBytes} bytes, the limit`]);
      return refused([`format: the GZIP data is damaged (${(error as Error).message})`]);
    }
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(data);
  } catch {
    return refused(['encoding: not UTF-8']);
  }
  // Spark's JSON reader takes a byte-order mark for part of the first record, which would then fail there.
  if (text.startsWith('\uFEFF')) return refused(['encoding: starts with a byte-order mark; write UTF-8 without one']);

  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop(); // the final newline ends the last record
  const reasons: string[] = [];
  let records = 0;
  let badRecords = 0;
  let unreported = 0;
  const note = (problems: string[]) => {
    badRecords += 1;
    if (badRecords <= MAX_REPORTED_LINES) reasons.push(...problems);
    else unreported += 1;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].endsWith('\r') ? lines[i].slice(0, -1) : lines[i];
    const at = `line ${i + 1}`;
    if (line.trim() === '') {
      note([`${at}: empty (one record per line, no blank lines)`]);
      continue;
    }
    records += 1;
    if (records > limits.maxRecords) return refused([`size: more than ${limits.maxRecords} records, the limit`], records, badRecords);
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      note([`${at}: not JSON`]);
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      note([`${at}: not a JSON object`]);
      continue;
    }
    const problems = recordProblems(contract, value as Record<string, unknown>);
    if (problems.length > 0) note(problems.map((p) => `${at}: ${p}`));
  }
  if (records === 0) return refused(['content: no records'], 0, badRecords);
  if (badRecords > 0) {
    if (unreported > 0) reasons.push(`${unreported} more lines with problems, not listed`);
    return refused(reasons, records, badRecords);
  }
  return { accepted: true, records, gzip, extension: gzip ? '.json.gz' : '.json' };
}
