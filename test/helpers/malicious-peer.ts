// An enrolled but malicious peer: a VALID office certificate (enrolled with `peerpbx join` like any
// PC) whose code is this test harness instead of PeerPBX. It joins the office over real mutual-TLS
// links with an OverlayRuntime whose own validator accepts anything (so nothing stops a bad write
// on its side), then writes what an honest peer never would: forged signatures, other users'
// records, oversized values, replays of old values, and raw malformed frames on a link.

import { encodeFrame } from '../../src/core/overlay/frame.ts';
import type { GossipEvent, PeerInfo } from '../../src/core/overlay/messages.ts';
import type { OverlayNode } from '../../src/core/overlay/node.ts';
import { MemoryRecordStore } from '../../src/core/records/memory-store.ts';
import type { KindName, StoredValue, ValueValidator } from '../../src/core/records/types.ts';
import { nodeSignatureProvider } from '../../src/core/security/signature-provider.ts';
import { ValueSigner, type ValueWrite } from '../../src/core/security/value-signing.ts';
import { type Identity, loadIdentity, openDataDatabase } from '../../src/main/identity/identity.ts';
import type { LogFields, Logger } from '../../src/main/log.ts';
import { OverlayError, OverlayRuntime } from '../../src/main/overlay/runtime.ts';
import type { LinkManager, SendResult } from '../../src/main/overlay-link/link-manager.ts';

const acceptAll: ValueValidator = { validate: () => ({ ok: true }) };

export type StoreAttempt = { ok: true; copies: number } | { ok: false; code: string; reason: string };

/** A logger that keeps the harness's own lines (for failure messages) instead of printing them. */
function memoryLogger(lines: string[], base: LogFields = {}): Logger {
  const emit = (level: string) => (msg: string, fields?: LogFields) =>
    void lines.push(JSON.stringify({ level, msg, ...base, ...fields }));
  return {
    debug: () => {},
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    child: (f) => memoryLogger(lines, { ...base, ...f }),
  };
}

export class MaliciousPeer {
  readonly log: string[] = [];
  readonly signer: ValueSigner;

  private constructor(
    readonly identity: Identity,
    readonly runtime: OverlayRuntime,
  ) {
    this.signer = new ValueSigner(
      { nodeId: runtime.nodeId, user: identity.user, certificate: identity.certPem },
      identity.keyPem,
      nodeSignatureProvider(),
    );
  }

  /** Loads the identity `peerpbx join` enrolled in `dataDir` and joins through `bootstrap`. */
  static async start(dataDir: string, bootstrap: string[]): Promise<MaliciousPeer> {
    const db = openDataDatabase(dataDir);
    let identity: Identity;
    try {
      identity = loadIdentity(dataDir, db);
    } finally {
      db.close();
    }
    const lines: string[] = [];
    const runtime = new OverlayRuntime({
      certPem: identity.certPem,
      keyPem: identity.keyPem,
      caPem: identity.caPem,
      store: new MemoryRecordStore(),
      validator: acceptAll,
      host: '127.0.0.1',
      advertiseHost: '127.0.0.1',
      bootstrap,
      joinTimeoutMs: 30_000,
      log: memoryLogger(lines, { component: 'malicious' }),
    });
    await runtime.start();
    const peer = new MaliciousPeer(identity, runtime);
    peer.log.push(...lines);
    return peer;
  }

  get nodeId(): string {
    return this.runtime.nodeId;
  }

  /** The link layer under the runtime: raw frames go out on it as they are. */
  get links(): LinkManager {
    return (this.runtime as unknown as { links: LinkManager }).links;
  }

  /** A value signed correctly by this peer's own certificate and key. */
  sign(w: Omit<ValueWrite, 'storageTime'> & { storageTime?: number }): StoredValue {
    return this.signer.sign({ storageTime: Date.now(), ...w });
  }

  /** Stores through the overlay like any peer; the honest holders decide. */
  async store(values: StoredValue[]): Promise<StoreAttempt> {
    try {
      const ack = await this.runtime.store(values);
      return { ok: true, copies: ack.copies };
    } catch (e) {
      if (e instanceof OverlayError) return { ok: false, code: e.code, reason: e.message };
      throw e;
    }
  }

  /** Raw bytes on the link to `nodeId` (opened on demand). */
  sendRaw(nodeId: string, bytes: Uint8Array): SendResult {
    return this.links.send(nodeId, bytes);
  }

  /** Its own overlay node (state the runtime keeps private): its PeerInfo and its view. */
  get node(): OverlayNode {
    return (this.runtime as unknown as { node: OverlayNode }).node;
  }

  /** What this peer believes about `nodeId` (address, incarnation), as gossip would carry it. */
  infoOf(nodeId: string): PeerInfo | undefined {
    return this.node.table.info(nodeId);
  }

  /** Membership lies on a keepalive: gossip events and a neighbour list of its choosing. */
  gossip(target: string, g: GossipEvent[], nb: PeerInfo[] = []): SendResult {
    return this.sendRaw(target, encodeFrame({ t: 'ping', from: this.node.me, g, nb, wantPong: false }));
  }

  async fetch(resourceName: string, kind?: KindName, key?: string): Promise<StoredValue[]> {
    return (await this.runtime.fetch(resourceName, kind, key)).values;
  }

  async stop(): Promise<void> {
    await this.runtime.stop();
  }
}
