// `peerpbx join` by mDNS stops at the first office that enrolls it: it does not wait out its
// discovery window. The window is set long (20 s) and the join must be done in well under it; a
// join whose code no office knows keeps looking until the window ends, then fails in one line.
import { describe, expect, it } from 'vitest';
import { cli, invite } from '../office/harness.ts';
import { enrollOffice, inNs } from '../office/lan.ts';
import { fileLab } from './lab.ts';

const { skip, lab } = fileLab('test/lan/join-fast.test.ts');
const ENV = { PEERPBX_DISCOVERY: 'mdns' };
const WINDOW_MS = 20_000;

describe.skipIf(skip)('peerpbx join by mDNS', () => {
  it('is done as soon as the office answers, not after the discovery window', async () => {
    const hosts = lab!.lan({ hosts: 3 });
    // The admin PC runs in hosts[0]; the joiners browse for it.
    const [admin] = await enrollOffice(hosts.slice(0, 1), 'fastjoin', ENV);
    const code = await invite(admin.dir, '102');
    const dir = `${admin.dir}-102`;
    const t0 = Date.now();
    const r = await cli(['join', '--data', dir, '--extension', '102', '--code', code], {
      env: { ...ENV, PEERPBX_JOIN_DISCOVER_MS: String(WINDOW_MS) },
      wrap: inNs(hosts[1].ns),
      timeoutMs: WINDOW_MS + 15_000,
    });
    const joinMs = Date.now() - t0;
    console.log(
      `[join-fast] join by mDNS took ${joinMs} ms (process start included; window ${WINDOW_MS} ms)`,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/joined office fastjoin as extension 102/);
    // Goal: well under the window. Margin: process start-up (node + tsx) takes 1-4 s on this
    // loaded 2-core machine, mDNS finds the admin in < 1 s, enrollment (RSA key + CSR) ~1 s.
    expect(joinMs).toBeLessThan(WINDOW_MS / 2);

    // A code no office knows: the only office refuses it (bad code), so join keeps looking for
    // another office until its (short) window ends, then says so.
    const t1 = Date.now();
    const bad = await cli(
      ['join', '--data', `${admin.dir}-103`, '--extension', '103', '--code', 'AAAAA-AAAAA'],
      {
        env: { ...ENV, PEERPBX_JOIN_DISCOVER_MS: '3000' },
        wrap: inNs(hosts[2].ns),
        timeoutMs: 30_000,
      },
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toMatch(/^peerpbx: join refused: /);
    expect(Date.now() - t1).toBeGreaterThanOrEqual(3000);
    expect((await admin.peer!.stop()).code).toBe(0);
  }, 90_000);
});
