// The namespace lab of a LAN test file: created once (or once per test), torn down after it —
// processes first, then namespaces and links — and checked to leave nothing behind. Without root
// the lab is null and `skip` says why (describe.skipIf(skip)).
import { afterAll, afterEach, expect } from 'vitest';
import { killAll } from '../helpers/processes.ts';
import { NetnsLab, rootSkipReason } from './netns.ts';

/** One lab for the whole file, destroyed after its last test. */
export function fileLab(file: string): { skip: string | undefined; lab: NetnsLab | null } {
  const skip = rootSkipReason();
  if (skip) console.warn(`${file} skipped: ${skip}`);
  const lab = skip ? null : new NetnsLab();
  afterAll(async () => {
    await killAll();
    await lab?.destroy();
    expect(lab?.leftovers() ?? []).toEqual([]);
  });
  return { skip, lab };
}

/** `newLab()` gives a fresh lab to a test; each is destroyed (and checked) after that test. */
export function labPerTest(file: string): { skip: string | undefined; newLab: () => NetnsLab } {
  const skip = rootSkipReason();
  if (skip) console.warn(`${file} skipped: ${skip}`);
  const labs: NetnsLab[] = [];
  afterEach(async () => {
    for (const lab of labs.splice(0)) {
      await lab.destroy();
      expect(lab.leftovers()).toEqual([]);
    }
  });
  afterAll(async () => {
    for (const lab of labs.splice(0)) await lab.destroy();
  });
  return {
    skip,
    newLab: () => {
      const lab = new NetnsLab();
      labs.push(lab);
      return lab;
    },
  };
}
