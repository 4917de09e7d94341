// The peer's Engine (src/core/api): every command whose engine exists today, over an EngineHost
// (host.ts). The host can be absent (an unenrolled data folder: only office.create / office.join)
// and is swapped in once enrollment restarted the peer (attach). Presence and voicemail (issue 6)
// stay `not-available`.
import type {
  ApiErrorCode,
  Call,
  CommandType,
  EngineEvent,
  Member,
  NetworkView,
  OfficeStatus,
  Presence,
} from '../../core/api/contract.ts';
import {
  type CommandHandlers,
  type EngineAudio,
  errReply,
  okReply,
  type SpeakerListener,
  UnavailableEngine,
} from '../../core/api/engine.ts';
import type { Logger } from '../log.ts';
import { joinRequestView } from '../office/office-api.ts';
import { CallTable, historyEntryOf } from './calls.ts';
import type { EngineEnrollment, EngineHost, HostMember } from './host.ts';
import { settingsHandlers } from './settings-handlers.ts';
import { presenceOf, voicemailHandlers, voicemailMessageOf } from './voicemail-handlers.ts';

/** Copies of every record the office keeps (responsible + 2 replicas). */
const COPIES = 3;

export interface PeerEngineOptions {
  log: Logger;
  enrollment?: EngineEnrollment;
  clock?: () => number;
}

/** Our own presence: a ringing or live call says more than the user's choice (or "up"). */
function ownPresence(calls: Call[], chosen?: Presence): Presence {
  if (calls.some((c) => c.state === 'active' || c.state === 'held')) return { state: 'on-call' };
  if (calls.some((c) => c.state === 'incoming')) return { state: 'ringing' };
  if (chosen && chosen.state !== 'ringing' && chosen.state !== 'on-call' && chosen.state !== 'offline')
    return chosen;
  return { state: 'available' };
}

/** Maps an enrollment failure's message to the contract's error codes. */
export function enrollmentError(err: unknown): { error: ApiErrorCode; message: string } {
  const message = ((err as Error)?.message ?? String(err)).slice(0, 2000);
  const rules: Array<[RegExp, ApiErrorCode]> = [
    [/already belongs to an office/i, 'already-enrolled'],
    [/taken/i, 'extension-taken'],
    [/code/i, 'wrong-code'],
    [/no office found/i, 'no-office-found'],
    [/denied|declined/i, 'denied'],
    [/unreachable|ECONNREFUSED|timed? ?out/i, 'unreachable'],
  ];
  for (const [re, error] of rules) if (re.test(message)) return { error, message };
  return { error: 'invalid', message };
}

export class PeerEngine extends UnavailableEngine {
  private host: EngineHost | null = null;
  private readonly calls: CallTable;
  private readonly clock: () => number;
  private readonly log: Logger;
  private detach: Array<() => void> = [];
  /** Last known extension per Node-ID, so member.down can name who left. */
  private readonly known = new Map<string, string | null>();
  /** Members seen up that left the view: listed as offline until they come back. */
  private readonly gone = new Map<string, Member>();
  /** Display names members published with their registrations, by Node-ID. */
  private readonly names = new Map<string, string>();
  private pendingJoin = false;
  private readonly speakers = new Set<SpeakerListener>();

  /** Calls' audio for the bridges: stays the same object while the host is swapped. */
  readonly audio: EngineAudio = {
    microphone: (callId, rate, samples) => this.host?.audio?.microphone(callId, rate, samples),
    onSpeaker: (listener) => {
      this.speakers.add(listener);
      return () => this.speakers.delete(listener);
    },
  };

  constructor(host: EngineHost | null, opts: PeerEngineOptions) {
    const box: { self?: PeerEngine } = {};
    super(handlers(box, opts.enrollment), (msg, fields) => opts.log.error(msg, fields));
    box.self = this;
    this.log = opts.log;
    this.clock = opts.clock ?? Date.now;
    this.calls = new CallTable(this.clock);
    if (host) this.attach(host);
  }

