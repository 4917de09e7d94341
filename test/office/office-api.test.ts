// The approval path through the UI contract, in process: a PC asks to join without a code, the
// admin peer's engine pushes a `join-request` event, and `join-requests.decide` enrolls or refuses it.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../src/core/api/contract.ts';
import { UnavailableEngine } from '../../src/core/api/engine.ts';
import { requestEnrollment } from '../../src/main/enrollment/client.ts';
import { generatePeerKeys, loadIdentity, openDataDatabase } from '../../src/main/identity/identity.ts';
import { createLogger } from '../../src/main/log.ts';
import { createOffice } from '../../src/main/office/office.ts';
import { joinRequestApi } from '../../src/main/office/office-api.ts';
import { OfficeNode } from '../../src/main/office/office-node.ts';

process.env.PEERPBX_CA_KDF_ITERATIONS = '2000';
const dir = join(mkdtempSync(join(tmpdir(), 'peerpbx-api-')), 'admin');
const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('join requests over the engine contract', () => {
  it('pushes a join-request event; decide approves (certificate issued) or denies', async () => {
    createOffice({ dataDir: dir, name: 'apioffice', extension: '101', passphrase: 'passphrase-1' });
    const db = openDataDatabase(dir);
    cleanups.push(() => db.close());
    const office = await OfficeNode.start({
      identity: loadIdentity(dir, db),
      db,
      bind: '127.0.0.1',
      overlayPort: 0,
      sipPort: 5060,
      peers: [],
      passphrase: 'passphrase-1',
      discovery: { mdns: false, broadcast: false },
      log: createLogger({ component: 'test' }),
    });
    cleanups.push(() => office.stop());
    const events: EngineEvent[] = [];
    const engine = new UnavailableEngine(joinRequestApi(office.enrollment, (e) => events.push(e)).handlers);
    const ask = (extension: string) =>
      requestEnrollment({
        host: '127.0.0.1',
        port: office.enrollment!.port,
        extension,
        displayName: `Desk ${extension}`,
        keys: generatePeerKeys(),
        caFingerprint: office.identity.caFingerprint,
      });
    const waitEvent = async (n: number) => {
      for (let i = 0; i < 200 && events.length < n; i++) await new Promise((r) => setTimeout(r, 25));
      return events[n - 1];
    };

    const approved = ask('102');
    const ev = await waitEvent(1);
    expect(ev).toMatchObject({
      type: 'join-request',
      request: { extension: '102', displayName: 'Desk 102' },
    });
    if (ev.type !== 'join-request') throw new Error('unreachable');
    const list = await engine.command({ type: 'join-requests.list' });
    expect(list).toMatchObject({ ok: true, value: { requests: [{ id: ev.request.id }] } });
    expect(await engine.command({ type: 'join-requests.decide', id: ev.request.id, approve: true })).toEqual({
      ok: true,
      value: {},
    });
    const r = await approved;
    expect(r.ok && r.office).toBe('apioffice');

    const denied = ask('103');
    const ev2 = await waitEvent(2);
    if (ev2.type !== 'join-request') throw new Error('no second join-request event');
    await engine.command({ type: 'join-requests.decide', id: ev2.request.id, approve: false });
    const d = await denied;
    expect(d).toMatchObject({ ok: false, kind: 'refused', refusal: 'denied' });
    // A decided request is gone; deciding it again is a clear not-found.
    expect(
      await engine.command({ type: 'join-requests.decide', id: ev2.request.id, approve: true }),
    ).toMatchObject({
      ok: false,
      error: 'not-found',
    });
    // The approved extension is now taken for anyone else.
    const again = await ask('102');
    expect(again.ok).toBe(false);
  }, 60_000);
});
