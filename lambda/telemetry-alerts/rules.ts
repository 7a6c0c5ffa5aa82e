/**
 * The live alert rules over one vehicle's telemetry, as pure functions: a vehicle's state and its
 * new readings in, the new state and the alert events out. The Kinesis function (issue 14) keeps
 * the state per vehicle and writes only the events, so DynamoDB sees a write per change of an
 * alert, not one per reading.
 *
 * Every rule has a lifecycle: it opens once, updates while its condition holds and the episode
 * gets worse (a new peak), and closes after `consecutive` readings past a close threshold that
 * differs from the open one, so a value hovering at the limit is one episode, not a flapping series.
 * Readings are taken in timestamp order; one not newer than the last processed for the vehicle (a
 * Kinesis redelivery, or a record out of order) changes nothing and is counted.
 */

export type Severity = 'critical' | 'warning';
/** vehicleSilent is not evaluated here: the scheduled check opens it (silence.ts) and the next reading closes it (store.ts). */
export type RuleName = 'engineOverheat' | 'speeding' | 'fuelLoss' | 'sensorStuck' | 'vehicleSilent';

export interface AlertRules {
  readonly engineOverheat: { readonly openAboveC: number; readonly closeBelowC: number; readonly consecutive: number; readonly severity: Severity };
  readonly speeding: { readonly openAboveKmh: number; readonly closeBelowKmh: number; readonly consecutive: number; readonly severity: Severity };
  readonly fuelLoss: {
    readonly litresPer100kmAbove: number;
    readonly minDistanceKm: number;
    readonly standingLitresAbove: number;
    readonly consecutive: number;
    readonly severity: Severity;
  };
  readonly sensorStuck: { readonly identicalForMinutes: number; readonly minReadings: number; readonly severity: Severity };
  readonly vehicleSilent: { readonly silentAfterMinutes: number; readonly movingAboveKmh: number; readonly severity: Severity };
}

/** The fields of a telemetry reading the rules read (contracts/iot.telematics.json). */
export interface Reading {
  readonly vehicle_id: string;
  /** ISO 8601, UTC. */
  readonly ts: string;
  /** Optional in the contract: a reading without it leaves the rules that read it as they were. */
  readonly speed_kmh: number | null;
  readonly engine_temp_c: number | null;
  /** Cumulative litres, as the vehicle's counter reports them. */
  readonly fuel_used_l: number;
  readonly odometer_km: number;
}

/** One rule's episode, while it is open. */
export interface OpenAlert {
  readonly openedAt: string;
  /** The worst value so far: the highest temperature or speed, the largest fuel loss; for a stuck sensor, its value. */
  readonly peak: number;
}

/** One rule's memory between readings. */
export interface RuleState {
  /** Readings in a row meeting the open condition (while closed) or the close condition (while open). */
  readonly streak: number;
  readonly open?: OpenAlert;
}

export interface VehicleState {
  readonly vehicleId: string;
  /** The newest reading processed; older or equal ones are skipped. */
  readonly lastTs?: string;
  /** speed_kmh: the last known speed, which tells whether the vehicle went silent while moving. */
  readonly last?: Pick<Reading, 'engine_temp_c' | 'fuel_used_l' | 'odometer_km' | 'speed_kmh'>;
  /** How many readings in a row the engine temperature has been exactly `last.engine_temp_c`. */
  readonly identicalRun: number;
  /** When that run began (the first of its readings). */
  readonly identicalSince?: string;
  readonly rules: Readonly<Partial<Record<RuleName, RuleState>>>;
}

export interface AlertEvent {
  readonly kind: 'opened' | 'updated' | 'closed';
  readonly vehicleId: string;
  readonly rule: RuleName;
  readonly severity: Severity;
  /** When the episode opened: with the vehicle and the rule, the alert's identity. */
  readonly openedAt: string;
  /** The reading that caused the event. */
  readonly at: string;
  readonly value: number;
  readonly peak: number;
}

export interface Evaluation {
  readonly state: VehicleState;
  readonly events: AlertEvent[];
  /** Readings not newer than the last processed one: redelivered or out of order. */
  readonly skipped: number;
}

export function initialState(vehicleId: string): VehicleState {
  return { vehicleId, identicalRun: 0, rules: {} };
}

/** Applies a vehicle's readings, in timestamp order, to its state. */
export function evaluate(state: VehicleState, readings: readonly Reading[], rules: AlertRules): Evaluation {
  const events: AlertEvent[] = [];
  let skipped = 0;
  let current = state;
  for (const reading of [...readings].sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0))) {
    if (reading.vehicle_id !== state.vehicleId) throw new Error(`reading of ${reading.vehicle_id} given to ${state.vehicleId}'s state`);
    if (current.lastTs !== undefined && reading.ts <= current.lastTs) {
      skipped += 1;
      continue;
    }
    current = step(current, reading, rules, events);
  }
  return { state: current, events, skipped };
}

