// PeerEngine over a fake EngineHost: every reply and event is checked against the contract's
// schemas (what the renderer validates), and the call table follows the softphone's events.
import { describe, expect, it } from 'vitest';
import {
  type CommandType,
  type EngineEvent,
  eventSchema,
  type Reply,
  replySchema,
} from '../../src/core/api/contract.ts';
import type { DialPlanConfig } from '../../src/core/pbx/routing-plan.ts';
import type { UserSettingsData } from '../../src/core/records/kinds.ts';
import type {
  EngineEnrollment,
  EngineHost,
  HostCallEvent,
  HostHolding,
  HostJoinRequest,
  HostMailboxMessage,
  HostMember,
  HostPresenceView,
} from '../../src/main/engine/host.ts';
import { PeerEngine } from '../../src/main/engine/peer-engine.ts';
import type { Logger } from '../../src/main/log.ts';

const A = 'a'.repeat(32);
const B = 'b'.repeat(32);
const C = 'c'.repeat(32);

const errors: string[] = [];
const log: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: (msg) => errors.push(msg),
  child: () => log,
};

interface Fake {
  host: EngineHost;
  members: HostMember[];
  holdings: HostHolding[];
  requests: HostJoinRequest[];
  callEvent: (e: HostCallEvent) => void;
  membership: (type: 'up' | 'down', nodeId: string) => void;
  request: (r: HostJoinRequest) => void;
  pbxCalls: string[];
  closed: number;
}

function fakeHost(opts: { admin?: boolean; pbx?: boolean } = {}): Fake {
  const f: Partial<Fake> = { pbxCalls: [], closed: 0 };
  const members: HostMember[] = [
    { nodeId: B, extension: '101', address: '10.0.0.1:7070', upSince: 1000, self: true },
    { nodeId: A, extension: '102', address: '10.0.0.2:7070', upSince: 2000, self: false },
    { nodeId: C, extension: null, address: '10.0.0.3:7070', upSince: null, self: false },
  ];
  const holdings: HostHolding[] = [
    { kind: 'CERTIFICATE', resource: '101@acme', role: 'responsible', storedAt: 10, copies: 3 },
    { kind: 'SIP-REGISTRATION', resource: '102@acme', role: 'replica', storedAt: 11, copies: 3 },
    { kind: 'CERTIFICATE', resource: '109@acme', role: 'handing-off', storedAt: 12, copies: 1 },
  ];
  const requests: HostJoinRequest[] = [
    { id: 'r1', extension: '105', nodeId: C, displayName: 'Eve', address: '10.0.0.5:1', at: 5 },
  ];
  let callListener: ((e: HostCallEvent) => void) | null = null;
  let memberListener: ((e: { type: 'up' | 'down'; nodeId: string }) => void) | null = null;
  let requestListener: ((r: HostJoinRequest) => void) | null = null;
  const pbxCalls = f.pbxCalls as string[];
  const host: EngineHost = {
    identity: () => ({
      office: 'acme',
      extension: '101',
      displayName: 'Ann',
      nodeId: B,
      admin: !!opts.admin,
    }),
    members: () => members,
    holdings: () => holdings,
    lookup: async (ext) =>
      ext === '102'
        ? { reachable: true, contacts: ['sip:102@10.0.0.2:5062'] }
        : { reachable: false, contacts: [] },
    displayName: async (ext, nodeId) => (ext === '102' && nodeId === A ? 'Bob' : undefined),
    onMembership: (l) => {
      memberListener = l;
      return () => {
        memberListener = null;
      };
    },
    invite: (ext) => {
      if (ext === '101') throw new Error('extension 101 is already taken');
      return { code: `code-${ext}` };
    },
    joinRequests: opts.admin
      ? {
          pending: () => requests,
          approve: async (id) => {
            requests.splice(
              requests.findIndex((r) => r.id === id),
              1,
            );
            return { ok: true };
          },
          deny: (id) =>
            requests.splice(
              requests.findIndex((r) => r.id === id),
              1,
            ).length === 1,
          onRequest: (l) => {
            requestListener = l;
            return () => {
              requestListener = null;
            };
          },
        }
      : null,
    pbx: opts.pbx
      ? {
          dial: async (t) => {
            pbxCalls.push(`dial ${t}`);
            return 'out-1';
          },
          answer: (id) => pbxCalls.push(`answer ${id}`),
          hangup: (id) => pbxCalls.push(`hangup ${id}`),
          hold: async (id) => pbxCalls.push(`hold ${id}`) > 0,
          resume: async (id) => pbxCalls.push(`resume ${id}`) > 0,
          transfer: async (id, t) => {
            pbxCalls.push(`transfer ${id} ${t}`);
            return 202;
          },
          sendDtmf: (id, d) => {
            pbxCalls.push(`dtmf ${id} ${d}`);
            return d.length;
          },
          onEvent: (l) => {
            callListener = l;
            return () => {
              callListener = null;
            };
          },
        }
      : null,
    history: (limit) =>
      [
        {
          id: 1,
          startedAt: 100,
          direction: 'in' as const,
          remote: '"Bob" <sip:102@acme>',
          durationMs: 0,
          outcome: 'missed',
        },
        {
          id: 2,
          startedAt: 50,
          direction: 'out' as const,
          remote: '103',
          durationMs: 61_400,
          outcome: 'answered',
        },
      ].slice(0, limit),
    close: () => {
      (f as Fake).closed++;
    },
  };
  return Object.assign(f, {
    host,
    members,
    holdings,
    requests,
    callEvent: (e: HostCallEvent) => callListener?.(e),
    membership: (type: 'up' | 'down', nodeId: string) => memberListener?.({ type, nodeId }),
    request: (r: HostJoinRequest) => requestListener?.(r),
  }) as Fake;
}

