// sipp steps shared by the call tests: a desk phone's REGISTER (with or without digest) and a
// PeerPBX user's call to a sipp UAS (answered, then hung up by the caller).
import { join } from 'node:path';
import { expect } from 'vitest';
import { type SippStats, sippErrors, startSipp } from '../helpers/sipp.ts';
import { nextPbxEvent, type PbxPeer } from './harness.ts';

export const SCENARIOS = join(import.meta.dirname, 'scenarios');

/** REGISTERs `ext` from 127.0.0.1:localPort at the registrar on `registrarPort` (digest with a password). */
export async function sippRegister(registrarPort: number, ext: string, localPort: number, password?: string) {
  const reg = startSipp({
    scenario: { file: join(SCENARIOS, password ? 'register-auth.xml' : 'register.xml') },
    remote: `127.0.0.1:${registrarPort}`,
    localPort,
    calls: 1,
    extra: ['-s', ext, ...(password ? ['-au', ext, '-ap', password] : [])],
  });
  const r = await reg.finish();
  expect(r.stats?.successful, sippErrors(reg.dir)).toBe(1);
}

/** `caller` dials `target`; a sipp UAS on `uasPort` answers; the caller hangs up. */
export async function callSippUas(
  caller: PbxPeer,
  target: string,
  uasPort: number,
): Promise<SippStats | null> {
  const uas = startSipp({ scenario: { file: join(SCENARIOS, 'uas.xml') }, localPort: uasPort, calls: 1 });
  await new Promise((r) => setTimeout(r, 300));
  const call = String((await caller.request({ op: 'dial', target })).call);
  await nextPbxEvent(caller, 'answered', (e) => e.call === call);
  await caller.request({ op: 'hangup', call });
  const r = await uas.finish();
  expect(r.stats?.successful, sippErrors(uas.dir)).toBe(1);
  return r.stats;
}
