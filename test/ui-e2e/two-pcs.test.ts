// The real renderer in Debian's Chromium against two REAL peers of one office, each UI on its own
// token-protected port. PC A: the office made with the `peerpbx` CLI (office create, invite), its
// peer in this process (Peer.start + PeerEngine + startPeerUi: the headless UI path). PC B: the
// desktop app's engine (startApp) on an empty folder, enrolled through the first-run screen by
// typing its extension, name, the join code and A's address. Proves: no CSP violation; each
// directory shows the other PC online; the network view lists both peers; a call from the dialpad
// rings the other PC, which answers; the caller's fake microphone (a 440 Hz WAV) is heard at the
// callee (the frames its page gets and the page's own speaker analyser), mute silences it; both
// histories show the call.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/core/api/engine.ts';
import { sine } from '../../src/core/media/tones.ts';
import { decodeWav, encodeWav } from '../../src/core/media/wav.ts';
import { startApp } from '../../src/main/app.ts';
import { type PeerUi, startPeerUi } from '../../src/main/engine/ui.ts';
import { createLogger, setLogLevel } from '../../src/main/log.ts';
import { blockToneStrength } from '../../src/main/media/sinks.ts';
import type { Peer } from '../../src/main/peer.ts';
import { killAll, tempDir } from '../helpers/processes.ts';
import { createOffice, invite } from '../office/harness.ts';
import { buildRenderer, launchChromium, openPage, ROOT, type TrackedPage } from '../ui/harness.ts';
import { startHeadlessPeer } from './headless-peer.ts';

const SHOTS = join(ROOT, 'test-results', 'ui-e2e');
setLogLevel('warn');

interface Pc {
  engine: Engine;
  ui: PeerUi;
  stop(): Promise<void>;
  page?: TrackedPage;
}

const pcs: Pc[] = [];
let browser: Browser | null = null;
let root = '';
let rendererDir = '';
let overlayPort = 0;

let adminPeer: Peer | null = null;

/** PC A: an enrolled data folder, the headless path (Peer + PeerEngine + startPeerUi). */
async function startPc(dataDir: string, peers: Array<{ host: string; port: number }>): Promise<Pc> {
  const { peer, engine } = await startHeadlessPeer(dataDir, peers);
  adminPeer = peer;
  return servePc(engine, dataDir, async () => {
    engine.close();
    await peer.stop();
  });
}

async function servePc(engine: Engine, dataDir: string, stop: () => Promise<void>): Promise<Pc> {
  const log = createLogger({ component: 'ui-e2e', dataDir });
  const ui = await startPeerUi({ engine, dataDir, httpPort: 0, log, staticDir: rendererDir });
  const pc = { engine, ui, stop };
  pcs.push(pc);
  return pc;
}

async function nodeIdOf(engine: Engine): Promise<string> {
  const r = await engine.command({ type: 'office.status' });
  if (!r.ok || !r.value.nodeId) throw new Error(`no node id: ${JSON.stringify(r)}`);
  return r.value.nodeId;
}

const shot = (pc: Pc, name: string) =>
  pc.page?.page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  root = tempDir('peerpbx-ui-e2e-');
  [rendererDir] = await Promise.all([buildRenderer(), createOffice(join(root, 'a'), 'acme', '101')]);
  await startPc(join(root, 'a'), []);
  overlayPort = adminPeer?.office?.overlayPort ?? 0;
  const bDir = join(root, 'b');
  const b = await startApp({
    dataDir: bDir,
    log: createLogger({ component: 'ui-e2e', dataDir: bDir }),
    bind: '127.0.0.1',
    sipPort: 0,
    overlayPort: 0,
    discovery: { mdns: false, broadcast: false },
  });
  await servePc(b.engine, bDir, () => b.stop());
  // The callers' microphone: 10 s of 440 Hz (Chromium loops the file).
  const tone = join(root, 'tone440.wav');
  writeFileSync(tone, encodeWav({ sampleRate: 48_000, samples: sine(440, 10_000, 48_000, 0.5) }));
  browser = await launchChromium(tone);
  for (const pc of pcs) pc.page = await openPage(browser, pc.ui.url);
}, 60_000);

afterAll(async () => {
  await browser?.close().catch(() => {});
  for (const pc of pcs.splice(0)) {
    await pc.ui.close().catch(() => {});
    await pc.stop().catch(() => {});
  }
  await killAll();
  if (root) rmSync(root, { recursive: true, force: true });
  if (rendererDir) rmSync(rendererDir, { recursive: true, force: true });
});

