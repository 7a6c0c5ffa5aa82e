import { loadConfig } from '../../lib/config';
import { AlertEvent, evaluate, initialState, Reading } from '../../lambda/telemetry-alerts/rules';

/**
 * The live alert rules with hand-made readings: each rule opens, updates and closes; a value
 * hovering at the limit is one episode; redelivered and out-of-order readings change nothing.
 * Thresholds are the dev environment's (the defaults): overheat opens above 110 °C for 3 readings
 * and closes below 100 °C for 3; speeding 100/90 km/h for 3; fuel loss above 80 l/100 km, or 1 l
 * standing, and 3 normal intervals to close; sensor stuck after 15 minutes of identical temperatures
 * (at least 10 readings).
 */
const rules = loadConfig('dev').alerts;
const T0 = Date.parse('2026-11-20T08:00:00Z');
const at = (i: number) => new Date(T0 + i * 30_000).toISOString();

/** Readings every 30 s from a list of partial values; odometer and fuel advance at a normal 30 l/100 km at 60 km/h unless given. */
function readings(values: Partial<Reading>[], start = 0): Reading[] {
  let odometer = 1000;
  let fuel = 500;
  return values.map((v, i) => {
    odometer += 0.5;
    fuel += 0.15;
    return { vehicle_id: 'veh-1', ts: at(start + i), speed_kmh: 60, engine_temp_c: 90 + (i % 3) * 0.1, odometer_km: odometer, fuel_used_l: fuel, ...v };
  });
}
const summary = (events: AlertEvent[]) => events.map((e) => `${e.rule} ${e.kind} at ${(Date.parse(e.at) - T0) / 30_000} peak ${e.peak}`);

test('thresholds are validated with their hysteresis', () => {
  expect(rules.engineOverheat).toEqual({ openAboveC: 110, closeBelowC: 100, consecutive: 3, severity: 'critical' });
});

test('engine overheating opens after three readings above 110 °C, updates on a new peak, closes after three below 100 °C', () => {
  const temps = [105, 112, 113, 111, 118, 115, 104, 99, 98, 101, 97, 96, 95];
  const { events } = evaluate(initialState('veh-1'), readings(temps.map((t) => ({ engine_temp_c: t }))), rules);
  expect(summary(events.filter((e) => e.rule === 'engineOverheat'))).toEqual([
    'engineOverheat opened at 3 peak 111',
    'engineOverheat updated at 4 peak 118',
    // 99, 98 below 100, then 101 breaks the run; 97, 96, 95 close it
    'engineOverheat closed at 12 peak 118',
  ]);
});

test('a value hovering around the limit is one episode, not a flapping series', () => {
  const speeds = [101, 102, 103, 99, 101, 98, 102, 95, 101, 96, 99, 101, 89, 88, 87];
  const { events } = evaluate(initialState('veh-1'), readings(speeds.map((s) => ({ speed_kmh: s }))), rules);
  expect(summary(events.filter((e) => e.rule === 'speeding'))).toEqual(['speeding opened at 2 peak 103', 'speeding closed at 14 peak 103']);
});

test('fuel loss: one interval far above what the distance explains, or fuel used standing still, opens it; three normal ones close it', () => {
  const base = readings(Array.from({ length: 10 }, () => ({})));
  // interval ending at 3: 0.5 km for 1.2 l (240 l/100 km); interval ending at 5: standing still, 2.15 l gone
  const values = base.map((r, i) => ({ ...r, fuel_used_l: r.fuel_used_l + (i >= 3 ? 1.05 : 0) + (i >= 5 ? 2 : 0), odometer_km: r.odometer_km - (i >= 5 ? 0.5 : 0) }));
  const { events } = evaluate(initialState('veh-1'), values, rules);
  const fuel = events.filter((e) => e.rule === 'fuelLoss').map((e) => [e.kind, (Date.parse(e.at) - T0) / 30_000, Number(e.peak.toFixed(2))]);
  // interval 4 is normal (one), 5 abnormal (back to none), 6, 7, 8 normal: closed at 8
  expect(fuel).toEqual([
    ['opened', 3, 1.2],
    ['updated', 5, 2.15],
    ['closed', 8, 2.15],
  ]);
});

