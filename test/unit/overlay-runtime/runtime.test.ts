// OverlayRuntime in one process: real TLS links on loopback, real timers, memory stores.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrame } from '../../../src/core/overlay/frame.ts';
import type { OverlayMessage } from '../../../src/core/overlay/messages.ts';
import type { StoredValue } from '../../../src/core/records/types.ts';
import { probeNodeId } from '../../../src/main/overlay/address-probe.ts';
import { PeerSigner } from '../../../src/main/overlay/peer-signer.ts';
import { OverlayError } from '../../../src/main/overlay/runtime.ts';
import { LinkManager } from '../../../src/main/overlay-link/link-manager.ts';
import { issuePeerCert, makeCa, selfSignedPeerCert, type TestCa } from '../../helpers/certs.ts';
import { freePort } from '../../helpers/ports.ts';
import { ROOT } from '../../helpers/processes.ts';
import { captureLogger, type LogEntry } from '../overlay-link/fixtures.ts';
import { makeRuntime, startOverlay, startRuntime, type TestRuntime, text, untext, until } from './helpers.ts';

let ca: TestCa;
const running: TestRuntime[] = [];
const managers: LinkManager[] = [];

beforeAll(() => {
  ca = makeCa('Runtime Office');
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((t) => t.rt.stop()));
  await Promise.all(managers.splice(0).map((m) => m.stop()));
});

async function overlay(users: string[]): Promise<TestRuntime[]> {
  const all = await startOverlay(ca, users);
  running.push(...all);
  return all;
}

/** A bare LinkManager with an office certificate, to put arbitrary frames on a link. */
async function rawLink(target: TestRuntime): Promise<{ mgr: LinkManager; downs: string[]; nodeId: string }> {
  const cert = issuePeerCert(ca, { user: '199@office' });
  const logs: LogEntry[] = [];
  const mgr = new LinkManager({
    nodeId: cert.nodeId,
    keyPem: cert.keyPem,
    certPem: cert.certPem,
    caPem: ca.certPem,
    host: '127.0.0.1',
    log: captureLogger(logs),
  });
  managers.push(mgr);
  await mgr.start();
  mgr.setAddress(target.rt.nodeId, '127.0.0.1', target.rt.port);
  const downs: string[] = [];
  mgr.on('link-down', (e) => downs.push(e.reason));
  return { mgr, downs, nodeId: cert.nodeId };
}

function pingFrom(id: string, port: number): OverlayMessage {
  return {
    t: 'ping',
    from: { id, address: { transport: 'TLS', host: '127.0.0.1', port }, inc: 1 },
    g: [],
    nb: [],
    wantPong: true,
  };
}

const closedFor = (t: TestRuntime) =>
  t.logs
    .filter((e) => e.msg === 'malformed overlay frame, closing the link')
    .map((e) => String(e.fields.reason));

