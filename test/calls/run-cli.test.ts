// Two PCs wired only through the real `peerpbx` CLI: office create / invite / join / run (the peer
// starts its phone system after the overlay), `phone add` accounts served by PC A's registrar,
// `lookup` answering with SIP-REGISTRATION contacts, a desk phone (baresip, registered with the
// `phone add` credentials) on A calling PC B's user, who answers automatically and plays a WAV
// (`run --auto-answer --play --record`); tones both ways, history rows, registrations removed on stop.
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/ports.ts';
import { killAll, waitFor } from '../helpers/processes.ts';
import { request, statusOf, tcpExchange, udpExchange } from '../helpers/raw-sip.ts';
import { haveSipp } from '../helpers/sipp.ts';
import {
  cli,
  createOffice,
  dataDirs,
  invite,
  lookupUntilFound,
  mustSucceed,
  type OfficePeer,
  runPeer,
} from '../office/harness.ts';
import { startDeskPhone } from './baresip-phone.ts';
import { toneIn, writeToneWav } from './harness.ts';
import { sippRegister } from './sipp-calls.ts';

interface Lookup {
  reachable: boolean;
  via: string[];
  contacts: { uri: string; nodeId: string; address: string; deskPhone?: boolean }[];
}

const sipPortOf = (p: OfficePeer) =>
  Number(/peerpbx listening: sip udp:\/\/[^:]+:(\d+)/.exec(p.run.stdout())?.[1]);
const phoneUriOf = (p: OfficePeer) => /peerpbx phone (\S+) registrar/.exec(p.run.stdout())?.[1];

