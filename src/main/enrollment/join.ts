// `peerpbx join`: find the office (--peer, else discovery in browse-only mode), send the enrollment
// request to its admin peer and keep the certificate. The PC's key is made first and never leaves.
import { Discovery, type FoundPeer } from '../discovery/discovery.ts';
import {
  generatePeerKeys,
  hasIdentity,
  IdentityError,
  openDataDatabase,
  saveIdentity,
} from '../identity/identity.ts';
import type { Logger } from '../log.ts';
import { checkExtension } from '../office/office.ts';
import { type EnrollResult, requestEnrollment } from './client.ts';
import { enrollmentPort } from './protocol.ts';

export interface JoinOptions {
  dataDir: string;
  extension: string;
  code?: string;
  displayName?: string;
  /** Overlay addresses of office peers; the admin's enrollment endpoint is at port + 1. */
  peers: Array<{ host: string; port: number }>;
  /** How long to look for offices on the LAN (default 4 s). */
  discoverMs?: number;
  discovery?: { mdns?: boolean; broadcast?: boolean; beaconPort?: number };
  onPending?: (requestId: string, at: string) => void;
  log: Logger;
}

export interface Joined {
  office: string;
  extension: string;
  nodeId: string;
  caFingerprint: string;
  admin: string;
}

interface Target {
  host: string;
  port: number;
  caFingerprint?: string;
}

async function discoverOffices(opts: JoinOptions): Promise<Target[]> {
  const found = new Map<string, FoundPeer>();
  const d = new Discovery({
    accept: () => true, // browse-only: any office; the TLS answer tells which one it is
    mdns: opts.discovery?.mdns,
    broadcast: opts.discovery?.broadcast,
    beaconPort: opts.discovery?.beaconPort,
    logger: opts.log.child({ component: 'discovery' }),
  });
  d.on('peer', (p) => found.set(p.nodeId, p));
  await d.start();
  await new Promise((r) => setTimeout(r, opts.discoverMs ?? 4000));
  await d.stop();
  const out: Target[] = [];
  for (const p of found.values())
    for (const host of p.candidates)
      out.push({ host, port: enrollmentPort(p.port), caFingerprint: p.caFingerprint });
  return out;
}

export class JoinError extends Error {}

export async function joinOffice(opts: JoinOptions): Promise<Joined> {
  checkExtension(opts.extension);
  if (hasIdentity(opts.dataDir))
    throw new IdentityError(`data folder ${opts.dataDir} already belongs to an office; use another folder`);
  const targets: Target[] =
    opts.peers.length > 0
      ? opts.peers.map((p) => ({ host: p.host, port: enrollmentPort(p.port) }))
      : await discoverOffices(opts);
  if (targets.length === 0)
    throw new JoinError(
      'no office found on this network; give a running peer of the office with --peer HOST:PORT',
    );
  const keys = generatePeerKeys();
  let last: EnrollResult | null = null;
  for (const t of targets) {
    const r = await requestEnrollment({
      host: t.host,
      port: t.port,
      extension: opts.extension,
      code: opts.code,
      displayName: opts.displayName,
      keys,
      caFingerprint: t.caFingerprint,
      connectTimeoutMs: 3000,
      onPending: (id) => opts.onPending?.(id, `${t.host}:${t.port}`),
    });
    if (r.ok) {
      const db = openDataDatabase(opts.dataDir);
      try {
        saveIdentity(opts.dataDir, db, {
          office: r.office,
          extension: opts.extension,
          displayName: opts.displayName,
          caFingerprint: r.caFingerprint,
          admin: false,
          enrolledAt: Date.now(),
          caPem: r.caPem,
          certPem: r.certificatePem,
          keyPem: keys.privateKeyPem,
        });
        // The admin peer is the first member we know: the next `run` joins through it.
        db.peers.seen(`bootstrap:${t.host}:${t.port - 1}`, `${t.host}:${t.port - 1}`, Date.now());
      } finally {
        db.close();
      }
      return {
        office: r.office,
        extension: opts.extension,
        nodeId: r.nodeId,
        caFingerprint: r.caFingerprint,
        admin: `${t.host}:${t.port}`,
      };
    }
    last = r;
    // A refusal by an admin is final, except a code unknown to it: another office on the LAN may be ours.
    if (r.kind === 'refused' && r.refusal !== 'bad-code') throw new JoinError(`join refused: ${r.reason}`);
    if (r.kind !== 'refused')
      opts.log.info('enrollment endpoint unusable', {
        at: `${t.host}:${t.port}`,
        kind: r.kind,
        reason: r.reason,
      });
  }
  if (last && !last.ok && last.kind === 'refused') throw new JoinError(`join refused: ${last.reason}`);
  if (last && last.kind === 'wrong-office') throw new JoinError(`join failed: ${last.reason}`);
  throw new JoinError(
    `no admin peer of the office answered (${last && !last.ok ? last.reason : 'none found'}); is the admin PC running? try --peer HOST:PORT`,
  );
}
