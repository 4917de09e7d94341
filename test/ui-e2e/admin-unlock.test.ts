// The admin PC started without its passphrase (the desktop app after a reboot): the engine says it
// is locked, Settings offers the unlock, a wrong passphrase is refused, the right one restarts the
// peer with the CA key open (the enrollment server can issue certificates again). Real app engine
// (startApp) over the real UI bridge in Chromium.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApp, startApp } from '../../src/main/app.ts';
import { type PeerUi, startPeerUi } from '../../src/main/engine/ui.ts';
import { createLogger, setLogLevel } from '../../src/main/log.ts';
import { tempDir } from '../helpers/processes.ts';
import { createOffice, PASSPHRASE } from '../office/harness.ts';
import { buildRenderer, launchChromium, openPage, ROOT } from '../ui/harness.ts';

const SHOTS = join(ROOT, 'test-results', 'ui-e2e');
setLogLevel('warn');

let root = '';
let rendererDir = '';
let app: RunningApp | null = null;
let ui: PeerUi | null = null;
let browser: Browser | null = null;
const savedEnv = process.env.PEERPBX_PASSPHRASE;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  root = tempDir('peerpbx-ui-unlock-');
  const dir = join(root, 'admin');
  [rendererDir] = await Promise.all([buildRenderer(), createOffice(dir, 'acme', '101')]);
  delete process.env.PEERPBX_PASSPHRASE; // started as after a reboot: no passphrase anywhere
  const log = createLogger({ component: 'ui-e2e', dataDir: dir });
  app = await startApp({
    dataDir: dir,
    log,
    bind: '127.0.0.1',
    sipPort: 0,
    overlayPort: 0,
    discovery: { mdns: false, broadcast: false },
  });
  ui = await startPeerUi({ engine: app.engine, dataDir: dir, httpPort: 0, log, staticDir: rendererDir });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  if (savedEnv !== undefined) process.env.PEERPBX_PASSPHRASE = savedEnv;
  await browser?.close().catch(() => {});
  await ui?.close().catch(() => {});
  await app?.stop().catch(() => {});
  if (root) rmSync(root, { recursive: true, force: true });
  if (rendererDir) rmSync(rendererDir, { recursive: true, force: true });
});

describe('admin unlock after a restart', () => {
  it('shows the admin PC locked, refuses a wrong passphrase and unlocks with the right one', async () => {
    if (!app || !ui || !browser) throw new Error('not started');
    const engine = app.engine;
    const before = await engine.command({ type: 'office.status' });
    expect(before).toMatchObject({ ok: true, value: { admin: true, adminLocked: true } });
    const { page, csp } = await openPage(browser, ui.url);
    await page.getByRole('button', { name: /^Settings/ }).click();
    const form = page.getByRole('form', { name: 'Unlock the admin PC' });
    await form.getByLabel('Admin passphrase').fill('not-the-passphrase');
    await form.getByRole('button', { name: 'Unlock' }).click();
    await expect
      .poll(() => page.getByRole('alert').textContent(), { timeout: 10_000 })
      .toMatch(/does not open/);
    await page.screenshot({ path: join(SHOTS, 'settings-admin-locked-101.png'), fullPage: true });
    await form.getByLabel('Admin passphrase').fill(PASSPHRASE);
    await form.getByRole('button', { name: 'Unlock' }).click();
    await expect.poll(() => form.count(), { timeout: 20_000 }).toBe(0);
    const after = await engine.command({ type: 'office.status' });
    expect(after.ok && after.value.adminLocked).toBeUndefined();
    expect(after).toMatchObject({ ok: true, value: { enrolled: true, extension: '101', admin: true } });
    // The restarted peer can issue join codes and approve (its enrollment server has the key).
    const code = await engine.command({ type: 'office.invite', extension: '102' });
    expect(code.ok).toBe(true);
    expect(await csp()).toEqual([]);
  }, 60_000);
});
