// Desk phones at their gateway peer (issue 6): a raw SIP phone registers with digest at gateway G as
// 201, subscribes through G's proxy to the dialog package of 102 (another PC) and gets NOTIFYs with
// dialog-info+xml as 102 rings, answers and hangs up (BLF); subscribes to its own message-summary
// and gets Messages-Waiting: yes once a VOICEMAIL entry for 201 is stored (MWI lamp). Refreshes,
// unsubscribes and bad SUBSCRIBEs (other mailbox 403, unknown package 489) too.
import { afterAll, describe, expect, it } from 'vitest';
import { parseDialogInfo, parseMessageSummary } from '../../src/core/sip/events/index.ts';
import { getHeader } from '../../src/core/sip/message.ts';
import { killAll, waitFor } from '../helpers/processes.ts';
import { request, statusOf, udpExchange } from '../helpers/raw-sip.ts';
import { RawDeskPhone } from './desk-phone.ts';
import { enrolledFolders, nextEvent, type PresencePeer, startOffice } from './harness.ts';

describe('desk phone BLF (dialog) and MWI (message-summary) at the gateway peer', () => {
  const folders = enrolledFolders(['101', '102']);
  const peers: PresencePeer[] = [];
  let phone: RawDeskPhone | null = null;
  let other: RawDeskPhone | null = null;
  afterAll(async () => {
    phone?.close();
    other?.close();
    await Promise.allSettled(peers.map((p) => p.request({ op: 'stop' }, 5000)));
    await killAll();
    folders.cleanup();
  });

  it('notifies dialog state changes and the message-waiting lamp', async () => {
    const [g, b] = await startOffice(
      folders.dirs,
      [
        {
          name: 'g',
          extension: '101',
          deskPhones: [
            { extension: '201', password: 'secret-201' },
            { extension: '202', password: 'secret-202' },
          ],
        },
        { name: 'b', extension: '102' },
      ],
      peers,
    );

    /** A raw desk phone of account `user` registered (digest) at G. */
    const registered = async (user: string) => {
      const p = await RawDeskPhone.start({
        user,
        password: `secret-${user}`,
        domain: 'office',
        proxyPort: Number(g.ready.sipPort),
      });
      expect((await p.register()).status).toBe(200);
      return p;
    };
    phone = await registered('201');

    // --- BLF: dialog package for 102 ---
    const { response, sub } = await phone.subscribe('102', 'dialog');
    expect(response.status).toBe(200);
    expect(getHeader(response, 'Expires')).toBe('600');
    const dialogNotifies = () => phone?.notifiesOf(sub.callId) ?? [];
    const dialogs = (i: number) => {
      const d = parseDialogInfo(dialogNotifies()[i].body);
      if (!d.ok) throw new Error(d.error);
      return d.value;
    };
    await waitFor('first dialog NOTIFY', () => dialogNotifies().length >= 1);
    expect(dialogNotifies()[0].state).toMatch(/^active;expires=\d+/);
    expect(dialogs(0)).toMatchObject({ version: 0, state: 'full', entity: 'sip:102@office', dialogs: [] });

    const latency: Record<string, number> = {};
    /** Waits for a NOTIFY whose dialog state is `state`; returns its index. */
    const notifyWith = async (state: string, t0: number, label: string) => {
      const i = await waitFor(
        `NOTIFY with ${state}`,
        () => {
          const k = dialogNotifies().findIndex((_, j) => dialogs(j).dialogs[0]?.state === state);
          return k >= 0 ? k + 1 : null;
        },
        10_000,
      );
      latency[label] = dialogNotifies()[i - 1].t - t0;
      return i - 1;
    };

    const bMark = b.events.length;
    await g.request({ op: 'dial', target: '102' });
    const incoming = await nextEvent(b, 'pbx', { type: 'incoming' }, { after: bMark });
    const early = await notifyWith('early', Number(incoming.t), 'ringing -> early');
    await b.request({ op: 'answer', call: incoming.call });
    const answered = await nextEvent(b, 'pbx', { type: 'answered', call: incoming.call });
    const confirmed = await notifyWith('confirmed', Number(answered.t), 'answered -> confirmed');
    await b.request({ op: 'hangup', call: incoming.call });
    const ended = await nextEvent(b, 'pbx', { type: 'ended', call: incoming.call });
    const terminated = await notifyWith('terminated', Number(ended.t), 'hang-up -> terminated');
    // One call is one dialog id; versions count up on the subscription.
    expect(dialogs(confirmed).dialogs[0].id).toBe(dialogs(early).dialogs[0].id);
    expect(dialogs(terminated).dialogs[0].id).toBe(dialogs(early).dialogs[0].id);
    const versions = dialogNotifies().map((_, i) => dialogs(i).version);
    expect(versions).toEqual(versions.map((_, i) => i));
    console.log(`BLF NOTIFY latency (ms): ${JSON.stringify(latency)}`);
    for (const v of Object.values(latency)) expect(v).toBeLessThan(2500);

    // A refresh gets 200 and a NOTIFY with the current state.
    const before = dialogNotifies().length;
    expect((await phone.refresh(sub, 300)).status).toBe(200);
    await waitFor('NOTIFY after refresh', () => dialogNotifies().length > before);
    expect(dialogNotifies()[before].state).toMatch(/^active;expires=(300|299)/);

    // --- MWI: message-summary for the phone's own box ---
    const mwi = await phone.subscribe('201', 'message-summary');
    expect(mwi.response.status).toBe(200);
    const summaries = () =>
      (phone?.notifiesOf(mwi.sub.callId) ?? []).map((n) => {
        const s = parseMessageSummary(n.body);
        if (!s.ok) throw new Error(s.error);
        return s.value;
      });
    await waitFor('first message-summary NOTIFY', () => summaries().length >= 1);
    expect(summaries()[0].waiting).toBe(false);
    const t0 = Date.now();
    await g.request({ op: 'deposit', extension: '201' });
    const lit = await waitFor('Messages-Waiting: yes', () => summaries().find((s) => s.waiting), 10_000);
    console.log(`MWI NOTIFY ${Date.now() - t0} ms after the deposit request`);
    expect(lit.classes['voice-message']).toEqual({ newMessages: 1, oldMessages: 0 });
    expect(lit.account).toBe('sip:201@office');

    // --- refused SUBSCRIBEs ---
    expect((await phone.subscribe('102', 'message-summary')).response.status).toBe(403);
    const bad = await phone.subscribe('102', 'presence');
    expect(bad.response.status).toBe(489);
    expect(getHeader(bad.response, 'Allow-Events')).toContain('dialog');
    // Straight to the notifier's port, past the proxy's digest: refused.
    const events = await g.request({ op: 'events' });
    expect(events.subscriptions).toBe(2);
    const notifierPort = (events.address as { port: number }).port;
    const direct = await udpExchange(
      notifierPort,
      request('SUBSCRIBE', '102', notifierPort, 'UDP', 'Event: dialog'),
    );
    expect(direct.map(statusOf)).toEqual([403]);

    // --- BLF of another desk phone of this gateway: it publishes no PRESENCE, its calls tell ---
    other = await registered('202');
    const blf202 = await phone.subscribe('202', 'dialog');
    expect(blf202.response.status).toBe(200);
    const states202 = () =>
      (phone?.notifiesOf(blf202.sub.callId) ?? []).map((n) => {
        const d = parseDialogInfo(n.body);
        if (!d.ok) throw new Error(d.error);
        return d.value.dialogs[0]?.state ?? 'idle';
      });
    await waitFor('first NOTIFY for 202', () => states202().length >= 1);
    await g.request({ op: 'dial', target: '202' }); // 202 rings, then declines (486)
    await waitFor('202 rings and stops', () => states202().includes('terminated'), 10_000);
    expect(other.invites).toBe(1);
    expect(states202()).toEqual(['idle', 'early', 'terminated']);

    // --- unsubscribe all: 200, terminated NOTIFY, nothing left at the gateway ---
    for (const s of [sub, mwi.sub, blf202.sub]) {
      const n = phone.notifiesOf(s.callId).length;
      expect((await phone.refresh(s, 0)).status).toBe(200);
      await waitFor('terminated NOTIFY', () => phone?.notifiesOf(s.callId)[n]);
      expect(phone.notifiesOf(s.callId)[n].state).toBe('terminated;reason=timeout');
    }
    expect((await g.request({ op: 'events' })).subscriptions).toBe(0);
  }, 90_000);
});
