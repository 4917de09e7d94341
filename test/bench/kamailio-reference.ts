// Kamailio as the reference proxy in the benchmarks: test/calls/kamailio.ts's configuration
// (registrar + stateful proxy, usrloc in memory, 2 worker children: one per core here), but with
// the shared memory a loaded proxy needs. The tests' 8 MiB runs out of transaction cells near
// 800 calls/s ("out of mem" in tm), which would measure the setting, not Kamailio.
import { spawn, spawnSync } from 'node:child_process';
import { openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kamailioConfig } from '../calls/kamailio.ts';
import { tempDir } from '../helpers/processes.ts';

export interface KamailioReference {
  dir: string;
  /** The main process (its workers are its children). */
  pid: number;
  stop(): Promise<void>;
}

export async function startKamailioReference(port: number, shmMiB = 256): Promise<KamailioReference> {
  const dir = tempDir('kamailio-bench-');
  const cfg = join(dir, 'kamailio.cfg');
  writeFileSync(cfg, kamailioConfig(port));
  const check = spawnSync('kamailio', ['-c', '-f', cfg], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`kamailio.cfg refused: ${check.stderr.slice(-2000)}`);
  const log = openSync(join(dir, 'kamailio.log'), 'a');
  const child = spawn(
    'kamailio',
    ['-f', cfg, '-DD', '-E', '-m', String(shmMiB), '-M', '16', '-w', dir, '-P', join(dir, 'k.pid')],
    { detached: true, stdio: ['ignore', log, log] },
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error('kamailio did not start');
  const kill = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {}
  };
  process.once('exit', () => kill('SIGKILL'));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await new Promise((r) => setTimeout(r, 1000));
  return {
    dir,
    pid: Number(readFileSync(join(dir, 'k.pid'), 'utf8').trim() || pid),
    async stop() {
      kill('SIGTERM');
      const t = setTimeout(() => kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(t);
    },
  };
}
