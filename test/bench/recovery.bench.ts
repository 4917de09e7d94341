// Failure to 3 copies in a real office: 5 `peerpbx run` processes on loopback (mutual TLS, SQLite,
// the office's own records: certificates, registrations, settings, office config). kill -9 a peer
// that holds records; time until every survivor has dropped it from its view (failure detection,
// the reference: no re-replication can start before it) and until every record the office held is
// back at 3 copies among the survivors. The victim restarts and the office settles between rounds.
// Run: node --import tsx test/bench/recovery.bench.ts [ROUNDS]

import { allAtCopies, copies, membersAre, pollUntil, statusOf } from '../chaos/office-state.ts';
import { createOffice, dataDirs, invite, mustSucceed, type OfficePeer, runPeer } from '../office/harness.ts';
import { runBench } from './bench-main.ts';
import { ratio, summary } from './summary.ts';

const ROUNDS = Number(process.argv[2] ?? 5);
const N = 5;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const names = Array.from({ length: N }, (_, i) => `pc${i + 1}`);
  const dirs = Object.values(dataDirs(names));
  await createOffice(dirs[0], 'recovery', '101');
  const peers: OfficePeer[] = [await runPeer(dirs[0])];
  for (let i = 1; i < N; i++) {
    const code = await invite(dirs[0], String(101 + i));
    await mustSucceed([
      'join',
      '--data',
      dirs[i],
      '--extension',
      String(101 + i),
      '--code',
      code,
      '--peer',
      peers[0].overlay,
    ]);
    peers.push(await runPeer(dirs[i], { extra: ['--peer', peers[0].overlay] }));
  }
  const all = () => peers.map((p) => p.nodeId);
  await pollUntil('5 members everywhere', () => membersAre(dirs, all()), 60_000, 250);
  const detect: number[] = [];
  const restore: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    // Settled: every record the office holds has 3 copies.
    let records: string[] = [];
    await pollUntil(
      'office settled at 3 copies',
      async () => {
        const c = await copies(dirs);
        records = [...c.keys()];
        return records.length > 0 && [...c.values()].every((n) => n >= 3);
      },
      60_000,
      250,
    );
    const victim = 1 + (round % (N - 1)); // never the admin, so invites keep working
    const held = (await statusOf(dirs[victim]))?.records.total ?? 0;
    const survivors = dirs.filter((_, i) => i !== victim);
    const alive = all().filter((_, i) => i !== victim);
    peers[victim].run.child.kill('SIGKILL');
    await peers[victim].run.done;
    const t0 = performance.now();
    const detected = pollUntil('survivors drop the victim', () => membersAre(survivors, alive), 60_000, 50);
    const restored = pollUntil('3 copies again', () => allAtCopies(survivors, records, 3), 60_000, 50);
    const d = await detected;
    await restored;
    const r = performance.now() - t0;
    detect.push(d);
    restore.push(r);
    console.log(
      `round ${round + 1}: killed pc${victim + 1} (held ${held} of ${records.length} records); ` +
        `detected by all in ${d.toFixed(0)} ms, 3 copies in ${r.toFixed(0)} ms`,
    );
    peers[victim] = await runPeer(dirs[victim], { extra: ['--peer', peers[0].overlay] });
    await pollUntil('victim back', () => membersAre(dirs, all()), 60_000, 250);
  }
  await Promise.all(peers.map((p) => p.stop()));
  const md = median(detect);
  const mr = median(restore);
  console.log(
    `\nmedian of ${ROUNDS}: failure detected ${md.toFixed(0)} ms, 3 copies restored ${mr.toFixed(0)} ms ` +
      `(max ${Math.max(...restore).toFixed(0)} ms); restore / detection ${ratio(mr, md)}`,
  );
  summary({
    figure: 'kill -9 to 3 copies, 5-peer office, median ms',
    ours: mr.toFixed(0),
    reference: `${md.toFixed(0)} (failure detection, same kills)`,
    ratio: ratio(mr, md),
    goal: 'within seconds (issue 3)',
    command: 'npm run bench -- recovery',
  });
}

runBench(main);
