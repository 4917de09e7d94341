// The admin peer's enrollment endpoint: TLS with the admin peer's certificate (chain up to the
// office CA), no client certificate. A request with a join code is decided at once; one without
// waits as a "join request" until the admin approves or denies it (approve/deny below, shown by the
// app and the control channel). Extensions stay unique across every certificate this admin issued
// and every CERTIFICATE record the overlay holds.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import tls from 'node:tls';
import forge from 'node-forge';
import { decideJoinRequest, hashOfCode, type JoinDecision } from '../../core/security/enrollment.ts';
import { nodeIdFromPublicKey } from '../../core/security/keys.ts';
import type { Identity } from '../identity/identity.ts';
import type { Logger } from '../log.ts';
import {
  loadEnrolled,
  loadInvites,
  loadUncollected,
  markCollected,
  random,
  recordIssued,
  reservationMs,
  saveInvites,
} from '../office/office.ts';
import type { PeerDatabase } from '../store/peer-database.ts';
import {
  codeProof,
  type EnrollmentAnswer,
  isCollectedLine,
  type JoinRequestLine,
  lineReader,
  parseJoinRequest,
} from './protocol.ts';

export interface JoinRequestInfo {
  id: string;
  extension: string;
  nodeId: string;
  displayName?: string;
  address: string;
  at: number;
}

export interface EnrollmentServerEvents {
  'join-request': [JoinRequestInfo];
  'join-decided': [{ id: string; extension: string; approved: boolean; reason?: string }];
  enrolled: [{ extension: string; nodeId: string; via: 'code' | 'approval' }];
}

export interface EnrollmentServerOptions {
  identity: Identity;
  db: PeerDatabase;
  /** The CA key opened with the admin passphrase; null: every request is refused as admin-locked. */
  caPrivateKey: forge.pki.rsa.PrivateKey | null;
  host: string;
  port: number;
  /** Who holds `extension` according to the overlay's CERTIFICATE record (Node-ID), if anyone. */
  overlayHolder?: (extension: string) => Promise<string | undefined>;
  log: Logger;
  /** How long an unapproved request waits (default 10 min). */
  approvalTimeoutMs?: number;
  maxPending?: number;
  /** How long an issued, uncollected certificate holds its extension (default reservationMs()). */
  reservationMs?: number;
}

/** An answer, and for "issued" what it granted (kept here, not sent). */
type Answer = EnrollmentAnswer & { granted?: { extension: string; nodeId: string } };

/** How long the PC has to say "collected" after its certificate went out. */
const COLLECT_WAIT_MS = 15_000;

interface Waiting {
  info: JoinRequestInfo;
  req: JoinRequestLine;
  answer: (a: Answer) => void;
}

export class EnrollmentServer extends EventEmitter<EnrollmentServerEvents> {
  private server: tls.Server | null = null;
  private readonly waiting = new Map<string, Waiting>();
  private readonly sockets = new Set<tls.TLSSocket>();

  constructor(private readonly opts: EnrollmentServerOptions) {
    super();
  }

  get port(): number {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a.port : 0;
  }