/** Runs a command and checks the reply against the contract (as the renderer does). */
async function run<T extends CommandType>(
  engine: PeerEngine,
  cmd: { type: T } & Record<string, unknown>,
): Promise<Reply<T>> {
  const reply = await engine.command(cmd as never);
  const parsed = replySchema(cmd.type).parse(reply);
  expect(parsed.ok, `${cmd.type}: ${JSON.stringify(reply)}`).toBe(true);
  return reply as Reply<T>;
}

function events(engine: PeerEngine): EngineEvent[] {
  const out: EngineEvent[] = [];
  engine.on((e) => {
    const parsed = eventSchema.parse(e);
    expect(parsed.ok, JSON.stringify(e)).toBe(true);
    out.push(e);
  });
  return out;
}

describe('PeerEngine over an enrolled host', () => {
  it('lists its capabilities: office, network, calls; presence and voicemail not yet', async () => {
    const engine = new PeerEngine(fakeHost({ pbx: true }).host, { log });
    const r = await run(engine, { type: 'engine.capabilities' });
    if (!r.ok) throw new Error('no capabilities');
    for (const t of ['office.status', 'members.list', 'network.view', 'lookup', 'call.dial', 'history.list'])
      expect(r.value.commands).toContain(t);
    for (const t of ['presence.set', 'voicemail.list', 'office.create'])
      expect(r.value.commands).not.toContain(t);
    expect(await engine.command({ type: 'voicemail.list' })).toMatchObject({
      ok: false,
      error: 'not-available',
    });
  });

  it('answers status, members (available, sorted, unknown extension left out) and lookup', async () => {
    const engine = new PeerEngine(fakeHost().host, { log });
    expect(await run(engine, { type: 'office.status' })).toEqual({
      ok: true,
      value: {
        enrolled: true,
        officeName: 'acme',
        extension: '101',
        displayName: 'Ann',
        nodeId: B,
        admin: false,
        presence: { state: 'available' },
      },
    });
    const m = await run(engine, { type: 'members.list' });
    if (!m.ok) throw new Error('members');
    expect(m.value.members.map((x) => [x.extension, x.displayName, x.presence.state, x.nodeId])).toEqual([
      ['101', 'Ann', 'available', B],
      ['102', 'Bob', 'available', A],
    ]);
    const found = await run(engine, { type: 'lookup', extension: '102' });
    expect(found).toMatchObject({
      ok: true,
      value: { reachable: true, contacts: ['sip:102@10.0.0.2:5062'] },
    });
    const missing = await run(engine, { type: 'lookup', extension: '177' });
    expect(missing).toMatchObject({ ok: true, value: { reachable: false, presence: { state: 'offline' } } });
  });

  it('shows the ring in Node-ID order, the records held and their replica health', async () => {
    const engine = new PeerEngine(fakeHost().host, { log });
    const r = await run(engine, { type: 'network.view' });
    if (!r.ok) throw new Error('network');
    expect(r.value.ring.map((x) => [x.nodeId, x.self])).toEqual([
      [A, false],
      [B, true],
      [C, false],
    ]);
    expect(r.value.records.map((x) => [x.resource, x.role, x.copies])).toEqual([
      ['101@acme', 'responsible', 3],
      ['102@acme', 'replica', 3],
    ]);
    expect(r.value.replicaHealth).toEqual({ records: 2, underReplicated: [] });
  });

  it('shows the measured copies: a record the ring confirmed twice is under-replicated', async () => {
    const fake = fakeHost();
    // Three peers on the ring, so placement alone would claim 3 copies of everything.
    expect(fake.members).toHaveLength(3);
    fake.holdings[1] = { ...fake.holdings[1], copies: 2 };
    const engine = new PeerEngine(fake.host, { log });
    const r = await run(engine, { type: 'network.view' });
    if (!r.ok) throw new Error('network');
    expect(r.value.records.map((x) => [x.resource, x.copies])).toEqual([
      ['101@acme', 3],
      ['102@acme', 2],
    ]);
    expect(r.value.replicaHealth).toEqual({
      records: 2,
      underReplicated: [{ kind: 'SIP-REGISTRATION', resource: '102@acme', copies: 2 }],
    });
  });

  it('reports what the ring confirmed, even when a lone peer holds everything', async () => {
    const fake = fakeHost();
    fake.members.splice(1, 2);
    for (const h of fake.holdings) h.copies = 1;
    const engine = new PeerEngine(fake.host, { log });
    const r = await run(engine, { type: 'network.view' });
    if (!r.ok) throw new Error('network');
    expect(r.value.replicaHealth.underReplicated).toEqual([
      { kind: 'CERTIFICATE', resource: '101@acme', copies: 1 },
      { kind: 'SIP-REGISTRATION', resource: '102@acme', copies: 1 },
    ]);
  });

  it('turns membership changes into member.up / member.down with the extension', async () => {
    const fake = fakeHost();
    const engine = new PeerEngine(fake.host, { log });
    const seen = events(engine);
    fake.members.push({
      nodeId: 'd'.repeat(32),
      extension: '104',
      address: '10.0.0.4:7070',
      upSince: 9,
      self: false,
    });
    fake.membership('up', 'd'.repeat(32));
    fake.members.pop();
    fake.membership('down', 'd'.repeat(32));
    fake.membership('down', A);
    expect(
      seen.map((e) => [e.type, 'member' in e ? e.member.extension : 'extension' in e ? e.extension : null]),
    ).toEqual([
      ['member.up', '104'],
      ['member.down', '104'],
      ['member.down', '102'],
    ]);
  });

  it('lists a member that left as offline until it is back', async () => {
    const fake = fakeHost();
    const engine = new PeerEngine(fake.host, { log });
    const states = async () => {
      const r = await run(engine, { type: 'members.list' });
      return r.ok ? r.value.members.map((m) => [m.extension, m.presence.state, m.upSince]) : r;
    };
    expect(await states()).toEqual([
      ['101', 'available', 1000],
      ['102', 'available', 2000],
    ]);
    const left = fake.members.splice(1, 1)[0];
    fake.membership('down', A);
    expect(await states()).toEqual([
      ['101', 'available', 1000],
      ['102', 'offline', null],
    ]);
    fake.members.push(left);
    fake.membership('up', A);
    expect(await states()).toEqual([
      ['101', 'available', 1000],
      ['102', 'available', 2000],
    ]);
  });

  it('invites and decides join requests on the admin PC only', async () => {
    const admin = fakeHost({ admin: true });
    const engine = new PeerEngine(admin.host, { log });
    const seen = events(engine);
    expect(await run(engine, { type: 'office.invite', extension: '105' })).toEqual({
      ok: true,
      value: { code: 'code-105' },
    });
    expect(await run(engine, { type: 'office.invite', extension: '101' })).toMatchObject({
      ok: false,
      error: 'extension-taken',
    });
    const list = await run(engine, { type: 'join-requests.list' });
    expect(list).toMatchObject({
      ok: true,
      value: { requests: [{ id: 'r1', extension: '105', nodeId: C }] },
    });
    admin.request({ id: 'r2', extension: '106', nodeId: 'not-hex', address: 'x:1', at: 7 });
    expect(seen).toEqual([
      {
        type: 'join-request',
        request: { id: 'r2', extension: '106', displayName: '', address: 'x:1', receivedAt: 7 },
      },
    ]);
    expect(await run(engine, { type: 'join-requests.decide', id: 'r1', approve: true })).toEqual({
      ok: true,
      value: {},
    });
    expect(await run(engine, { type: 'join-requests.decide', id: 'r1', approve: false })).toMatchObject({
      ok: false,
      error: 'not-found',
    });
    const other = new PeerEngine(fakeHost().host, { log });
    expect(await run(other, { type: 'office.invite', extension: '105' })).toMatchObject({
      ok: false,
      error: 'not-admin',
    });
    expect(await run(other, { type: 'join-requests.decide', id: 'r1', approve: true })).toMatchObject({
      ok: false,
      error: 'not-admin',
    });
  });

  it('maps call history rows (missed, durations in seconds, parties)', async () => {
    const engine = new PeerEngine(fakeHost().host, { log });
    const r = await run(engine, { type: 'history.list', limit: 5 });
    expect(r).toEqual({
      ok: true,
      value: {
        entries: [
          {
            id: '1',
            direction: 'missed',
            remote: { uri: 'sip:102@acme', extension: '102', displayName: 'Bob' },
            startedAt: 100,
            duration: 0,
          },
          {
            id: '2',
            direction: 'out',
            remote: { uri: 'sip:103', extension: '103' },
            startedAt: 50,
            duration: 61,
          },
        ],
      },
    });
  });
});

