// TEST ENGINE: an in-memory office implementing the Engine contract over real data structures
// (maps of members, calls, messages; one-time join codes consumed on use). It stands in for the peer
// only until the coordinator wires the real engine to the bridge; the UI tests drive the real
// renderer, the real bridge and real Chromium against it. Test code pokes the office through the
// `TestOffice` methods (a colleague's presence changes, a call comes in), which emit contract events.
import { createHash } from 'node:crypto';
import type {
  Call,
  EngineEvent,
  GreetingKind,
  HistoryEntry,
  JoinRequest,
  Member,
  OfficeFound,
  OfficeStatus,
  Presence,
  Settings,
  VoicemailMessage,
} from '../../src/core/api/contract.ts';
import { type CommandHandlers, errReply, okReply, UnavailableEngine } from '../../src/core/api/engine.ts';
import { sine } from '../../src/core/media/tones.ts';
import { encodeWav } from '../../src/core/media/wav.ts';

export const nodeIdOf = (ext: string): string =>
  createHash('sha256').update(`node:${ext}`).digest('hex').slice(0, 32);

export interface TestOfficeOptions {
  officeName?: string;
  /** null: this PC has not joined (first run). */
  self?: { extension: string; displayName: string; admin?: boolean } | null;
  /** Offices the LAN search finds. */
  offices?: OfficeFound[];
  /** Offices reachable only through a typed peer address. */
  officesByPeer?: Record<string, OfficeFound>;
  colleagues?: { extension: string; displayName: string; presence?: Presence['state'] }[];
  joinCodes?: string[];
  voicemail?: VoicemailMessage[];
  /** Command types left out, to show the UI's "not available yet". */
  without?: (keyof CommandHandlers)[];
  /** Milliseconds before a join or create answers (to see progress). */
  latencyMs?: number;
}

export class TestOffice {
  status: OfficeStatus;
  readonly members = new Map<string, Member>();
  readonly joinCodes: Set<string>;
  readonly calls = new Map<string, Call>();
  readonly voicemail = new Map<string, VoicemailMessage>();
  readonly history: HistoryEntry[] = [];
  readonly joinRequests = new Map<string, JoinRequest>();
  readonly dtmfSent: string[] = [];
  readonly greetings = new Map<GreetingKind, string>();
  readonly phones = new Map<string, { password: string; registered: boolean }>();
  private invites = 0;
  /** LAN searches asked for (the UI must not search in a loop). */
  discoverCalls = 0;
  settings: Settings = {
    dnd: false,
    forwarding: { always: null, busy: null, noAnswer: null, noAnswerSeconds: 20 },
  };
  readonly engine: UnavailableEngine;
  private nextCall = 1;
  private readonly officeName: string;

  constructor(private readonly opts: TestOfficeOptions = {}) {
    this.officeName = opts.officeName ?? 'Acme';
    const self =
      opts.self === undefined ? { extension: '101', displayName: 'Ada Admin', admin: true } : opts.self;
    this.status = self
      ? this.enrolledStatus(self.extension, self.displayName, self.admin ?? false)
      : { enrolled: false, officeName: null, extension: null, displayName: null, nodeId: null, admin: false };
    for (const c of opts.colleagues ?? [])
      this.addMember(c.extension, c.displayName, c.presence ?? 'available');
    if (self) this.addMember(self.extension, self.displayName, 'available');
    this.joinCodes = new Set(opts.joinCodes ?? []);
    for (const m of opts.voicemail ?? []) this.voicemail.set(m.id, m);
    const handlers = this.handlers();
    for (const t of opts.without ?? []) delete handlers[t];
    this.engine = new UnavailableEngine(handlers, (msg, fields) => {
      throw new Error(`test engine: ${msg} ${JSON.stringify(fields)}`);
    });
  }

  private enrolledStatus(extension: string, displayName: string, admin: boolean): OfficeStatus {
    return {
      enrolled: true,
      officeName: this.officeName,
      extension,
      displayName,
      nodeId: nodeIdOf(extension),
      admin,
      presence: { state: 'available' },
    };
  }

  private emit(e: EngineEvent): void {
    this.engine.emit(e);
  }