function step(state: VehicleState, reading: Reading, rules: AlertRules, events: AlertEvent[]): VehicleState {
  const next: Partial<Record<RuleName, RuleState>> = { ...state.rules };
  const apply = (rule: RuleName, severity: Severity, value: number, opens: boolean, closes: boolean, needed: number, closeNeeded: number) => {
    next[rule] = threshold(state.rules[rule] ?? { streak: 0 }, { rule, severity, value, opens, closes, needed, closeNeeded, vehicleId: state.vehicleId, at: reading.ts }, events);
  };

  const heat = rules.engineOverheat;
  const temp = reading.engine_temp_c;
  if (temp !== null) apply('engineOverheat', heat.severity, temp, temp > heat.openAboveC, temp < heat.closeBelowC, heat.consecutive, heat.consecutive);

  const speed = rules.speeding;
  const kmh = reading.speed_kmh;
  if (kmh !== null) apply('speeding', speed.severity, kmh, kmh > speed.openAboveKmh, kmh < speed.closeBelowKmh, speed.consecutive, speed.consecutive);

  // Fuel between this reading and the previous one: a rate when the vehicle moved, litres when it stood.
  if (state.last) {
    const fuel = rules.fuelLoss;
    const litres = reading.fuel_used_l - state.last.fuel_used_l;
    const km = reading.odometer_km - state.last.odometer_km;
    const moved = km >= fuel.minDistanceKm;
    const abnormal = moved ? (100 * litres) / km > fuel.litresPer100kmAbove : litres > fuel.standingLitresAbove;
    // One abnormal interval opens it (fuel does not leave a tank by accident); normal ones close it.
    // Its value is the interval's litres: the peak is the worst single loss.
    apply('fuelLoss', fuel.severity, litres, abnormal, !abnormal, 1, fuel.consecutive);
  }

  // The same temperature to the decimal, reading after reading: the sensor no longer measures.
  // A reading without one neither extends nor breaks the run.
  // It is judged over time, not a count: at 1 Hz thirty identical readings are half a minute of a
  // steady engine; a frozen sensor is one that has not moved for many minutes.
  let identicalRun = state.identicalRun;
  let identicalSince = state.identicalSince;
  let lastTemp = state.last?.engine_temp_c ?? null;
  if (temp !== null) {
    const same = lastTemp !== null && temp === lastTemp;
    identicalRun = same ? state.identicalRun + 1 : 1;
    identicalSince = same && identicalSince !== undefined ? identicalSince : reading.ts;
    lastTemp = temp;
    const stuck = rules.sensorStuck;
    const stuckFor = Date.parse(reading.ts) - Date.parse(identicalSince);
    // Its value is the stuck temperature, constant while stuck: no update per reading.
    apply('sensorStuck', stuck.severity, temp, identicalRun >= stuck.minReadings && stuckFor >= stuck.identicalForMinutes * 60_000, identicalRun === 1, 1, 1);
  }

  return {
    vehicleId: state.vehicleId,
    lastTs: reading.ts,
    last: { engine_temp_c: lastTemp, fuel_used_l: reading.fuel_used_l, odometer_km: reading.odometer_km, speed_kmh: kmh ?? state.last?.speed_kmh ?? null },
    identicalRun,
    ...(identicalSince !== undefined ? { identicalSince } : {}),
    rules: next,
  };
}

interface Observation {
  readonly rule: RuleName;
  readonly severity: Severity;
  readonly vehicleId: string;
  readonly at: string;
  readonly value: number;
  /** The reading meets the open condition. */
  readonly opens: boolean;
  /** The reading meets the close condition (never together with `opens`). */
  readonly closes: boolean;
  readonly needed: number;
  readonly closeNeeded: number;
}

/** One rule's lifecycle: closed → (needed readings that open) → open → (closeNeeded readings that close) → closed. */
function threshold(rule: RuleState, o: Observation, events: AlertEvent[]): RuleState {
  const base = { vehicleId: o.vehicleId, rule: o.rule, severity: o.severity, at: o.at, value: o.value };
  if (!rule.open) {
    const streak = o.opens ? rule.streak + 1 : 0;
    if (streak < o.needed) return { streak };
    const open = { openedAt: o.at, peak: o.value };
    events.push({ ...base, kind: 'opened', openedAt: open.openedAt, peak: open.peak });
    return { streak: 0, open };
  }
  const streak = o.closes ? rule.streak + 1 : 0;
  if (streak >= o.closeNeeded) {
    events.push({ ...base, kind: 'closed', openedAt: rule.open.openedAt, peak: rule.open.peak });
    return { streak: 0 };
  }
  if (o.value > rule.open.peak && !o.closes) {
    const open = { ...rule.open, peak: o.value };
    events.push({ ...base, kind: 'updated', openedAt: open.openedAt, peak: open.peak });
    return { streak, open };
  }
  return { streak, open: rule.open };
}
