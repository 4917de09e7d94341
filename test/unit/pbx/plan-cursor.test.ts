import { describe, expect, it } from 'vitest';
import type { Address } from '../../../src/core/net.ts';
import { PlanCursor, type Stage, toLookupResult } from '../../../src/core/pbx/plan-cursor.ts';
import { type LookupResult, PbxProxy } from '../../../src/core/pbx/proxy.ts';
import type { RegistrationContact } from '../../../src/core/pbx/registration-record.ts';
import { type DialPlanConfig, planCall } from '../../../src/core/pbx/routing-plan.ts';
import type { UserSettingsData } from '../../../src/core/records/kinds.ts';
import type { SipResponse, SipUri } from '../../../src/core/sip/message.ts';
import type { UserAgentCore } from '../../../src/core/sip/ua/core.ts';
import { Sim, type SimNode } from './sim.ts';

const CFG: DialPlanConfig = {
  extensions: ['101', '104', '105', '106'],
  ringGroups: [
    { extension: '600', members: ['101', '104'], strategy: 'hunt', memberTimeoutMs: 5000, fallback: '105' },
  ],
  trunks: [
    {
      name: 't',
      prefix: '9',
      strip: 1,
      host: '192.0.2.50',
      port: 5080,
      username: 'office',
      password: 's3cret',
    },
  ],
};
const SETTINGS: Record<string, UserSettingsData> = {
  '104': { dnd: false, forwardBusy: '105' },
  '106': { dnd: true },
};
const settingsOf = (e: string) => SETTINGS[e];

describe('PlanCursor', () => {
  it('extension: ring, then voicemail on no answer', () => {
    const c = new PlanCursor(planCall('101', CFG, settingsOf));
    expect(c.first()).toMatchObject({ type: 'ring', index: 0, more: true });
    expect(c.next(408)).toEqual({ type: 'voicemail', extension: '101' });
  });

  it('busy with forward-busy: a forward one level deeper', () => {
    const c = new PlanCursor(planCall('104', CFG, settingsOf), 2);
    c.first();
    expect(c.next(486)).toEqual({ type: 'forward', target: '105', depth: 3 });
  });

  it('hunt group: member after member, then the group fallback', () => {
    const c = new PlanCursor(planCall('600', CFG, settingsOf));
    const s0 = c.first() as Extract<Stage, { type: 'ring' }>;
    expect(s0.step.targets).toEqual([{ type: 'extension', extension: '101' }]);
    expect(c.next(486)).toMatchObject({ type: 'ring', index: 1, step: { targets: [{ extension: '104' }] } });
    expect(c.next(408)).toEqual({ type: 'forward', target: '105', depth: 1 });
  });

  it('DND diverts at once; unknown numbers and trunks', () => {
    expect(new PlanCursor(planCall('106', CFG, settingsOf)).first()).toEqual({
      type: 'voicemail',
      extension: '106',
    });
    expect(new PlanCursor(planCall('77', CFG, settingsOf)).first()).toMatchObject({
      type: 'reject',
      status: 404,
    });
    const trunk = new PlanCursor(planCall('9555', CFG, settingsOf));
    // A trunk plan has nothing after it: the proxy answers the caller itself.
    expect(trunk.first()).toMatchObject({ type: 'ring', more: false });
    expect(trunk.next(486)).toEqual({ type: 'reject', status: 486 });
  });

  it('toLookupResult: every live contact, trunk targets with their address', () => {
    const c = new PlanCursor(planCall('101', CFG, settingsOf));
    const s = c.first() as Extract<Stage, { type: 'ring' }>;
    const contacts: RegistrationContact[] = [
      { uri: 'sip:101@10.0.0.5:5070', expires: 1e12, nodeId: 'a', deskPhone: false },
      { uri: 'sip:101@10.0.0.6;transport=tcp', expires: 1e12, nodeId: 'b', deskPhone: false },
      { uri: 'sip:not a uri', expires: 1e12, nodeId: 'c', deskPhone: false },
    ];
    const r = toLookupResult(s, () => contacts);
    expect(r).toMatchObject({ type: 'fork', timeoutMs: 20_000, fallback: true });
    expect(r.type === 'fork' && r.targets.map((t) => t.address)).toEqual([
      { transport: 'UDP', host: '10.0.0.5', port: 5070 },
      { transport: 'TCP', host: '10.0.0.6', port: 5060 },
    ]);
    const t = new PlanCursor(planCall('9555', CFG, settingsOf)).first() as Extract<Stage, { type: 'ring' }>;
    const tr = toLookupResult(t, () => []);
    expect(tr.type === 'fork' && tr.targets[0].address).toEqual({
      transport: 'UDP',
      host: '192.0.2.50',
      port: 5080,
    });
    expect(tr.type === 'fork' && tr.targets[0].uri.user).toBe('555');
    expect(tr.type === 'fork' && tr.targets[0].credentials).toEqual({
      username: 'office',
      password: 's3cret',
    });
  });
});

