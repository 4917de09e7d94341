// The Electron IPC side of the contract (with an ipcMain stand-in: a map of channel handlers, the
// shape Electron's ipcMain.handle has) and the UI token kept in the data folder.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../src/core/api/contract.ts';
import { IPC_COMMAND } from '../../src/core/api/wire.ts';
import {
  type IpcMainLike,
  loadUiToken,
  serveEngineOverIpc,
  UI_TOKEN_FILE,
} from '../../src/main/ui-bridge/index.ts';
import { captureLogger, type LogLine } from './harness.ts';
import { TestOffice } from './test-engine.ts';

type Handler = Parameters<IpcMainLike['handle']>[1];
class HandlerTable implements IpcMainLike {
  readonly handlers = new Map<string, Handler>();
  handle(channel: string, h: Handler) {
    if (this.handlers.has(channel)) throw new Error(`second handler for ${channel}`);
    this.handlers.set(channel, h);
  }
  removeHandler(channel: string) {
    this.handlers.delete(channel);
  }
  invoke(url: string, payload: unknown) {
    const h = this.handlers.get(IPC_COMMAND);
    if (!h) throw new Error('no handler');
    return Promise.resolve(h({ senderFrame: { url } }, payload));
  }
}

describe('engine over Electron IPC', () => {
  it('validates payloads, refuses foreign frames, pushes events, and stops cleanly', async () => {
    const office = new TestOffice({ colleagues: [{ extension: '102', displayName: 'Bob' }] });
    const ipc = new HandlerTable();
    const sent: EngineEvent[] = [];
    const log: LogLine[] = [];
    const stop = serveEngineOverIpc({
      ipcMain: ipc,
      engine: office.engine,
      send: (e) => sent.push(e),
      log: captureLogger(log),
      trustedSender: (url) => url.startsWith('file:///app/'),
    });
    const app = 'file:///app/index.html';
    expect(await ipc.invoke(app, { type: 'lookup', extension: '102' })).toMatchObject({
      ok: true,
      value: { reachable: true },
    });
    expect(await ipc.invoke(app, { type: 'lookup', extension: { $ne: 1 } })).toMatchObject({
      ok: false,
      error: 'invalid',
    });
    expect(log.some((l) => l.msg === 'invalid ipc command')).toBe(true);
    expect(await ipc.invoke('https://evil.example/', { type: 'office.status' })).toMatchObject({
      ok: false,
      error: 'invalid',
    });
    expect(log.some((l) => l.msg === 'ipc command from an untrusted frame refused')).toBe(true);

    office.setPresence('102', { state: 'away' });
    expect(sent).toEqual([{ type: 'presence.changed', extension: '102', presence: { state: 'away' } }]);
    stop();
    office.setPresence('102', { state: 'available' });
    expect(sent).toHaveLength(1);
    expect(ipc.handlers.size).toBe(0);
  });
});

describe('UI token in the data folder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'peerpbx-token-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is created once, private to the owner, and reused', () => {
    const a = loadUiToken(dir);
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(statSync(join(dir, UI_TOKEN_FILE)).mode & 0o777).toBe(0o600);
    expect(loadUiToken(dir)).toBe(a);
  });

  it('replaces a file that holds no usable token', () => {
    writeFileSync(join(dir, UI_TOKEN_FILE), 'short\n');
    const b = loadUiToken(dir);
    expect(b).not.toBe('short');
    expect(readFileSync(join(dir, UI_TOKEN_FILE), 'utf8').trim()).toBe(b);
  });
});
