// A Kamailio as the office's SIP trunk (real processes, loopback): the dial plan in OFFICE-CONFIG
// sends "9" + number to the trunk, where a sipp UA is registered; a call from behind Kamailio to a
// DID reaches the extension the dial plan maps it to.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/ports.ts';
import { killAll } from '../helpers/processes.ts';
import { haveSipp, sippErrors, startSipp } from '../helpers/sipp.ts';
import { newOffice, nextPbxEvent, overlayAddress, type PbxPeer, startPbxPeer } from './harness.ts';
import { haveKamailio, type KamailioProcess, startKamailio } from './kamailio.ts';
import { callSippUas, SCENARIOS, sippRegister } from './sipp-calls.ts';

describe.skipIf(!haveSipp() || !haveKamailio())('Kamailio as the office trunk', () => {
  const office = newOffice();
  let a: PbxPeer; // 101, admin; the gateway the trunk delivers DIDs to
  let b: PbxPeer; // 102, auto-answer; DID 5550100
  let kport = 0;
  let kamailio: KamailioProcess | null = null;

  beforeAll(async () => {
    a = await startPbxPeer({ name: 'a', extension: '101', office, admin: true, tone: 440 });
    b = await startPbxPeer({
      name: 'b',
      extension: '102',
      office,
      bootstrap: [overlayAddress(a)],
      autoAnswer: true,
    });
    kport = await freePort();
    const gateway = `127.0.0.1:${String(a.ready.sipPort)}`;
    // The trunk challenges the office gateway's calls (outbound digest credentials).
    kamailio = await startKamailio(kport, gateway, { from: gateway, password: 'trunkpw' });
    await a.request({
      op: 'office-config',
      value: {
        trunks: [
          {
            name: 'kamailio',
            prefix: '9',
            strip: 1,
            host: '127.0.0.1',
            port: kport,
            username: 'office',
            password: 'trunkpw',
          },
          { name: 'no-credentials', prefix: '8', strip: 1, host: '127.0.0.1', port: kport },
        ],
        inbound: { '5550100': '102' },
      },
    });
    await new Promise((r) => setTimeout(r, 500)); // the watch brings the new dial plan to A's cache
  }, 60_000);

  afterAll(async () => {
    await Promise.allSettled([a, b].filter(Boolean).map((p) => p.request({ op: 'stop' }, 5000)));
    await kamailio?.stop();
    await killAll();
  });

  it('dialling 9555 goes out through the trunk (answering its 407) to the UA registered there as 555', async () => {
    const port = await freePort();
    await sippRegister(kport, '555', port);
    await callSippUas(a, '9555', port);
  }, 40_000);

  it('without trunk credentials the call is refused by the trunk (407)', async () => {
    const call = String((await a.request({ op: 'dial', target: '8555' })).call);
    const ended = await nextPbxEvent(a, 'ended', (e) => e.call === call);
    expect(ended).toMatchObject({ reason: 'rejected', status: 407 });
  }, 40_000);

  it('a call from behind Kamailio to DID 5550100 rings extension 102', async () => {
    const uac = startSipp({
      scenario: { file: join(SCENARIOS, 'uac.xml') },
      remote: `127.0.0.1:${kport}`,
      localPort: await freePort(),
      calls: 1,
      extra: ['-s', '5550100', '-key', 'caller', '0123456', '-d', '500'],
    });
    const r = await uac.finish();
    expect(r.stats?.successful, sippErrors(uac.dir)).toBe(1);
    const incoming = await nextPbxEvent(b, 'incoming');
    expect(String(incoming.from)).toContain('0123456');
    expect((await nextPbxEvent(b, 'ended')).reason).toBe('remote-bye');
  }, 40_000);

  it('a DID that is not in the dial plan is refused (404), and nothing rings', async () => {
    b.events.splice(0);
    const uac = startSipp({
      scenario: { file: join(SCENARIOS, 'uac.xml') },
      remote: `127.0.0.1:${kport}`,
      localPort: await freePort(),
      calls: 1,
      extra: ['-s', '5559999', '-key', 'caller', '0123456', '-d', '100'],
    });
    const r = await uac.finish();
    expect(r.stats?.failed).toBe(1);
    expect(r.stats?.counters.FailedUnexpectedMessage ?? 1).toBeGreaterThan(0);
    expect(b.events.filter((e) => e.type === 'incoming')).toHaveLength(0);
  }, 40_000);
});
