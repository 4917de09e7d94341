// A real kill -9 in the middle of a write storm: every record the child acknowledged (printed after
// its put returned) must be in the database after reopening, and the database must be intact.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resourceIdFromName } from '../../src/core/records/ids.ts';
import { openPeerDatabase } from '../../src/main/store/peer-database.ts';

const dir = mkdtempSync(join(tmpdir(), 'peerpbx-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface StormResult {
  acknowledged: string[];
  signal: NodeJS.Signals | null;
}

/** Runs the writer, waits until it has acknowledged `killAfter` records, then SIGKILLs it. */
function storm(path: string, sync: string, prefix: string, killAfter: number): Promise<StormResult> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'write-storm.ts'), path, sync, prefix],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const acknowledged: string[] = [];
    let buffered = '';
    let stderr = '';
    let killed = false;
    child.stderr?.on('data', (d) => {
      stderr += d;
    });
    child.stdout?.on('data', (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? ''; // a partial last line was not fully acknowledged
      for (const line of lines) if (line !== 'ready') acknowledged.push(line);
      if (!killed && acknowledged.length >= killAfter) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (!killed) reject(new Error(`writer exited on its own (code ${code}): ${stderr}`));
      else resolve({ acknowledged, signal });
    });
  });
}

describe('kill -9 during a write storm', () => {
  for (const [sync, killAfter] of [
    ['FULL', 300],
    ['NORMAL', 2000],
  ] as const) {
    it(`loses no acknowledged record (synchronous=${sync})`, async () => {
      const path = join(dir, `storm-${sync}.db`);
      // Two storms on the same file: the second also recovers from the first one's WAL.
      const first = await storm(path, sync, 'a', killAfter);
      const second = await storm(path, sync, 'b', killAfter);
      for (const r of [first, second]) {
        expect(r.signal).toBe('SIGKILL');
        expect(r.acknowledged.length).toBeGreaterThanOrEqual(killAfter);
      }

      const db = openPeerDatabase(path);
      try {
        expect(db.db.pragma('integrity_check', { simple: true })).toBe('ok');
        const missing = [...first.acknowledged, ...second.acknowledged].filter(
          (name) => db.records.get(resourceIdFromName(name), 0, 'TEST').length !== 1,
        );
        expect(missing).toEqual([]);
        // The killed writer was mid-loop: the store may hold a record or so more than was printed.
        const total = first.acknowledged.length + second.acknowledged.length;
        expect(db.records.count()).toBeGreaterThanOrEqual(total);
        expect(db.records.count()).toBeLessThanOrEqual(total + 2);
      } finally {
        db.close();
      }
    });
  }
});