async function lookupJson(dir: string, ext: string): Promise<Lookup> {
  const r = await lookupUntilFound(dir, ext, { timeoutMs: 15_000 });
  expect(r.code, `lookup ${ext}: ${r.stdout} ${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout) as Lookup;
}

describe.skipIf(!haveSipp())('two PCs through the peerpbx CLI: run starts the phone system', () => {
  const dirs = dataDirs(['a', 'b', 'recB', 'wav']);
  let a: OfficePeer;
  let b: OfficePeer;
  afterAll(async () => {
    await killAll();
  });

  it('office create / invite / join / run: each PC looks up the other by its SIP registration', async () => {
    await createOffice(dirs.a, 'acme', '101');
    // Before the peer runs: stored in the settings, served once it starts.
    const offline = await mustSucceed([
      'phone',
      'add',
      '--data',
      dirs.a,
      '--extension',
      '201',
      '--password',
      'pw-201',
    ]);
    expect(offline.stdout).toMatch(/desk-phone account 201@acme added; served when the peer runs/);
    a = await runPeer(dirs.a, { extra: ['--http-port', '0'] });
    // The UI of an enrolled peer: its URL line (the engine over this peer's office and phone system).
    const ui = /^peerpbx ui (http:\/\/127\.0\.0\.1:\d+\/)#token=\S+$/m.exec(a.run.stdout());
    expect(ui, a.run.stdout()).not.toBeNull();
    expect((await fetch(ui?.[1] ?? '')).status).toBeLessThan(500);
    const code = await invite(dirs.a, '102');
    await mustSucceed(['join', '--data', dirs.b, '--extension', '102', '--code', code, '--peer', a.overlay]);
    mkdirSync(dirs.wav, { recursive: true });
    mkdirSync(dirs.recB, { recursive: true });
    const tone = writeToneWav(join(dirs.wav, '700.wav'), 700, 2);
    b = await runPeer(dirs.b, {
      extra: ['--peer', a.overlay, '--auto-answer', '--play', tone, '--record', dirs.recB],
    });

    const fromA = await lookupJson(dirs.a, '102');
    expect(fromA.via).toEqual(['registration']);
    expect(fromA.contacts.map((c) => c.uri)).toEqual([phoneUriOf(b)]);
    expect(fromA.contacts[0]).toMatchObject({ nodeId: b.nodeId, deskPhone: false });
    const fromB = await lookupJson(dirs.b, '101');
    expect(fromB.contacts.map((c) => c.uri)).toEqual([phoneUriOf(a)]);
    const human = await mustSucceed(['lookup', '--data', dirs.b, '--extension', '101']);
    expect(human.stdout).toContain(`${phoneUriOf(a)} node ${a.nodeId}`);
    const none = await cli(['lookup', '--data', dirs.a, '--extension', '199']);
    expect(none.code).toBe(1);
    expect(none.stdout).toMatch(/199@acme is not reachable/);
  }, 60_000);

  it('the registrar on --sip-port: OPTIONS 200, a stranger calling is challenged, phone add takes effect at once', async () => {
    const port = sipPortOf(a);
    const ping = request('OPTIONS', 'x', port).replace(
      `OPTIONS sip:x@127.0.0.1:${port}`,
      `OPTIONS sip:127.0.0.1:${port}`,
    );
    expect(statusOf((await udpExchange(port, ping))[0])).toBe(200);
    // No account, no call: an unknown caller gets 407 whatever it dials (no toll fraud, no probing).
    expect(statusOf((await udpExchange(port, request('INVITE', 'nobody', port)))[0])).toBe(407);
    expect(await tcpExchange(port, request('INVITE', '102', port, 'TCP'))).toContain('SIP/2.0 407 ');
    expect(
      statusOf((await udpExchange(port, request('OPTIONS', 'x', port).replace('CSeq: 1', 'CSeq: x')))[0]),
    ).toBe(400);

    const live = await mustSucceed([
      'phone',
      'add',
      '--data',
      dirs.a,
      '--extension',
      '202',
      '--password',
      'pw-202',
    ]);
    expect(live.stdout).toMatch(/202@acme added; the running peer serves it now/);
    await sippRegister(port, '202', await freePort(), 'pw-202');
    const phone = await lookupJson(dirs.b, '202');
    expect(phone.contacts[0]).toMatchObject({ deskPhone: true, nodeId: a.nodeId });
    const human = await mustSucceed(['lookup', '--data', dirs.b, '--extension', '202']);
    expect(human.stdout).toMatch(new RegExp(`^sip:202@\\S+ node ${a.nodeId} at \\S+ \\(desk phone\\)$`, 'm'));
    // The clear password is nowhere in the data folder's settings: only HA1.
    const db = new Database(join(dirs.a, 'peer.db'), { readonly: true });
    const stored = db
      .prepare("SELECT value FROM settings WHERE key = 'deskPhoneAccounts'")
      .pluck()
      .get() as string;
    db.close();
    expect(stored).toContain('"ha1"');
    expect(stored).not.toContain('pw-20');
  }, 40_000);

  it('a baresip desk phone on A calls 102 on B: answered, tones both ways, history on B', async () => {
    const [sipPort, rtp] = [await freePort(), await freePort()];
    const phone = startDeskPhone({
      extension: '201',
      password: 'pw-201',
      registrar: `127.0.0.1:${sipPortOf(a)}`,
      host: '127.0.0.1',
      sipPort,
      rtpPorts: [rtp, rtp + 4],
      toneHz: 440,
      dial: '102',
      lifetimeSec: 7,
    });
    await phone.proc.done;
    const heardByPhone = await waitFor('desk phone recording', () => phone.decoded()[0], 10_000);
    const heardByB = await waitFor(
      "B's --record file",
      () => readdirSync(dirs.recB).find((f) => f.endsWith('.wav')),
      10_000,
    );
    await new Promise((r) => setTimeout(r, 500));
    expect(await toneIn(heardByPhone, 700)).toBeGreaterThan(0.5);
    expect(await toneIn(join(dirs.recB, heardByB), 440)).toBeGreaterThan(0.5);

    const rows = await waitFor(
      "B's history row",
      () => {
        const db = new Database(join(dirs.b, 'peer.db'), { readonly: true });
        const r = db.prepare('SELECT direction, remote, outcome, duration_ms FROM call_history').all() as {
          direction: string;
          remote: string;
          outcome: string;
          duration_ms: number;
        }[];
        db.close();
        return r.length > 0 ? r : null;
      },
      10_000,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ direction: 'in', outcome: 'answered' });
    expect(rows[0].remote).toContain('201');
    expect(rows[0].duration_ms).toBeGreaterThan(1000);
  }, 40_000);

  it('stopping B removes its registration before its overlay leaves: A finds 102 unreachable', async () => {
    const done = await b.stop();
    expect(done.code).toBe(0);
    // Without the stop-time tombstone the record would live on for its whole lifetime (120 s).
    let code: number | null = 0;
    for (const end = Date.now() + 15_000; code !== 1 && Date.now() < end; )
      code = (await cli(['lookup', '--data', dirs.a, '--extension', '102'])).code;
    expect(code).toBe(1);
    expect((await a.stop()).code).toBe(0);
  }, 40_000);
});