/** The last `ms` of what one engine's UI is sent to play for a call (its speaker frames). */
function speakerTap(engine: Engine, ms = 600) {
  const rate = 48_000;
  const ring = new Int16Array((rate * ms) / 1000);
  let pos = 0;
  let frames = 0;
  const off = engine.audio?.onSpeaker((_id, r, pcm) => {
    if (r !== rate) throw new Error(`speaker rate ${r}`);
    frames++;
    for (const v of pcm) {
      ring[pos] = v;
      pos = (pos + 1) % ring.length;
    }
  });
  if (!off) throw new Error('the engine has no audio channel');
  const window = () => Int16Array.from([...ring.subarray(pos), ...ring.subarray(0, pos)]);
  return {
    off,
    frames: () => frames,
    strength: (hz: number) => blockToneStrength(window(), hz, rate, 100),
    rms: () => Math.sqrt(window().reduce((a, v) => a + v * v, 0) / ring.length),
  };
}

describe('two PCs of one office in the browser', () => {
  it('enrolls the second PC through its first-run screen with a join code', async () => {
    const b = pcs[1];
    const page = b.page?.page;
    if (!page) throw new Error('no page');
    const code = await invite(join(root, 'a'), '102');
    const form = page.getByRole('form', { name: 'Join an office' });
    await form.getByLabel('Peer address (optional)').fill(`127.0.0.1:${overlayPort}`);
    await form.getByLabel('Extension', { exact: true }).fill('102');
    await form.getByLabel('Your name').fill('Bob');
    await form.getByRole('textbox', { name: 'Join code' }).fill(code);
    await shot(b, 'first-run-join-102');
    await form.getByRole('button', { name: 'Join office' }).click();
    await expect.poll(() => page.getByText('PeerPBX · acme').count(), { timeout: 20_000 }).toBe(1);
    expect(await b.engine.command({ type: 'office.status' })).toMatchObject({
      ok: true,
      value: { enrolled: true, extension: '102', displayName: 'Bob', admin: false },
    });
  }, 30_000);

  it('loads the renderer with no CSP violation and shows the other PC online in each directory', async () => {
    const [a, b] = pcs;
    for (const [pc, other] of [
      [a, '102'],
      [b, '101'],
    ] as const) {
      const page = pc.page?.page;
      if (!page) throw new Error('no page');
      // The overlay merges within seconds; the directory follows member.up (or a reload).
      const row = page.locator(`li.member[data-extension="${other}"]`);
      await expect
        .poll(
          async () => {
            if ((await row.count()) === 0) await page.reload();
            return row.count();
          },
          { timeout: 25_000, interval: 1000 },
        )
        .toBe(1);
      await expect.poll(() => row.textContent(), { timeout: 5000 }).toMatch(/available/i);
      expect(await pc.page?.csp()).toEqual([]);
    }
    // B's name, typed on its first-run screen, travels in its registration to A's directory.
    const bob = a.page?.page.locator('li.member[data-extension="102"]');
    await expect
      .poll(
        async () => {
          if (!/Bob/.test((await bob?.textContent()) ?? '')) await a.page?.page.reload();
          return bob?.textContent();
        },
        { timeout: 10_000, interval: 1000 },
      )
      .toMatch(/Bob/);
    await shot(a, 'home-101');
    await shot(b, 'home-102');
  }, 40_000);

  it('lists both peers on the ring in the network view', async () => {
    const [a, b] = pcs;
    const page = a.page?.page;
    if (!page) throw new Error('no page');
    await page.getByRole('button', { name: 'Network', exact: true }).click();
    const ids = [await nodeIdOf(a.engine), await nodeIdOf(b.engine)];
    for (const id of ids)
      await expect.poll(() => page.locator('td.mono', { hasText: id ?? '-' }).count()).toBe(1);
    await expect.poll(() => page.getByText(/Peers on the ring \(2\)/).count()).toBe(1);
    await shot(a, 'network-101');
    await page.getByRole('button', { name: 'Home', exact: true }).click();
  });

  it('calls the other PC from the dialpad; it is answered, the caller is heard there and mute silences it', async (ctx) => {
    const [a, b] = pcs;
    if (!adminPeer?.pbx) ctx.skip(); // the pbx is not wired into Peer in this build
    const pa = a.page?.page;
    const pb = b.page?.page;
    if (!pa || !pb) throw new Error('no page');
    const tap = speakerTap(b.engine);
    await pa.getByPlaceholder('Extension or SIP address').fill('102');
    await pa.locator('section.dialpad button[type="submit"]').click();
    const incoming = pb.getByRole('alertdialog');
    await expect.poll(() => incoming.count(), { timeout: 15_000 }).toBe(1);
    expect(await incoming.textContent()).toMatch(/Incoming call from .*101/);
    await shot(b, 'incoming-102');
    await incoming.getByRole('button', { name: 'Answer' }).click();
    await expect.poll(() => pa.getByText('In call').count(), { timeout: 10_000 }).toBeGreaterThan(0);
    await expect.poll(() => pb.getByText('In call').count(), { timeout: 10_000 }).toBeGreaterThan(0);

    // A's page: fake microphone -> worklet -> WebSocket -> main -> RTP -> B's peer -> B's page.
    // A pure 440 Hz gives a strength near 1; the goal is > 0.5 (codec noise and resampling margin).
    await expect.poll(() => tap.strength(440), { timeout: 15_000, interval: 250 }).toBeGreaterThan(0.5);
    const heard = tap.strength(440);
    console.log(
      `callee hears 440 Hz: strength ${heard.toFixed(3)}, 1 kHz ${tap.strength(1000).toFixed(3)}, rms ${tap.rms().toFixed(0)}, frames ${tap.frames()}`,
    );
    expect(tap.strength(1000)).toBeLessThan(0.1);
    // B's page plays it: its speaker analyser's strongest bin is 440 Hz (bins are 11.7 Hz wide).
    const speaker = pb.getByRole('meter', { name: 'Speaker level' });
    await expect
      .poll(async () => Number(await speaker.getAttribute('data-peak-hz')), { timeout: 10_000 })
      .toBeGreaterThan(420);
    expect(Number(await speaker.getAttribute('data-peak-hz'))).toBeLessThan(460);
    await shot(a, 'in-call-101');
    await shot(b, 'in-call-102');

    // Mute on A: main stops sending its microphone; B hears (near) silence within a second.
    const loud = tap.rms();
    await pa.getByRole('button', { name: 'Mute', exact: true }).click();
    await expect.poll(() => pa.getByText(/Muted/).count(), { timeout: 5000 }).toBeGreaterThan(0);
    // Silence: a 0.5-amplitude tone has an RMS near 5000 here; PCMU's idle noise is a few units.
    await expect
      .poll(() => tap.rms(), { timeout: 5000, interval: 200 })
      .toBeLessThan(Math.min(300, loud / 5));
    console.log(`muted: rms ${tap.rms().toFixed(0)} (was ${loud.toFixed(0)})`);
    await shot(a, 'in-call-muted-101');
    await pa.getByRole('button', { name: 'Unmute', exact: true }).click();
    await expect.poll(() => tap.strength(440), { timeout: 5000, interval: 200 }).toBeGreaterThan(0.5);
    tap.off();
    await pa.getByRole('button', { name: 'Hang up' }).click();
    await expect.poll(() => pb.getByText('In call').count(), { timeout: 10_000 }).toBe(0);
    // Both histories show the answered call (the pbx writes a row when the call ends).
    for (const [pc, other, dir] of [
      [a, '102', 'out'],
      [b, '101', 'in'],
    ] as const) {
      const page = pc.page?.page;
      if (!page) throw new Error('no page');
      await expect
        .poll(
          async () => {
            const r = await pc.engine.command({ type: 'history.list' });
            return r.ok ? r.value.entries.map((e) => [e.direction, e.remote.extension]) : r;
          },
          { timeout: 10_000 },
        )
        .toEqual([[dir, other]]);
      await page.getByRole('button', { name: 'History', exact: true }).click();
      await expect.poll(() => page.locator('td', { hasText: other }).count()).toBeGreaterThan(0);
      await shot(pc, `history-${other === '102' ? '101' : '102'}`);
    }
    for (const pc of pcs) expect(await pc.page?.csp()).toEqual([]);
  }, 75_000);

  it('a third PC asks to join; the admin approves it in Settings and it is enrolled', async () => {
    const a = pcs[0];
    const cDir = join(root, 'c');
    const app = await startApp({
      dataDir: cDir,
      log: createLogger({ component: 'ui-e2e', dataDir: cDir }),
      bind: '127.0.0.1',
      sipPort: 0,
      overlayPort: 0,
      discovery: { mdns: false, broadcast: false },
    });
    const c = await servePc(app.engine, cDir, () => app.stop());
    if (!browser) throw new Error('no browser');
    c.page = await openPage(browser, c.ui.url);
    const pc = c.page.page;
    const form = pc.getByRole('form', { name: 'Join an office' });
    await form.getByLabel('Peer address (optional)').fill(`127.0.0.1:${overlayPort}`);
    await form.getByLabel('Extension', { exact: true }).fill('103');
    await form.getByLabel('Your name').fill('Carol');
    await form.getByRole('radio', { name: /Ask the admin/ }).check();
    await form.getByRole('button', { name: 'Ask to join' }).click();
    await expect.poll(() => pc.getByText('Waiting for the admin').count(), { timeout: 10_000 }).toBe(1);
    await shot(c, 'first-run-waiting-103');

    const pa = a.page?.page;
    if (!pa) throw new Error('no page');
    await pa.getByRole('button', { name: /^Settings/ }).click();
    const request = pa.getByRole('list', { name: 'Join requests' }).getByRole('listitem');
    await expect.poll(() => request.textContent(), { timeout: 10_000 }).toMatch(/Carol.*extension 103/);
    await shot(a, 'settings-join-request-101');
    await request.getByRole('button', { name: 'Approve' }).click();
    await expect.poll(() => pc.getByText('PeerPBX · acme').count(), { timeout: 20_000 }).toBe(1);
    expect(await app.engine.command({ type: 'office.status' })).toMatchObject({
      ok: true,
      value: { enrolled: true, extension: '103', displayName: 'Carol' },
    });
    await shot(c, 'home-103');
    for (const p of [a, c]) expect(await p.page?.csp()).toEqual([]);
  }, 45_000);
});

