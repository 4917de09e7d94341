// Mounts for the storage fault tests: a small tmpfs (a disk that fills up) and a read-only bind
// mount (chmod does not stop root; a read-only mount does). Every mount is recorded the moment it
// exists and unmounted by unmountAll(), also on process exit, so a failed run leaves none behind.
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';

const mounted: string[] = [];
let hooked = false;

function sh(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')}: ${(r.stderr || r.error?.message || '').trim()}`);
}

function track(dir: string): void {
  mounted.push(dir);
  if (!hooked) {
    hooked = true;
    process.on('exit', unmountAll);
  }
}

export function mountSkipReason(): string | undefined {
  if (process.platform !== 'linux') return 'storage fault tests need Linux mounts';
  if (process.getuid?.() !== 0) return 'storage fault tests need root (tmpfs and bind mounts)';
  return undefined;
}

/** A tmpfs of `size` (e.g. '4m') on `dir`. */
export function mountTmpfs(dir: string, size: string): void {
  sh('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir]);
  track(dir);
}

/** `dir` bind-mounted read-only onto itself. */
export function mountReadOnly(dir: string): void {
  sh('mount', ['--bind', dir, dir]);
  track(dir);
  sh('mount', ['-o', 'remount,bind,ro', dir]);
}

/** Unmounts the most recent mount on `dir`. */
export function unmount(dir: string): void {
  const i = mounted.lastIndexOf(dir);
  if (i < 0) return;
  mounted.splice(i, 1);
  sh('umount', [dir]);
}

/** Unmounts everything still mounted here (lazily, so a busy mount cannot keep it alive). */
export function unmountAll(): void {
  for (const dir of mounted.splice(0).reverse()) spawnSync('umount', ['-l', dir], { stdio: 'ignore' });
}

/** Writes zeros to `file` until the file system refuses (ENOSPC); returns the bytes written. */
export function fillDisk(file: string): number {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024);
  let written = 0;
  try {
    for (;;) {
      try {
        written += writeSync(fd, chunk, 0, chunk.length);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
        // The last partial block: fill what is left byte-wise coarse, then stop.
        for (const size of [4096, 512, 1]) {
          try {
            for (;;) written += writeSync(fd, chunk, 0, size);
          } catch {}
        }
        return written;
      }
    }
  } finally {
    closeSync(fd);
  }
}
