// Why the data folder's database cannot be opened or written, in one line a user can act on.
// SQLite reports a full disk or a read-only mount as "disk I/O error" or "unable to open database
// file" (WAL needs its -wal and -shm files next to the database); the file system says which.
import { accessSync, constants, statfsSync } from 'node:fs';
import { dirname } from 'node:path';

/** The storage condition behind a failed open/write of `dbPath`, or null if the folder looks fine. */
export function storageProblem(dbPath: string): string | null {
  const dir = dirname(dbPath);
  try {
    accessSync(dir, constants.W_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EROFS') return `the data folder ${dir} is on a read-only file system`;
    if (code === 'EACCES') return `the data folder ${dir} is not writable by this user`;
    if (code === 'ENOENT') return null;
  }
  try {
    const fs = statfsSync(dir);
    if (fs.bavail === 0) return `no space left on the device of the data folder ${dir}`;
  } catch {}
  return null;
}

/** `err` with a clear message when the storage is the cause; `err` itself otherwise. */
export function explainStorageError(err: unknown, dbPath: string, doing: string): unknown {
  const problem = storageProblem(dbPath);
  if (!problem) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new Error(`cannot ${doing} ${dbPath}: ${problem} (${detail})`, { cause: err });
}
