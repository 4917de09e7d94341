// A caller whose INVITE carries no SDP (late offer, as some desk phones and gateways send): the
// voicemail UA offers in its 200, takes the answer from the ACK and plays its prompt. Here the call
// is *97 from a user whose box is not on this peer, so it hears "not available on this phone".
import { afterEach, describe, expect, it } from 'vitest';
import { rms } from '../../src/core/media/silence.ts';
import type { Identity } from '../../src/main/identity/identity.ts';
import { createLogger } from '../../src/main/log.ts';
import { SilenceSource } from '../../src/main/media/sources.ts';
import type { PbxOverlay } from '../../src/main/pbx/overlay-directory.ts';
import { VoicemailService } from '../../src/main/voicemail/voicemail-service.ts';
import { startLateOfferCaller } from '../helpers/late-offer-caller.ts';
import { makeOffice } from '../unit/security/fixtures.ts';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('voicemail UA: late offer', () => {
  it("offers in the 200, starts media with the ACK's answer, and the caller hears the prompt", async () => {
    const log = createLogger({ component: 'late-offer-test' });
    const office = makeOffice('acme');
    const overlay = { nodeId: '0'.repeat(32), user: '101@acme' } as PbxOverlay; // *97 refusal needs no overlay
    const vm = await VoicemailService.start({
      overlay,
      identity: {
        office: 'acme',
        extension: '101',
        user: '101@acme',
        caPem: office.ca.certificatePem,
      } as Identity,
      bind: '127.0.0.1',
      advertise: '127.0.0.1',
      mailbox: () => null,
      log,
    });
    cleanups.push(() => vm.close());

    const caller = await startLateOfferCaller({
      user: '201',
      rtpPorts: { min: 32550, max: 32599 },
      probeWindowMs: 1000,
      source: new SilenceSource(),
      sessionId: 9,
      log,
      onCleanup: (fn) => cleanups.push(fn),
    });
    const target = vm.accessTargetFor('201');
    expect(target).not.toBeNull();
    const answered = caller.call(target!.uri);
    await answered;
    await new Promise((r) => setTimeout(r, 1500));
    expect(caller.probe.audioFrames).toBeGreaterThan(40);
    expect(rms(caller.probe.window())).toBeGreaterThan(300); // speech, not silence
  });
});