  /** Serves `host` from now on (the peer after enrollment); tells the UI with office.changed. */
  attach(host: EngineHost): void {
    this.release();
    this.host = host;
    this.pendingJoin = false;
    for (const m of host.members()) this.known.set(m.nodeId, m.extension);
    this.detach.push(host.onMembership((e) => this.onMembership(e.type, e.nodeId)));
    const requests = host.joinRequests;
    if (requests)
      this.detach.push(
        requests.onRequest((r) => this.emit({ type: 'join-request', request: joinRequestView(r) })),
      );
    if (host.audio)
      this.detach.push(
        host.audio.onSpeaker((id, rate, pcm) => {
          for (const l of [...this.speakers]) l(id, rate, pcm);
        }),
      );
    const box = host.mailbox;
    if (box)
      this.detach.push(
        box.on((e) => {
          if (e.type === 'new') this.emit({ type: 'voicemail.new', message: voicemailMessageOf(e.message) });
          else
            this.emit({
              type: 'voicemail.changed',
              messages: box.list().slice(0, 1000).map(voicemailMessageOf),
            });
        }),
      );
    for (const m of host.members()) if (!m.self && m.extension) this.watchPresence(m.extension);
    if (host.pbx)
      this.detach.push(
        host.pbx.onEvent((e) => {
          if (e.type === 'ended') host.audio?.setMuted(e.call, false);
          const ev = this.calls.apply(e);
          if (ev) this.emit(ev);
        }),
      );
    this.emit({ type: 'office.changed', status: this.status() });
  }

  /** Every event goes out as usual; a call change that moves our own presence also says so. */
  override emit(event: EngineEvent): void {
    super.emit(event);
    if (event.type !== 'call.state' && event.type !== 'call.incoming') return;
    const host = this.host;
    const presence = this.ownPresence();
    if (!host || presence.state === this.lastPresence) return;
    this.lastPresence = presence.state;
    super.emit({ type: 'presence.changed', extension: host.identity().extension, presence });
  }

  private lastPresence: Presence['state'] = 'available';

  /** What this engine answers: commands whose part of the peer is absent are left out. */
  override capabilities(): CommandType[] {
    const host = this.host;
    const all = super.capabilities();
    if (!host) return all;
    const needs: Array<[RegExp, unknown]> = [
      [/^(voicemail|greeting)\./, host.mailbox],
      [/^presence\.set$/, host.presence],
      [/^settings\./, host.settings],
      [/^phones\./, host.phones],
      [/^office-config\./, host.officeConfig],
      [/^call\.mute$/, host.audio],
    ];
    return all.filter((t) => needs.every(([re, part]) => !re.test(t) || !!part));
  }

  /** Our presence: calls first, then the state the user chose (presence service). */
  ownPresence(): Presence {
    const chosen = this.host?.presence?.own();
    return ownPresence(this.calls.list(), chosen ? presenceOf(chosen) : undefined);
  }

  /** The user set their own status: tell every UI (the tray too). */
  ownPresenceSet(extension: string, p: Presence): void {
    this.lastPresence = p.state;
    super.emit({ type: 'presence.changed', extension, presence: p });
  }

  /** Others' presence as their PRESENCE records say (watched); absent until the first answer. */
  private readonly presenceByExt = new Map<string, Presence>();
  private readonly watched = new Set<string>();

  /** Watches an extension's PRESENCE once per host; changes go out as presence.changed. */
  private watchPresence(extension: string): void {
    const host = this.host;
    const service = host?.presence;
    if (!host || !service || this.watched.has(extension)) return;
    this.watched.add(extension);
    let off: (() => void) | null = null;
    let released = false;
    this.detach.push(() => {
      released = true;
      off?.();
    });
    service
      .watch(extension, (view) => {
        if (released || this.host !== host) return;
        const p = presenceOf(view);
        const before = this.presenceByExt.get(extension);
        this.presenceByExt.set(extension, p);
        if (before?.state !== p.state || before?.note !== p.note)
          super.emit({ type: 'presence.changed', extension, presence: p });
      })
      .then(
        (stop) => {
          off = stop;
          if (released) stop();
        },
        (err) => {
          this.watched.delete(extension);
          this.log.warn('presence watch failed', { extension, err: (err as Error).message });
        },
      );
  }

  /** Stops listening to the host (the shell stops the peer itself). */
  close(): void {
    this.release();
    this.host = null;
  }

  private release(): void {
    for (const off of this.detach) off();
    this.detach = [];
    this.watched.clear();
    this.presenceByExt.clear();
    this.host?.close();
  }

