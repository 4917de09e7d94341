// startApp (the Electron shell's engine) on a fresh data folder: SIP only until the first-run
// command creates the office, then a member peer under the same engine; a clean stop frees the folder.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../src/core/api/contract.ts';
import { startApp } from '../../src/main/app.ts';
import { LOCK_FILE } from '../../src/main/headless/lock.ts';
import { createLogger, setLogLevel } from '../../src/main/log.ts';

process.env.PEERPBX_CA_KDF_ITERATIONS = '1000';
setLogLevel('warn');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('startApp', () => {
  it('creates an office from the first-run command and serves it, then stops cleanly', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'peerpbx-app-'));
    dirs.push(dataDir);
    const app = await startApp({
      dataDir,
      log: createLogger({ component: 'app-test' }),
      bind: '127.0.0.1',
      sipPort: 0,
      overlayPort: 0,
      discovery: { mdns: false, broadcast: false },
    });
    try {
      const seen: EngineEvent[] = [];
      app.engine.on((e) => seen.push(e));
      expect(await app.engine.command({ type: 'office.status' })).toMatchObject({
        ok: true,
        value: { enrolled: false },
      });
      const created = await app.engine.command({
        type: 'office.create',
        officeName: 'acme',
        extension: '101',
        displayName: 'Ann',
        passphrase: 'secret-passphrase',
      });
      expect(created).toMatchObject({ ok: true, value: { enrolled: true, admin: true, extension: '101' } });
      expect(seen.map((e) => e.type)).toContain('office.changed');
      const members = await app.engine.command({ type: 'members.list' });
      expect(members).toMatchObject({
        ok: true,
        value: { members: [{ extension: '101', displayName: 'Ann' }] },
      });
      const invite = await app.engine.command({ type: 'office.invite', extension: '102' });
      expect(invite).toMatchObject({ ok: true, value: { code: expect.any(String) } });
      const again = await app.engine.command({
        type: 'office.create',
        officeName: 'other',
        extension: '103',
        displayName: '',
      });
      expect(again).toMatchObject({ ok: false, error: 'already-enrolled' });
    } finally {
      await app.stop();
    }
    // The data folder's lock is released (the next start, or the CLI, may use it).
    expect(existsSync(join(dataDir, LOCK_FILE))).toBe(false);
  });
});
