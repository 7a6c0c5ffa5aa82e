import contractJson from '../../contracts/iot.telematics.json';
import type { DatasetContract } from '../../lib/contracts';
import { recordProblems } from '../shared/contract-records';
import { AlertEvent, AlertRules, Reading } from './rules';
import { advanceVehicle, AlertsTable, processVehicle, saveEntry, WindowEntry } from './store';

const contract = contractJson as unknown as DatasetContract;

/** One record of a Kinesis batch, as the event source mapping delivers it. */
export interface StreamRecord {
  readonly sequenceNumber: string;
  /** Base64 of the IoT rule's JSON message. */
  readonly data: string;
}

export interface AlertsDeps {
  readonly table: AlertsTable;
  readonly rules: AlertRules;
  /** EventBridge and, for critical openings, the on-call topic. */
  readonly publish: (events: readonly AlertEvent[]) => Promise<void>;
  readonly count: (metric: 'ReadingsRejected' | 'ReadingsSkipped' | 'AlertsOpened' | 'AlertsClosed' | 'StateConflicts', value: number) => void;
  readonly log: (message: string, details: Record<string, unknown>) => void;
}

export interface BatchResponse {
  readonly batchItemFailures: { readonly itemIdentifier: string }[];
  /** In a window, its state, which Lambda hands to the window's next invocation. */
  readonly state?: WindowState;
}

/** What Lambda carries between the invocations of a tumbling window: each vehicle's entry, by vehicle. */
export interface WindowState {
  readonly vehicles?: Record<string, WindowEntry>;
}

/**
 * The tumbling window an invocation belongs to: its state so far and whether it is the last
 * invocation (Lambda then expects the state saved). Without a window every batch is its own.
 */
export interface WindowContext {
  readonly state: WindowState;
  readonly final: boolean;
}

/**
 * A batch of the telemetry stream: each record checked against the telematics contract (a record
 * that breaks it is logged with its reasons and counted, never fails the batch), the readings
 * grouped by vehicle and run through the rules. A vehicle whose processing fails reports its first
 * record as the batch's failure: Lambda retries from there (partial batch response), and what was
 * already done is skipped or refused by its conditions, so nothing is lost or doubled.
 *
 * With a tumbling window (config `alerts.stream.tumblingWindowSeconds`) each vehicle's state is
 * read on its first batch of the window, carried by Lambda between the window's invocations and
 * saved at its last: DynamoDB sees a state write per vehicle and window, an item write per alert
 * change. Without one, each batch reads and saves the state of its vehicles.
 */
export async function handleRecords(records: readonly StreamRecord[], deps: AlertsDeps, window?: WindowContext): Promise<BatchResponse> {
  const byVehicle = new Map<string, { first: string; readings: Reading[] }>();
  let rejected = 0;
  for (const record of records) {
    const reading = decode(record, deps);
    if (!reading) {
      rejected += 1;
      continue;
    }
    const group = byVehicle.get(reading.vehicle_id) ?? { first: record.sequenceNumber, readings: [] };
    group.readings.push(reading);
    byVehicle.set(reading.vehicle_id, group);
  }
  deps.count('ReadingsRejected', rejected);

  const vehicles: Record<string, WindowEntry> = { ...(window?.state.vehicles ?? {}) };
  const failures: string[] = [];
  for (const [vehicleId, group] of byVehicle) {
    try {
      if (window) {
        // In a window: the entry is advanced and kept for the next invocation; saved at the window's end.
        const { entry, outcome } = await advanceVehicle(deps.table, vehicles[vehicleId], vehicleId, group.readings, deps.rules, deps.publish);
        vehicles[vehicleId] = entry;
        countOutcome(deps, outcome.events, outcome.skipped, 0);
      } else {
        const outcome = await processVehicle(deps.table, vehicleId, group.readings, deps.rules, deps.publish);
        countOutcome(deps, outcome.events, outcome.skipped, outcome.conflicts);
      }
    } catch (error) {
      deps.log('vehicle failed; the batch is retried from its first record', { vehicleId, error: String((error as Error).stack ?? error) });
      failures.push(group.first);
    }
  }
  // Lambda retries from the lowest sequence number reported; the rest of the batch comes again and
  // is skipped by each vehicle's state.
  const lowest = failures.sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1))[0];
  const batchItemFailures = lowest ? [{ itemIdentifier: lowest }] : [];
  if (!window) return { batchItemFailures };
  if (!window.final) return { batchItemFailures, state: { vehicles } };

  // The window's end: every vehicle it saw is saved (a failed vehicle's entry is its state before
  // the failed batch, which the retry starts from). A failure to save throws, and Lambda retries
  // the final invocation with the same state until it succeeds.
  for (const entry of Object.values(vehicles)) {
    const saved = await saveEntry(deps.table, entry, deps.rules, deps.publish);
    countOutcome(deps, saved.events, 0, saved.conflicts);
  }
  return { batchItemFailures, state: {} };
}

function countOutcome(deps: AlertsDeps, events: readonly AlertEvent[], skipped: number, conflicts: number): void {
  deps.count('ReadingsSkipped', skipped);
  deps.count('AlertsOpened', events.filter((e) => e.kind === 'opened').length);
  deps.count('AlertsClosed', events.filter((e) => e.kind === 'closed').length);
  deps.count('StateConflicts', conflicts);
}

/** A record as a reading, or undefined (logged with every reason) when it breaks the contract. */
function decode(record: StreamRecord, deps: AlertsDeps): Reading | undefined {
  let message: unknown;
  try {
    message = JSON.parse(Buffer.from(record.data, 'base64').toString('utf8'));
  } catch {
    deps.log('reading rejected', { sequenceNumber: record.sequenceNumber, reasons: ['not JSON'] });
    return undefined;
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message)) {
    deps.log('reading rejected', { sequenceNumber: record.sequenceNumber, reasons: ['not a JSON object'] });
    return undefined;
  }
  const fields = message as Record<string, unknown>;
  const reasons = recordProblems(contract, fields);
  if (reasons.length > 0) {
    deps.log('reading rejected', { sequenceNumber: record.sequenceNumber, vehicleId: fields.vehicle_id, reasons });
    return undefined;
  }
  return {
    vehicle_id: fields.vehicle_id as string,
    ts: new Date(fields.ts as number).toISOString(),
    speed_kmh: (fields.speed_kmh as number | undefined) ?? null,
    engine_temp_c: (fields.engine_temp_c as number | undefined) ?? null,
    fuel_used_l: fields.fuel_used_l as number,
    odometer_km: fields.odometer_km as number,
  };
}
