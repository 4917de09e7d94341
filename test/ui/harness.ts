// Shared pieces of the UI tests: build the renderer with Vite, run the real UI bridge over a test
// engine with a log that the tests read, and open pages in Debian's Chromium that record every CSP
// violation and console error.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import type { Engine } from '../../src/core/api/engine.ts';
import type { LogFields, Logger } from '../../src/main/log.ts';
import { startUiBridge, type UiBridge } from '../../src/main/ui-bridge/index.ts';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const SHOTS = join(ROOT, 'test-results', 'ui');
export const TOKEN = 'test-token-0123456789abcdefghijklmnop';

/** `vite build` of src/renderer into a fresh temporary folder; returns the folder. */
export async function buildRenderer(): Promise<string> {
  const { build } = await import('vite');
  const outDir = mkdtempSync(join(tmpdir(), 'peerpbx-renderer-'));
  // Vitest sets NODE_ENV=test, which would bundle React's development build (StrictMode's doubled
  // effects and all): build exactly what `vite build` ships.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({
      configFile: join(ROOT, 'vite.config.ts'),
      root: join(ROOT, 'src', 'renderer'),
      mode: 'production',
      logLevel: 'warn',
      build: { outDir, emptyOutDir: true, sourcemap: false },
    });
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
  return outDir;
}

export interface LogLine {
  level: string;
  msg: string;
  fields: LogFields;
}

export function captureLogger(lines: LogLine[], base: LogFields = {}): Logger {
  const at =
    (level: string) =>
    (msg: string, fields: LogFields = {}) =>
      lines.push({ level, msg, fields: { ...base, ...fields } });
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (f) => captureLogger(lines, { ...base, ...f }),
  };
}

export async function startBridge(
  engine: Engine,
  staticDir: string,
  extra: { authTimeoutMs?: number; port?: number } = {},
): Promise<{ bridge: UiBridge; log: LogLine[] }> {
  const log: LogLine[] = [];
  const bridge = await startUiBridge({
    engine,
    port: 0,
    token: TOKEN,
    staticDir,
    log: captureLogger(log),
    ...extra,
  });
  return { bridge, log };
}

/** `fakeAudioFile`: a 48 kHz mono PCM16 WAV Chromium's fake microphone plays (else its beeps). */
export function launchChromium(fakeAudioFile?: string): Promise<Browser> {
  mkdirSync(SHOTS, { recursive: true });
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--autoplay-policy=no-user-gesture-required',
      // A fake microphone (Chromium's beeping test device) with no permission prompt.
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      ...(fakeAudioFile ? [`--use-file-for-fake-audio-capture=${fakeAudioFile}`] : []),
    ],
  });
}

export interface TrackedPage {
  page: Page;
  context: BrowserContext;
  /** CSP violations seen by the page (securitypolicyviolation events and console reports). */
  csp: () => Promise<string[]>;
  consoleErrors: string[];
}

export async function openPage(
  browser: Browser,
  url: string,
  viewport = { width: 1280, height: 800 },
  deviceScaleFactor = 1,
): Promise<TrackedPage> {
  const context = await browser.newContext({ viewport, deviceScaleFactor });
  const page = await context.newPage();
  // Fail fast: every step here completes in well under a second when the UI works.
  page.setDefaultTimeout(5000);
  await page.addInitScript(() => {
    const w = window as unknown as { __csp: string[] };
    w.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) =>
      w.__csp.push(`${e.violatedDirective} ${e.blockedURI}`),
    );
  });
  const consoleErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
  await page.goto(url);
  const csp = async () => [
    ...(await page.evaluate(() => (window as unknown as { __csp: string[] }).__csp)),
    ...consoleErrors.filter((e) => /Content Security Policy/i.test(e)),
  ];
  return { page, context, csp, consoleErrors };
}

export const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
