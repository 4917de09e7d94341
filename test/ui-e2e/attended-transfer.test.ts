// Attended transfer from the in-call screen, in Debian's Chromium, between three REAL peers of one
// office (each Peer + PeerEngine in this process; A's UI on its token-protected port). A calls B
// from the dialpad, types 103 and presses "Consult" (B is held, C is called), C answers, and
// A presses "Complete transfer": B's peer places the replacing call (REFER with Replaces), C takes
// it over without ringing, A is left with no call, and B and C show one active call with each other.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Call, EngineEvent } from '../../src/core/api/contract.ts';
import { sine } from '../../src/core/media/tones.ts';
import { encodeWav } from '../../src/core/media/wav.ts';
import type { PeerEngine } from '../../src/main/engine/peer-engine.ts';
import { type PeerUi, startPeerUi } from '../../src/main/engine/ui.ts';
import { createLogger, setLogLevel } from '../../src/main/log.ts';
import type { Peer } from '../../src/main/peer.ts';
import { killAll, tempDir } from '../helpers/processes.ts';
import { createOffice, invite, mustSucceed } from '../office/harness.ts';
import { buildRenderer, launchChromium, openPage, ROOT, type TrackedPage } from '../ui/harness.ts';
import { startHeadlessPeer } from './headless-peer.ts';

const SHOTS = join(ROOT, 'test-results', 'ui-e2e');
setLogLevel('warn');

interface Pc {
  peer: Peer;
  engine: PeerEngine;
  events: EngineEvent[];
}

const pcs: Pc[] = [];
let ui: PeerUi | null = null;
let page: TrackedPage | null = null;
let browser: Browser | null = null;
let root = '';
let rendererDir = '';

async function startPc(dataDir: string, peers: Array<{ host: string; port: number }>): Promise<Pc> {
  const { peer, engine } = await startHeadlessPeer(dataDir, peers);
  const events: EngineEvent[] = [];
  engine.on((e) => events.push(e));
  const pc = { peer, engine, events };
  pcs.push(pc);
  return pc;
}

async function calls(pc: Pc): Promise<Call[]> {
  const r = await pc.engine.command({ type: 'calls.list' });
  if (!r.ok) throw new Error(`calls.list: ${JSON.stringify(r)}`);
  return r.value.calls;
}

/** Answers the next call ringing at `pc` through its engine (what its Answer button sends). */
async function answerNext(pc: Pc): Promise<string> {
  let id = '';
  const t0 = Date.now();
  await expect
    .poll(
      async () => {
        id = (await calls(pc)).find((c) => c.state === 'incoming')?.id ?? '';
        return id;
      },
      { timeout: 15_000, interval: 100 },
    )
    .not.toBe('')
    .catch(async (err) => {
      console.log('no call rang', JSON.stringify(await calls(pcs[0])), JSON.stringify(pc.events.slice(-5)));
      throw err;
    });
  console.log(`${pc.engine.status().extension} rang after ${Date.now() - t0} ms`);
  const r = await pc.engine.command({ type: 'call.answer', callId: id });
  expect(r.ok).toBe(true);
  return id;
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  root = tempDir('peerpbx-ui-transfer-');
  const dir = (n: string) => join(root, n);
  [rendererDir] = await Promise.all([buildRenderer(), createOffice(dir('a'), 'acme', '101')]);
  const a = await startPc(dir('a'), []);
  const overlay = { host: '127.0.0.1', port: a.peer.office?.overlayPort ?? 0 };
  for (const [name, ext] of [
    ['b', '102'],
    ['c', '103'],
  ]) {
    const code = await invite(dir('a'), ext);
    await mustSucceed([
      'join',
      '--data',
      dir(name),
      '--extension',
      ext,
      '--code',
      code,
      '--peer',
      `${overlay.host}:${overlay.port}`,
    ]);
  }
  // pcs is [a, b, c] whatever order the two peers finish starting in.
  const [b, c] = await Promise.all([startPc(dir('b'), [overlay]), startPc(dir('c'), [overlay])]);
  pcs.splice(1, 2, b, c);
  ui = await startPeerUi({
    engine: a.engine,
    dataDir: dir('a'),
    httpPort: 0,
    log: createLogger({ component: 'ui-e2e', dataDir: dir('a') }),
    staticDir: rendererDir,
  });
  const tone = join(root, 'tone440.wav');
  writeFileSync(tone, encodeWav({ sampleRate: 48_000, samples: sine(440, 5000, 48_000, 0.5) }));
  browser = await launchChromium(tone);
  page = await openPage(browser, ui.url);
}, 80_000);