describe('PeerEngine calls', () => {
  it('answers not-available for call commands when the peer has no pbx', async () => {
    const engine = new PeerEngine(fakeHost().host, { log });
    expect(await run(engine, { type: 'call.dial', target: '102' })).toMatchObject({
      ok: false,
      error: 'not-available',
    });
  });

  it('follows an outgoing call: dialing, ringing, active, held, ended; presence on-call meanwhile', async () => {
    let now = 1000;
    const fake = fakeHost({ pbx: true });
    const engine = new PeerEngine(fake.host, { log, clock: () => now });
    const seen = events(engine);
    const dial = await run(engine, { type: 'call.dial', target: '102' });
    expect(dial).toMatchObject({
      ok: true,
      value: { call: { id: 'out-1', state: 'dialing', direction: 'out' } },
    });
    fake.callEvent({ type: 'ringing', call: 'out-1' });
    now = 2000;
    fake.callEvent({ type: 'answered', call: 'out-1' });
    expect((await run(engine, { type: 'office.status' })) as unknown).toMatchObject({
      value: { presence: { state: 'on-call' } },
    });
    expect(await run(engine, { type: 'call.hold', callId: 'out-1', on: true })).toEqual({
      ok: true,
      value: {},
    });
    expect(await run(engine, { type: 'call.dtmf', callId: 'out-1', digits: '12#' })).toEqual({
      ok: true,
      value: {},
    });
    expect(await run(engine, { type: 'calls.list' })).toMatchObject({
      value: { calls: [{ id: 'out-1', state: 'held', onHold: true, answeredAt: 2000 }] },
    });
    expect(await run(engine, { type: 'call.hangup', callId: 'out-1' })).toEqual({ ok: true, value: {} });
    now = 3000;
    fake.callEvent({ type: 'ended', call: 'out-1', reason: 'local-bye' });
    expect(
      seen.map((e) =>
        e.type === 'call.state'
          ? e.call.state
          : e.type === 'presence.changed'
            ? `me ${e.presence.state}`
            : e.type,
      ),
    ).toEqual(['dialing', 'ringing', 'active', 'me on-call', 'held', 'ended', 'me available']);
    expect(seen.find((e) => e.type === 'presence.changed')).toMatchObject({ extension: '101' });
    expect(seen.at(-2)).toMatchObject({ call: { endedAt: 3000, endReason: 'local-bye' } });
    expect(fake.pbxCalls).toEqual(['dial 102', 'hold out-1', 'dtmf out-1 12#', 'hangup out-1']);
    expect(await run(engine, { type: 'calls.list' })).toEqual({ ok: true, value: { calls: [] } });
    expect(await run(engine, { type: 'call.hangup', callId: 'out-1' })).toMatchObject({
      ok: false,
      error: 'not-found',
    });
  });

  it('shows an incoming call, answers it, and declines another', async () => {
    const fake = fakeHost({ pbx: true });
    const engine = new PeerEngine(fake.host, { log, clock: () => 5 });
    const seen = events(engine);
    fake.callEvent({ type: 'incoming', call: 'in-1', from: '"Bob" <sip:102@acme>;tag=x' });
    expect(seen[0]).toMatchObject({
      type: 'call.incoming',
      call: {
        id: 'in-1',
        direction: 'in',
        state: 'incoming',
        remote: { extension: '102', displayName: 'Bob' },
      },
    });
    expect((await run(engine, { type: 'members.list' })) as unknown).toMatchObject({
      value: { members: [{ extension: '101', presence: { state: 'ringing' } }, {}] },
    });
    expect(await run(engine, { type: 'call.answer', callId: 'in-1' })).toEqual({ ok: true, value: {} });
    expect(await run(engine, { type: 'call.answer', callId: 'in-1' })).toMatchObject({
      ok: false,
      error: 'invalid',
    });
    fake.callEvent({ type: 'incoming', call: 'in-2', from: 'sip:103@10.0.0.3' });
    expect(await run(engine, { type: 'call.decline', callId: 'in-2', toVoicemail: true })).toMatchObject({
      ok: false,
      error: 'not-available',
    });
    expect(await run(engine, { type: 'call.decline', callId: 'in-2' })).toEqual({ ok: true, value: {} });
    expect(await run(engine, { type: 'call.transfer', callId: 'in-1', target: '104' })).toEqual({
      ok: true,
      value: {},
    });
    // With a phone that can reject: "send to voicemail" answers 486 (busy: the caller's voicemail).
    const pbx = fake.host.pbx;
    if (!pbx) throw new Error('no pbx');
    pbx.reject = (id, status) => fake.pbxCalls.push(`reject ${id} ${status}`);
    fake.callEvent({ type: 'incoming', call: 'in-3', from: 'sip:103@10.0.0.3' });
    expect(await run(engine, { type: 'call.decline', callId: 'in-3', toVoicemail: true })).toEqual({
      ok: true,
      value: {},
    });
    expect(await run(engine, { type: 'call.decline', callId: 'in-1', toVoicemail: true })).toMatchObject({
      ok: false,
      error: 'invalid',
    });
    expect(fake.pbxCalls).toEqual(['answer in-1', 'hangup in-2', 'transfer in-1 104', 'reject in-3 486']);
    expect(
      seen.filter((e) => e.type === 'call.state').map((e) => (e as { call: { state: string } }).call.state),
    ).toEqual(['active']);
  });

  it('transfers attended to an answered consultation call; the other sides show the moved calls', async () => {
    const fake = fakeHost({ pbx: true });
    const pbx = fake.host.pbx;
    if (!pbx) throw new Error('no pbx');
    pbx.attendedTransfer = async (id, consult) => {
      fake.pbxCalls.push(`attended ${id} ${consult}`);
      return 200;
    };
    const engine = new PeerEngine(fake.host, { log, clock: () => 7 });
    const seen = events(engine);
    fake.callEvent({ type: 'incoming', call: 'b', from: 'sip:102@acme' });
    await run(engine, { type: 'call.answer', callId: 'b' });
    await run(engine, { type: 'call.dial', target: '103' }); // the fake pbx names it out-1
    const transfer = (consultCallId: string) =>
      run(engine, { type: 'call.transfer', callId: 'b', consultCallId });
    expect(await transfer('out-1')).toMatchObject({ ok: false, error: 'invalid' }); // not answered yet
    expect(await transfer('b')).toMatchObject({ ok: false, error: 'not-found' });
    expect(await transfer('zz')).toMatchObject({ ok: false, error: 'not-found' });
    expect(await run(engine, { type: 'call.transfer', callId: 'b' })).toMatchObject({
      ok: false,
      error: 'invalid',
    });
    fake.callEvent({ type: 'answered', call: 'out-1' });
    expect(await transfer('out-1')).toEqual({ ok: true, value: {} });
    pbx.attendedTransfer = async () => 486;
    expect(await transfer('out-1')).toMatchObject({ ok: false, error: 'unreachable' });
    expect(fake.pbxCalls.filter((c) => c.startsWith('attended'))).toEqual(['attended b out-1']);

    // The transferee's side: its peer placed the new call (no call.incoming, no dial command).
    seen.length = 0;
    fake.callEvent({ type: 'transferred', call: 'moved', target: '103' });
    fake.callEvent({ type: 'answered', call: 'moved' });
    // The target's side: the replacing call is active at once, it never rings.
    fake.callEvent({ type: 'incoming', call: 'took-over', from: 'sip:102@acme', replaces: 'b' });
    expect(seen.map((e) => e.type)).toEqual(['call.state', 'call.state', 'call.state']);
    const r = await run(engine, { type: 'calls.list' });
    if (!r.ok) throw new Error('calls');
    expect(
      r.value.calls
        .filter((c) => c.id === 'moved' || c.id === 'took-over')
        .map((c) => [c.id, c.direction, c.remote.extension, c.state, c.answeredAt]),
    ).toEqual([
      ['moved', 'out', '103', 'active', 7],
      ['took-over', 'in', '102', 'active', 7],
    ]);
  });
});

