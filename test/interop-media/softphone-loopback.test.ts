// Two SoftPhones call each other over loopback with PCMA: the call connects, each side's tone
// arrives at the other (Goertzel), digits cross as RFC 4733 events, hold stops the media toward
// the holder and resume restores it, and hang-up ends both sides with media cleaned up.
import { afterEach, describe, expect, it } from 'vitest';
import type { Logger } from '../../src/main/log.ts';
import { ToneProbe } from '../../src/main/media/sinks.ts';
import { logPhoneEvents } from '../../src/main/phone/log-events.ts';
import { SoftPhone } from '../../src/main/phone/soft-phone.ts';

const phones: SoftPhone[] = [];
afterEach(async () => {
  await Promise.all(phones.splice(0).map((p) => p.close()));
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('SoftPhone to SoftPhone on loopback', () => {
  it('connects with PCMA, carries both tones, DTMF, hold/resume, and hangs up cleanly', async () => {
    const probes = { a: new ToneProbe(500), b: new ToneProbe(500) };
    const a = await SoftPhone.start({
      user: 'alice',
      codecs: ['PCMA'],
      toneHz: 440,
      rtpPorts: { min: 31000, max: 31099 },
      sinks: () => [probes.a],
    });
    const b = await SoftPhone.start({
      user: 'bob',
      codecs: ['PCMA', 'PCMU'],
      autoAnswer: true,
      answerDelayMs: 50,
      toneHz: 1000,
      rtpPorts: { min: 31000, max: 31099 },
      sinks: () => [probes.b],
    });
    phones.push(a, b);
    const ringing = a.next('ringing');
    const answered = a.next('answered');
    const bAnswered = b.next('answered');
    const id = await a.call(b.uri);
    await ringing;
    const ans = await answered;
    expect(ans.remote.codec.name).toBe('PCMA');
    const bCall = (await bAnswered).call;
    await sleep(1200);
    expect(probes.a.strength(1000)).toBeGreaterThan(0.8);
    expect(probes.a.strength(700)).toBeLessThan(0.05);
    expect(probes.b.strength(440)).toBeGreaterThan(0.8);
    expect(probes.b.strength(1000)).toBeLessThan(0.05);

    // DTMF both ways.
    const got: string[] = [];
    b.on((e) => {
      if (e.type === 'dtmf') got.push(e.digit);
    });
    expect(a.sendDtmf(id, '19#')).toBe(3);
    const back = a.next('dtmf');
    b.sendDtmf(bCall, '*');
    expect((await back).digit).toBe('*');
    await sleep(800);
    expect(got).toEqual(['1', '9', '#']);

    // Hold: a sends sendonly, b answers recvonly and stops sending to a.
    const bUpdated = b.next('media-updated');
    expect(await a.hold(id)).toBe(true);
    const upd = await bUpdated;
    expect(upd).toMatchObject({ sending: false, receiving: true, remoteHold: true });
    await sleep(200);
    const rxAtHold = a.mediaStats(id)!.packetsReceived;
    const bRxAtHold = b.mediaStats(bCall)!.packetsReceived;
    await sleep(600);
    expect(a.mediaStats(id)!.packetsReceived).toBe(rxAtHold);
    expect(b.mediaStats(bCall)!.packetsReceived).toBeGreaterThan(bRxAtHold + 20);
    expect(await a.resume(id)).toBe(true);
    await sleep(600);
    expect(a.mediaStats(id)!.packetsReceived).toBeGreaterThan(rxAtHold + 20);

    // Inactive hold: nothing flows either way; b's answer says inactive too.
    const bInactive = b.next('media-updated');
    const aInactive = a.next('media-updated');
    expect(await a.hold(id, 'inactive')).toBe(true);
    expect(await bInactive).toMatchObject({ sending: false, receiving: false, remoteHold: true });
    expect(await aInactive).toMatchObject({ sending: false, receiving: false, held: true });
    await sleep(200);
    const [sa, sb] = [a.mediaStats(id)!, b.mediaStats(bCall)!];
    await sleep(500);
    expect(a.mediaStats(id)!.packetsSent).toBe(sa.packetsSent);
    expect(b.mediaStats(bCall)!.packetsSent).toBe(sb.packetsSent);
    expect(await a.resume(id)).toBe(true);
    await sleep(400);
    expect(b.mediaStats(bCall)!.packetsReceived).toBeGreaterThan(sb.packetsReceived + 10);

    const aEnded = a.next('ended');
    const bEnded = b.next('ended');
    a.hangup(id);
    const [ea, eb] = await Promise.all([aEnded, bEnded]);
    expect(ea.reason).toBe('local-bye');
    expect(eb.reason).toBe('remote-bye');
    expect(ea.stats!.packetsSent).toBeGreaterThan(80);
    expect(ea.stats!.lost).toBe(0);
    expect(a.activeCalls).toEqual([]);
    expect(b.activeCalls).toEqual([]);
    expect(a.rtpPortsInUse + b.rtpPortsInUse).toBe(0);
  });
});

describe('SoftPhone ringing, manual answer and cancel', () => {
  it('rings without auto-answer, answers on command, reports media stats', async () => {
    const a = await SoftPhone.start({ rtpPorts: { min: 31000, max: 31099 }, toneHz: 500 });
    const b = await SoftPhone.start({ rtpPorts: { min: 31000, max: 31099 }, statsIntervalMs: 300 });
    phones.push(a, b);
    const lines: Array<[string, Record<string, unknown>]> = [];
    const capture = (m: string, f?: Record<string, unknown>) => lines.push([m, f ?? {}]);
    const log: Logger = { debug: capture, info: capture, warn: capture, error: capture, child: () => log };
    logPhoneEvents(b, log);
    const incoming = b.next('incoming');
    const ringing = a.next('ringing');
    const id = await a.call(b.uri);
    const inc = await incoming;
    expect(inc.from).toContain('sip:peerpbx@127.0.0.1');
    expect((await ringing).status).toBe(180);
    await sleep(300);
    expect(a.mediaStats(id)).toBeNull(); // no media before the answer
    const answered = a.next('answered');
    b.answer(inc.call);
    await answered;
    const stats = await b.next('media-stats');
    expect(stats.call).toBe(inc.call);
    await sleep(400);
    expect(b.mediaStats(inc.call)!.packetsReceived).toBeGreaterThan(10);
    const ended = b.next('ended');
    b.hangup(inc.call);
    expect((await ended).reason).toBe('local-bye');
    expect(lines.map(([m]) => m)).toEqual(
      expect.arrayContaining(['call incoming', 'call answered', 'call ended']),
    );
    const end = lines.find(([m]) => m === 'call ended')![1];
    expect(end).toMatchObject({ call: inc.call, reason: 'local-bye', lost: 0 });
    expect(end.received).toBeGreaterThan(10);
  });

  it('a call cancelled while ringing ends on both sides and frees its RTP ports', async () => {
    const a = await SoftPhone.start({ rtpPorts: { min: 31000, max: 31099 } });
    const b = await SoftPhone.start({ rtpPorts: { min: 31000, max: 31099 } });
    phones.push(a, b);
    const ringing = a.next('ringing');
    const id = await a.call(b.uri);
    await ringing;
    const aEnded = a.next('ended');
    const bEnded = b.next('ended');
    a.hangup(id);
    expect((await aEnded).reason).toBe('cancelled');
    expect((await bEnded).reason).toBe('cancelled');
    expect(a.activeCalls).toEqual([]);
    expect(b.activeCalls).toEqual([]);
    expect(a.rtpPortsInUse).toBe(0);
    expect(b.rtpPortsInUse).toBe(0);
  });
});