afterAll(async () => {
  await browser?.close().catch(() => {});
  await ui?.close().catch(() => {});
  for (const pc of pcs.splice(0)) {
    pc.engine.close();
    await pc.peer.stop().catch(() => {});
  }
  await killAll();
  if (root) rmSync(root, { recursive: true, force: true });
  if (rendererDir) rmSync(rendererDir, { recursive: true, force: true });
});

describe('attended transfer from the in-call screen', () => {
  it('A consults C while B holds, then completes the transfer: B and C talk, A has no call', async (ctx) => {
    const [a, b, c] = pcs;
    if (!a.peer.pbx) ctx.skip();
    const pa = page?.page;
    if (!pa) throw new Error('no page');
    // Both extensions are callable from A before the test dials them.
    for (const ext of ['102', '103'])
      await expect
        .poll(
          async () => {
            const r = await a.engine.command({ type: 'lookup', extension: ext });
            return r.ok && r.value.reachable;
          },
          { timeout: 25_000, interval: 300 },
        )
        .toBe(true);

    await pa.getByPlaceholder('Extension or SIP address').fill('102');
    await pa.locator('section.dialpad button[type="submit"]').click();
    const bOld = await answerNext(b);
    await expect.poll(() => pa.getByText('In call').count(), { timeout: 10_000 }).toBe(1);

    // Consult: B is put on hold and C is called from the same form.
    await pa.getByLabel('Transfer to').fill('103');
    await pa.getByRole('button', { name: 'Consult', exact: true }).click();
    const cOld = await answerNext(c);
    await expect.poll(() => pa.getByText('On hold').count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => pa.getByText('In call').count(), { timeout: 10_000 }).toBe(1);
    const complete = pa.getByRole('button', { name: /^Complete transfer to/ });
    await expect.poll(() => complete.count(), { timeout: 5000 }).toBe(1);
    expect(await complete.textContent()).toMatch(/103/);
    await page?.page.screenshot({ path: join(SHOTS, 'attended-transfer-consult-101.png'), fullPage: true });

    const t0 = Date.now();
    await complete.click();
    // A is out of both calls; its call panel is gone.
    await expect.poll(async () => (await calls(a)).length, { timeout: 25_000, interval: 100 }).toBe(0);
    console.log(`attended transfer from the UI: click to A's calls gone in ${Date.now() - t0} ms`);
    await expect.poll(() => pa.locator('section.calls').count(), { timeout: 5000 }).toBe(0);
    await page?.page.screenshot({ path: join(SHOTS, 'attended-transfer-done-101.png'), fullPage: true });

    // B: its old call ended, a new active call to 103 (placed by its peer for the REFER).
    await expect
      .poll(async () => (await calls(b)).map((x) => [x.direction, x.remote.extension, x.state]), {
        timeout: 15_000,
        interval: 100,
      })
      .toEqual([['out', '103', 'active']]);
    const bNew = (await calls(b))[0];
    expect(bNew.id).not.toBe(bOld);
    // C: the replacing call from 102 is active at once (it never rang), the call with A ended.
    await expect
      .poll(async () => (await calls(c)).map((x) => [x.direction, x.remote.extension, x.state]), {
        timeout: 15_000,
        interval: 100,
      })
      .toEqual([['in', '102', 'active']]);
    const cNew = (await calls(c))[0];
    expect(cNew.id).not.toBe(cOld);
    expect(c.events.some((e) => e.type === 'call.incoming' && e.call.id === cNew.id)).toBe(false);

    // B hangs up: C's call ends too.
    expect((await b.engine.command({ type: 'call.hangup', callId: bNew.id })).ok).toBe(true);
    await expect.poll(async () => (await calls(c)).length, { timeout: 10_000, interval: 100 }).toBe(0);
    expect(await page?.csp()).toEqual([]);
  }, 80_000);
});