describe('PeerEngine before enrollment', () => {
  it('answers status unenrolled and not-enrolled for office commands', async () => {
    const engine = new PeerEngine(null, { log });
    expect(await run(engine, { type: 'office.status' })).toMatchObject({
      ok: true,
      value: { enrolled: false },
    });
    expect(await run(engine, { type: 'members.list' })).toMatchObject({ ok: false, error: 'not-enrolled' });
    expect(await run(engine, { type: 'network.view' })).toMatchObject({ ok: false, error: 'not-enrolled' });
  });

  it('creates an office through the shell and serves the new host (office.changed)', async () => {
    const fake = fakeHost({ admin: true });
    const enrollment: EngineEnrollment = {
      create: async (p) => {
        if (p.extension === '666')
          throw new Error('data folder x already belongs to an office; use another folder');
        return fake.host;
      },
      join: async () => {
        throw new Error('unused');
      },
    };
    const engine = new PeerEngine(null, { log, enrollment });
    const seen = events(engine);
    expect(
      await run(engine, { type: 'office.create', officeName: 'acme', extension: '666', displayName: 'X' }),
    ).toMatchObject({ ok: false, error: 'already-enrolled' });
    const r = await run(engine, {
      type: 'office.create',
      officeName: 'acme',
      extension: '101',
      displayName: 'Ann',
    });
    expect(r).toMatchObject({ ok: true, value: { enrolled: true, admin: true, extension: '101' } });
    expect(seen).toMatchObject([{ type: 'office.changed', status: { enrolled: true } }]);
    expect(
      await run(engine, { type: 'office.create', officeName: 'b', extension: '102', displayName: '' }),
    ).toMatchObject({
      ok: false,
      error: 'already-enrolled',
    });
  });

  it('a join that waits for approval answers pending, then an enrollment event when approved', async () => {
    const fake = fakeHost();
    let approve: (() => void) | null = null;
    const enrollment: EngineEnrollment = {
      create: async () => fake.host,
      join: (_p, onPending) =>
        new Promise((resolve) => {
          onPending('req-1');
          approve = () => resolve(fake.host);
        }),
    };
    const engine = new PeerEngine(null, { log, enrollment });
    const seen = events(engine);
    const r = await run(engine, { type: 'office.join', extension: '102', displayName: 'Bob' });
    expect(r).toMatchObject({
      ok: true,
      value: { state: 'pending', status: { enrolled: false, pendingJoin: true } },
    });
    (approve as unknown as () => void)();
    await new Promise((res) => setTimeout(res, 10));
    expect(seen.map((e) => (e.type === 'enrollment' ? `enrollment ${e.state}` : e.type))).toEqual([
      'enrollment pending',
      'office.changed',
      'enrollment enrolled',
    ]);
  });

  it('lists the offices found on the LAN, or no-office-found', async () => {
    let found = [{ id: 'f'.repeat(64), name: 'acme', peers: 2, address: '10.0.0.1:7070' }];
    const enrollment: EngineEnrollment = {
      discover: async () => found,
      create: async () => {
        throw new Error('unused');
      },
      join: async () => {
        throw new Error('unused');
      },
    };
    const engine = new PeerEngine(null, { log, enrollment });
    expect(await run(engine, { type: 'offices.discover' })).toEqual({ ok: true, value: { offices: found } });
    found = [];
    expect(await run(engine, { type: 'offices.discover' })).toMatchObject({
      ok: false,
      error: 'no-office-found',
    });
  });

  it('a refused join with a code answers wrong-code', async () => {
    const enrollment: EngineEnrollment = {
      create: async () => {
        throw new Error('unused');
      },
      join: async () => {
        throw new Error('the join code is wrong or was already used');
      },
    };
    const engine = new PeerEngine(null, { log, enrollment });
    expect(
      await run(engine, { type: 'office.join', extension: '102', displayName: 'B', code: 'x' }),
    ).toMatchObject({
      ok: false,
      error: 'wrong-code',
    });
  });

  it('releases the old host when a new one is attached', () => {
    const a = fakeHost();
    const engine = new PeerEngine(a.host, { log });
    engine.attach(fakeHost().host);
    expect(a.closed).toBe(1);
    expect(errors).toEqual([]);
  });
});