describe('coordinator loop: proxy + plan cursor', () => {
  type Phone = SimNode<UserAgentCore> & { uri: SipUri };
  const PROXY: Address = { transport: 'UDP', host: '10.0.0.1', port: 5060 };

  /** A minimal coordinator: need-lookup -> plan -> stages; contacts from a table (the "overlay"). */
  function office(sim: Sim, registered: Record<string, Phone[]>, voicemail: Phone) {
    let n = 0;
    const proxy = new PbxProxy({ host: '10.0.0.1', port: 5060, transport: 'UDP' }, () => `p${++n}`);
    const px = sim.add('proxy', proxy, PROXY);
    const cursors = new Map<string, PlanCursor>();
    const toContact = (p: Phone): RegistrationContact => ({
      uri: `sip:${p.uri.user}@${p.uri.host}:5060`,
      expires: 1e12,
      nodeId: 'n',
      deskPhone: false,
    });
    const resolve = (id: string, stage: Stage): LookupResult => {
      switch (stage.type) {
        case 'ring':
          return toLookupResult(stage, (ext) => (registered[ext] ?? []).map(toContact));
        case 'forward': {
          const c = new PlanCursor(
            planCall(stage.target, CFG, settingsOf, { depth: stage.depth }),
            stage.depth,
          );
          cursors.set(id, c);
          return resolve(id, c.first());
        }
        case 'voicemail':
          return { type: 'fork', targets: [{ uri: voicemail.uri, address: voicemail.addr }] };
        default:
          return { type: 'reject', status: stage.type === 'reject' ? stage.status : 501 };
      }
    };
    px.onEvent = (e) => {
      if (e.type !== 'need-lookup') return;
      const ev = e as unknown as { id: string; user: string; previous?: { status: number } };
      let stage: Stage;
      if (!ev.previous) {
        const c = new PlanCursor(planCall(ev.user, CFG, settingsOf));
        cursors.set(ev.id, c);
        stage = c.first();
      } else stage = (cursors.get(ev.id) as PlanCursor).next(ev.previous.status);
      proxy.lookupResult(ev.id, resolve(ev.id, stage), sim.now);
    };
    return { px };
  }

  function behave(sim: Sim, p: Phone, action: 'answer' | number): void {
    p.onEvent = (e) => {
      if (e.type !== 'incoming-call') return;
      const call = e.call as string;
      p.machine.ringing(call, sim.now);
      sim.at(sim.now + 200, (now) => {
        if (action === 'answer') p.machine.accept(call, null, now);
        else p.machine.reject(call, action, now);
        sim.collect();
      });
    };
  }

  const target = (user: string): SipUri => ({
    scheme: 'sip',
    user,
    password: null,
    host: '10.0.0.1',
    port: 5060,
    params: {},
    headers: {},
  });

  it('104 busy forwards to 105, who answers', () => {
    const sim = new Sim();
    const p104 = sim.phone('104', 41) as Phone;
    const p105 = sim.phone('105', 51) as Phone;
    const vm = sim.phone('vm', 99) as Phone;
    office(sim, { '104': [p104], '105': [p105] }, vm);
    const caller = sim.phone('a', 10) as Phone;
    behave(sim, p104, 486);
    behave(sim, p105, 'answer');
    sim.act((now) => caller.machine.call(target('104'), null, now));
    sim.run(10_000);
    expect(sim.eventsOf(caller, 'call-answered')).toHaveLength(1);
    expect(sim.eventsOf(p104, 'call-ended')[0]).toMatchObject({ reason: 'declined' });
    expect(sim.eventsOf(p105, 'incoming-call')).toHaveLength(1);
    expect(sim.eventsOf(vm, 'incoming-call')).toHaveLength(0);
  });

  it('an offline extension goes straight to voicemail (empty ring stage, fallback)', () => {
    const sim = new Sim();
    const vm = sim.phone('vm', 99) as Phone;
    const { px } = office(sim, {}, vm);
    behave(sim, vm, 'answer');
    const caller = sim.phone('a', 10) as Phone;
    sim.act((now) => caller.machine.call(target('101'), null, now));
    sim.run(10_000);
    expect(sim.eventsOf(caller, 'call-answered')).toHaveLength(1);
    expect(sim.eventsOf(vm, 'incoming-call')).toHaveLength(1);
    const finals = sim.sent.filter(
      (s) => s.from === 'proxy' && s.message.type === 'response' && s.message.status >= 200,
    );
    expect(finals.map((s) => (s.message as SipResponse).status)).toEqual([200]);
    expect(sim.eventsOf(px, 'need-lookup')).toHaveLength(2);
  });
});