test('a sensor stuck on one value opens after fifteen minutes of identical readings and closes when it moves', () => {
  // every 30 s: the run from reading 0 spans 15 minutes at reading 30
  const values = readings([...Array.from({ length: 32 }, () => ({ engine_temp_c: 88.4 })), { engine_temp_c: 88.6 }]);
  const { events } = evaluate(initialState('veh-1'), values, rules);
  expect(summary(events.filter((e) => e.rule === 'sensorStuck'))).toEqual(['sensorStuck opened at 30 peak 88.4', 'sensorStuck closed at 32 peak 88.4']);
});

test('a steady engine at 1 Hz is not a stuck sensor: the rule is judged on time, not on a count of readings', () => {
  // 60 identical readings a second apart: one minute, far from fifteen
  const fast = Array.from({ length: 60 }, (_, i): Reading => ({ vehicle_id: 'veh-1', ts: new Date(T0 + i * 1000).toISOString(), speed_kmh: 60, engine_temp_c: 91.2, odometer_km: 1000 + i * 0.017, fuel_used_l: 500 + i * 0.005 }));
  expect(evaluate(initialState('veh-1'), fast, rules).events.filter((e) => e.rule === 'sensorStuck')).toEqual([]);
  // two identical readings fifteen minutes apart are too few to judge
  const rare = readings([{ engine_temp_c: 80 }, { engine_temp_c: 80 }]).map((r, i) => ({ ...r, ts: new Date(T0 + i * 900_000).toISOString() }));
  expect(evaluate(initialState('veh-1'), rare, rules).events.filter((e) => e.rule === 'sensorStuck')).toEqual([]);
});

test('a batch delivered twice, and a reading older than the last processed, change nothing', () => {
  const batch = readings([112, 113, 114].map((t) => ({ engine_temp_c: t })));
  const first = evaluate(initialState('veh-1'), batch, rules);
  expect(summary(first.events.filter((e) => e.rule === 'engineOverheat'))).toEqual(['engineOverheat opened at 2 peak 114']);
  const again = evaluate(first.state, batch, rules);
  expect([again.events, again.skipped, again.state]).toEqual([[], 3, first.state]);
  // out of order within a batch: sorted by ts before they are applied
  const shuffled = evaluate(initialState('veh-1'), [batch[2], batch[0], batch[1]], rules);
  expect(shuffled.events).toEqual(first.events);
});

test('state carries across batches: an episode opened in one closes in a later one', () => {
  const hot = evaluate(initialState('veh-1'), readings([112, 113, 114].map((t) => ({ engine_temp_c: t }))), rules);
  const cool = evaluate(hot.state, readings([95, 94, 93].map((t) => ({ engine_temp_c: t })), 3), rules);
  expect(summary(cool.events.filter((e) => e.rule === 'engineOverheat'))).toEqual(['engineOverheat closed at 5 peak 114']);
  expect(cool.events[0].openedAt).toBe(at(2));
});

test('a reading without a temperature neither counts toward nor breaks the overheat run, nor a stuck run', () => {
  const { events } = evaluate(initialState('veh-1'), readings([112, null, 113, 114].map((t) => ({ engine_temp_c: t }))), rules);
  expect(summary(events.filter((e) => e.rule === 'engineOverheat'))).toEqual(['engineOverheat opened at 3 peak 114']);
  const stuck = evaluate(initialState('veh-1'), readings([...Array.from({ length: 29 }, () => ({ engine_temp_c: 80 })), { engine_temp_c: null }, { engine_temp_c: 80 }]), rules);
  expect(summary(stuck.events.filter((e) => e.rule === 'sensorStuck'))).toEqual(['sensorStuck opened at 30 peak 80']);
});
