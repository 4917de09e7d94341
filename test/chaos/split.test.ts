// Issue 8, faults: the office network splits in two (the bridge ports of half the PCs move to a
// bridge of their own) and heals. During the split each half detects the other's loss and keeps
// working: every PC stores a record (its greeting) and gets it acknowledged. After the heal the office
// is one again and every record written on either side converges everywhere: 3 copies of the
// acknowledged value, no stale copy left. Discovery (mDNS and broadcast) is on, as in an office.
import { afterAll, describe, expect, it } from 'vitest';
import { killAll } from '../helpers/processes.ts';
import { NetnsLab, rootSkipReason } from '../lan/netns.ts';
import { type AckedGreeting, greetingsConverged, startNetnsOffice, storeGreeting } from './netns-office.ts';
import { NetworkSplit } from './network-split.ts';
import { membersAre, pollUntil } from './office-state.ts';

const skip = rootSkipReason();
const lab = skip ? null : new NetnsLab();
let split: NetworkSplit | null = null;

afterAll(async () => {
  split?.healSync();
  await killAll();
  await lab?.destroy();
  expect(lab?.leftovers() ?? []).toEqual([]);
});

describe.skipIf(skip)('chaos: the office network splits in two halves and heals', () => {
  it('records written on both sides during the split converge everywhere after the heal', async () => {
    const t0 = performance.now();
    const office = await startNetnsOffice(lab!, 6, 'split', { PEERPBX_DISCOVERY: '' });
    const { pcs } = office;
    const ids = (half: typeof pcs) => half.map((pc) => pc.peer!.nodeId);
    const dirs = (half: typeof pcs) => half.map((pc) => pc.dir);
    await pollUntil('6 members everywhere', () => membersAre(dirs(pcs), ids(pcs)), 30_000, 250);
    console.log(`[split] 6 PCs in one office after ${(performance.now() - t0).toFixed(0)} ms`);

    const a = pcs.slice(0, 3);
    const b = pcs.slice(3);
    split = new NetworkSplit(b.map((pc) => pc.host));
    split.split();
    const splitAt = performance.now();
    await pollUntil(
      'each half sees only itself',
      async () => (await membersAre(dirs(a), ids(a))) && (await membersAre(dirs(b), ids(b))),
      30_000,
      100,
    );
    console.log(
      `[split] each half sees only itself ${(performance.now() - splitAt).toFixed(0)} ms after the split`,
    );

    // Both sides keep taking writes: every PC's greeting, acknowledged by its own half.
    const acked = (
      await Promise.all(
        pcs.map((pc) => storeGreeting(office, pc, `written during the split by ${pc.extension}`)),
      )
    ).filter((g): g is AckedGreeting => g !== null);
    expect(acked.map((g) => g.extension)).toEqual(pcs.map((pc) => pc.extension));

    split.heal();
    const healAt = performance.now();
    const merged = await pollUntil('one office again', () => membersAre(dirs(pcs), ids(pcs)), 60_000, 100);
    let problems: string[] = [];
    const converged = await pollUntil(
      'every record at 3 copies of its acknowledged value',
      async () => {
        problems = greetingsConverged(office, acked, 3);
        return problems.length === 0;
      },
      60_000,
      250,
    ).catch(() => null);
    expect(problems).toEqual([]);
    console.log(
      `[split] after the heal: one office again in ${merged.toFixed(0)} ms, ${acked.length} records written ` +
        `during the split converged in ${(performance.now() - healAt).toFixed(0)} ms (poll ${converged?.toFixed(0)} ms); ` +
        `total ${(performance.now() - t0).toFixed(0)} ms`,
    );
    await Promise.all(pcs.map(async (pc) => expect((await pc.peer!.stop()).code).toBe(0)));
  }, 180_000);
});
