// `peerpbx office invite` next to a running, busy admin peer: every invite succeeds (no "database
// is locked"), and the running admin redeems the codes. The busy part is a second writer process on
// the admin's database (short write transactions back to back, as a peer storing records does)
// plus invites made in parallel, each its own process; then six PCs join at once.
import { afterAll, describe, expect, it } from 'vitest';
import { databasePath } from '../../src/main/identity/identity.ts';
import { loadEnrolled, loadUncollected } from '../../src/main/office/office.ts';
import { openPeerDatabase } from '../../src/main/store/peer-database.ts';
import { killAll, start } from '../helpers/processes.ts';
import { cli, createOffice, dataDirs, lastWord, runPeer } from './harness.ts';

afterAll(async () => {
  await killAll();
});

// Writes in short IMMEDIATE transactions until killed: the database is never idle for long.
const BUSY_WRITER = `
const Database = require('better-sqlite3');
const db = new Database(process.argv[1]);
db.pragma('busy_timeout = 5000');
const set = db.prepare("INSERT INTO settings (key, value) VALUES ('busy-test', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value");
const write = db.transaction((n) => set.run(String(n)));
let n = 0;
process.stdout.write('busy\\n');
const loop = () => { for (let i = 0; i < 20; i++) write.immediate(n++); setImmediate(loop); };
loop();
`;

describe('office invite beside a running admin peer', () => {
  it('invites never fail with "database is locked"; parallel joins all enroll and collect', async () => {
    const dirs = dataDirs(['admin', 'pc0', 'pc1', 'pc2', 'pc3', 'pc4', 'pc5']);
    await createOffice(dirs.admin, 'busyco', '101');
    const admin = await runPeer(dirs.admin);
    const writer = start(process.execPath, ['-e', BUSY_WRITER, databasePath(dirs.admin)]);
    try {
      const exts = ['102', '103', '104', '105', '106', '107', '108', '109'];
      const results = await Promise.all(
        exts.map((e) =>
          cli(['office', 'invite', '--data', dirs.admin, '--extension', e], { timeoutMs: 60_000 }),
        ),
      );
      const failed = results.filter((r) => r.code !== 0).map((r) => r.stderr.trim());
      console.log(`[invite-busy] ${exts.length - failed.length}/${exts.length} parallel invites succeeded`);
      expect(failed).toEqual([]);
      expect(writer.stdout()).toContain('busy'); // the writer really ran alongside
      // The running admin sees the codes: six PCs join all at once while it stays busy, and each
      // is enrolled with its certificate collected (no extension left reserved for nobody).
      const joiners = exts.slice(0, 6);
      const t0 = Date.now();
      const joins = await Promise.all(
        joiners.map((e, i) =>
          cli(
            [
              'join',
              '--data',
              dirs[`pc${i}`],
              '--extension',
              e,
              '--code',
              lastWord(results[i].stdout),
              '--peer',
              admin.overlay,
            ],
            { timeoutMs: 80_000 },
          ),
        ),
      );
      console.log(`[invite-busy] ${joiners.length} parallel joins done in ${Date.now() - t0} ms`);
      expect(joins.map((j) => (j.code === 0 ? 'ok' : j.stderr.trim().split('\n').pop()))).toEqual(
        joiners.map(() => 'ok'),
      );
      const db = openPeerDatabase(databasePath(dirs.admin), { readonly: true });
      try {
        for (const e of joiners) expect(loadEnrolled(db).has(e)).toBe(true);
        expect([...loadUncollected(db).keys()]).toEqual([]);
      } finally {
        db.close();
      }
    } finally {
      writer.child.kill('SIGKILL');
      await writer.done;
      await admin.stop();
    }
  }, 90_000);
});