  private onMembership(type: 'up' | 'down', nodeId: string): void {
    const host = this.host;
    if (!host) return;
    if (type === 'down') {
      const extension = this.known.get(nodeId) ?? null;
      const last = this.lastSeen.get(nodeId);
      if (last) this.gone.set(nodeId, { ...last, upSince: null, presence: { state: 'offline' } });
      this.emit({ type: 'member.down', extension, nodeId });
      return;
    }
    const m = host.members().find((x) => x.nodeId === nodeId);
    if (!m) return;
    this.known.set(nodeId, m.extension);
    this.gone.delete(nodeId);
    if (m.extension && !m.self) this.watchPresence(m.extension);
    const member = this.memberOf(m);
    if (member) this.emit({ type: 'member.up', member });
  }

  status(): OfficeStatus {
    const host = this.host;
    if (!host)
      return {
        enrolled: false,
        officeName: null,
        extension: null,
        displayName: null,
        nodeId: null,
        admin: false,
        ...(this.pendingJoin ? { pendingJoin: true } : {}),
      };
    const id = host.identity();
    return {
      enrolled: true,
      officeName: id.office,
      extension: id.extension,
      displayName: id.displayName ? id.displayName.slice(0, 64) : null,
      nodeId: id.nodeId,
      admin: id.admin,
      presence: this.ownPresence(),
      ...(host.adminLocked?.() ? { adminLocked: true } : {}),
    };
  }

  /** A contract member; null for a member whose extension is not known yet (not dialable). */
  private memberOf(m: HostMember): Member | null {
    if (!m.extension) return null;
    const member: Member = {
      extension: m.extension,
      displayName: (m.self
        ? (this.host?.identity().displayName ?? '')
        : (this.names.get(m.nodeId) ?? '')
      ).slice(0, 64),
      address: m.address.slice(0, 300),
      nodeId: m.nodeId,
      upSince: m.upSince,
      // A member in the view is up: available until its PRESENCE record says more.
      presence: m.self ? this.ownPresence() : (this.presenceByExt.get(m.extension) ?? { state: 'available' }),
    };
    this.lastSeen.set(m.nodeId, member);
    return member;
  }

  private readonly lastSeen = new Map<string, Member>();

  /** Up members, then those that left (offline) unless their extension is up elsewhere. */
  members(): Member[] {
    const out: Member[] = [];
    for (const m of this.requireHost().members()) {
      const member = this.memberOf(m);
      if (member) out.push(member);
    }
    const up = new Set(out.map((m) => m.extension));
    for (const m of this.gone.values()) if (!up.has(m.extension)) out.push({ ...m });
    return out.sort((a, b) => a.extension.localeCompare(b.extension, 'en', { numeric: true }));
  }

  network(): NetworkView {
    const host = this.requireHost();
    const members = host.members();
    const ring = [...members]
      .sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0))
      .map((m) => ({
        nodeId: m.nodeId,
        extension: m.extension,
        address: m.address.slice(0, 300),
        self: m.self,
      }));
    // Copies as measured by the ring (digest acknowledgements), not as placement would allow: a
    // replica that went quiet shows here as a missing copy.
    const records = host
      .holdings()
      .filter((h) => h.role !== 'handing-off')
      .map((h) => ({
        kind: h.kind.slice(0, 40),
        resource: h.resource.slice(0, 300),
        role: h.role as 'responsible' | 'replica',
        copies: Math.max(0, Math.round(h.copies)),
        storedAt: h.storedAt,
      }));
    const underReplicated = records
      .filter((r) => r.copies < COPIES)
      .map(({ kind, resource, copies: c }) => ({ kind, resource, copies: c }));
    return { ring, records, replicaHealth: { records: records.length, underReplicated } };
  }

  /** Fetches the display names not known yet (bounded: a slow overlay leaves them blank). */
  async learnNames(budgetMs = 1500): Promise<void> {
    const host = this.host;
    if (!host) return;
    const missing = host.members().filter((m) => !m.self && m.extension && !this.names.has(m.nodeId));
    if (missing.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const fetches = Promise.all(
      missing.map(async (m) => {
        try {
          const name = await host.displayName(m.extension as string, m.nodeId);
          if (name) this.names.set(m.nodeId, name);
        } catch (err) {
          this.log.info('display name not fetched', { extension: m.extension, err: (err as Error).message });
        }
      }),
    );
    await Promise.race([fetches, new Promise((r) => (timer = setTimeout(r, budgetMs)))]);
    clearTimeout(timer);
  }

  requireHost(): EngineHost {
    if (!this.host) throw new NotEnrolled();
    return this.host;
  }

  /** Runs `f` with the host, answering not-enrolled without one. */
  withHost<T>(f: (host: EngineHost) => T): T | ReturnType<typeof errReply> {
    if (!this.host) return errReply('not-enrolled', 'this PC is not in an office yet');
    return f(this.host);
  }

  liveCalls(): CallTable {
    return this.calls;
  }

  emitStatus(): void {
    this.emit({ type: 'office.changed', status: this.status() });
  }

  setPendingJoin(on: boolean): void {
    this.pendingJoin = on;
  }
}