describe('OverlayRuntime: records over real links', () => {
  it('stores, fetches, stats and watches across three peers; members and holdings', async () => {
    const [a, b, c] = await overlay(['101@office', '102@office', '103@office']);
    const seen: StoredValue[][] = [];
    const w = await c.rt.watch('101@office/presence', 'TEST', (values) => seen.push(values));
    const v = a.rt.sign('101@office/presence', 'TEST', text('here'), 60_000, { key: 'state' });
    const ack = await a.rt.store([v]);
    expect(ack.copies).toBe(3);
    const got = await b.rt.fetch('101@office/presence', 'TEST');
    expect(got.values.map((x) => untext(x.value))).toEqual(['here']);
    expect(got.values[0].signer.user).toBe('101@office');
    const meta = await c.rt.stat('101@office/presence');
    expect(meta).toMatchObject([{ kind: 'TEST', key: 'state', size: 4 }]);
    await until(() => seen.length > 0, 5000, 'watch notification');
    expect(untext(seen[0][0].value)).toBe('here');
    w.cancel();

    const members = a.rt.members();
    expect(members.map((m) => m.nodeId).sort()).toEqual([a, b, c].map((t) => t.rt.nodeId).sort());
    const mb = members.find((m) => m.nodeId === b.rt.nodeId)!;
    expect(mb.user).toBe('102@office');
    expect(mb.address).toBe(b.address);
    expect(mb.upSince).toBeGreaterThan(0);
    // Members learned from the admitting peer's view (no peer-up event) have a time too.
    for (const t of [b, c]) for (const m of t.rt.members()) expect(m.upSince, m.nodeId).toBeGreaterThan(0);
    // With 3 peers every peer holds every record: exactly one of them as the responsible peer.
    const roles = [a, b, c].map(
      (t) => t.rt.holdings().find((h) => h.resourceName === '101@office/presence')?.role,
    );
    expect(roles.filter((r) => r === 'responsible')).toHaveLength(1);
    expect(roles.filter((r) => r === 'replica')).toHaveLength(2);
  });

  it('refuses a value signed by another user and a tampered signature, with reasons', async () => {
    const [a, b] = await overlay(['101@office', '102@office']);
    const foreign = a.rt.sign('102@office/x', 'TEST', text('no'), 60_000, { key: 'k' });
    await expect(a.rt.store([foreign])).rejects.toMatchObject({ code: 'forbidden' });
    const tampered = a.rt.sign('101@office/x', 'TEST', text('yes'), 60_000, { key: 'k' });
    tampered.value = text('YES');
    const err = await a.rt.store([tampered]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OverlayError);
    expect((err as OverlayError).code).toBe('bad-signature');
    expect((await b.rt.fetch('101@office/x')).values).toEqual([]);
  });

  it('a graceful stop tells the others at once (left, not a failure after missed keepalives)', async () => {
    const all = await overlay(['101@office', '102@office', '103@office', '104@office']);
    const values = Array.from({ length: 12 }, (_, i) =>
      all[i % 4].rt.sign(`10${(i % 4) + 1}@office/r${i}`, 'TEST', text(`v${i}`), 600_000, { key: 'k' }),
    );
    await Promise.all(values.map((v, i) => all[i % 4].rt.store([v])));
    const rest = all.slice(0, 3);
    // Four peers: each record is on exactly 3 of them, so some of the staying peers lack some.
    await until(() => all.reduce((n, t) => n + t.store.count(), 0) === 3 * values.length, 12_000, '3 copies');
    expect(rest.some((t) => t.store.count() < values.length)).toBe(true);
    const leaving = all[3];
    const downs: string[] = [];
    all[0].rt.on('member-down', (e) => {
      if (e.nodeId === leaving.rt.nodeId) downs.push(e.reason);
    });
    const t0 = Date.now();
    await leaving.rt.stop({ graceful: true });
    await until(() => downs.length > 0, 2000, 'member-down');
    expect(downs[0]).toBe('left');
    expect(Date.now() - t0).toBeLessThan(2500);
    // Three peers left: each holds every record again.
    await until(() => rest.every((t) => t.store.count() === values.length), 8000, 'records on all 3');
    for (const v of values) expect((await all[1].rt.fetch(v.resourceName)).values).toHaveLength(1);
  });
});

describe('OverlayRuntime: link translation', () => {
  it('a malformed frame closes that link with a logged reason', async () => {
    const [a] = await overlay(['101@office']);
    const raw = await rawLink(a);
    raw.mgr.send(a.rt.nodeId, new Uint8Array([0, 0, 0, 3, 1, 0xff, 0xff]));
    await until(() => raw.downs.length > 0, 5000, 'link closed');
    expect(closedFor(a)[0]).toMatch(/^bad-/);
  });

  it('a frame whose sender is not the link peer closes the link', async () => {
    const [a, b] = await overlay(['101@office', '102@office']);
    const raw = await rawLink(a);
    // A well-formed ping that claims to come from b.
    raw.mgr.send(a.rt.nodeId, encodeFrame(pingFrom(b.rt.nodeId, b.rt.port)));
    await until(() => raw.downs.length > 0, 5000, 'link closed');
    expect(closedFor(a)[0]).toMatch(/sender claims Node-ID/);
  });

  it('a frame with trailing bytes closes the link; a well-formed one is answered', async () => {
    const [a] = await overlay(['101@office']);
    const raw = await rawLink(a);
    const frames: Uint8Array[] = [];
    raw.mgr.on('frame', (f) => frames.push(new Uint8Array(f.bytes)));
    // a has not admitted this peer, but answers a probe ping with a pong.
    raw.mgr.send(a.rt.nodeId, encodeFrame(pingFrom(raw.nodeId, 1)));
    await until(() => frames.length > 0, 5000, 'pong');
    const good = encodeFrame(pingFrom(raw.nodeId, 1));
    const padded = new Uint8Array(good.length + 2);
    padded.set(good);
    raw.mgr.send(a.rt.nodeId, padded);
    await until(() => raw.downs.length > 0, 5000, 'link closed');
    expect(closedFor(a)[0]).toMatch(/2 bytes after the frame/);
  });
});