// ---- settings, desk phones, office config, admin unlock, cancel join, voicemail, presence ----

interface Parts {
  stored: UserSettingsData & Record<string, unknown>;
  phones: Array<{ extension: string; registered: boolean }>;
  plan: DialPlanConfig;
  messages: HostMailboxMessage[];
  greetings: Map<string, Uint8Array>;
  mailboxEmit: (e: { type: 'new'; message: HostMailboxMessage } | { type: 'changed' }) => void;
  presenceSet: string[];
  watchers: Map<string, (p: HostPresenceView) => void>;
}

function withParts(host: EngineHost): Parts {
  const parts: Parts = {
    stored: { dnd: false, voicemailPinHash: 'abc' },
    phones: [{ extension: '150', registered: true }],
    plan: {
      extensions: ['101', '102'],
      trunks: [{ name: 'carrier', host: 'sip.example', port: 5060, prefix: '9', strip: 1 }],
      inbound: { '5551000': '101' },
      ringGroups: [{ extension: '600', members: ['101', '102'], strategy: 'hunt', fallback: '101' }],
    },
    messages: [
      { id: 'm1', from: '"Bob" <sip:102@acme>', time: 1000, duration: 7_000, heard: false },
      { id: 'm2', from: 'sip:103@acme', time: 500, duration: 3_250, heard: true },
    ],
    greetings: new Map(),
    mailboxEmit: () => {},
    presenceSet: [],
    watchers: new Map(),
  };
  host.settings = {
    get: async () => ({ ...parts.stored }),
    update: async (change) => {
      parts.stored = { ...parts.stored, ...change };
      for (const [k, v] of Object.entries(parts.stored)) if (v === undefined) delete parts.stored[k];
      return { ...parts.stored };
    },
  };
  host.phones = {
    list: () => parts.phones.map((p) => ({ ...p })),
    add: (extension, password) => {
      if (password.length < 8) throw new Error('the password needs at least 8 characters');
      parts.phones.push({ extension, registered: false });
    },
    remove: (extension) => {
      const i = parts.phones.findIndex((p) => p.extension === extension);
      if (i >= 0) parts.phones.splice(i, 1);
      return i >= 0;
    },
  };
  host.officeConfig = {
    get: async () => structuredClone(parts.plan),
    set: async (c) => {
      parts.plan = structuredClone(c);
    },
  };
  const listeners = new Set<Parameters<NonNullable<EngineHost['mailbox']>['on']>[0]>();
  parts.mailboxEmit = (e) => {
    for (const l of listeners) l(e);
  };
  host.mailbox = {
    list: () => parts.messages.map((m) => ({ ...m })),
    refresh: async () => parts.messages,
    on: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    audio: async (id) => new TextEncoder().encode(`RIFF-${id}`),
    markHeard: async (id) => {
      const m = parts.messages.find((x) => x.id === id);
      if (m) m.heard = true;
    },
    delete: async (id) => {
      parts.messages = parts.messages.filter((x) => x.id !== id);
    },
    getGreeting: async (kind) => parts.greetings.get(kind) ?? null,
    setGreeting: async (kind, wav) => {
      if (wav && new TextDecoder().decode(wav.subarray(0, 4)) !== 'RIFF') throw new Error('not a WAV file');
      if (wav) parts.greetings.set(kind, wav);
      else parts.greetings.delete(kind);
    },
  };
  let own: HostPresenceView = { state: 'available', since: 1 };
  host.presence = {
    set: async (state, note) => {
      parts.presenceSet.push(state);
      own = { state, since: 2, ...(note ? { note } : {}) };
      return own;
    },
    own: () => own,
    watch: async (extension, cb) => {
      parts.watchers.set(extension, cb);
      cb({ state: 'away', since: 3 });
      return () => parts.watchers.delete(extension);
    },
  };
  host.audio = { microphone: () => {}, onSpeaker: () => () => {}, setMuted: () => true };
  return parts;
}