  private wait(): Promise<void> {
    return new Promise((r) => setTimeout(r, this.opts.latencyMs ?? 0));
  }

  addMember(extension: string, displayName: string, state: Presence['state'] = 'available'): Member {
    const n = this.members.size + 1;
    const m: Member = {
      extension,
      displayName,
      address: `10.0.0.${n}:7070`,
      nodeId: nodeIdOf(extension),
      upSince: 1_700_000_000_000 + n * 60_000,
      presence: { state },
    };
    this.members.set(extension, m);
    return m;
  }

  /** A colleague's PC joins the ring. */
  memberUp(extension: string, displayName: string): void {
    this.emit({ type: 'member.up', member: this.addMember(extension, displayName) });
  }

  /** A colleague changes status (or their presence expires: 'offline'). */
  setPresence(extension: string, presence: Presence): void {
    const m = this.members.get(extension);
    if (m) m.presence = presence;
    this.emit({ type: 'presence.changed', extension, presence });
  }

  incomingCall(fromExtension: string): Call {
    const from = this.members.get(fromExtension);
    const call: Call = {
      id: `call-${this.nextCall++}`,
      direction: 'in',
      remote: {
        uri: `sip:${fromExtension}@office`,
        extension: fromExtension,
        displayName: from?.displayName,
      },
      state: 'incoming',
      muted: false,
      onHold: false,
      startedAt: Date.now(),
    };
    this.calls.set(call.id, call);
    this.emit({ type: 'call.incoming', call });
    return call;
  }

  /** Someone asks to join while this PC is admin. */
  joinRequest(extension: string, displayName: string): JoinRequest {
    const request: JoinRequest = {
      id: `jr-${extension}`,
      extension,
      displayName,
      address: '10.0.0.99:7070',
      receivedAt: Date.now(),
    };
    this.joinRequests.set(request.id, request);
    this.emit({ type: 'join-request', request });
    return request;
  }

  /** The admin of the office approved this PC's pending join. */
  approvePendingJoin(): void {
    const p = this.pendingJoin;
    if (!p) throw new Error('no pending join');
    this.pendingJoin = null;
    this.status = this.enrolledStatus(p.extension, p.displayName, false);
    this.addMember(p.extension, p.displayName);
    this.emit({ type: 'enrollment', state: 'enrolled', status: this.status });
  }
  private pendingJoin: { extension: string; displayName: string } | null = null;

  private updateCall(id: string, patch: Partial<Call>): Call | null {
    const c = this.calls.get(id);
    if (!c) return null;
    const next = { ...c, ...patch };
    if (next.state === 'ended') {
      this.calls.delete(id);
      this.history.unshift({
        id: `h-${id}`,
        direction: c.answeredAt === undefined && c.direction === 'in' ? 'missed' : c.direction,
        remote: c.remote,
        startedAt: c.startedAt,
        duration: c.answeredAt === undefined ? 0 : Math.round((Date.now() - c.answeredAt) / 1000),
      });
    } else this.calls.set(id, next);
    this.emit({ type: 'call.state', call: next });
    return next;
  }