describe('OverlayRuntime: values arriving on the wire', () => {
  it('forged and foreign values pushed straight onto a link are refused with reasons, not stored', async () => {
    const [a] = await overlay(['101@office']);
    const raw = await rawLink(a);
    const cert = issuePeerCert(ca, { user: '199@office' });
    const signer = new PeerSigner(cert.certPem, cert.keyPem);
    const forged = signer.sign('199@office/x', 'TEST', text('signed'), 60_000, { key: 'k' });
    forged.value = text('altered');
    const foreign = signer.sign('101@office/x', 'TEST', text('not yours'), 60_000, { key: 'k' });
    const refused: string[] = [];
    a.rt.on('invalid-value', (e) => refused.push(e.reason));
    // The link speaks for the raw manager's own certificate; the values carry 199's.
    const from = {
      id: raw.nodeId,
      address: { transport: 'TLS' as const, host: '127.0.0.1', port: raw.mgr.port },
      inc: 1,
    };
    raw.mgr.send(
      a.rt.nodeId,
      encodeFrame({ t: 'replicate', from, tx: 1, values: [forged, foreign], watches: [] }),
    );
    await until(() => refused.length === 2, 5000, 'two refusals');
    expect(refused[0]).toMatch(/^bad-signature: .*does not verify/);
    expect(refused[1]).toMatch(/^forbidden: .*USER-MATCH/);
    expect(a.store.count()).toBe(0);
  });
});

describe('OverlayRuntime: start and stop', () => {
  it('joins through the live bootstrap address among its own and a dead one', async () => {
    const [a] = await overlay(['101@office']);
    const own = await freePort();
    const dead = await freePort();
    const b = makeRuntime(ca, '102@office', {
      port: own,
      bootstrap: [`127.0.0.1:${own}`, `127.0.0.1:${dead}`, a.address],
    });
    running.push(b);
    await startRuntime(b);
    await until(() => a.rt.members().length === 2, 5000, 'a sees b');
    expect(
      b.logs.some((e) => e.msg === 'bootstrap peer unusable' && e.fields.address === `127.0.0.1:${dead}`),
    ).toBe(true);
  });

  it('start() rejects when no bootstrap peer admits it, and leaves nothing armed', async () => {
    const t = makeRuntime(ca, '102@office', { bootstrap: ['127.0.0.1:1'], joinTimeoutMs: 1500 });
    const err = await t.rt.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OverlayError);
    expect((err as OverlayError).code).toBe('timeout');
    expect(t.rt.timerArmed).toBe(false);
  });

  it('a bootstrap peer with a certificate from another CA is refused by the probe', async () => {
    const [a] = await overlay(['101@office']);
    const rogue = selfSignedPeerCert();
    const r = await probeNodeId({
      host: '127.0.0.1',
      port: a.rt.port,
      keyPem: rogue.keyPem,
      certPem: rogue.certPem,
      caPem: ca.certPem,
    });
    expect(r.ok).toBe(false);
    await until(() => a.logs.some((e) => e.msg === 'overlay link refused'), 3000, 'refusal logged');
  });

  it('stop() clears the timer and fails requests in flight', async () => {
    const [a, b] = await overlay(['101@office', '102@office']);
    expect(a.rt.timerArmed).toBe(true);
    // b is gone without a word: a's request to it waits, then stop() ends it.
    await b.rt.stop();
    const inFlight = a.rt.fetch({ id: b.rt.nodeId });
    await a.rt.stop();
    await expect(inFlight).rejects.toMatchObject({ code: 'stopped' });
    expect(a.rt.timerArmed).toBe(false);
    await expect(a.rt.fetch('x')).rejects.toMatchObject({ code: 'stopped' });
  });

  it('a process running two peers exits by itself after stop() (no leaked handles)', async () => {
    const script = join(ROOT, 'test/unit/overlay-runtime/exit-after-stop.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, stdio: 'pipe' });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const [code, signal] = await new Promise<[number | null, string | null]>((r) =>
      child.on('close', (c, s) => r([c, s])),
    );
    clearTimeout(killer);
    expect(signal).toBeNull();
    expect(code).toBe(0);
    expect(out).toContain('stopped');
    const m = /exit-after-stop-ms (\d+)/.exec(out);
    expect(m).not.toBeNull();
  });
});
