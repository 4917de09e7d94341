// Every input the fuzzer ever found failing (test/fixtures/fuzz-regressions/TARGET-HASH.bin) is
// replayed against its target: it must pass now and stay passing.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from './cli-target.ts';
import { REGRESSIONS_DIR, runOnce } from './harness.ts';
import { TARGETS as FUZZED } from './targets.ts';

const TARGETS = [...FUZZED, cli];

const files = readdirSync(REGRESSIONS_DIR).filter((f) => f.endsWith('.bin'));

describe('fuzz regressions replay', () => {
  it('has a target for every saved input', () => {
    for (const f of files)
      expect(
        TARGETS.map((t) => t.name),
        f,
      ).toContain(f.split('-')[0]);
  });
  for (const f of files) {
    it(f, () => {
      const target = TARGETS.find((t) => t.name === f.split('-')[0]);
      if (!target) throw new Error(`no target for ${f}`);
      const r = runOnce(target.run, new Uint8Array(readFileSync(join(REGRESSIONS_DIR, f))));
      expect(r.detail, r.detail).toBeUndefined();
      expect(r.problem).toBeUndefined();
      expect(r.ms).toBeLessThan(1000);
    });
  }
});
