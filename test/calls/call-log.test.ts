// Call-history rows from softphone events: outcome per way a call ends, talk time from the answer.
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/main/log.ts';
import { CallLog } from '../../src/main/pbx/call-log.ts';
import type { CallRecord } from '../../src/main/store/call-history.ts';

function setup() {
  const rows: Array<Omit<CallRecord, 'id'>> = [];
  let now = 1000;
  const log = new CallLog({ add: (r) => rows.push(r) }, '101', createLogger({ test: 'call-log' }), () => now);
  return { rows, log, at: (t: number) => void (now = t) };
}

const ended = (call: string, reason: string, status?: number) =>
  ({ type: 'ended', call, reason, status, stats: null, recording: null }) as never;

describe('CallLog', () => {
  it('records an answered outgoing call with its talk time', () => {
    const { rows, log, at } = setup();
    log.outgoing('c1', '102');
    at(3000);
    log.onPhoneEvent({ type: 'answered', call: 'c1', remote: {} } as never);
    at(8000);
    log.onPhoneEvent(ended('c1', 'local-bye'));
    expect(rows).toEqual([
      {
        startedAt: 1000,
        direction: 'out',
        localUser: '101',
        remote: '102',
        durationMs: 5000,
        outcome: 'answered',
      },
    ]);
  });

  it('classifies missed, declined, busy and failed calls; ignores unknown calls', () => {
    const { rows, log } = setup();
    log.onPhoneEvent({ type: 'incoming', call: 'in1', from: '<sip:103@x>' });
    log.onPhoneEvent(ended('in1', 'cancelled'));
    log.onPhoneEvent({ type: 'incoming', call: 'in2', from: '<sip:103@x>' });
    log.onPhoneEvent(ended('in2', 'declined'));
    log.outgoing('o1', '104');
    log.onPhoneEvent(ended('o1', 'rejected', 486));
    log.outgoing('o2', '105');
    log.onPhoneEvent(ended('o2', 'rejected', 480));
    log.onPhoneEvent(ended('nobody', 'remote-bye'));
    expect(rows.map((r) => [r.direction, r.outcome, r.durationMs])).toEqual([
      ['in', 'missed', 0],
      ['in', 'rejected', 0],
      ['out', 'busy', 0],
      ['out', 'failed', 0],
    ]);
  });
});
