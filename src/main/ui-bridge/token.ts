// The UI token lives in the data folder (`ui-token`, readable by its owner only): whoever can read
// the data folder may drive the peer's UI; nobody else on the PC can, even though 127.0.0.1 is
// shared by every local user.
import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const UI_TOKEN_FILE = 'ui-token';

/** Reads the folder's token, creating a random one (32 bytes, base64url) on first use. */
export function loadUiToken(dataDir: string): string {
  const file = join(dataDir, UI_TOKEN_FILE);
  try {
    const t = readFileSync(file, 'utf8').trim();
    if (/^[A-Za-z0-9_-]{32,}$/.test(t)) return t;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const token = randomBytes(32).toString('base64url');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return token;
}
