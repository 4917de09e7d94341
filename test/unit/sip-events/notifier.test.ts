import { describe, expect, it } from 'vitest';
import type { Address } from '../../../src/core/net.ts';
import { createResponse } from '../../../src/core/sip/build.ts';
import {
  dialogPackage,
  messageSummaryPackage,
  type NotifierEffect,
  type NotifierEvent,
  parseDialogInfo,
  parseMessageSummary,
  parseSubscriptionState,
  SubscriptionNotifier,
} from '../../../src/core/sip/events/index.ts';
import { bodyText, getHeader, type SipRequest, type SipResponse } from '../../../src/core/sip/message.ts';
import { parseMessage } from '../../../src/core/sip/parse.ts';

const PHONE: Address = { transport: 'UDP', host: '10.0.0.9', port: 5062 };

let branch = 0;
function subscribe(o: {
  event?: string | null;
  expires?: string | null;
  toTag?: string;
  cseq?: number;
  user?: string;
  callId?: string;
  accept?: string;
}): SipRequest {
  const lines = [
    `SUBSCRIBE sip:${o.user ?? '102'}@10.0.0.1:5070 SIP/2.0`,
    `Via: SIP/2.0/UDP 10.0.0.9:5062;branch=z9hG4bK-t${++branch}`,
    'Max-Forwards: 70',
    '<sip:101@office>;tag=ft1'.replace(/^/, 'From: '),
    `To: <sip:${o.user ?? '102'}@office>${o.toTag ? `;tag=${o.toTag}` : ''}`,
    `Call-ID: ${o.callId ?? 'cid1'}`,
    `CSeq: ${o.cseq ?? 1} SUBSCRIBE`,
    'Contact: <sip:101@10.0.0.9:5062>',
  ];
  if (o.event !== null) lines.push(`Event: ${o.event ?? 'dialog'}`);
  if (o.expires !== null) lines.push(`Expires: ${o.expires ?? '600'}`);
  if (o.accept) lines.push(`Accept: ${o.accept}`);
  lines.push('Content-Length: 0', '', '');
  const p = parseMessage(lines.join('\r\n'));
  if (!p.ok || p.message.type !== 'request') throw new Error('test SUBSCRIBE did not parse');
  return p.message;
}

class Rig {
  now = 1_000_000;
  seq = 0;
  readonly events: NotifierEvent[] = [];
  readonly timers = new Map<string, number>();
  readonly n = new SubscriptionNotifier(
    {
      host: '10.0.0.1',
      port: 5070,
      transport: 'UDP',
      packages: [dialogPackage, messageSummaryPackage],
      minExpires: 60,
      maxExpires: 3600,
      authorize: (req, pkg) =>
        req.from.uri.user === 'mallory'
          ? { ok: false, status: 403, reason: 'Forbidden' }
          : { ok: true, resource: `${pkg}:${req.uri.user}` },
    },
    () => `r${++this.seq}`,
  );

  /** Feeds a request, returns the messages the notifier transmitted. */
  send(req: SipRequest): { responses: SipResponse[]; notifies: SipRequest[] } {
    this.n.receive(req, PHONE, this.now);
    return this.collect();
  }

  collect(): { responses: SipResponse[]; notifies: SipRequest[] } {
    const responses: SipResponse[] = [];
    const notifies: SipRequest[] = [];
    for (const e of this.n.drain() as NotifierEffect[]) {
      if (e.type === 'transmit') {
        if (e.message.type === 'response') responses.push(e.message);
        else notifies.push(e.message);
      } else if (e.type === 'set-timer') this.timers.set(e.id, e.at);
      else if (e.type === 'cancel-timer') this.timers.delete(e.id);
      else this.events.push(e);
    }
    return { responses, notifies };
  }

  /** The phone answers a NOTIFY. */
  answer(notify: SipRequest, status = 200): { responses: SipResponse[]; notifies: SipRequest[] } {
    this.n.receive(createResponse(notify, status), PHONE, this.now);
    return this.collect();
  }

  fire(id: string): { responses: SipResponse[]; notifies: SipRequest[] } {
    this.now = this.timers.get(id) ?? this.now;
    this.timers.delete(id);
    this.n.timerFired(id, this.now);
    return this.collect();
  }

  setState(pkg: string, resource: string, state: unknown) {
    this.n.setState(pkg, resource, state, this.now);
    return this.collect();
  }
}

function dialogBody(notify: SipRequest) {
  const d = parseDialogInfo(bodyText(notify));
  if (!d.ok) throw new Error(d.error);
  return d.value;
}