describe('PeerEngine settings', () => {
  it('lists the settings commands only when the peer has those parts', async () => {
    const bare = new PeerEngine(fakeHost({ pbx: true }).host, { log });
    const caps = await run(bare, { type: 'engine.capabilities' });
    for (const t of ['settings.get', 'phones.list', 'office-config.get', 'voicemail.list', 'presence.set'])
      expect(caps.ok && caps.value.commands).not.toContain(t);
    const f = fakeHost({ pbx: true, admin: true });
    withParts(f.host);
    const full = await run(new PeerEngine(f.host, { log }), { type: 'engine.capabilities' });
    for (const t of [
      'settings.set',
      'phones.add',
      'office-config.set',
      'voicemail.audio',
      'greeting.set',
      'call.mute',
    ])
      expect(full.ok && full.value.commands).toContain(t);
  });

  it('reads and writes forwarding (always, busy, no answer + seconds) and DND; the PIN hash stays', async () => {
    const f = fakeHost({ pbx: true });
    const parts = withParts(f.host);
    const engine = new PeerEngine(f.host, { log });
    expect(await run(engine, { type: 'settings.get' })).toEqual({
      ok: true,
      value: { dnd: false, forwarding: { always: null, busy: null, noAnswer: null, noAnswerSeconds: 20 } },
    });
    const forwarding = { always: null, busy: '102', noAnswer: '103', noAnswerSeconds: 15 };
    expect(await run(engine, { type: 'settings.set', forwarding })).toEqual({
      ok: true,
      value: { dnd: false, forwarding },
    });
    expect(parts.stored).toEqual({
      dnd: false,
      voicemailPinHash: 'abc',
      forwardBusy: '102',
      forwardNoAnswer: '103',
      noAnswerMs: 15_000,
    });
    // DND goes through presence (it writes USER-SETTINGS.dnd and shows in the directory).
    const r = await run(engine, { type: 'settings.set', dnd: true });
    expect(r.ok && r.value.dnd).toBe(true);
    expect(parts.presenceSet).toEqual(['dnd']);
    // Without presence, USER-SETTINGS is written directly.
    f.host.presence = null;
    await run(engine, { type: 'settings.set', dnd: false });
    expect(parts.stored.dnd).toBe(false);
  });

  it('adds, lists and removes desk-phone accounts', async () => {
    const f = fakeHost({ pbx: true });
    withParts(f.host);
    const engine = new PeerEngine(f.host, { log });
    expect(await run(engine, { type: 'phones.add', extension: '151', password: 'secret-pw' })).toEqual({
      ok: true,
      value: {},
    });
    expect(await run(engine, { type: 'phones.list' })).toEqual({
      ok: true,
      value: {
        phones: [
          { extension: '150', registered: true },
          { extension: '151', registered: false },
        ],
      },
    });
    expect(await run(engine, { type: 'phones.remove', extension: '150' })).toEqual({ ok: true, value: {} });
    expect(await run(engine, { type: 'phones.remove', extension: '150' })).toMatchObject({
      ok: false,
      error: 'not-found',
    });
    const list = await run(engine, { type: 'phones.list' });
    expect(list.ok && list.value.phones.map((p) => p.extension)).toEqual(['151']);
  });

  it('shows the office config to everyone, lets only the admin change it, and keeps what it does not edit', async () => {
    const f = fakeHost({ pbx: true, admin: true });
    const parts = withParts(f.host);
    const engine = new PeerEngine(f.host, { log });
    const got = await run(engine, { type: 'office-config.get' });
    expect(got).toEqual({
      ok: true,
      value: {
        trunks: [{ name: 'carrier', host: 'sip.example', port: 5060, prefix: '9', strip: 1 }],
        routes: [],
        inbound: [{ did: '5551000', target: '101' }],
        ringGroups: [{ extension: '600', members: ['101', '102'], strategy: 'hunt' }],
      },
    });
    if (!got.ok) return;
    const config = {
      ...got.value,
      trunks: [...got.value.trunks, { name: 'backup', host: '10.0.0.9', transport: 'TCP' as const }],
      inbound: [...got.value.inbound, { did: '5551001', target: '600' }],
      ringGroups: got.value.ringGroups.map((g) => ({ ...g, memberTimeoutSeconds: 10 })),
    };
    expect(await run(engine, { type: 'office-config.set', config })).toEqual({ ok: true, value: config });
    expect(parts.plan).toMatchObject({
      extensions: ['101', '102'],
      inbound: { '5551000': '101', '5551001': '600' },
      ringGroups: [
        {
          extension: '600',
          members: ['101', '102'],
          strategy: 'hunt',
          memberTimeoutMs: 10_000,
          fallback: '101',
        },
      ],
    });
    expect(parts.plan.trunks).toHaveLength(2);
    const g = fakeHost({ pbx: true, admin: false });
    withParts(g.host);
    expect(
      await new PeerEngine(g.host, { log }).command({ type: 'office-config.set', config }),
    ).toMatchObject({
      ok: false,
      error: 'not-admin',
    });
  });

  it('unlocks a locked admin PC through the shell (wrong passphrase denied) and says so in the status', async () => {
    const f = fakeHost({ admin: true });
    let locked = true;
    f.host.adminLocked = () => locked;
    const unlocked = fakeHost({ admin: true });
    unlocked.host.adminLocked = () => false;
    const enrollment: EngineEnrollment = {
      create: async () => f.host,
      join: async () => f.host,
      unlock: async (pass) => {
        if (pass !== 'correct horse') throw new Error('the passphrase does not open the office CA key');
        locked = false;
        return unlocked.host;
      },
    };
    const engine = new PeerEngine(f.host, { log, enrollment });
    const status = await run(engine, { type: 'office.status' });
    expect(status.ok && status.value.adminLocked).toBe(true);
    expect(await run(engine, { type: 'admin.unlock', passphrase: 'wrong one!' })).toMatchObject({
      ok: false,
      error: 'denied',
      message: /does not open/,
    });
    const r = await run(engine, { type: 'admin.unlock', passphrase: 'correct horse' });
    expect(r.ok && r.value.adminLocked).toBeUndefined();
    expect(f.closed).toBe(1); // the old host was released for the restarted one
  });

  it('cancels a join that waits for approval', async () => {
    let rejectJoin: (e: Error) => void = () => {};
    const enrollment: EngineEnrollment = {
      create: async () => fakeHost().host,
      join: (_p, onPending) =>
        new Promise((_resolve, reject) => {
          rejectJoin = reject;
          onPending('req-1');
        }),
    };
    const engine = new PeerEngine(null, { log, enrollment });
    const seen = events(engine);
    expect(await run(engine, { type: 'office.cancel-join' })).toMatchObject({
      ok: false,
      error: 'not-found',
    });
    const joined = await run(engine, { type: 'office.join', extension: '104', displayName: 'Dan' });
    expect(joined.ok && joined.value.state).toBe('pending');
    expect(await run(engine, { type: 'office.cancel-join' })).toEqual({ ok: true, value: {} });
    const status = await run(engine, { type: 'office.status' });
    expect(status.ok && status.value.pendingJoin).toBeUndefined();
    expect(
      seen.filter((e) => e.type === 'enrollment').map((e) => e.type === 'enrollment' && e.state),
    ).toEqual(['pending', 'failed']);
    rejectJoin(new Error('timed out waiting for approval')); // the late failure adds nothing
    await new Promise((r) => setTimeout(r, 10));
    expect(seen.filter((e) => e.type === 'enrollment')).toHaveLength(2);
  });
});

