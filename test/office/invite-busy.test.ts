// `peerpbx office invite` next to a running, busy admin peer: every invite succeeds (no "database
// is locked"), and the running admin redeems the codes. The busy part is a second writer process on
// the admin's database (short write transactions back to back, as a peer storing records does)
// plus invites made in parallel, each its own process.
import { afterAll, describe, expect, it } from 'vitest';
import { databasePath } from '../../src/main/identity/identity.ts';
import { killAll, start } from '../helpers/processes.ts';
import { cli, createOffice, dataDirs, lastWord, mustSucceed, runPeer } from './harness.ts';

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
  it('never fails with "database is locked" while the admin peer writes', async () => {
    const dirs = dataDirs(['admin', 'b', 'c']);
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
      // The running admin sees the codes: two of them enroll PCs.
      for (const [i, dir] of [dirs.b, dirs.c].entries()) {
        const j = await mustSucceed(
          [
            'join',
            '--data',
            dir,
            '--extension',
            exts[i],
            '--code',
            lastWord(results[i].stdout),
            '--peer',
            admin.overlay,
          ],
          { timeoutMs: 60_000 },
        );
        expect(j.stdout).toContain(`as extension ${exts[i]}`);
      }
    } finally {
      writer.child.kill('SIGKILL');
      await writer.done;
      await admin.stop();
    }
  }, 90_000);
});