function subState(notify: SipRequest) {
  const s = parseSubscriptionState(getHeader(notify, 'Subscription-State'));
  if (!s.ok) throw new Error(s.error);
  return s.value;
}

describe('SubscriptionNotifier (RFC 6665 notifier)', () => {
  it('accepts a dialog SUBSCRIBE: 200 with a To tag, then NOTIFY with full state, version counting up', () => {
    const rig = new Rig();
    const first = rig.send(subscribe({}));
    expect(first.responses.map((r) => r.status)).toEqual([200]);
    const ok = first.responses[0];
    expect(ok.to.params.tag).toBeTruthy();
    expect(getHeader(ok, 'Expires')).toBe('600');
    expect(rig.events).toContainEqual({ type: 'watch', package: 'dialog', resource: 'dialog:102' });
    expect(first.notifies).toHaveLength(1);
    const n0 = first.notifies[0];
    expect(n0.uri.host).toBe('10.0.0.9'); // the subscriber's Contact
    expect(getHeader(n0, 'Event')).toBe('dialog');
    expect(subState(n0)).toMatchObject({ state: 'active', expires: 600 });
    expect(n0.from.params.tag).toBe(ok.to.params.tag);
    expect(dialogBody(n0)).toMatchObject({
      version: 0,
      state: 'full',
      entity: 'sip:102@office',
      dialogs: [],
    });

    // Ringing while the first NOTIFY is unanswered: held back, then sent once answered.
    expect(rig.setState('dialog', 'dialog:102', { id: 'd1', state: 'early' }).notifies).toHaveLength(0);
    const n1 = rig.answer(n0).notifies;
    expect(n1).toHaveLength(1);
    expect(dialogBody(n1[0])).toMatchObject({ version: 1, dialogs: [{ id: 'd1', state: 'early' }] });
    expect(n1[0].cseq.seq).toBe(n0.cseq.seq + 1);

    // Two changes while one NOTIFY is in flight collapse into one with the latest state.
    rig.answer(n1[0]);
    const n2 = rig.setState('dialog', 'dialog:102', { id: 'd1', state: 'confirmed' }).notifies;
    rig.setState('dialog', 'dialog:102', { id: 'd1', state: 'terminated' });
    rig.setState('dialog', 'dialog:102', null);
    const n3 = rig.answer(n2[0]).notifies;
    expect(dialogBody(n2[0]).dialogs).toEqual([{ id: 'd1', state: 'confirmed', direction: 'recipient' }]);
    expect(n3).toHaveLength(1);
    expect(dialogBody(n3[0])).toMatchObject({ version: 3, dialogs: [] });
    // The same state again sends nothing.
    rig.answer(n3[0]);
    expect(rig.setState('dialog', 'dialog:102', null).notifies).toHaveLength(0);
  });

  it('sends no NOTIFY for a state that renders the same (first state known after the first NOTIFY)', () => {
    const rig = new Rig();
    const { notifies } = rig.send(subscribe({}));
    rig.answer(notifies[0]);
    expect(rig.setState('dialog', 'dialog:102', null).notifies).toEqual([]);
    const ringing = rig.setState('dialog', 'dialog:102', { id: 'x', state: 'early' }).notifies;
    expect(dialogBody(ringing[0])).toMatchObject({ version: 1, dialogs: [{ id: 'x', state: 'early' }] });
  });

  it('refreshes, then unsubscribes with Expires: 0 (terminated NOTIFY, unwatch); later refreshes get 481', () => {
    const rig = new Rig();
    const { responses, notifies } = rig.send(subscribe({}));
    const tag = String(responses[0].to.params.tag);
    rig.answer(notifies[0]);
    const refresh = rig.send(subscribe({ toTag: tag, cseq: 2, expires: '7200' }));
    expect(refresh.responses[0].status).toBe(200);
    expect(getHeader(refresh.responses[0], 'Expires')).toBe('3600'); // capped at maxExpires
    expect(subState(refresh.notifies[0])).toMatchObject({ state: 'active', expires: 3600 });
    rig.answer(refresh.notifies[0]);
    // A CSeq going backwards is refused.
    expect(rig.send(subscribe({ toTag: tag, cseq: 2 })).responses[0].status).toBe(500);

    const bye = rig.send(subscribe({ toTag: tag, cseq: 3, expires: '0' }));
    expect(bye.responses[0].status).toBe(200);
    expect(subState(bye.notifies[0])).toMatchObject({ state: 'terminated', reason: 'timeout' });
    expect(rig.events).toContainEqual({ type: 'unwatch', package: 'dialog', resource: 'dialog:102' });
    expect(rig.n.size).toBe(0);
    expect(rig.send(subscribe({ toTag: tag, cseq: 4 })).responses[0].status).toBe(481);
  });

  it('expires a subscription nobody refreshes: timer effect, terminated;reason=timeout', () => {
    const rig = new Rig();
    const { notifies } = rig.send(subscribe({ expires: '120' }));
    rig.answer(notifies[0]);
    const timer = [...rig.timers.keys()].find((k) => k.startsWith('sub/'));
    expect(timer).toBeDefined();
    expect(rig.timers.get(timer as string)).toBe(rig.now + 120_000);
    const end = rig.fire(timer as string);
    expect(subState(end.notifies[0])).toMatchObject({ state: 'terminated', reason: 'timeout' });
    expect(rig.n.size).toBe(0);
    expect(rig.n.watched()).toEqual([]);
  });

  it('a NOTIFY answered 481 removes the subscription', () => {
    const rig = new Rig();
    const { notifies } = rig.send(subscribe({}));
    rig.answer(notifies[0], 481);
    expect(rig.n.size).toBe(0);
    expect(rig.events.some((e) => e.type === 'warning' && /NOTIFY refused/.test(e.message))).toBe(true);
    expect(rig.events).toContainEqual({ type: 'unwatch', package: 'dialog', resource: 'dialog:102' });
  });

  it('refuses bad SUBSCRIBEs with the right status and a warning each', () => {
    const cases: Array<[Parameters<typeof subscribe>[0], number]> = [
      [{ event: 'presence' }, 489],
      [{ event: null }, 400],
      [{ event: ';;;' }, 400],
      [{ expires: '10' }, 423],
      [{ expires: 'soon' }, 400],
      [{ accept: 'application/pidf+xml' }, 406],
      [{ toTag: 'nosuch', cseq: 2 }, 481],
    ];
    for (const [o, status] of cases) {
      const rig = new Rig();
      const { responses, notifies } = rig.send(subscribe(o));
      expect(
        responses.map((r) => r.status),
        JSON.stringify(o),
      ).toEqual([status]);
      expect(notifies).toEqual([]);
      expect(rig.events.filter((e) => e.type === 'warning')).toHaveLength(1);
      if (status === 489) expect(getHeader(responses[0], 'Allow-Events')).toBe('dialog, message-summary');
      if (status === 423) expect(getHeader(responses[0], 'Min-Expires')).toBe('60');
      expect(rig.n.size).toBe(0);
    }
    const rig = new Rig();
    const req = subscribe({});
    req.from.uri.user = 'mallory';
    expect(rig.send(req).responses[0].status).toBe(403);
  });

  it('serves message-summary with Messages-Waiting and counts; a fetch (Expires: 0) ends at once', () => {
    const rig = new Rig();
    const { notifies } = rig.send(subscribe({ event: 'message-summary', user: '101' }));
    const before = parseMessageSummary(bodyText(notifies[0]));
    expect(before.ok && before.value.waiting).toBe(false);
    expect(getHeader(notifies[0], 'Content-Type')).toBe('application/simple-message-summary');
    rig.answer(notifies[0]);
    const n = rig.setState('message-summary', 'message-summary:101', {
      account: 'sip:101@office',
      newMessages: 2,
      oldMessages: 5,
    }).notifies;
    const after = parseMessageSummary(bodyText(n[0]));
    expect(after).toEqual({
      ok: true,
      value: {
        waiting: true,
        account: 'sip:101@office',
        classes: { 'voice-message': { newMessages: 2, oldMessages: 5 } },
      },
    });

    const fetch = new Rig().send(subscribe({ event: 'message-summary', expires: '0', callId: 'f' }));
    expect(fetch.responses[0].status).toBe(200);
    expect(subState(fetch.notifies[0]).state).toBe('terminated');
  });

  it('ends every subscription on terminateAll (shutdown)', () => {
    const rig = new Rig();
    rig.send(subscribe({ callId: 'a' }));
    const b = rig.send(subscribe({ callId: 'b', user: '103' }));
    rig.answer(b.notifies[0]);
    const out = rig.n;
    out.terminateAll('deactivated', rig.now);
    const { notifies } = rig.collect();
    // 'a' still waits for its first NOTIFY's answer; 'b' is told at once.
    expect(notifies.map((x) => subState(x).reason)).toEqual(['deactivated']);
    expect(out.watched()).toEqual([]);
  });
});
