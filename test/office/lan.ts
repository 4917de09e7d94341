// Offices in network namespaces (test/lan/office-*.test.ts): each PC is a namespace on a bridge
// running the real `peerpbx` CLI through `ip netns exec`. Data folders live on the shared disk, so
// `lookup`/`status` (unix control socket) may run from anywhere; `join` and `run` run in their PC.

import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'vitest';
import type { LanHost } from '../lan/netns.ts';
import {
  cli,
  createOffice,
  dataDirs,
  invite,
  lookupUntilFound,
  mustSucceed,
  type OfficePeer,
  runPeer,
  type Wrap,
} from './harness.ts';

export const inNs =
  (ns: string): Wrap =>
  (argv) => ['ip', 'netns', 'exec', ns, ...argv];

export const OVERLAY_PORT = 7070;

export interface Pc {
  host: LanHost;
  dir: string;
  extension: string;
  peer?: OfficePeer;
}

/** Folders for `hosts`; the first PC creates office `name`, extension 101, the others get 102.... */
export async function enrollOffice(
  hosts: LanHost[],
  name: string,
  joinEnv: NodeJS.ProcessEnv,
  joinVia: (pc: Pc) => string[] = () => [],
): Promise<Pc[]> {
  const dirs = dataDirs(hosts.map((_, i) => `pc${i + 1}`));
  const pcs: Pc[] = hosts.map((host, i) => ({ host, dir: dirs[`pc${i + 1}`], extension: String(101 + i) }));
  await createOffice(pcs[0].dir, name, pcs[0].extension);
  pcs[0].peer = await startPc(pcs[0], joinEnv);
  const codes: string[] = [];
  for (const pc of pcs.slice(1)) codes.push(await invite(pcs[0].dir, pc.extension));
  await Promise.all(
    pcs.slice(1).map((pc, i) =>
      mustSucceed(
        ['join', '--data', pc.dir, '--extension', pc.extension, '--code', codes[i], ...joinVia(pc)],
        {
          env: joinEnv,
          wrap: inNs(pc.host.ns),
          timeoutMs: 30_000,
        },
      ),
    ),
  );
  return pcs;
}

export function startPc(pc: Pc, env: NodeJS.ProcessEnv, extra: string[] = []): Promise<OfficePeer> {
  return runPeer(pc.dir, { bind: '0.0.0.0', overlayPort: OVERLAY_PORT, env, wrap: inNs(pc.host.ns), extra });
}

/** Empties a PC's peer cache, so only discovery (or --peer) can bring it into the office. */
export function forgetPeers(pc: Pc): void {
  const db = new Database(join(pc.dir, 'peer.db'));
  db.prepare('DELETE FROM peers').run();
  db.close();
}

export function cachedPeers(pc: Pc): string[] {
  const db = new Database(join(pc.dir, 'peer.db'), { readonly: true });
  const rows = db.prepare('SELECT address FROM peers').pluck().all() as string[];
  db.close();
  return rows;
}

/** Every PC looks up every extension (in parallel per PC); all must succeed. */
export async function expectAllLookups(pcs: Pc[], timeoutMs = 30_000): Promise<void> {
  await Promise.all(
    pcs.map(async (from) => {
      for (const to of pcs) {
        const r = await lookupUntilFound(from.dir, to.extension, { timeoutMs });
        expect(r.code, `lookup of ${to.extension} from ${from.extension}: ${r.stdout} ${r.stderr}`).toBe(0);
        const res = JSON.parse(r.stdout) as { contacts: { nodeId: string; address: string }[] };
        if (to.peer) expect(res.contacts.map((c) => c.nodeId)).toContain(to.peer.nodeId);
      }
    }),
  );
  // An extension nobody has stays unreachable (exit 1), so the 0s above mean something.
  const none = await cli(['lookup', '--data', pcs[0].dir, '--extension', '999']);
  expect(none.code).toBe(1);
}

/** The office as one PC sees it: the extensions of its peers. */
export async function extensionsSeenBy(pc: Pc): Promise<string[]> {
  const r = await mustSucceed(['status', '--data', pc.dir, '--json']);
  return (JSON.parse(r.stdout) as { peers: { extension: string }[] }).peers.map((p) => p.extension).sort();
}

/**
 * The office forms by discovery alone: PCs enrolled on `hosts`, then all started at once with empty
 * peer caches and no --peer; every PC looks up every extension and sees every peer; clean stops.
 */
export async function expectOfficeFormsByDiscovery(hosts: LanHost[], env: NodeJS.ProcessEnv): Promise<void> {
  const pcs = await enrollOffice(hosts, 'lanoffice', env);
  await pcs[0].peer!.stop();
  for (const pc of pcs) forgetPeers(pc);
  await Promise.all(
    pcs.map(async (pc) => {
      pc.peer = await startPc(pc, env);
    }),
  );
  await expectAllLookups(pcs);
  const all = pcs.map((pc) => pc.extension).sort();
  for (const pc of pcs) expect(await extensionsSeenBy(pc)).toEqual(all);
  for (const pc of pcs) expect((await pc.peer!.stop()).code).toBe(0);
}
