// An INVITE without SDP (late offer, RFC 3261 13.2.1): our SoftPhone puts its offer in the 200 and
// takes the answer from the ACK. The caller here is the bare UA core with a MediaSession of its
// own, so both the signalling and the audio (the phone's 700 Hz tone) are checked.
import { afterEach, describe, expect, it } from 'vitest';
import { parseUri } from '../../src/core/sip/uri.ts';
import { createLogger } from '../../src/main/log.ts';
import { ToneSource } from '../../src/main/media/sources.ts';
import { SoftPhone } from '../../src/main/phone/soft-phone.ts';
import { startLateOfferCaller } from '../helpers/late-offer-caller.ts';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('late offer', () => {
  it('answers an offerless INVITE with an offer in the 200 and plays to the answer in the ACK', async () => {
    const phone = await SoftPhone.start({
      autoAnswer: true,
      toneHz: 700,
      codecs: ['PCMA', 'PCMU'],
      rtpPorts: { min: 32400, max: 32449 },
      statsIntervalMs: 0,
    });
    cleanups.push(() => phone.close());

    const caller = await startLateOfferCaller({
      user: 'late',
      rtpPorts: { min: 32450, max: 32499 },
      probeWindowMs: 500,
      source: new ToneSource(300),
      sessionId: 7,
      log: createLogger({ component: 'late-offer-caller' }),
      onCleanup: (fn) => cleanups.push(fn),
    });
    const answered = caller.call(parseUri(phone.uri)!);
    const phoneAnswered = await phone.next('answered');
    await answered;
    expect(phoneAnswered.remote.codec.name).toBe('PCMA'); // our offer's first codec, kept by the answer
    await sleep(1000);
    expect(caller.probe.strength(700)).toBeGreaterThan(0.9);
    const stats = phone.mediaStats(phoneAnswered.call)!;
    expect(stats.packetsReceived).toBeGreaterThan(20);
    expect(stats.remote?.port).toBe(caller.rtpPort);
  });
});
