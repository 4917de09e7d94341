// sipp as load for the benchmarks: a desk phone UAS registered as extension 301 at a proxy, and a
// load step (a sipp UAC placing calls at a rate, each held for a while) answered by a fresh UAS.
import { join } from 'node:path';
import { freePort } from '../helpers/ports.ts';
import type { Running } from '../helpers/processes.ts';
import { sippErrors, startSipp } from '../helpers/sipp.ts';

export const SCENARIOS = join(import.meta.dirname, '../calls/scenarios');

export async function registerUas(proxyPort: number, auth: boolean): Promise<{ uas: Running; port: number }> {
  const port = await freePort();
  const reg = startSipp({
    scenario: { file: join(SCENARIOS, auth ? 'register-auth.xml' : 'register.xml') },
    remote: `127.0.0.1:${proxyPort}`,
    localPort: port,
    calls: 1,
    extra: ['-s', '301', ...(auth ? ['-au', '301', '-ap', 'pw301'] : [])],
  });
  const r = await reg.finish();
  if (r.stats?.successful !== 1) throw new Error(`REGISTER failed: ${sippErrors(reg.dir)}`);
  const uas = startSipp({
    scenario: { file: join(SCENARIOS, 'uas.xml') },
    localPort: port,
    calls: 1_000_000,
  });
  await new Promise((res) => setTimeout(res, 300));
  return { uas, port };
}

export interface LoadStep {
  label: string;
  ok: boolean;
}

/** A sipp UAS answering on `port` (already registered there) for one load step. */
async function stepUas(port: number): Promise<Running> {
  const uas = startSipp({
    scenario: { file: join(SCENARIOS, 'uas.xml') },
    localPort: port,
    calls: 1_000_000,
    // No global timeout and no call limit: the step's UAC decides how long and how many.
    extra: ['-timeout', '0', '-l', '100000', ...TOLERANT],
  });
  await new Promise((res) => setTimeout(res, 300));
  return uas;
}

/**
 * Both proxies fork 180 and 200 through different workers or ticks, so under load a 180 may arrive
 * after the 200: sipp must not abort a call for such a stray (it would count against the proxy).
 */
const TOLERANT = ['-default_behaviors', 'all,-abortunexp'];

/**
 * One sipp UAC run at `proxyPort`: `calls` calls at `rate`/s, each held `holdMs`, at most `limit`
 * at once, answered by a fresh UAS on `uasPort`. A step that fails is tried once more (this machine
 * is shared: one stall is not the proxy's limit), for both proxies alike.
 */
export async function loadStep(
  proxyPort: number,
  uasPort: number,
  ports: () => number,
  o: { calls: number; rate: number; holdMs: number; limit: number; label: string; attempts?: number },
): Promise<LoadStep> {
  let ok = false;
  for (let attempt = 1; attempt <= (o.attempts ?? 2) && !ok; attempt++) {
    const uas = await stepUas(uasPort);
    const uac = startSipp({
      scenario: { file: join(SCENARIOS, 'uac.xml') },
      remote: `127.0.0.1:${proxyPort}`,
      localPort: ports(),
      calls: o.calls,
      extra: [
        '-s',
        '301',
        '-key',
        'caller',
        'load',
        '-d',
        String(o.holdMs),
        '-r',
        String(o.rate),
        '-l',
        String(o.limit),
        '-timeout',
        '120s',
        ...TOLERANT,
      ],
    });
    // sipp's own -timeout does not end a run stuck in retransmissions: a hard deadline here.
    const deadline = setTimeout(
      () => uac.child.kill('SIGKILL'),
      (o.calls / o.rate) * 1000 + o.holdMs + 60_000,
    );
    const r = await uac.finish();
    clearTimeout(deadline);
    uas.child.kill('SIGTERM');
    await uas.done;
    ok = r.stats?.successful === o.calls && r.stats.failed === 0;
    console.log(
      `  ${o.label}${attempt > 1 ? ' (retry)' : ''}: ${r.stats?.successful ?? '?'} ok, ${r.stats?.failed ?? '?'} failed`,
    );
    const why = /Aborting call on [^']*/.exec(sippErrors(uac.dir))?.[0];
    if (!ok && why) console.log(`    first failure: ${why}`);
  }
  return { label: o.label, ok };
}
