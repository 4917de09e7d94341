// Issue 3, "Real processes": 5 peers on loopback as separate processes with real TLS links and
// SQLite stores; kill -9 two of them; everything stored is still fetchable and back at 3 copies.
// Also: a restarted peer rejoins from its data folder; a certificate from another CA cannot join;
// forged and foreign-user writes are refused with a reason.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { issuePeerCert, makeCa } from '../helpers/certs.ts';
import { killAll, tempDir } from '../helpers/processes.ts';
import { type PeerHandle, type PeerSpec, spawnPeer, waitReady } from './harness.ts';

const N = 5;
const RECORDS = 50;
const root = tempDir('peerpbx-overlay5-');
const ca = makeCa('Five Peers Office');
const specs: PeerSpec[] = Array.from({ length: N }, (_, i) => ({
  name: `peer${i}`,
  dir: join(root, `peer${i}`),
  cert: issuePeerCert(ca, { user: `10${i + 1}@office` }),
  caPem: ca.certPem,
}));
const peers: PeerHandle[] = [];
const names = Array.from({ length: RECORDS }, (_, i) => `${specs[i % N].cert.user}/rec-${i}`);
/** Indexes of the peers killed with SIGKILL (chosen among one record's holders). */
const killed: number[] = [];
const survivors = () => peers.filter((_, i) => !killed.includes(i));

function addr(p: PeerHandle): string {
  return `127.0.0.1:${p.spec.port}`;
}