describe('PeerEngine voicemail and presence', () => {
  it('lists, plays, marks heard and deletes messages; a new one is an event', async () => {
    const f = fakeHost({ pbx: true });
    const parts = withParts(f.host);
    const engine = new PeerEngine(f.host, { log });
    const seen = events(engine);
    const list = await run(engine, { type: 'voicemail.list' });
    expect(list.ok && list.value.messages).toEqual([
      {
        id: 'm1',
        from: { uri: 'sip:102@acme', extension: '102', displayName: 'Bob' },
        time: 1000,
        duration: 7,
        heard: false,
      },
      { id: 'm2', from: { uri: 'sip:103@acme', extension: '103' }, time: 500, duration: 3.3, heard: true },
    ]);
    const audio = await run(engine, { type: 'voicemail.audio', id: 'm1' });
    expect(audio.ok && Buffer.from(audio.value.base64, 'base64').toString()).toBe('RIFF-m1');
    expect(await run(engine, { type: 'voicemail.mark-heard', id: 'm1' })).toEqual({ ok: true, value: {} });
    expect(parts.messages[0].heard).toBe(true);
    expect(await run(engine, { type: 'voicemail.delete', id: 'm2' })).toEqual({ ok: true, value: {} });
    parts.mailboxEmit({ type: 'changed' }); // e.g. deleted from a desk phone (*97)
    expect(seen.at(-1)).toEqual({
      type: 'voicemail.changed',
      messages: [expect.objectContaining({ id: 'm1', heard: true })],
    });
    expect(await run(engine, { type: 'voicemail.delete', id: 'm2' })).toMatchObject({
      ok: false,
      error: 'not-found',
    });
    parts.mailboxEmit({
      type: 'new',
      message: { id: 'm3', from: '104', time: 2000, duration: 4_000, heard: false },
    });
    expect(seen).toContainEqual({
      type: 'voicemail.new',
      message: {
        id: 'm3',
        from: { uri: 'sip:104', extension: '104' },
        time: 2000,
        duration: 4,
        heard: false,
      },
    });
  });

  it('gets and sets greetings (an invalid WAV is refused), back to the default with null', async () => {
    const f = fakeHost({ pbx: true });
    const parts = withParts(f.host);
    const engine = new PeerEngine(f.host, { log });
    expect(await run(engine, { type: 'greeting.get', kind: 'busy' })).toEqual({
      ok: true,
      value: { base64: null },
    });
    const wav = Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(96, 7)]).toString('base64');
    expect(await run(engine, { type: 'greeting.set', kind: 'busy', base64: wav })).toEqual({
      ok: true,
      value: {},
    });
    expect(await run(engine, { type: 'greeting.get', kind: 'busy' })).toEqual({
      ok: true,
      value: { base64: wav },
    });
    const junk = Buffer.alloc(100, 1).toString('base64');
    expect(await run(engine, { type: 'greeting.set', kind: 'busy', base64: junk })).toMatchObject({
      ok: false,
      error: 'invalid',
      message: 'not a WAV file',
    });
    await run(engine, { type: 'greeting.set', kind: 'busy', base64: null });
    expect(parts.greetings.has('busy')).toBe(false);
  });

  it('sets own presence (event), and shows others live from their PRESENCE watch', async () => {
    const f = fakeHost({ pbx: true });
    const parts = withParts(f.host);
    const engine = new PeerEngine(f.host, { log });
    const seen = events(engine);
    await new Promise((r) => setTimeout(r, 0));
    const members = await run(engine, { type: 'members.list' });
    expect(members.ok && members.value.members.find((m) => m.extension === '102')?.presence.state).toBe(
      'away',
    );
    parts.watchers.get('102')?.({ state: 'on-call', since: 9 });
    expect(seen).toContainEqual({
      type: 'presence.changed',
      extension: '102',
      presence: { state: 'on-call', since: 9 },
    });
    const set = await run(engine, { type: 'presence.set', state: 'dnd', note: 'focus' });
    expect(set).toEqual({ ok: true, value: { state: 'dnd', note: 'focus', since: 2 } });
    expect(seen).toContainEqual({
      type: 'presence.changed',
      extension: '101',
      presence: { state: 'dnd', note: 'focus', since: 2 },
    });
    const status = await run(engine, { type: 'office.status' });
    expect(status.ok && status.value.presence?.state).toBe('dnd');
    engine.close();
    expect(parts.watchers.size).toBe(0);
  });
});
