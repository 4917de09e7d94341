// One running peer per data folder: a lock file holding the owner's pid. A lock left by a dead
// process (crash, kill -9) is taken over; a live one is refused.
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const LOCK_FILE = 'peerpbx.lock';

export type LockResult = { ok: true; release: () => void } | { ok: false; pid: number };

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readPid(path: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

export function acquireDataLock(dir: string): LockResult {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      // 'wx' is atomic create-or-fail: two peers starting at once cannot both win.
      const fd = openSync(path, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      let released = false;
      return {
        ok: true,
        release: () => {
          if (released) return;
          released = true;
          if (readPid(path) === process.pid) unlinkSync(path);
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = readPid(path);
      if (pid !== null && pid !== process.pid && alive(pid)) return { ok: false, pid };
      // Stale (dead owner or unreadable): remove and retry the atomic create.
      try {
        unlinkSync(path);
      } catch {
        // another starter removed it first; the retry decides
      }
    }
  }
  const pid = readPid(path) ?? 0;
  return { ok: false, pid };
}
