import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { ALERT_DETAIL_TYPES, ALERT_EVENT_SOURCE, eventEntry, publishEvents } from '../../lambda/telemetry-alerts/events';
import { AlertEvent } from '../../lambda/telemetry-alerts/rules';
import { MOTO_CREDENTIALS, MOTO_REGION, Moto, startMoto } from '../../tools/stand-ins/moto';

const event = (i: number, kind: AlertEvent['kind'] = 'opened'): AlertEvent => ({
  kind,
  vehicleId: `veh-${i}`,
  rule: 'engineOverheat',
  severity: 'critical',
  openedAt: '2026-11-20T08:01:00.000Z',
  at: '2026-11-20T08:01:00.000Z',
  value: 114,
  peak: 114,
});

test('an event carries its alert id, kind and values, for the application and the on-call routing', () => {
  const entry = eventEntry(event(1), 'default');
  expect([entry.Source, entry.DetailType, entry.EventBusName]).toEqual([ALERT_EVENT_SOURCE, ALERT_DETAIL_TYPES.opened, 'default']);
  expect(JSON.parse(entry.Detail!)).toMatchObject({ alertId: 'veh-1/engineOverheat#2026-11-20T08:01:00.000Z', kind: 'opened', severity: 'critical', peak: 114 });
});

test('EventBridge (moto_server) accepts what the function puts', async () => {
  const moto: Moto = await startMoto();
  try {
    const client = new EventBridgeClient({ endpoint: moto.endpoint, region: MOTO_REGION, credentials: MOTO_CREDENTIALS });
    await publishEvents(client, 'default', [event(1), event(2, 'closed')]);
    const direct = await client.send(new PutEventsCommand({ Entries: [eventEntry(event(3), 'default')] }));
    expect(direct.FailedEntryCount).toBe(0);
  } finally {
    await moto.stop();
  }
});

test('events go ten a call, and an entry EventBridge refuses fails the publication', async () => {
  const calls: number[] = [];
  const accepting = { send: (async (c: PutEventsCommand) => (calls.push(c.input.Entries!.length), { FailedEntryCount: 0, Entries: [] })) as EventBridgeClient['send'] };
  await publishEvents(accepting, 'default', Array.from({ length: 23 }, (_, i) => event(i)));
  expect(calls).toEqual([10, 10, 3]);
  const refusing = { send: (async () => ({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }] })) as unknown as EventBridgeClient['send'] };
  await expect(publishEvents(refusing, 'default', [event(1)])).rejects.toThrow('EventBridge refused 1 of 1 alert events: InternalFailure: try again');
});
