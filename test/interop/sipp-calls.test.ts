// Interop with sipp (Debian sip-tester): sipp's built-in `uac` calls our test UA (UA core + SDP on
// the real transports), and our test UA calls sipp's built-in `uas`. 20 calls each, 0 failed, over
// UDP and TCP.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { SipUri } from '../../src/core/sip/message.ts';
import { freePort, waitListening } from '../helpers/ports.ts';
import { killAll } from '../helpers/processes.ts';
import { haveSipp, sippErrors, startSipp } from '../helpers/sipp.ts';
import { TestUa } from '../helpers/test-ua.ts';

const CALLS = 20;
const uas: TestUa[] = [];

afterEach(async () => {
  await Promise.all(uas.splice(0).map((u) => u.close()));
});
afterAll(async () => {
  await killAll();
});

/** Every message of the test arrived over the transport under test (INVITE+ACK+BYE or responses). */
function expectOnly(ua: TestUa, transport: 'UDP' | 'TCP'): void {
  const other = transport === 'UDP' ? 'TCP' : 'UDP';
  expect(ua.received[transport]).toBeGreaterThanOrEqual(3 * CALLS);
  expect(ua.received[other]).toBe(0);
}

describe.skipIf(!haveSipp())('sipp interop', () => {
  for (const transport of ['UDP', 'TCP'] as const) {
    it(`sipp uac calls our UA: ${CALLS} calls, 0 failed (${transport})`, async () => {
      const ua = await TestUa.start({ transport, user: 'service' });
      uas.push(ua);
      const sipp = startSipp({
        scenario: { builtin: 'uac' },
        remote: `127.0.0.1:${ua.port}`,
        localPort: await freePort(),
        transport: transport === 'TCP' ? 'tcp' : 'udp',
        calls: CALLS,
        extra: ['-s', 'service'],
      });
      const r = await sipp.finish();
      expect(r.code, `sipp exit ${r.code}\n${sippErrors(sipp.dir)}\n${r.stderr.slice(-2000)}`).toBe(0);
      expect(r.stats).not.toBeNull();
      expect(r.stats?.successful).toBe(CALLS);
      expect(r.stats?.failed).toBe(0);
      // Our side saw every call through: ringing, answer + ACK, BYE from sipp.
      expect(ua.counters.incoming).toBe(CALLS);
      expect(ua.counters.answered).toBe(CALLS);
      expect(ua.counters.endedBy['remote-bye']).toBe(CALLS);
      expect(ua.ua.load.calls).toBe(0);
      expectOnly(ua, transport);
    });

    it(`our UA calls sipp uas: ${CALLS} calls, 0 failed (${transport})`, async () => {
      const ua = await TestUa.start({ transport, user: 'caller', holdMs: 20 });
      uas.push(ua);
      const port = await freePort();
      const sipp = startSipp({
        scenario: { builtin: 'uas' },
        localPort: port,
        transport: transport === 'TCP' ? 'tcp' : 'udp',
        calls: CALLS,
      });
      // sipp needs a moment to bind before the first INVITE.
      await waitListening(port, transport === 'TCP' ? 'tcp' : 'udp');
      const target: SipUri = {
        scheme: 'sip',
        user: 'service',
        password: null,
        host: '127.0.0.1',
        port,
        params: transport === 'TCP' ? { transport: 'tcp' } : {},
        headers: {},
      };
      const outcomes = [];
      // Like sipp's own -l 1: one call at a time.
      for (let i = 0; i < CALLS; i++) outcomes.push(await ua.call(target));
      const r = await sipp.finish();
      expect(outcomes.filter((o) => o.answered && o.reason === 'local-bye')).toHaveLength(CALLS);
      // sipp's uas answers with SDP: the call carried an offer/answer.
      for (const o of outcomes) expect(o.remoteSdp).toMatch(/^v=0/);
      expect(r.code, `sipp exit ${r.code}\n${sippErrors(sipp.dir)}\n${r.stderr.slice(-2000)}`).toBe(0);
      expect(r.stats?.successful).toBe(CALLS);
      expect(r.stats?.failed).toBe(0);
      expect(ua.ua.load.calls).toBe(0);
      expectOnly(ua, transport);
    });
  }
});
