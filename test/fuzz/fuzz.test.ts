// Seeded fuzzing of every parser that takes bytes from outside: SIP (parse + serialize round trip,
// digest and address headers), SDP (parse + offer/answer), overlay frames (decode, re-encode,
// stream reassembly, a live OverlayNode handling what passed), record value checks (with the real
// validator), and the API bridge's command schema. npm test runs a bounded number of inputs per
// target; FUZZ_ITERATIONS=N (and FUZZ_SEED) run longer. Failing inputs land in
// test/fixtures/fuzz-regressions/ and regressions.test.ts replays them forever.
import { describe, expect, it } from 'vitest';
import { describeReport, fuzz, iterations } from './harness.ts';
import { TARGETS } from './targets.ts';

// Defaults keep the file under ~40 s on a loaded 2-core box (printed per target).
const DEFAULTS: Record<string, number> = {
  sip: 20_000,
  sdp: 6000,
  overlay: 6000,
  records: 2000,
  api: 15_000,
  wav: 3000,
  rtp: 20_000,
};
const SEED = Number(process.env.FUZZ_SEED ?? 20261122);
const MB = 1024 * 1024;
// Per-input bound: real inputs take microseconds to a few ms (an RSA verify); a hang is 100x that.
const MAX_MS = 500;

describe('fuzzing with a seeded mutator over real corpora', () => {
  for (const t of TARGETS) {
    it(`${t.name}: never throws, no hang, bounded heap, properties hold`, { timeout: 600_000 }, () => {
      const r = fuzz({
        name: t.name,
        target: t.run,
        next: t.inputs(SEED),
        iterations: iterations(DEFAULTS[t.name]),
        maxMsPerInput: MAX_MS,
      });
      console.log(describeReport(r));
      expect(r.failures, describeReport(r)).toEqual([]);
      expect(r.slowestMs).toBeLessThan(MAX_MS * 2);
      // Bounded memory: the live heap after GC does not grow with the number of inputs. 32 MB covers
      // the corpora and caches built lazily by the first inputs; a leak of 10 KB per input would not fit.
      expect(Math.max(...r.heap) - r.heap[0]).toBeLessThan(32 * MB);
    });
  }
});
