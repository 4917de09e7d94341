// Issue 8, faults: a full disk and a read-only data folder. `peerpbx run` and writes (`phone add`)
// must refuse with one clear line and a non-zero exit; the database must stay intact (integrity_check
// ok once the disk has room again) with every acknowledged write still in it; and the peer must run
// again once the fault is gone. Needs root (mounts); everything mounted is unmounted, also on failure.
import { mkdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { askPeer } from '../../src/main/control/client.ts';
import type { ControlRequest } from '../../src/main/control/protocol.ts';
import { greetingWav } from '../chaos/netns-office.ts';
import { statusOf } from '../chaos/office-state.ts';
import { type Finished, killAll, tempDir } from '../helpers/processes.ts';
import { cli, createOffice, mustSucceed, runPeer } from '../office/harness.ts';
import { fillDisk, mountReadOnly, mountSkipReason, mountTmpfs, unmount, unmountAll } from './mounts.ts';

const skip = mountSkipReason();
const root = tempDir('peerpbx-faults-');

afterAll(async () => {
  await killAll();
  unmountAll();
  rmSync(root, { recursive: true, force: true });
});

/** Every row of the tables that hold acknowledged writes, as comparable strings. */
function snapshot(dir: string): { integrity: string; rows: string[] } {
  const db = new Database(join(dir, 'peer.db'), { readonly: true });
  try {
    const integrity = db.pragma('integrity_check', { simple: true }) as string;
    const records = db
      .prepare('SELECT resource_id, kind, key, storage_time FROM records')
      .all()
      .map((r) => `record ${JSON.stringify(r)}`);
    const settings = db
      .prepare('SELECT key, value FROM settings')
      .all()
      .map((r) => `setting ${JSON.stringify(r)}`);
    return { integrity, rows: [...records, ...settings] };
  } finally {
    db.close();
  }
}

/** The lines a user reads (log lines are JSON): exactly one, and it must say `what`. */
function expectOneClearLine(r: Finished, what: RegExp): void {
  expect(r.code, r.stderr).not.toBe(0);
  const lines = `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => l.trim() && !l.startsWith('{'));
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^peerpbx: /);
  expect(lines[0]).toMatch(what);
  console.log(`[faults] ${lines[0]}`);
}

/** What `peerpbx voicemail greeting --kind unavailable FILE` asks the running peer. */
function greetingSet(dir: string, tag: string): ControlRequest {
  const file = join(dir, `greeting-${tag}.wav`);
  writeFileSync(file, greetingWav(tag));
  return { op: 'greeting-set', kind: 'unavailable', file } as unknown as ControlRequest;
}

/** An office of one in `dir`: a desk-phone account, then a run that writes the peer's own records. */
async function enrolledFolder(dir: string): Promise<void> {
  await createOffice(dir, 'faults', '101');
  await mustSucceed(['phone', 'add', '--data', dir, '--extension', '201', '--password', 'pw-201']);
  const peer = await runPeer(dir);
  // Its certificate and registration are stored (acknowledged) once it has joined its own office.
  for (let i = 0; i < 100 && ((await statusOf(dir))?.records.total ?? 0) < 2; i++)
    await new Promise((r) => setTimeout(r, 100));
  expect((await peer.stop()).code).toBe(0);
}

describe.skipIf(skip)('storage faults', () => {
  it('a full disk: clear refusals, no corruption, acknowledged writes kept, runs again after', async () => {
    const mnt = join(root, 'small-disk');
    mkdirSync(mnt);
    mountTmpfs(mnt, '8m');
    const dir = join(mnt, 'data');
    await enrolledFolder(dir);
    // A running peer acknowledges a write (its greeting), then its disk fills up under it.
    const running = await runPeer(dir);
    await askPeer(dir, greetingSet(root, 'before'), 15_000);
    const before = snapshot(dir);
    expect(before.rows.filter((r) => r.includes('"GREETING"')).length).toBe(1);
    const filled = fillDisk(join(mnt, 'filler'));
    console.log(`[faults] filled the data folder's disk with ${filled} bytes`);
    const refused = await askPeer(dir, greetingSet(root, 'after'), 15_000).then(
      () => null,
      (e: Error) => e.message,
    );
    console.log(`[faults] a write to the running peer on a full disk: ${refused}`);
    expect(refused).not.toBeNull();
    // The peer logs before it answers, but its stderr pipe may be read after the answer: wait for it.
    const logged = /"level":"(warn|error)"[^\n]*(full|space|disk)/i;
    for (let i = 0; i < 50 && !logged.test(running.run.stderr()); i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(running.run.stderr()).toMatch(logged);
    expect(await statusOf(dir)).not.toBeNull(); // still serving
    await running.stop();

    // Each refusal on a disk that is full right now (a stopping peer frees its lock file's block).
    let topUps = 0;
    const full = () => fillDisk(join(mnt, `filler-${++topUps}`));
    full();
    expectOneClearLine(
      await cli(['run', '--data', dir, '--bind', '127.0.0.1', '--sip-port', '0', '--overlay-port', '0']),
      /no space left/i,
    );
    full();
    expectOneClearLine(
      await cli(['phone', 'add', '--data', dir, '--extension', '202', '--password', 'pw-202']),
      /no space left/i,
    );
    for (let i = 1; i <= topUps; i++) unlinkSync(join(mnt, `filler-${i}`));
    unlinkSync(join(mnt, 'filler'));
    const after = snapshot(dir);
    expect(after.integrity).toBe('ok');
    expect(after.rows).toEqual(expect.arrayContaining(before.rows));
    // Room again: the peer runs and writes.
    const peer = await runPeer(dir);
    expect((await peer.stop()).code).toBe(0);
    await mustSucceed(['phone', 'add', '--data', dir, '--extension', '202', '--password', 'pw-202']);
    expect(snapshot(dir).integrity).toBe('ok');
    unmount(mnt);
  }, 80_000);

  it('a read-only data folder: clear refusals, no corruption, acknowledged writes kept', async () => {
    const dir = join(root, 'ro-data');
    await enrolledFolder(dir);
    const before = snapshot(dir);
    mountReadOnly(dir);
    try {
      expectOneClearLine(
        await cli(['run', '--data', dir, '--bind', '127.0.0.1', '--sip-port', '0', '--overlay-port', '0']),
        /read-only/i,
      );
      expectOneClearLine(
        await cli(['phone', 'add', '--data', dir, '--extension', '202', '--password', 'pw-202']),
        /read-only/i,
      );
    } finally {
      unmount(dir);
    }
    const after = snapshot(dir);
    expect(after.integrity).toBe('ok');
    expect(after.rows).toEqual(expect.arrayContaining(before.rows));
    const peer = await runPeer(dir);
    expect((await peer.stop()).code).toBe(0);
  }, 60_000);
});