/** How many of `among` hold each record name in their local store. */
async function copies(among: PeerHandle[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>(names.map((n) => [n, 0]));
  for (const p of among) {
    const r = await p.request({ op: 'holders' });
    const held = new Set((r.holdings as { name: string }[]).map((h) => h.name));
    for (const n of names) if (held.has(n)) counts.set(n, (counts.get(n) ?? 0) + 1);
  }
  return counts;
}

async function fetchAllFrom(p: PeerHandle, dumpLogs = true): Promise<string[]> {
  const replies = await Promise.all(names.map((name) => p.request({ op: 'fetch', name })));
  const missing: string[] = [];
  replies.forEach((r, i) => {
    const values = (r.values ?? []) as { value: string }[];
    if (!r.ok || values.length !== 1 || values[0].value !== `value-${i}`)
      missing.push(
        `${names[i]} ${r.ok ? `${values.length} values (rejected ${r.rejected}, hops ${r.hops})` : `${r.code}: ${r.reason}`}`,
      );
  });
  if (missing.length > 0 && dumpLogs) {
    console.log(`[overlay-processes] ${p.spec.name} missing:\n${missing.join('\n')}`);
    for (const q of peers) {
      const warns = q.proc
        .stderr()
        .split('\n')
        .filter((l) => l.includes('"warn"') || l.includes('member'));
      console.log(`--- ${q.spec.name} ${q.event('ready')?.nodeId}\n${warns.slice(-40).join('\n')}`);
    }
  }
  return missing;
}

afterAll(async () => {
  await killAll();
  rmSync(root, { recursive: true, force: true });
});

describe('five overlay peers as real processes', () => {
  it('form a ring, store 50 records with 3 copies, fetch each from every peer', async () => {
    const t0 = Date.now();
    peers.push(await waitReady(spawnPeer(specs[0], [])));
    const rest = specs.slice(1).map((s) => spawnPeer(s, [addr(peers[0])]));
    for (const p of rest) peers.push(await waitReady(p));
    const allJoined = Date.now();
    await waitForAsync('every peer sees all 5 members', async () => {
      for (const p of peers) {
        const r = await p.request({ op: 'members' });
        if ((r.members as unknown[]).length !== N) return false;
      }
      return true;
    });
    console.log(
      `[overlay-processes] ring of ${N} formed in ${Date.now() - t0} ms: all joined after ${allJoined - t0} ms ` +
        `(process spawn included), full membership view everywhere ${Date.now() - allJoined} ms later`,
    );
    const r = peers.map((p) => p.event('ready')!);
    console.log(
      `[overlay-processes] per peer: process load ${r.map((e) => e.bootMs).join('/')} ms, ` +
        `listen+join ${r.map((e) => e.joinMs).join('/')} ms`,
    );

    const t1 = Date.now();
    const acks = await Promise.all(
      names.map((name, i) => peers[i % N].request({ op: 'store', name, value: `value-${i}` })),
    );
    for (const a of acks) expect(a, JSON.stringify(a)).toMatchObject({ ok: true });
    const confirmed = acks.map((a) => a.copies as number);
    console.log(
      `[overlay-processes] ${RECORDS} stores acknowledged in ${Date.now() - t1} ms; copies confirmed: ` +
        `${confirmed.filter((n) => n === 3).length} x3, min ${Math.min(...confirmed)}`,
    );
    expect(Math.min(...confirmed)).toBe(3);

    for (const p of peers) expect(await fetchAllFrom(p), p.spec.name).toEqual([]);
    await waitForAsync('3 copies of every record', async () =>
      [...(await copies(peers)).values()].every((c) => c >= 3),
    );
    const c = await copies(peers);
    console.log(`[overlay-processes] holders per record: ${histogram(c)}`);
    expect(Math.min(...c.values())).toBeGreaterThanOrEqual(3);
  });

  it('kill -9 of two peers: every record stays fetchable and is back at 3 copies', async () => {
    // Two of the three holders of one record: the case where only one copy survives.
    const victim = names[7];
    for (let i = 0; i < N && killed.length < 2; i++) {
      const r = await peers[i].request({ op: 'holders' });
      if ((r.holdings as { name: string }[]).some((h) => h.name === victim)) killed.push(i);
    }
    expect(killed).toHaveLength(2);
    // Each survivor samples its measured copies of the record (the status figure) in-process.
    for (const p of survivors()) await p.request({ op: 'trace-copies', name: victim });
    const t0 = Date.now();
    const before = await copies(killed.map((i) => peers[i]));
    const lostTwo = [...before.values()].filter((n) => n === 2).length;
    const deaths = await Promise.all(killed.map((i) => peers[i].kill9()));
    for (const d of deaths) expect(d.signal).toBe('SIGKILL');
    console.log(
      `[overlay-processes] killed ${killed.map((i) => peers[i].spec.name)}; ${lostTwo} records lost 2 of 3 holders`,
    );
    expect(lostTwo).toBeGreaterThan(0);

    // Right after the kill, before failure detection: routes still lead to the dead peers.
    const t1 = Date.now();
    for (const p of survivors())
      expect(await fetchAllFrom(p), `${p.spec.name} right after the kill`).toEqual([]);
    console.log(
      `[overlay-processes] ${3 * RECORDS} fetches right after the kill all answered in ${Date.now() - t1} ms`,
    );
    await waitForAsync('survivors see 3 members', async () => {
      for (const p of survivors()) {
        const r = await p.request({ op: 'members' });
        if ((r.members as unknown[]).length !== 3) return false;
      }
      return true;
    });
    console.log(
      `[overlay-processes] failure of both detected by all survivors ${Date.now() - t0} ms after kill -9`,
    );
    for (const p of survivors()) expect(await fetchAllFrom(p), `${p.spec.name} after detection`).toEqual([]);
    await waitForAsync(
      'every record on all 3 survivors',
      async () => [...(await copies(survivors())).values()].every((n) => n === 3),
      30_000,
    );
    console.log(`[overlay-processes] 3 copies restored ${Date.now() - t0} ms after kill -9`);
    for (const p of survivors()) expect(await fetchAllFrom(p), p.spec.name).toEqual([]);

    // Measured replica health: every record's responsible peer counts 3 confirmed copies again,
    // and the record that lost two holders was seen below 3 at its (new) responsible peer first.
    await waitForAsync(
      'every responsible peer measures 3 copies',
      async () => {
        for (const p of survivors()) {
          const r = await p.request({ op: 'holders' });
          const rows = r.holdings as { role: string; copies: number }[];
          if (rows.some((h) => h.role === 'responsible' && h.copies !== 3)) return false;
        }
        return true;
      },
      30_000,
    );
    console.log(
      `[overlay-processes] 3 copies measured by the responsible peers ${Date.now() - t0} ms after kill -9`,
    );
    const traces: string[][] = [];
    for (const p of survivors()) {
      const r = await p.request({ op: 'holders' });
      if (
        (r.holdings as { name: string; role: string }[]).some(
          (h) => h.name === victim && h.role === 'responsible',
        )
      )
        traces.push((await p.request({ op: 'copies-trace' })).trace as string[]);
    }
    console.log(
      `[overlay-processes] ${victim} measured at its responsible survivor: ${traces[0]?.join(' -> ')}`,
    );
    expect(traces).toHaveLength(1);
    const dips = traces[0].filter((s) => s.startsWith('responsible:') && Number(s.split(':')[1]) < 3);
    expect(dips.length).toBeGreaterThan(0);
    expect(traces[0].at(-1)).toBe('responsible:3');
  });

  it('a killed peer restarted from its data folder rejoins with its records', async () => {
    const i = killed[0];
    const t0 = Date.now();
    const p = await waitReady(spawnPeer(specs[i], survivors().map(addr)));
    peers[i] = p;
    const ready = p.event('ready')!;
    expect(ready.nodeId).toBe(specs[i].cert.nodeId);
    expect(ready.held as number).toBeGreaterThan(0);
    killed.splice(0, 1);
    await waitForAsync('4 members everywhere', async () => {
      for (const q of survivors()) {
        const r = await q.request({ op: 'members' });
        if ((r.members as unknown[]).length !== 4) return false;
      }
      return true;
    });
    console.log(
      `[overlay-processes] ${p.spec.name} rejoined in ${Date.now() - t0} ms holding ${String(ready.held)} records from before`,
    );
    expect(await fetchAllFrom(p)).toEqual([]);
    const c = await copies(survivors());
    console.log(`[overlay-processes] holders per record after the rejoin: ${histogram(c)}`);
    expect(Math.min(...c.values())).toBeGreaterThanOrEqual(3);
  });

  it('a peer whose certificate is from another CA cannot join; the refusal is logged', async () => {
    const other = makeCa('Rogue Office');
    const spec: PeerSpec = {
      name: 'rogue',
      dir: join(root, 'rogue'),
      cert: issuePeerCert(other, { user: '666@office' }),
      // It trusts the office CA (public) but holds no certificate issued by it.
      caPem: ca.certPem,
    };
    const target = survivors()[0];
    const rogue = spawnPeer(spec, [addr(target)], 4000);
    const end = await rogue.proc.done;
    expect(end.code).not.toBe(0);
    expect(rogue.event('ready')).toBeUndefined();
    expect(rogue.event('start-failed')).toBeDefined();
    expect(target.proc.stderr()).toMatch(/overlay link refused.*client certificate refused/);
    for (const p of survivors()) {
      const r = await p.request({ op: 'members' });
      expect((r.members as { nodeId: string }[]).map((m) => m.nodeId)).not.toContain(spec.cert.nodeId);
    }
  });

  it('forged signatures and writes to another user are refused with a reason', async () => {
    const [a, b] = survivors();
    const forged = await a.request({
      op: 'store',
      name: `${a.spec.cert.user}/forged`,
      value: 'x',
      forge: true,
    });
    expect(forged).toMatchObject({ ok: false, code: 'bad-signature' });
    expect(forged.reason).toMatch(/does not verify/);
    const foreign = await a.request({ op: 'store', name: `${b.spec.cert.user}/not-mine`, value: 'x' });
    expect(foreign).toMatchObject({ ok: false, code: 'forbidden' });
    expect(foreign.reason).toMatch(/USER-MATCH/);
    for (const name of [`${a.spec.cert.user}/forged`, `${b.spec.cert.user}/not-mine`]) {
      const r = await b.request({ op: 'fetch', name });
      expect(r.values).toEqual([]);
    }
  });

  it('peers stop gracefully and exit by themselves', async () => {
    const live = survivors();
    const ends = await Promise.all(
      live.map(async (p) => {
        await p.request({ op: 'stop' });
        return p.proc.done;
      }),
    );
    for (const e of ends) expect(e.code).toBe(0);
  });
});

async function waitForAsync(what: string, probe: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** "3 copies: 48 records, 4 copies: 2 records" */
function histogram(counts: Map<string, number>): string {
  const h = new Map<number, number>();
  for (const n of counts.values()) h.set(n, (h.get(n) ?? 0) + 1);
  return [...h.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([copies, records]) => `${copies} copies: ${records} records`)
    .join(', ');
}
