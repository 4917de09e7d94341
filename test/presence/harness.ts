// Enrolled data folders (written directly: an office CA, one certificate per peer) and peers started
// through Peer.start in fixtures/presence-peer.ts. Processes go through test/helpers/processes.ts
// (killAll reaps them); JSON-line requests through the overlay-processes PeerHandle.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { certificateFingerprintPem } from '../../src/core/security/keys.ts';
import { openDataDatabase, saveIdentity } from '../../src/main/identity/identity.ts';
import { ROOT, start, waitFor } from '../helpers/processes.ts';
import { PeerHandle, type PeerSpec } from '../overlay-processes/harness.ts';
import { makeOffice } from '../unit/security/fixtures.ts';

const FIXTURE = join(ROOT, 'test/presence/fixtures/presence-peer.ts');

export interface PresencePeer extends PeerHandle {
  dir: string;
  extension: string;
  ready: Record<string, unknown>;
}

/** A temp root with one enrolled data folder per extension (office "office"). */
export function enrolledFolders(extensions: string[]): {
  root: string;
  dirs: Record<string, string>;
  cleanup: () => void;
} {
  const root = mkdtempSync(join(tmpdir(), 'presence-'));
  const office = makeOffice('office');
  const dirs: Record<string, string> = {};
  for (const ext of extensions) {
    const dir = join(root, ext);
    const peer = office.enroll(`${ext}@office`, { now: Date.now() - 60_000 });
    const db = openDataDatabase(dir);
    saveIdentity(dir, db, {
      office: 'office',
      extension: ext,
      caFingerprint: certificateFingerprintPem(office.ca.certificatePem),
      admin: false,
      enrolledAt: Date.now(),
      caPem: office.ca.certificatePem,
      certPem: peer.certificatePem,
      keyPem: peer.keyPair.privateKeyPem,
    });
    db.close();
    dirs[ext] = dir;
  }
  return { root, dirs, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

export async function startPresencePeer(o: {
  name: string;
  extension: string;
  dir: string;
  peers?: string[];
  deskPhones?: Array<{ extension: string; password: string }>;
}): Promise<PresencePeer> {
  const args = [
    '--import',
    'tsx',
    FIXTURE,
    '--data',
    o.dir,
    ...(o.peers ?? []).flatMap((p) => ['--peer', p]),
    ...(o.deskPhones ?? []).flatMap((d) => ['--desk-phone', `${d.extension}:${d.password}`]),
  ];
  const proc = start(process.execPath, args, { env: { PEERPBX_LOG: process.env.PEERPBX_LOG ?? 'warn' } });
  const handle = new PeerHandle({ name: o.name, dir: o.dir } as unknown as PeerSpec, proc);
  const ready = await waitFor(
    `${o.name} ready`,
    () => {
      if (handle.exited) throw new Error(`${o.name} exited: ${handle.exited.stderr.slice(-3000)}`);
      const failed = handle.event('start-failed');
      if (failed) throw new Error(`${o.name} failed: ${String(failed.reason)}`);
      return handle.event('ready');
    },
    40_000,
  );
  return Object.assign(handle, { dir: o.dir, extension: o.extension, ready });
}

/**
 * Starts one peer per entry in order, the first on its own and the others joining through it;
 * each is pushed to `started` at once (for the caller's cleanup, also when a later one fails).
 */
export async function startOffice(
  dirs: Record<string, string>,
  list: Array<{
    name: string;
    extension: string;
    deskPhones?: Array<{ extension: string; password: string }>;
  }>,
  started: PresencePeer[],
): Promise<PresencePeer[]> {
  const out: PresencePeer[] = [];
  for (const s of list) {
    const p = await startPresencePeer({
      ...s,
      dir: dirs[s.extension],
      peers: out[0] ? [overlayOf(out[0])] : [],
    });
    started.push(p);
    out.push(p);
  }
  return out;
}

export function overlayOf(p: PresencePeer): string {
  return `127.0.0.1:${String(p.ready.overlayPort)}`;
}

/** Events of a peer with this name and matching fields, in order. */
export function eventsOf(p: PresencePeer, event: string, match: Record<string, unknown> = {}) {
  return p.events.filter((e) => e.event === event && Object.entries(match).every(([k, v]) => e[k] === v));
}

/** Waits for the first event (after `since` events of that kind) that matches. */
export function nextEvent(
  p: PresencePeer,
  event: string,
  match: Record<string, unknown>,
  opts: { after?: number; timeoutMs?: number } = {},
): Promise<Record<string, unknown>> {
  return waitFor(
    `${p.spec.name} ${event} ${JSON.stringify(match)}`,
    () => p.events.find((e, i) => i >= (opts.after ?? 0) && e.event === event && matches(e, match)),
    opts.timeoutMs ?? 15_000,
  );
}

function matches(e: Record<string, unknown>, match: Record<string, unknown>): boolean {
  return Object.entries(match).every(([k, v]) => e[k] === v);
}