class NotEnrolled extends Error {
  constructor() {
    super('this PC is not in an office yet');
  }
}

type Box = { self?: PeerEngine };

function handlers(box: Box, enrollment: EngineEnrollment | undefined): CommandHandlers {
  const engine = (): PeerEngine => {
    if (!box.self) throw new Error('engine not constructed');
    return box.self;
  };
  const needPbx = <T>(f: (pbx: NonNullable<EngineHost['pbx']>) => T) =>
    engine().withHost((host) =>
      host.pbx ? f(host.pbx) : errReply('not-available', 'the phone system of this peer is not running'),
    );
  const knownCall = <T>(callId: string, f: () => T) =>
    engine().liveCalls().has(callId) ? f() : errReply('not-found', `no call ${callId}`);

  // Attended transfer: the consultation must be a live, answered call of ours other than callId.
  const attended = async (pbx: NonNullable<EngineHost['pbx']>, callId: string, consultId: string) => {
    if (!pbx.attendedTransfer) return errReply('not-available', 'this phone cannot do attended transfers');
    const consult = engine().liveCalls().get(consultId);
    if (!consult || consultId === callId) return errReply('not-found', `no consultation call ${consultId}`);
    if (consult.answeredAt === undefined)
      return errReply('invalid', `the consultation call ${consultId} is not answered yet`);
    try {
      const status = await pbx.attendedTransfer(callId, consultId);
      return status >= 200 && status < 300
        ? okReply<'call.transfer'>({})
        : errReply('unreachable', `transfer refused (${status})`);
    } catch (err) {
      return errReply('unreachable', ((err as Error)?.message ?? String(err)).slice(0, 2000));
    }
  };

  const withHost: Parameters<typeof settingsHandlers>[0] = (f) => engine().withHost(f);
  const h: CommandHandlers = {
    ...settingsHandlers(withHost),
    ...voicemailHandlers(withHost, (ext, p) => engine().ownPresenceSet(ext, p)),
    'office.status': () => okReply<'office.status'>(engine().status()),
    'members.list': () =>
      engine().withHost(async () => {
        await engine().learnNames();
        return okReply<'members.list'>({ members: engine().members() });
      }),
    'network.view': () => engine().withHost(() => okReply<'network.view'>(engine().network())),
    lookup: (cmd) =>
      engine().withHost(async (host) => {
        const r = await host.lookup(cmd.extension);
        const member = engine()
          .members()
          .find((m) => m.extension === cmd.extension);
        return okReply<'lookup'>({
          extension: cmd.extension,
          reachable: r.reachable,
          ...(r.displayName ? { displayName: r.displayName.slice(0, 64) } : {}),
          contacts: r.contacts.slice(0, 100).map((c) => c.slice(0, 500)),
          presence: member ? member.presence : { state: 'offline' },
        });
      }),
    'office.invite': (cmd) =>
      engine().withHost((host) => {
        if (!host.identity().admin) return errReply('not-admin', 'only the office admin PC invites');
        try {
          return okReply<'office.invite'>({ code: host.invite(cmd.extension).code });
        } catch (err) {
          const e = enrollmentError(err);
          return errReply(e.error, e.message);
        }
      }),
    'join-requests.list': () =>
      engine().withHost((host) =>
        okReply<'join-requests.list'>({
          requests: (host.joinRequests?.pending() ?? []).map(joinRequestView),
        }),
      ),
    'join-requests.decide': (cmd) =>
      engine().withHost(async (host) => {
        const book = host.joinRequests;
        if (!book) return errReply('not-admin', 'this PC is not the office admin');
        if (!book.pending().some((r) => r.id === cmd.id))
          return errReply('not-found', `no waiting join request ${cmd.id}`);
        if (!cmd.approve)
          return book.deny(cmd.id)
            ? okReply<'join-requests.decide'>({})
            : errReply('not-found', `no waiting join request ${cmd.id}`);
        const r = await book.approve(cmd.id);
        if (r.ok) return okReply<'join-requests.decide'>({});
        const e = enrollmentError(new Error(r.reason));
        return errReply(e.error === 'extension-taken' ? 'extension-taken' : 'invalid', r.reason);
      }),
    'call.dial': (cmd) =>
      needPbx(async (pbx) => {
        const id = await pbx.dial(cmd.target);
        const ev = engine().liveCalls().dialed(id, cmd.target);
        engine().emit(ev);
        return okReply<'call.dial'>({ call: (ev as { call: Call }).call });
      }),
    'call.answer': (cmd) =>
      needPbx((pbx) =>
        knownCall(cmd.callId, () => {
          if (engine().liveCalls().get(cmd.callId)?.state !== 'incoming')
            return errReply('invalid', `call ${cmd.callId} is not ringing`);
          pbx.answer(cmd.callId);
          const ev = engine().liveCalls().answeredLocally(cmd.callId);
          if (ev) engine().emit(ev);
          engine().emitStatus();
          return okReply<'call.answer'>({});
        }),
      ),
    // Declining rings off with the UA's rejection (603); to voicemail answers 486 Busy Here.
    'call.decline': (cmd) =>
      needPbx((pbx) =>
        knownCall(cmd.callId, () => {
          if (cmd.toVoicemail) {
            if (!pbx.reject) return errReply('not-available', 'this phone cannot send a call to voicemail');
            if (engine().liveCalls().get(cmd.callId)?.state !== 'incoming')
              return errReply('invalid', `call ${cmd.callId} is not ringing`);
            // Busy Here: the caller's peer follows the callee's busy plan (voicemail by default).
            pbx.reject(cmd.callId, 486);
            return okReply<'call.decline'>({});
          }
          pbx.hangup(cmd.callId);
          return okReply<'call.decline'>({});
        }),
      ),
    'call.hangup': (cmd) =>
      needPbx((pbx) =>
        knownCall(cmd.callId, () => {
          pbx.hangup(cmd.callId);
          return okReply<'call.hangup'>({});
        }),
      ),
    'call.hold': (cmd) =>
      needPbx((pbx) =>
        knownCall(cmd.callId, async () => {
          const ok = cmd.on ? await pbx.hold(cmd.callId) : await pbx.resume(cmd.callId);
          if (!ok)
            return errReply(
              'unreachable',
              `the other party did not accept the ${cmd.on ? 'hold' : 'resume'}`,
            );
          const ev = engine().liveCalls().setHold(cmd.callId, cmd.on);
          if (ev) engine().emit(ev);
          return okReply<'call.hold'>({});
        }),
      ),
    // Mute silences the microphone in main (the UI may keep capturing for its meter).
    'call.mute': (cmd) =>
      needPbx(() =>
        engine().withHost((host) =>
          knownCall(cmd.callId, () => {
            if (!host.audio) return errReply('not-available', 'this peer carries no call audio');
            host.audio.setMuted(cmd.callId, cmd.on);
            const ev = engine().liveCalls().setMuted(cmd.callId, cmd.on);
            if (ev) engine().emit(ev);
            return okReply<'call.mute'>({});
          }),
        ),
      ),
    'call.dtmf': (cmd) =>
      needPbx((pbx) =>
        knownCall(cmd.callId, () =>
          pbx.sendDtmf(cmd.callId, cmd.digits) > 0
            ? okReply<'call.dtmf'>({})
            : errReply('not-available', 'the call negotiated no telephone-event (RFC 4733)'),
        ),
      ),
    'call.transfer': (cmd) =>
      needPbx((pbx) =>
        knownCall(cmd.callId, async () => {
          if (cmd.consultCallId !== undefined) return attended(pbx, cmd.callId, cmd.consultCallId);
          if (cmd.target === undefined)
            return errReply('invalid', 'a transfer needs a target or a consultation call');
          const status = await pbx.transfer(cmd.callId, cmd.target);
          return status >= 200 && status < 300
            ? okReply<'call.transfer'>({})
            : errReply('unreachable', `transfer refused (${status})`);
        }),
      ),
    'calls.list': () => needPbx(() => okReply<'calls.list'>({ calls: engine().liveCalls().list() })),
    'history.list': (cmd) =>
      engine().withHost((host) =>
        okReply<'history.list'>({ entries: host.history(cmd.limit ?? 100).map(historyEntryOf) }),
      ),
  };
  if (enrollment?.discover) {
    const discover = enrollment.discover.bind(enrollment);
    h['offices.discover'] = async () => {
      const offices = (await discover()).slice(0, 100).map((o) => ({
        id: o.id.slice(0, 200),
        name: o.name.slice(0, 100),
        peers: o.peers,
        ...(o.address && /^[^\s]+:\d{1,5}$/.test(o.address) ? { address: o.address.slice(0, 300) } : {}),
      }));
      return offices.length > 0
        ? okReply<'offices.discover'>({ offices })
        : errReply(
            'no-office-found',
            'no office announces itself on this network; type the address of one of its PCs',
          );
    };
  }
  if (enrollment) {
    h['office.create'] = async (cmd) => {
      if (box.self?.status().enrolled) return errReply('already-enrolled', 'this PC is already in an office');
      try {
        const host = await enrollment.create(cmd);
        engine().attach(host);
        return okReply<'office.create'>(engine().status());
      } catch (err) {
        const e = enrollmentError(err);
        return errReply(e.error, e.message);
      }
    };
    // A join waiting for approval can be given up: the engine stops waiting for it (the request
    // at the admin expires by itself; should the admin approve it anyway, the PC is enrolled).
    let cancelWaiting: (() => void) | null = null;
    h['office.cancel-join'] = () => {
      if (!cancelWaiting) return errReply('not-found', 'no join is waiting for approval');
      enrollment.cancelJoin?.();
      cancelWaiting();
      cancelWaiting = null;
      return okReply<'office.cancel-join'>({});
    };
    if (enrollment.unlock) {
      const unlock = enrollment.unlock.bind(enrollment);
      h['admin.unlock'] = (cmd) =>
        engine().withHost(async (host) => {
          if (!host.identity().admin) return errReply('not-admin', 'this PC is not the office admin');
          if (!host.adminLocked?.()) return okReply<'admin.unlock'>(engine().status());
          try {
            engine().attach(await unlock(cmd.passphrase));
          } catch (err) {
            return errReply('denied', ((err as Error)?.message ?? String(err)).slice(0, 2000));
          }
          return okReply<'admin.unlock'>(engine().status());
        });
    }
    h['office.join'] = async (cmd) => {
      if (box.self?.status().enrolled) return errReply('already-enrolled', 'this PC is already in an office');
      let pending: (() => void) | null = null;
      const waiting = new Promise<'pending'>((resolve) => {
        pending = () => resolve('pending');
      });
      const joining = enrollment.join(cmd, () => {
        engine().setPendingJoin(true);
        engine().emit({ type: 'enrollment', state: 'pending', status: engine().status() });
        pending?.();
      });
      const first = await Promise.race([
        joining.then(
          () => 'done' as const,
          () => 'failed' as const,
        ),
        waiting,
      ]);
      if (first === 'pending') {
        // The admin decides later: the outcome arrives as an enrollment event.
        let cancelled = false;
        cancelWaiting = () => {
          cancelled = true;
          engine().setPendingJoin(false);
          engine().emit({ type: 'enrollment', state: 'failed', reason: 'cancelled on this PC' });
          engine().emitStatus();
        };
        joining.then(
          (host) => {
            cancelWaiting = null;
            engine().attach(host);
            engine().emit({ type: 'enrollment', state: 'enrolled', status: engine().status() });
          },
          (err) => {
            cancelWaiting = null;
            if (cancelled) return;
            engine().setPendingJoin(false);
            const e = enrollmentError(err);
            engine().emit({
              type: 'enrollment',
              state: e.error === 'denied' ? 'denied' : 'failed',
              reason: e.message.slice(0, 500),
            });
          },
        );
        return okReply<'office.join'>({ state: 'pending', status: engine().status() });
      }
      try {
        engine().attach(await joining);
        return okReply<'office.join'>({ state: 'enrolled', status: engine().status() });
      } catch (err) {
        const e = enrollmentError(err);
        return errReply(e.error, e.message);
      }
    };
  }
  return h;
}