  async start(): Promise<void> {
    const { identity } = this.opts;
    const server = tls.createServer({
      key: identity.keyPem,
      // The chain lets the joiner check the office CA's fingerprint before it sends anything.
      cert: `${identity.certPem.trim()}\n${identity.caPem.trim()}\n`,
      minVersion: 'TLSv1.3',
      handshakeTimeout: 5000,
    });
    server.on('secureConnection', (s) => this.onConnection(s));
    server.on('tlsClientError', (err) =>
      this.opts.log.debug('enrollment handshake failed', { err: err.message }),
    );
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.opts.log.error('enrollment server error', { err }));
  }

  async stop(): Promise<void> {
    for (const w of this.waiting.values())
      w.answer({ type: 'refused', refusal: 'busy', reason: 'the admin peer is shutting down; try again' });
    this.waiting.clear();
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  pending(): JoinRequestInfo[] {
    return [...this.waiting.values()].map((w) => w.info);
  }

  /** Approves a waiting request: issues the certificate (unless the extension got taken meanwhile). */
  async approve(id: string): Promise<{ ok: true; extension: string } | { ok: false; reason: string }> {
    const w = this.waiting.get(id);
    if (!w) return { ok: false, reason: `no waiting join request ${id}` };
    this.waiting.delete(id);
    const a = await this.decide(w.req, true);
    w.answer(a);
    this.emit('join-decided', {
      id,
      extension: w.info.extension,
      approved: a.type === 'issued',
      reason: a.type === 'refused' ? a.reason : undefined,
    });
    return a.type === 'issued'
      ? { ok: true, extension: w.info.extension }
      : { ok: false, reason: a.type === 'refused' ? a.reason : 'not issued' };
  }

  deny(id: string, reason = 'the administrator denied this request'): boolean {
    const w = this.waiting.get(id);
    if (!w) return false;
    this.waiting.delete(id);
    w.answer({ type: 'refused', refusal: 'denied', reason });
    this.emit('join-decided', { id, extension: w.info.extension, approved: false, reason });
    return true;
  }

  private onConnection(socket: tls.TLSSocket): void {
    this.sockets.add(socket);
    const address = `${socket.remoteAddress}:${socket.remotePort}`;
    // request -> (waiting) -> issued (until the PC says "collected") | done
    let state: 'request' | 'deciding' | 'waiting' | 'issued' | 'done' = 'request';
    let waitingId: string | null = null;
    let issued: { extension: string; nodeId: string } | null = null;
    const send = (a: Answer) => {
      if (socket.destroyed) return;
      const { granted, ...wire } = a;
      socket.write(`${JSON.stringify(wire)}\n`);
      if (a.type === 'pending') return;
      if (granted) {
        state = 'issued';
        issued = granted;
        socket.setTimeout(COLLECT_WAIT_MS, () => socket.end());
        return;
      }
      state = 'done';
      socket.end();
    };
    socket.setTimeout(15_000, () => {
      if (state !== 'waiting') socket.destroy();
    });
    socket.on('close', () => {
      this.sockets.delete(socket);
      if (waitingId && this.waiting.delete(waitingId))
        this.opts.log.info('join request withdrawn (the PC hung up)', { id: waitingId });
      if (state === 'issued' && issued)
        this.opts.log.warn('certificate not collected (the PC hung up before confirming)', { ...issued });
    });
    socket.on('error', (err) =>
      this.opts.log.debug('enrollment socket error', { address, err: err.message }),
    );
    const onData = lineReader(
      (line) => {
        if (state === 'issued' && issued && isCollectedLine(line)) {
          const got = issued;
          state = 'done';
          this.collected(got.extension, got.nodeId);
          socket.end();
          return;
        }
        if (state !== 'request') return;
        const p = parseJoinRequest(line);
        if (!p.ok) {
          this.opts.log.warn('malformed join request', { address, reason: p.reason });
          send({ type: 'refused', refusal: 'bad-request', reason: p.reason });
          return;
        }
        state = 'deciding';
        void this.handle(p.req, address, send).then((id) => {
          if (!id) return;
          waitingId = id;
          if (state === 'deciding') state = 'waiting';
          socket.setTimeout(0);
        });
      },
      () => {
        this.opts.log.warn('join request too long, closing', { address });
        socket.destroy();
      },
    );
    socket.on('data', onData);
  }

  private collected(extension: string, nodeId: string): void {
    try {
      this.opts.db.db.transaction(() => markCollected(this.opts.db, extension, nodeId)).immediate();
      this.opts.log.info('certificate collected', { extension, nodeId });
    } catch (err) {
      this.opts.log.warn('could not record a collected certificate', { extension, err });
    }
  }

  /** Returns the waiting id when the request now awaits approval. */
  private async handle(
    req: JoinRequestLine,
    address: string,
    send: (a: Answer) => void,
  ): Promise<string | null> {
    const decided = await this.decide(req, false);
    if (decided.type !== 'pending') {
      send(decided);
      return null;
    }
    const max = this.opts.maxPending ?? 32;
    if (this.waiting.size >= max) {
      send({ type: 'refused', refusal: 'busy', reason: 'too many join requests are waiting; try later' });
      return null;
    }
    const info: JoinRequestInfo = {
      id: randomUUID().slice(0, 8),
      extension: req.extension,
      nodeId: decided.requestId,
      displayName: req.displayName,
      address,
      at: Date.now(),
    };
    const timer = setTimeout(
      () => this.deny(info.id, 'nobody approved this request in time'),
      this.opts.approvalTimeoutMs ?? 600_000,
    );
    timer.unref();
    this.waiting.set(info.id, {
      info,
      req,
      answer: (a) => {
        clearTimeout(timer);
        send(a);
      },
    });
    send({ type: 'pending', requestId: info.id });
    this.opts.log.info('join request awaits approval', { ...info });
    this.emit('join-request', info);
    return info.id;
  }

  /**
   * The decision, persisted when it issues. 'pending' (requestId = the CSR's Node-ID) when the
   * request needs the admin's approval.
   */
  private async decide(req: JoinRequestLine, approved: boolean): Promise<Answer> {
    const { identity, db, log } = this.opts;
    if (!this.opts.caPrivateKey)
      return {
        type: 'refused',
        refusal: 'admin-locked',
        reason: 'the admin peer runs without the admin passphrase (PEERPBX_PASSPHRASE) and cannot enroll PCs',
      };
    const enrolled = loadEnrolled(db);
    const uncollected = loadUncollected(db);
    const reserved = uncollected.get(req.extension);
    // The overlay knows holders this admin did not enroll, and whether an uncollected certificate
    // was in fact taken into use (its CERTIFICATE record is out): then it is not released.
    if (this.opts.overlayHolder && (!enrolled.has(req.extension) || reserved)) {
      try {
        const holder = await this.opts.overlayHolder(req.extension);
        if (holder && !enrolled.has(req.extension)) enrolled.set(req.extension, holder);
        if (holder && holder === reserved?.nodeId) {
          uncollected.delete(req.extension);
          db.db.transaction(() => markCollected(db, req.extension, holder)).immediate();
        }
      } catch (err) {
        log.warn('could not ask the overlay who holds an extension', { extension: req.extension, err });
      }
    }
    const now = Date.now();
    let d: JoinDecision = { ok: false, refusal: 'bad-request' as never, reason: '' };
    // Read-decide-write in one IMMEDIATE SQLite transaction: two PCs redeeming one code cannot both
    // win, and an `office invite` writing beside us waits (busy_timeout) instead of failing.
    db.db
      .transaction(() => {
        d = decideJoinRequest(
          { csrPem: req.csr, extension: req.extension, code: req.code },
          {
            officeName: identity.office,
            caCertificatePem: identity.caPem,
            caPrivateKey: this.opts.caPrivateKey!,
            invites: loadInvites(db),
            enrolled: new Map([...enrolled, ...loadEnrolled(db)]),
            uncollected: loadUncollected(db),
            reservationMs: this.opts.reservationMs ?? reservationMs(),
            now,
            random,
          },
          approved,
        );
        if (d.ok) {
          saveInvites(db, d.invites, now);
          const codeHash = req.code === undefined ? undefined : hashOfCode(req.code);
          recordIssued(db, req.extension, {
            nodeId: d.nodeId,
            issuedAt: now,
            ...(codeHash ? { codeHash } : {}),
          });
        }
      })
      .immediate();
    const decision = d as JoinDecision;
    if (!decision.ok) {
      if (decision.refusal === 'needs-approval') {
        return { type: 'pending', requestId: nodeIdOfCsr(req.csr) };
      }
      log.warn('join request refused', {
        extension: req.extension,
        refusal: decision.refusal,
        reason: decision.reason,
      });
      return { type: 'refused', refusal: decision.refusal, reason: decision.reason };
    }
    if (decision.released)
      log.warn('uncollected certificate released', { extension: req.extension, nodeId: decision.released });
    log.info('PC enrolled', {
      extension: req.extension,
      nodeId: decision.nodeId,
      via: approved ? 'approval' : 'code',
    });
    this.emit('enrolled', {
      extension: req.extension,
      nodeId: decision.nodeId,
      via: approved ? 'approval' : 'code',
    });
    return {
      type: 'issued',
      granted: { extension: req.extension, nodeId: decision.nodeId },
      office: identity.office,
      certificatePem: decision.certificatePem,
      caPem: identity.caPem,
      proof: req.code
        ? (codeProof(req.code, identity.caFingerprint, decision.certificatePem) ?? undefined)
        : undefined,
    };
  }
}

function nodeIdOfCsr(csrPem: string): string {
  try {
    const csr = forge.pki.certificationRequestFromPem(csrPem);
    return csr.publicKey ? nodeIdFromPublicKey(csr.publicKey) : '';
  } catch {
    return '';
  }
}