describe('settings and voicemail served by the real engine', () => {
  it('shows a status set on one PC live in the directory of the other', async () => {
    const [a, b] = pcs;
    const pa = a.page?.page;
    const pb = b.page?.page;
    if (!pa || !pb || !adminPeer?.presence) throw new Error('no page or no presence');
    await pa.getByRole('button', { name: 'Home', exact: true }).click();
    await pb.getByRole('button', { name: 'Home', exact: true }).click();
    const row = pb.locator('li.member[data-extension="101"]');
    await pa.getByRole('button', { name: 'Away', exact: true }).click();
    await expect.poll(() => row.textContent(), { timeout: 15_000 }).toMatch(/Away/);
    await shot(b, 'home-presence-102');
    await pa.getByRole('button', { name: 'Available', exact: true }).click();
    await expect.poll(() => row.textContent(), { timeout: 15_000 }).toMatch(/Available/);
  }, 40_000);

  it('saves forwarding, a desk phone and the office config (trunk, DID, ring group) from Settings', async () => {
    const a = pcs[0];
    const pa = a.page?.page;
    if (!pa) throw new Error('no page');
    await pa.getByRole('button', { name: /^Settings/ }).click();
    await pa.getByLabel('When busy, forward to').fill('102');
    await pa.getByRole('button', { name: 'Save forwarding' }).click();
    await pa.getByText('Saved.').waitFor();
    await expect
      .poll(async () => {
        const r = await a.engine.command({ type: 'settings.get' });
        return r.ok && r.value.forwarding.busy;
      })
      .toBe('102');
    await pa.getByLabel('Phone extension').fill('150');
    await pa.getByLabel('Phone password').fill('long-enough-pw');
    await pa.getByRole('button', { name: 'Add phone' }).click();
    await pa.getByText('not registered').waitFor();
    const form = pa.getByRole('form', { name: 'Office config' });
    await form.getByRole('button', { name: 'Add trunk' }).click();
    await form.getByLabel('Trunk 1 name').fill('carrier');
    await form.getByLabel('Trunk 1 host').fill('10.9.9.9');
    await form.getByLabel('Trunk 1 prefix').fill('9');
    await form.getByLabel('Trunk 1 strip').fill('1');
    await form.getByRole('button', { name: 'Add inbound number' }).click();
    await form.getByLabel('DID 1', { exact: true }).fill('5551000');
    await form.getByLabel('DID 1 goes to').fill('101');
    await form.getByRole('button', { name: 'Add ring group' }).click();
    await form.getByLabel('Group 1 extension').fill('600');
    await form.getByLabel('Group 1 members').fill('101, 102');
    await form.getByRole('button', { name: 'Save office config' }).click();
    await form.getByText(/Saved: every PC routes by it/).waitFor({ timeout: 10_000 });
    await shot(a, 'settings-101');
    // Every PC reads it from the overlay: B's engine sees what A's admin wrote.
    const b = pcs[1];
    await expect
      .poll(
        async () => {
          const r = await b.engine.command({ type: 'office-config.get' });
          return r.ok ? r.value : r;
        },
        { timeout: 10_000 },
      )
      .toEqual({
        trunks: [{ name: 'carrier', host: '10.9.9.9', prefix: '9', strip: 1, transport: 'UDP' }],
        routes: [],
        inbound: [{ did: '5551000', target: '101' }],
        ringGroups: [{ extension: '600', members: ['101', '102'], strategy: 'ring-all' }],
      });
    // Readable at 200% zoom (1280x800 at 2x is a 640x400 layout): no horizontal scrolling.
    if (!browser) throw new Error('no browser');
    const zoom = await openPage(browser, a.ui.url, { width: 640, height: 400 }, 2);
    await zoom.page.getByRole('button', { name: /^Settings/ }).click();
    await zoom.page.getByRole('heading', { name: 'Trunks and dial plan' }).waitFor();
    await zoom.page.getByLabel('Trunk 1 name').waitFor();
    const overflow = await zoom.page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    await zoom.page.screenshot({ path: join(SHOTS, 'settings-zoom-200-101.png'), fullPage: true });
    expect(overflow).toBeLessThanOrEqual(0);
    expect(await zoom.csp()).toEqual([]);
    await zoom.context.close();
    // Back to no forwarding, so the next test's call to 102 goes to its voicemail.
    await pa.getByLabel('When busy, forward to').fill('');
    await pa.getByRole('button', { name: 'Save forwarding' }).click();
    await expect
      .poll(async () => {
        const r = await a.engine.command({ type: 'settings.get' });
        return r.ok && r.value.forwarding.busy;
      })
      .toBe(null);
    expect(await a.page?.csp()).toEqual([]);
  }, 40_000);

  it('a voicemail left while a PC was off appears in its inbox and plays', async (ctx) => {
    const [a, b] = pcs;
    if (!adminPeer?.voicemail) ctx.skip(); // voicemail not wired into Peer in this build
    const pa = a.page?.page;
    if (!pa) throw new Error('no page');
    // B goes off.
    await b.page?.context.close();
    await b.ui.close();
    await b.stop();
    // A calls 102: its own peer answers as voicemail (greeting ~7 s, beep), A's microphone records.
    await pa.getByRole('button', { name: 'Home', exact: true }).click();
    await pa.getByPlaceholder('Extension or SIP address').fill('102');
    await pa.locator('section.dialpad button[type="submit"]').click();
    await expect.poll(() => pa.getByText('In call').count(), { timeout: 20_000 }).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 11_000));
    await pa.getByRole('button', { name: 'Hang up' }).click();
    await expect.poll(() => pa.getByText('In call').count(), { timeout: 10_000 }).toBe(0);
    // B comes back: its inbox lists the message from 101.
    const bDir = join(root, 'b');
    const app = await startApp({
      dataDir: bDir,
      log: createLogger({ component: 'ui-e2e', dataDir: bDir }),
      bind: '127.0.0.1',
      sipPort: 0,
      overlayPort: 0,
      peers: [{ host: '127.0.0.1', port: overlayPort }],
      discovery: { mdns: false, broadcast: false },
    });
    const b2 = await servePc(app.engine, bDir, () => app.stop());
    await expect
      .poll(
        async () => {
          const r = await b2.engine.command({ type: 'voicemail.list' });
          return r.ok
            ? r.value.messages.map((m) => [m.from.extension, m.heard, m.duration > 0.5 && m.duration < 15])
            : r.error;
        },
        { timeout: 30_000, interval: 1000 },
      )
      .toEqual([['101', false, true]]);
    if (!browser) throw new Error('no browser');
    b2.page = await openPage(browser, b2.ui.url);
    const pb = b2.page.page;
    await pb.getByRole('button', { name: /^Voicemail/ }).click();
    const item = pb.locator('li.vm');
    await expect.poll(() => item.count(), { timeout: 10_000 }).toBe(1);
    expect(await item.textContent()).toMatch(/101/);
    expect(await item.textContent()).toMatch(/New/);
    await shot(b2, 'voicemail-102');
    await item.getByRole('button', { name: 'Play' }).click();
    const audio = item.locator('audio');
    await expect
      .poll(() => audio.evaluate((el: HTMLAudioElement) => el.currentTime), { timeout: 10_000 })
      .toBeGreaterThan(0.5);
    await expect.poll(() => item.textContent()).toMatch(/Heard/);
    await shot(b2, 'voicemail-playing-102');
    // A greeting recorded from the (fake, 440 Hz) microphone is stored as an 8 kHz WAV.
    const greeting = pb.locator('.greeting[data-kind="unavailable"]');
    await greeting.getByRole('button', { name: 'Record' }).click();
    await greeting.getByRole('button', { name: 'Stop and save' }).waitFor();
    await new Promise((r) => setTimeout(r, 1500));
    await greeting.getByRole('button', { name: 'Stop and save' }).click();
    await expect.poll(() => greeting.textContent(), { timeout: 10_000 }).toMatch(/Your own greeting/);
    const g = await b2.engine.command({ type: 'greeting.get', kind: 'unavailable' });
    if (!g.ok || !g.value.base64) throw new Error(`no greeting: ${JSON.stringify(g)}`);
    const wav = decodeWav(new Uint8Array(Buffer.from(g.value.base64, 'base64')));
    if (!wav.ok) throw new Error('greeting is not a WAV');
    expect(wav.value.sampleRate).toBe(8000);
    expect(wav.value.samples.length).toBeGreaterThan(8000);
    expect(blockToneStrength(wav.value.samples.subarray(2000), 440, 8000)).toBeGreaterThan(0.5);
    await shot(b2, 'voicemail-greeting-102');
    // "Send to voicemail" on an incoming call: the caller's own peer answers as 102's voicemail.
    await pa.getByPlaceholder('Extension or SIP address').fill('102');
    await pa.locator('section.dialpad button[type="submit"]').click();
    const incoming = pb.getByRole('alertdialog');
    await expect.poll(() => incoming.count(), { timeout: 15_000 }).toBe(1);
    await incoming.getByRole('button', { name: 'Send to voicemail' }).click();
    await expect.poll(() => incoming.count(), { timeout: 10_000 }).toBe(0);
    await expect.poll(() => pa.getByText('In call').count(), { timeout: 15_000 }).toBeGreaterThan(0);
    await pa.getByRole('button', { name: 'Hang up' }).click();
    await expect.poll(() => pa.getByText('In call').count(), { timeout: 10_000 }).toBe(0);
    const r = await b2.engine.command({ type: 'voicemail.list' });
    expect(r.ok && r.value.messages[0].heard).toBe(true);
    // Export: the link saves the decrypted message as it is, an 8 kHz mono 16-bit WAV.
    const save = item.getByRole('link', { name: 'Save as WAV' });
    expect(await save.getAttribute('download')).toMatch(/^voicemail-.*\.wav$/);
    expect(await save.getAttribute('href')).toMatch(/^blob:/);
    // The blob holds exactly what voicemail.audio returned (the page cannot fetch blob: under its CSP).
    const audioReply = await b2.engine.command({
      type: 'voicemail.audio',
      id: r.ok ? r.value.messages[0].id : '',
    });
    if (!audioReply.ok) throw new Error(audioReply.error);
    const exported = decodeWav(new Uint8Array(Buffer.from(audioReply.value.base64, 'base64')));
    expect(exported.ok && exported.value.sampleRate).toBe(8000);
    expect(exported.ok && blockToneStrength(exported.value.samples, 440, 8000)).toBeGreaterThan(0.5);
    // Delete: gone from the inbox and from the box in the overlay.
    await pb.getByRole('button', { name: /^Voicemail/ }).click();
    await item.getByRole('button', { name: 'Delete' }).click();
    await expect.poll(() => item.count(), { timeout: 10_000 }).toBe(0);
    await expect
      .poll(async () => {
        const l = await b2.engine.command({ type: 'voicemail.list' });
        return l.ok ? l.value.messages.length : l.error;
      })
      .toBe(0);
    expect(await b2.page.csp()).toEqual([]);
  }, 90_000);
});
