// What a real office's peers hold, read over each peer's control socket (the same channel as
// `peerpbx status`, without a CLI process per question, so polls are fine-grained): members seen,
// records held, and how many copies of each record the office has.
import { askPeer } from '../../src/main/control/client.ts';

export interface HeldRecord {
  name: string;
  kind: string;
  key: string;
  role: string;
}

export interface PeerStatus {
  nodeId: string;
  extension: string;
  peers: { nodeId: string; extension: string | null; address: string }[];
  records: { total: number; list: HeldRecord[] };
}

/** The running peer's status, or null when it does not answer (dead, starting, or too slow). */
export async function statusOf(dataDir: string, timeoutMs = 3000): Promise<PeerStatus | null> {
  try {
    return (await askPeer(dataDir, { op: 'status' }, timeoutMs)) as PeerStatus;
  } catch {
    return null;
  }
}

export const recordId = (r: { kind: string; name: string; key: string }): string =>
  `${r.kind} ${r.name} ${r.key}`;

/** Copies of every record held by the peers of `dataDirs` (peers that do not answer hold nothing). */
export async function copies(dataDirs: string[]): Promise<Map<string, number>> {
  const all = await Promise.all(dataDirs.map((d) => statusOf(d)));
  const out = new Map<string, number>();
  for (const s of all)
    for (const r of new Set(s?.records.list.map(recordId) ?? [])) out.set(r, (out.get(r) ?? 0) + 1);
  return out;
}

/** Polls `probe` every `intervalMs` until true; returns the ms it took, or throws after `timeoutMs`. */
export async function pollUntil(
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 100,
): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    if (await probe()) return performance.now() - t0;
    if (performance.now() - t0 > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Every survivor sees exactly the members `expected` (node ids). */
export async function membersAre(dataDirs: string[], expected: string[]): Promise<boolean> {
  const want = [...expected].sort().join(',');
  const all = await Promise.all(dataDirs.map((d) => statusOf(d)));
  return all.every(
    (s) =>
      s !== null &&
      s.peers
        .map((p) => p.nodeId)
        .sort()
        .join(',') === want,
  );
}

/** Every record in `records` has at least `n` copies among the peers of `dataDirs`. */
export async function allAtCopies(dataDirs: string[], records: string[], n: number): Promise<boolean> {
  const c = await copies(dataDirs);
  return records.every((r) => (c.get(r) ?? 0) >= n);
}
