// Hold/resume and RFC 4733 DTMF between our SoftPhone and baresip. Holding is a re-INVITE with
// sendonly: the held side answers recvonly and must stop sending toward the holder, while the
// holder keeps sending; resume (sendrecv) restores audio both ways. Digits cross both ways.
import { afterEach, describe, expect, it } from 'vitest';
import { ToneProbe } from '../../src/main/media/sinks.ts';
import { SoftPhone } from '../../src/main/phone/soft-phone.ts';
import { Baresip, stopAllBaresip } from '../helpers/baresip.ts';
import { waitFor } from '../helpers/processes.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const phones: SoftPhone[] = [];

afterEach(async () => {
  await Promise.all(phones.splice(0).map((p) => p.close()));
  await stopAllBaresip();
});

async function connected(probe: ToneProbe) {
  const phone = await SoftPhone.start({
    toneHz: 1000,
    rtpPorts: { min: 31300, max: 31399 },
    statsIntervalMs: 0,
    sinks: () => [probe],
  });
  phones.push(phone);
  const b = await Baresip.start({ toneHz: 440 });
  const answered = phone.next('answered');
  const call = await phone.call(b.uri);
  await answered;
  await b.waitEvent('CALL_ESTABLISHED');
  await waitFor('audio from baresip', () => probe.audioFrames >= 30, 8000);
  expect(probe.strength(440)).toBeGreaterThan(0.8);
  return { phone, b, call };
}

/** Packets received and sent by our side over `ms`. */
async function flow(phone: SoftPhone, call: string, ms: number) {
  const a = phone.mediaStats(call)!;
  await sleep(ms);
  const z = phone.mediaStats(call)!;
  return { received: z.packetsReceived - a.packetsReceived, sent: z.packetsSent - a.packetsSent };
}

describe('hold, resume and DTMF with baresip', () => {
  it('we hold baresip (sendonly): its media toward us stops, ours continues; resume restores audio', async () => {
    const probe = new ToneProbe(500);
    const { phone, b, call } = await connected(probe);
    const sdpEvents = b.events.length;
    const updated = phone.next('media-updated');
    expect(await phone.hold(call)).toBe(true);
    expect(await updated).toMatchObject({ held: true, sending: true, receiving: false });
    // baresip saw our re-INVITE's offer.
    await b.waitEvent('CALL_REMOTE_SDP', 5000, sdpEvents, (e) => e.param === 'offer');
    await sleep(300);
    const held = await flow(phone, call, 1000);
    expect(held.received).toBe(0);
    expect(held.sent).toBeGreaterThan(40);

    const resumed = phone.next('media-updated');
    expect(await phone.resume(call)).toBe(true);
    expect(await resumed).toMatchObject({ held: false, sending: true, receiving: true });
    const back = await flow(phone, call, 1000);
    expect(back.received).toBeGreaterThan(40);
    // Only audio from after the resume: a full 500 ms window of it must be baresip's 440 Hz.
    probe.reset();
    await waitFor('audio after resume', () => probe.audioFrames >= 30, 5000);
    expect(probe.strength(440)).toBeGreaterThan(0.8);
  });

  it('baresip holds us: we answer recvonly and stop sending, and send again on resume', async () => {
    const { phone, b, call } = await connected(new ToneProbe(500));
    const held = phone.next('media-updated');
    expect((await b.hold()).ok).toBe(true);
    expect(await held).toMatchObject({ remoteHold: true, sending: false, receiving: true });
    await sleep(200);
    expect((await flow(phone, call, 800)).sent).toBe(0);
    const resumed = phone.next('media-updated');
    expect((await b.resume()).ok).toBe(true);
    expect(await resumed).toMatchObject({ remoteHold: false, sending: true, receiving: true });
    expect((await flow(phone, call, 800)).sent).toBeGreaterThan(30);
  });

  it('our RFC 4733 digits reach baresip, and baresip digits reach us', async () => {
    const { phone, b, call } = await connected(new ToneProbe(500));
    const since = b.events.length;
    expect(phone.sendDtmf(call, '159#')).toBe(4);
    await sleep(1200);
    const heard = b.events
      .slice(since)
      .filter((e) => e.type === 'CALL_DTMF_START')
      .map((e) => e.param)
      .join('');
    expect(heard).toBe('159#');

    const got: string[] = [];
    phone.on((e) => {
      if (e.type === 'dtmf') got.push(e.digit);
    });
    await b.sendDigits('73*');
    await sleep(500);
    expect(got).toEqual(['7', '3', '*']);
  });
});
