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
  /** How long one request waits for the admin's answer (default 30 s); unanswered ones are repeated. */
  answerTimeoutMs?: number;
  log: Logger;
}

/** Tries of one admin that took the request but did not answer: the repeats get the same certificate. */
const ANSWER_ATTEMPTS = 3;

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

/**
 * Offices found on the LAN as discovery reports them (browse-only), so the join can try the first
 * one at once instead of waiting out the window. `next()` gives the next enrollment address, or
 * null once the window is over with nothing left to try.
 */
class DiscoveredTargets {
  private readonly queue: Target[] = [];
  private readonly seen = new Set<string>();
  private wake: (() => void) | null = null;
  private readonly d: Discovery;
  private deadline = 0;
  private drained = false;

  constructor(private readonly opts: JoinOptions) {
    this.d = new Discovery({
      accept: () => true, // browse-only: any office; the TLS answer tells which one it is
      mdns: opts.discovery?.mdns,
      broadcast: opts.discovery?.broadcast,
      beaconPort: opts.discovery?.beaconPort,
      logger: opts.log.child({ component: 'discovery' }),
    });
    this.d.on('peer', (p) => this.found(p));
  }

  async start(): Promise<void> {
    await this.d.start();
    this.deadline = Date.now() + (this.opts.discoverMs ?? 4000);
  }

  private found(p: FoundPeer): void {
    for (const host of p.candidates) {
      const t = { host, port: enrollmentPort(p.port), caFingerprint: p.caFingerprint };
      const key = `${t.host}:${t.port}`;
      if (this.seen.has(key)) continue;
      this.seen.add(key);
      this.queue.push(t);
    }
    this.wake?.();
  }

  async next(): Promise<Target | null> {
    for (;;) {
      const t = this.queue.shift();
      if (t) return t;
      const left = this.deadline - Date.now();
      if (left <= 0) {
        // Answers may wait in the socket while we were busy: take them before giving up.
        if (this.drained) return null;
        this.drained = true;
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
  }

  stop(): Promise<void> {
    this.wake?.();
    return this.d.stop();
  }
}

/** Where to ask for enrollment: the --peer addresses, or what discovery finds, as it finds it. */
function targetSource(opts: JoinOptions): { next(): Promise<Target | null>; stop(): Promise<void> } {
  if (opts.peers.length > 0) {
    const list = opts.peers.map((p) => ({ host: p.host, port: enrollmentPort(p.port) }));
    return { next: async () => list.shift() ?? null, stop: async () => {} };
  }
  return new DiscoveredTargets(opts);
}

export class JoinError extends Error {}

export async function joinOffice(opts: JoinOptions): Promise<Joined> {
  checkExtension(opts.extension);
  if (hasIdentity(opts.dataDir))
    throw new IdentityError(`data folder ${opts.dataDir} already belongs to an office; use another folder`);
  // The key first: its generation blocks the event loop, which must be free while discovery listens.
  const keys = generatePeerKeys();
  const source = targetSource(opts);
  if (source instanceof DiscoveredTargets) await source.start();
  try {
    let last: EnrollResult | null = null;
    // Stops at the first admin peer that enrolls us (or finally refuses): no need to wait out the
    // discovery window. Peers that are not the admin (closed enrollment port) are skipped quickly.
    for (let t = await source.next(); t; t = await source.next()) {
      const target = t;
      const kept: { joined?: Joined } = {};
      let r: EnrollResult | null = null;
      // Same key, same code: an admin that issued while we were no longer listening re-issues.
      for (let attempt = 1; attempt <= ANSWER_ATTEMPTS; attempt++) {
        r = await requestEnrollment({
          host: target.host,
          port: target.port,
          extension: opts.extension,
          code: opts.code,
          displayName: opts.displayName,
          keys,
          caFingerprint: target.caFingerprint,
          connectTimeoutMs: 3000,
          answerTimeoutMs: opts.answerTimeoutMs,
          onPending: (id) => opts.onPending?.(id, `${target.host}:${target.port}`),
          collect: (ok) => {
            kept.joined = saveJoined(opts, keys.privateKeyPem, ok, target);
          },
        });
        if (r.ok || r.kind !== 'no-answer') break;
        opts.log.warn('the admin peer took the request but did not answer; asking again', {
          at: `${target.host}:${target.port}`,
          attempt,
          reason: r.reason,
        });
      }
      if (!r) continue;
      if (r.ok) {
        if (kept.joined) return kept.joined;
        continue; // unreachable: an ok result comes after collect() kept it
      }
      // An admin's answer says more than another address of it that could not be reached.
      if (!last || last.ok || last.kind !== 'refused' || r.kind === 'refused') last = r;
      // A refusal by an admin is final, except a code unknown to it: another office on the LAN may be ours.
      if (r.kind === 'refused' && r.refusal !== 'bad-code') throw new JoinError(`join refused: ${r.reason}`);
      if (r.kind !== 'refused')
        opts.log.info('enrollment endpoint unusable', {
          at: `${t.host}:${t.port}`,
          kind: r.kind,
          reason: r.reason,
        });
    }
    if (!last)
      throw new JoinError(
        'no office found on this network; give a running peer of the office with --peer HOST:PORT',
      );
    if (!last.ok && last.kind === 'refused') throw new JoinError(`join refused: ${last.reason}`);
    if (!last.ok && last.kind === 'wrong-office') throw new JoinError(`join failed: ${last.reason}`);
    throw new JoinError(
      `no admin peer of the office answered (${!last.ok ? last.reason : 'none found'}); is the admin PC running? try --peer HOST:PORT`,
    );
  } finally {
    await source.stop();
  }
}

/** Keeps the certificate; the admin peer becomes the first cached member (the next `run` joins through it). */
function saveJoined(
  opts: JoinOptions,
  keyPem: string,
  r: Extract<EnrollResult, { ok: true }>,
  t: Target,
): Joined {
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
      keyPem,
    });
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
