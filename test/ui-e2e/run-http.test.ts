// `peerpbx run --http-port 0` as a real process: the renderer it serves (dist/renderer, built here
// with `vite build` exactly as shipped) loads in Chromium with no CSP violation and shows this
// peer's office, own status and network view through the token-protected WebSocket.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { killAll, tempDir } from '../helpers/processes.ts';
import { createOffice, runPeer } from '../office/harness.ts';
import { launchChromium, openPage, ROOT } from '../ui/harness.ts';

const SHOTS = join(ROOT, 'test-results', 'ui-e2e');
let browser: Browser | null = null;
const root = tempDir('peerpbx-ui-run-');

/** `vite build` with the project's config (into dist/renderer, what `run` serves). */
async function buildShippedRenderer(): Promise<void> {
  const { build } = await import('vite');
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ configFile: join(ROOT, 'vite.config.ts'), mode: 'production', logLevel: 'warn' });
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
}

afterAll(async () => {
  await browser?.close().catch(() => {});
  await killAll();
  rmSync(root, { recursive: true, force: true });
});

describe('peerpbx run --http-port', () => {
  it('serves the UI of the running peer', async () => {
    const dir = join(root, 'a');
    await Promise.all([buildShippedRenderer(), createOffice(dir, 'acme', '101')]);
    const peer = await runPeer(dir, { extra: ['--http-port', '0'] });
    const url = /peerpbx ui (http:\/\/127\.0\.0\.1:\d+\/#token=\S+)/.exec(peer.run.stdout())?.[1];
    expect(url).toBeDefined();
    browser = await launchChromium();
    const tracked = await openPage(browser, url as string);
    const page = tracked.page;
    await expect.poll(() => page.getByText('PeerPBX · acme').count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => page.getByText(/extension 101/).count()).toBeGreaterThan(0);
    await page.getByRole('button', { name: 'Network', exact: true }).click();
    await expect.poll(() => page.getByText(/Peers on the ring \(1\)/).count()).toBe(1);
    await expect.poll(() => page.locator('td.mono', { hasText: peer.nodeId }).count()).toBe(1);
    await page.screenshot({ path: join(SHOTS, 'run-http-network-101.png'), fullPage: true });
    expect(await tracked.csp()).toEqual([]);
    const stopped = await peer.stop();
    expect(stopped.code).toBe(0);
  }, 60_000);
});