  private handlers(): CommandHandlers {
    const notEnrolled = () => (this.status.enrolled ? null : errReply('not-enrolled'));
    const callOp = (id: string, patch: Partial<Call>) =>
      this.updateCall(id, patch) ? okReply<'call.hangup'>({}) : errReply('not-found', `no call ${id}`);
    return {
      'office.status': () => okReply<'office.status'>(this.status),
      'members.list': () => notEnrolled() ?? okReply<'members.list'>({ members: [...this.members.values()] }),
      'network.view': () => {
        const ring = [...this.members.values()]
          .sort((a, b) => a.nodeId.localeCompare(b.nodeId))
          .map((m) => ({
            nodeId: m.nodeId,
            extension: m.extension,
            address: m.address,
            self: m.extension === this.status.extension,
          }));
        // Every member's registration; with fewer than 3 peers no record can have 3 copies.
        const copies = Math.min(3, ring.length);
        const records = [...this.members.values()].map((m, i) => ({
          kind: 'SIP-REGISTRATION',
          resource: `${m.extension}@${this.officeName.toLowerCase()}`,
          role: i % 3 === 0 ? ('responsible' as const) : ('replica' as const),
          copies,
        }));
        return okReply<'network.view'>({
          ring,
          records,
          replicaHealth: {
            records: records.length,
            underReplicated: records
              .filter((r) => r.copies < 3)
              .map(({ kind, resource, copies: c }) => ({ kind, resource, copies: c })),
          },
        });
      },
      lookup: ({ extension }) => {
        const m = this.members.get(extension);
        return okReply<'lookup'>({
          extension,
          reachable: !!m && m.presence.state !== 'offline',
          contacts: m ? [`sip:${extension}@${m.address}`] : [],
          ...(m ? { displayName: m.displayName, presence: m.presence } : {}),
        });
      },
      'offices.discover': async ({ peer }) => {
        this.discoverCalls++;
        await this.wait();
        const viaPeer = peer ? this.opts.officesByPeer?.[peer] : undefined;
        return okReply<'offices.discover'>({ offices: viaPeer ? [viaPeer] : (this.opts.offices ?? []) });
      },
      'office.create': async (c) => {
        if (this.status.enrolled) return errReply('already-enrolled');
        this.emit({
          type: 'progress',
          operation: 'create',
          label: 'Creating the office certificate authority',
          fraction: 0.5,
          done: false,
        });
        await this.wait();
        this.emit({
          type: 'progress',
          operation: 'create',
          label: 'Creating the office certificate authority',
          fraction: 1,
          done: true,
        });
        this.status = { ...this.enrolledStatus(c.extension, c.displayName, true), officeName: c.officeName };
        this.members.clear();
        this.addMember(c.extension, c.displayName);
        return okReply<'office.create'>(this.status);
      },
      'office.join': async (c) => {
        if (this.status.enrolled) return errReply('already-enrolled');
        await this.wait();
        const found = (this.opts.offices?.length ?? 0) > 0 || (c.peer && this.opts.officesByPeer?.[c.peer]);
        if (!found) return errReply('no-office-found');
        if (this.members.has(c.extension)) return errReply('extension-taken', `${c.extension} is taken`);
        if (c.code === undefined) {
          this.pendingJoin = { extension: c.extension, displayName: c.displayName };
          this.status = { ...this.status, pendingJoin: true };
          return okReply<'office.join'>({ state: 'pending', status: this.status });
        }
        // One-time codes: a code works once.
        if (!this.joinCodes.delete(c.code)) return errReply('wrong-code');
        this.status = this.enrolledStatus(c.extension, c.displayName, false);
        this.addMember(c.extension, c.displayName);
        return okReply<'office.join'>({ state: 'enrolled', status: this.status });
      },
      'office.cancel-join': () => {
        this.pendingJoin = null;
        this.status = { ...this.status, pendingJoin: false };
        return okReply<'office.cancel-join'>({});
      },
      'join-requests.list': () =>
        this.status.admin
          ? okReply<'join-requests.list'>({ requests: [...this.joinRequests.values()] })
          : errReply('not-admin'),
      'join-requests.decide': ({ id, approve }) => {
        const r = this.joinRequests.get(id);
        if (!r) return errReply('not-found');
        this.joinRequests.delete(id);
        if (approve) this.memberUp(r.extension, r.displayName);
        return okReply<'join-requests.decide'>({});
      },
      'presence.set': ({ state, note }) => {
        const presence: Presence = note ? { state, note } : { state };
        this.status = { ...this.status, presence };
        const ext = this.status.extension;
        if (ext) this.setPresence(ext, presence);
        return okReply<'presence.set'>(presence);
      },
      'call.dial': ({ target }) => {
        if (!this.members.has(target)) return errReply('unreachable', `${target} is not registered`);
        const m = this.members.get(target)!;
        const call: Call = {
          id: `call-${this.nextCall++}`,
          direction: 'out',
          remote: { uri: `sip:${target}@office`, extension: target, displayName: m.displayName },
          state: 'ringing',
          muted: false,
          onHold: false,
          startedAt: Date.now(),
        };
        this.calls.set(call.id, call);
        this.emit({ type: 'call.state', call });
        return okReply<'call.dial'>({ call });
      },
      'call.answer': ({ callId }) => callOp(callId, { state: 'active', answeredAt: Date.now() }),
      'call.decline': ({ callId, toVoicemail }) =>
        callOp(callId, { state: 'ended', endReason: toVoicemail ? 'sent to voicemail' : 'declined' }),
      'call.hangup': ({ callId }) => callOp(callId, { state: 'ended', endReason: 'hung up' }),
      'call.hold': ({ callId, on }) => callOp(callId, { onHold: on, state: on ? 'held' : 'active' }),
      'call.mute': ({ callId, on }) => callOp(callId, { muted: on }),
      'call.dtmf': ({ callId, digits }) => {
        if (!this.calls.has(callId)) return errReply('not-found');
        this.dtmfSent.push(digits);
        return okReply<'call.dtmf'>({});
      },
      'call.transfer': ({ callId, target, consultCallId }) => {
        if (consultCallId === undefined)
          return callOp(callId, { state: 'ended', endReason: `transferred to ${target}` });
        const consult = this.calls.get(consultCallId);
        if (!consult) return errReply('not-found', `no consultation call ${consultCallId}`);
        callOp(consultCallId, { state: 'ended', endReason: 'transferred' });
        return callOp(callId, { state: 'ended', endReason: `transferred to ${consult.remote.extension}` });
      },
      'calls.list': () => okReply<'calls.list'>({ calls: [...this.calls.values()] }),
      'voicemail.list': () =>
        okReply<'voicemail.list'>({ messages: [...this.voicemail.values()].sort((a, b) => b.time - a.time) }),
      'voicemail.mark-heard': ({ id }) => {
        const m = this.voicemail.get(id);
        if (!m) return errReply('not-found');
        this.voicemail.set(id, { ...m, heard: true });
        return okReply<'voicemail.mark-heard'>({});
      },
      'voicemail.delete': ({ id }) =>
        this.voicemail.delete(id) ? okReply<'voicemail.delete'>({}) : errReply('not-found'),
      'voicemail.audio': ({ id }) => {
        const m = this.voicemail.get(id);
        if (!m) return errReply('not-found');
        const wav = encodeWav({ sampleRate: 8000, samples: sine(440, m.duration * 1000, 8000) });
        return okReply<'voicemail.audio'>({ mime: 'audio/wav', base64: Buffer.from(wav).toString('base64') });
      },
      'greeting.get': ({ kind }) => okReply<'greeting.get'>({ base64: this.greetings.get(kind) ?? null }),
      'greeting.set': ({ kind, base64 }) => {
        if (base64 === null) this.greetings.delete(kind);
        else this.greetings.set(kind, base64);
        return okReply<'greeting.set'>({});
      },
      'office.invite': ({ extension }) => {
        if (!this.status.admin) return errReply('not-admin');
        if (this.members.has(extension)) return errReply('extension-taken');
        const code = `CODE-${extension}-${++this.invites}`;
        this.joinCodes.add(code);
        return okReply<'office.invite'>({ code });
      },
      'phones.list': () =>
        okReply<'phones.list'>({
          phones: [...this.phones].map(([extension, p]) => ({ extension, registered: p.registered })),
        }),
      'phones.add': ({ extension, password }) => {
        if (this.members.has(extension) || this.phones.has(extension)) return errReply('extension-taken');
        this.phones.set(extension, { password, registered: false });
        return okReply<'phones.add'>({});
      },
      'phones.remove': ({ extension }) =>
        this.phones.delete(extension) ? okReply<'phones.remove'>({}) : errReply('not-found'),
      'history.list': ({ limit }) =>
        okReply<'history.list'>({ entries: this.history.slice(0, limit ?? 100) }),
      'settings.get': () => okReply<'settings.get'>(this.settings),
      'settings.set': ({ dnd, forwarding }) => {
        this.settings = { dnd: dnd ?? this.settings.dnd, forwarding: forwarding ?? this.settings.forwarding };
        return okReply<'settings.set'>(this.settings);
      },
    };
  }
}
