// The React renderer in Debian's Chromium, built by Vite, served by the real UI bridge, talking to the
// TEST ENGINE (test-engine.ts) over the token-protected WebSocket. Screenshots go to test-results/ui/.
import { rmSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sine } from '../../src/core/media/tones.ts';
import { encodeWav } from '../../src/core/media/wav.ts';
import type { UiBridge } from '../../src/main/ui-bridge/index.ts';
import { buildRenderer, launchChromium, openPage, shot, startBridge, type TrackedPage } from './harness.ts';
import { TestOffice, type TestOfficeOptions } from './test-engine.ts';

let staticDir: string;
let browser: Browser;
const open: { bridge: UiBridge; tracked: TrackedPage }[] = [];

beforeAll(async () => {
  [staticDir, browser] = await Promise.all([buildRenderer(), launchChromium()]);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  if (staticDir) rmSync(staticDir, { recursive: true, force: true });
});
afterEach(async () => {
  for (const o of open.splice(0)) {
    await o.tracked.context.close();
    await o.bridge.close();
  }
});

const ACME = { id: 'ca-acme', name: 'Acme', peers: 3, address: '10.0.0.1:7070' };
const COLLEAGUES = [
  { extension: '102', displayName: 'Bob Builder' },
  { extension: '103', displayName: 'Carol Chen', presence: 'away' as const },
  { extension: '104', displayName: 'Dan Dorsey', presence: 'offline' as const },
];

async function scenario(opts: TestOfficeOptions, view?: { width: number; height: number }, scale = 1) {
  const office = new TestOffice(opts);
  const { bridge, log } = await startBridge(office.engine, staticDir);
  const tracked = await openPage(browser, bridge.url, view, scale);
  open.push({ bridge, tracked });
  return { office, bridge, log, page: tracked.page, tracked };
}

describe('renderer in Chromium', () => {
  it('loads with no CSP violation and no console error, and takes the token out of the URL', async () => {
    const { page, tracked } = await scenario({ colleagues: COLLEAGUES });
    await page.getByRole('heading', { name: 'Directory' }).waitFor();
    expect(await tracked.csp()).toEqual([]);
    expect(tracked.consoleErrors).toEqual([]);
    expect(page.url()).not.toContain('token');
    // The listener does catch violations: an inline script is refused and reported.
    await page.evaluate(() => {
      const s = document.createElement('script');
      s.textContent = 'window.__inline = 1';
      document.body.append(s);
    });
    await expect.poll(async () => (await tracked.csp()).join(' ')).toContain('script-src');
    expect(await page.evaluate(() => (window as unknown as { __inline?: number }).__inline)).toBeUndefined();
  });

  it('a page without the token says so and reaches nothing', async () => {
    const { bridge, page } = await scenario({});
    await page.goto(`http://127.0.0.1:${bridge.port}/`);
    await page.evaluate(() => sessionStorage.clear());
    await page.reload();
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('Not authorized');
  });

  it('shows a lost peer, keeps working, and reconnects by itself when the peer is back', async () => {
    const { page, office, bridge } = await scenario({ colleagues: COLLEAGUES });
    await page.getByRole('heading', { name: 'Directory' }).waitFor();
    await bridge.close();
    await page.getByText('Connection to the peer lost').waitFor();
    // A command while the peer is away answers at once with a clear error instead of hanging.
    await page.getByLabel('Number').fill('102');
    await page.locator('.dialpad').getByRole('button', { name: 'Call', exact: true }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('cannot be reached');
    const again = await startBridge(office.engine, staticDir, { port: bridge.port });
    open.push({ bridge: again.bridge, tracked: open[open.length - 1].tracked });
    await expect.poll(() => page.getByText('Connection to the peer lost').count(), { timeout: 8000 }).toBe(0);
    office.setPresence('103', { state: 'dnd' });
    await expect
      .poll(() => page.locator('li.member[data-extension="103"]').textContent())
      .toContain('Do not disturb');
  });

  it('first run: join shows extension taken, wrong code, then joins with the right code', async () => {
    const { page, office } = await scenario({
      self: null,
      offices: [ACME],
      colleagues: COLLEAGUES,
      joinCodes: ['K7P2-9QXR'],
      latencyMs: 150,
    });
    await page.getByText('Acme').waitFor();
    await shot(page, 'first-run');
    await page.getByLabel('Extension').fill('102');
    await page.getByLabel('Your name').fill('Eve Example');
    await page.getByLabel('Join code', { exact: true }).fill('K7P2-9QXR');
    await page.getByRole('button', { name: 'Join office' }).click();
    const alert = page.getByRole('alert');
    await expect.poll(() => alert.textContent()).toContain('Extension 102 is already taken');
    // The error takes the focus, so a keyboard or screen-reader user lands on it.
    // (polled: the focus moves in an effect after the text renders, later on a loaded machine)
    await expect.poll(() => alert.evaluate((el) => el === document.activeElement)).toBe(true);
    await shot(page, 'first-run-extension-taken');

    await page.getByLabel('Extension').fill('105');
    await page.getByLabel('Join code', { exact: true }).fill('WRONG-000');
    await page.getByRole('button', { name: 'Join office' }).click();
    await expect.poll(() => alert.textContent()).toContain('join code is wrong');
    expect(office.status.enrolled).toBe(false);

    await page.getByLabel('Join code', { exact: true }).fill('K7P2-9QXR');
    await page.getByRole('button', { name: 'Join office' }).click();
    await page.getByRole('heading', { name: 'Directory' }).waitFor();
    expect(office.status).toMatchObject({ enrolled: true, extension: '105', displayName: 'Eve Example' });
    expect(office.joinCodes.size).toBe(0); // the one-time code was used up
    expect(await page.getByText('Bob Builder').isVisible()).toBe(true);
  });

  it('first run: no office found explains the peer address; the address finds it; create works', async () => {
    const { page, office } = await scenario({
      self: null,
      offices: [],
      officesByPeer: { '192.168.7.20:7070': { ...ACME, address: '192.168.7.20:7070' } },
      latencyMs: 400,
    });
    await expect.poll(() => page.locator('.warning').textContent()).toContain('No office was found');
    expect(await page.locator('.warning').textContent()).toContain('address of a PC in the office');
    await shot(page, 'first-run-no-office');

    await page.getByLabel('Extension').fill('110');
    await page.getByLabel('Your name').fill('Finn');
    await page.getByLabel('Join code', { exact: true }).fill('ANY');
    await page.getByRole('button', { name: 'Join office' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('No office was found');

    await page.getByLabel('Peer address (optional)').fill('192.168.7.20:7070');
    await page.getByRole('button', { name: 'Search again' }).click();
    await page.getByRole('radio', { name: /Acme.*192\.168\.7\.20:7070/ }).waitFor();
    expect(await page.getByRole('radio', { name: /Acme/ }).isChecked()).toBe(true);
    await page.waitForTimeout(300);
    expect(office.discoverCalls).toBe(2); // the first search and "Search again": no polling loop

    // Keyboard: the arrow key moves to the other tab and shows its panel.
    await page.getByRole('tab', { name: 'Join an office' }).focus();
    await page.keyboard.press('ArrowRight');
    expect(await page.getByRole('tab', { name: 'Create a new office' }).getAttribute('aria-selected')).toBe(
      'true',
    );
    expect(
      await page
        .getByRole('tab', { name: 'Create a new office' })
        .evaluate((t) => t === document.activeElement),
    ).toBe(true);
    await page.getByRole('button', { name: 'Create office' }).click();
    expect(await page.getByText('Name the office').isVisible()).toBe(true); // validated before sending
    await page.getByLabel('Office name').fill('Finn & Co');
    await page.getByLabel('Extension').fill('110');
    await page.getByLabel('Your name').fill('Finn');
    await shot(page, 'first-run-create');
    await page.getByRole('button', { name: 'Create office' }).click();
    // The long operation shows its progress (the engine's progress event) while the UI stays live.
    await page.getByRole('progressbar', { name: 'Creating the office certificate authority' }).waitFor();
    expect(await page.getByRole('button', { name: 'Creating…' }).isDisabled()).toBe(true);
    await page.getByRole('heading', { name: 'Directory' }).waitFor();
    expect(await page.getByRole('progressbar').count()).toBe(0);
    expect(office.status).toMatchObject({ enrolled: true, officeName: 'Finn & Co', admin: true });
    expect(await page.locator('.brand').textContent()).toContain('Finn & Co');
  });

  it('first run: asking the admin waits, then moves on when approval arrives', async () => {
    const { page, office } = await scenario({ self: null, offices: [ACME], colleagues: COLLEAGUES });
    await page.getByText('Acme').waitFor();
    await page.getByLabel('Extension').fill('120');
    await page.getByLabel('Your name').fill('Gina');
    await page.getByRole('radio', { name: /Ask the admin/ }).check();
    await page.getByRole('button', { name: 'Ask to join' }).click();
    await page.getByRole('heading', { name: 'Waiting for the admin' }).waitFor();
    await shot(page, 'first-run-waiting');
    office.approvePendingJoin();
    await page.getByRole('heading', { name: 'Directory' }).waitFor();
    expect(await page.locator('.own-status').textContent()).toContain('extension 120');
  });

  it('home: the directory follows presence events live; search; own status; dialpad', async () => {
    const { page, office } = await scenario({ colleagues: COLLEAGUES });
    const row = (ext: string) => page.locator(`li.member[data-extension="${ext}"]`);
    await row('102').waitFor();
    expect(await row('102').textContent()).toContain('Available');
    expect(await row('103').textContent()).toContain('Away');
    expect(await row('104').getByRole('button', { name: /Call/ }).isDisabled()).toBe(true); // offline

    office.setPresence('102', { state: 'dnd', note: 'in a meeting' });
    await expect.poll(() => row('102').textContent()).toContain('Do not disturb');
    expect(await row('102').textContent()).toContain('in a meeting');
    office.setPresence('104', { state: 'available' });
    await expect.poll(() => row('104').getByRole('button', { name: /Call/ }).isDisabled()).toBe(false);
    office.memberUp('107', 'Gus Grant');
    await row('107').waitFor();
    await shot(page, 'home');

    await page.getByLabel('Search').first().fill('car');
    await expect.poll(() => page.locator('li.member').count()).toBe(1);
    expect(await row('103').isVisible()).toBe(true);
    await page.getByLabel('Search').first().fill('');

    await page.getByLabel('Note').fill('back at 2');
    await page.getByRole('button', { name: 'Away' }).click();
    await expect.poll(() => page.locator('.own-status p').first().textContent()).toContain('Away');
    expect(office.status.presence).toEqual({ state: 'away', note: 'back at 2' });

    // Keyboard: type on the dialpad keys and call.
    await page.getByRole('button', { name: 'Key 1' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Key 0' }).click();
    await page.getByRole('button', { name: 'Key 2' }).click();
    expect(await page.getByLabel('Number').inputValue()).toBe('102');
    await page.locator('.dialpad').getByRole('button', { name: 'Call', exact: true }).click();
    await page.getByText('Ringing…').waitFor();
    expect([...office.calls.values()][0]).toMatchObject({ direction: 'out', remote: { extension: '102' } });
  });

  it('calls: incoming, answer, timer, microphone, mute, hold, keypad, hang up; history shows it', async () => {
    const { page, office, tracked } = await scenario({ colleagues: COLLEAGUES });
    await page.getByRole('heading', { name: 'Directory' }).waitFor();
    office.incomingCall('102');
    const dialog = page.getByRole('alertdialog');
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain('Incoming call from Bob Builder (102)');
    expect(
      await page.getByRole('button', { name: 'Answer' }).evaluate((b) => b === document.activeElement),
    ).toBe(true);
    await shot(page, 'call-incoming');
    await page.getByRole('button', { name: 'Answer' }).click();
    await page.getByText('In call').waitFor();
    await expect.poll(() => page.locator('.timer').textContent(), { timeout: 4000 }).toMatch(/^0:0[1-9]$/);
    // The microphone runs through getUserMedia and the AudioWorklet: the meter moves.
    const meter = page.getByRole('meter', { name: 'Microphone level' });
    await expect
      .poll(() => meter.evaluate((m: HTMLMeterElement) => m.value), { timeout: 4000 })
      .toBeGreaterThan(0.01);
    await page.getByRole('button', { name: 'Mute' }).click();
    await page.getByRole('button', { name: 'Unmute' }).waitFor();
    await page.getByRole('button', { name: 'Hold' }).click();
    await page.getByRole('button', { name: 'Resume' }).waitFor();
    expect(await page.locator('.call-state').textContent()).toContain('On hold');
    await page.getByRole('button', { name: 'Keypad' }).click();
    await page.locator('.call').getByRole('button', { name: 'Key 5' }).click();
    await page.locator('.call').getByRole('button', { name: 'Key #' }).click();
    await expect.poll(() => office.dtmfSent).toEqual(['5', '#']);
    await shot(page, 'call-active');
    await page.getByRole('button', { name: 'Hang up' }).click();
    await expect.poll(() => page.locator('.call').count()).toBe(0);

    await page.getByRole('button', { name: 'History' }).click();
    await page.getByRole('cell', { name: 'Bob Builder (102)', exact: true }).waitFor();
    expect(await page.getByRole('cell', { name: 'Incoming' }).count()).toBe(1);
    await shot(page, 'history');
    expect(await tracked.csp()).toEqual([]); // the worklet and the media path fit the CSP too
    expect(tracked.consoleErrors).toEqual([]);
  });

  it('voicemail: lists new and heard, plays a message (audio decodes), marks heard, deletes', async () => {
    const now = Date.now();
    const { page, office } = await scenario({
      colleagues: COLLEAGUES,
      voicemail: [
        {
          id: 'vm1',
          from: { uri: 'sip:102@office', extension: '102', displayName: 'Bob Builder' },
          time: now - 60_000,
          duration: 2,
          heard: false,
        },
        {
          id: 'vm2',
          from: { uri: 'sip:103@office', extension: '103', displayName: 'Carol Chen' },
          time: now - 3_600_000,
          duration: 1,
          heard: true,
        },
      ],
    });
    await expect.poll(() => page.getByRole('button', { name: /Voicemail/ }).textContent()).toContain('1 new');
    await page.getByRole('button', { name: /Voicemail/ }).click();
    expect(
      await page.getByRole('heading', { name: 'Voicemail' }).evaluate((h) => h === document.activeElement),
    ).toBe(true);
    await page.getByText('1 new, 1 heard').waitFor();
    const first = page.locator('li.vm[data-id="vm1"]');
    await first.getByRole('button', { name: 'Play' }).click();
    const audio = first.locator('audio');
    await audio.waitFor();
    expect(await audio.getAttribute('src')).toMatch(/^blob:/);
    await expect.poll(() => audio.evaluate((a: HTMLAudioElement) => a.duration)).toBeCloseTo(2, 1);
    // It plays: the element's position advances.
    await expect
      .poll(() => audio.evaluate((a: HTMLAudioElement) => a.currentTime), { timeout: 4000 })
      .toBeGreaterThan(0.2);
    // The waveform is drawn from the decoded audio and follows playback.
    const wave = first.getByRole('img', { name: /Waveform/ });
    await wave.waitFor();
    expect(await wave.locator('rect').count()).toBe(120);
    await expect
      .poll(async () => Number(await wave.getAttribute('data-played')), { timeout: 4000 })
      .toBeGreaterThan(5);
    await expect.poll(() => office.voicemail.get('vm1')?.heard).toBe(true);
    await page.getByText('0 new, 2 heard').waitFor();
    await shot(page, 'voicemail');
    await page.locator('li.vm[data-id="vm2"]').getByRole('button', { name: 'Delete' }).click();
    await expect.poll(() => page.locator('li.vm').count()).toBe(1);
    expect(office.voicemail.has('vm2')).toBe(false);

    // Greetings: a WAV upload is stored; a file that is not WAV is refused before sending.
    const unavailable = page.locator('.greeting[data-kind="unavailable"]');
    expect(await unavailable.textContent()).toContain('The default greeting');
    const wav = Buffer.from(encodeWav({ sampleRate: 8000, samples: sine(440, 500, 8000) }));
    await unavailable
      .getByLabel('Upload a WAV file')
      .setInputFiles({ name: 'hello.wav', mimeType: 'audio/wav', buffer: wav });
    await unavailable.getByText('Your own greeting').waitFor();
    expect(Buffer.from(office.greetings.get('unavailable') ?? '', 'base64').equals(wav)).toBe(true);
    await expect
      .poll(() => unavailable.locator('audio').evaluate((a: HTMLAudioElement) => a.duration))
      .toBeCloseTo(0.5, 1);
    const busyGreeting = page.locator('.greeting[data-kind="busy"]');
    await busyGreeting.getByLabel('Upload a WAV file').setInputFiles({
      name: 'notes.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('x'.repeat(100)),
    });
    await expect.poll(() => busyGreeting.getByRole('alert').textContent()).toContain('not a WAV file');
    expect(office.greetings.has('busy')).toBe(false);
    await shot(page, 'voicemail-greetings');
    await unavailable.getByRole('button', { name: 'Use the default' }).click();
    await unavailable.getByText('The default greeting').waitFor();
    expect(office.greetings.size).toBe(0);

    office.engine.emit({
      type: 'voicemail.new',
      message: {
        id: 'vm3',
        from: { uri: 'sip:104@office', extension: '104' },
        time: now,
        duration: 3,
        heard: false,
      },
    });
    await page.locator('li.vm[data-id="vm3"]').waitFor();
  });

  it('network view and settings (forwarding, DND, join requests) work; screenshots', async () => {
    const { page, office } = await scenario({ colleagues: COLLEAGUES.slice(0, 1) });
    await page.getByRole('heading', { name: 'Directory' }).waitFor();
    await page.getByRole('button', { name: 'Network' }).click();
    await page.getByRole('heading', { name: 'Peers on the ring (2)' }).waitFor();
    expect(await page.getByText('(this PC)').count()).toBe(1);
    expect(await page.getByRole('status').filter({ hasText: 'fewer than 3 copies' }).textContent()).toContain(
      '2 of 2',
    );
    await shot(page, 'network');

    office.joinRequest('130', 'Hal Hughes');
    await expect.poll(() => page.getByRole('button', { name: /Settings/ }).textContent()).toContain('1');
    await page.getByRole('button', { name: /Settings/ }).click();
    await page.getByLabel('Forward all calls to').waitFor();
    await page.getByLabel('When busy, forward to').fill('10x');
    expect(await page.getByText('An extension is digits only.').isVisible()).toBe(true);
    await page.getByLabel('When busy, forward to').fill('102');
    await page.getByRole('button', { name: 'Save forwarding' }).click();
    await page.getByText('Saved.').waitFor();
    expect(office.settings.forwarding).toEqual({
      always: null,
      busy: '102',
      noAnswer: null,
      noAnswerSeconds: 20,
    });
    await page.getByLabel('Send all calls to voicemail').click();
    await expect.poll(() => page.getByLabel('Send all calls to voicemail').isChecked()).toBe(true);
    await expect.poll(() => office.settings.dnd).toBe(true);
    await shot(page, 'settings');
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.getByText('No PC is waiting to join.').waitFor();
    expect(office.members.has('130')).toBe(true);

    // Invite: the code the engine made is shown, and it is a live one-time code.
    await page.getByLabel('Extension for the new PC').fill('140');
    await page.getByRole('button', { name: 'Create join code' }).click();
    const code = await page.locator('output.code').textContent();
    expect(code && office.joinCodes.has(code)).toBe(true);
    await page.getByLabel('Extension for the new PC').fill('102');
    await page.getByRole('button', { name: 'Create join code' }).click();
    await expect
      .poll(() => page.locator('#invite-title ~ [role=alert]').textContent())
      .toContain('already taken');

    // Desk phones: validated, added, listed, removed.
    await page.getByLabel('Phone extension').fill('150');
    await page.getByLabel('Phone password').fill('short');
    await page.getByRole('button', { name: 'Add phone' }).click();
    expect(await page.getByText('At least 8 characters.').isVisible()).toBe(true);
    await page.getByLabel('Phone password').fill('long-enough-pw');
    await page.getByRole('button', { name: 'Add phone' }).click();
    await page.getByText('not registered').waitFor();
    expect(office.phones.get('150')?.password).toBe('long-enough-pw');
    await shot(page, 'settings-admin');
    await page.getByRole('button', { name: 'Remove desk phone 150' }).click();
    await page.getByText('No desk phones yet.').waitFor();
    expect(office.phones.size).toBe(0);
  });

  it('commands the engine lacks show "not available yet"', async () => {
    const { page } = await scenario({
      colleagues: COLLEAGUES,
      without: ['voicemail.list', 'call.dial', 'settings.get', 'history.list', 'presence.set'],
    });
    await page.getByRole('heading', { name: 'Directory' }).waitFor();
    expect(await page.getByText('Calling is not available yet').isVisible()).toBe(true);
    expect(await page.getByRole('button', { name: 'Call Bob Builder' }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Voicemail' }).click();
    await page.getByText('Voicemail is not available yet').waitFor();
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByText('Forwarding and do-not-disturb is not available yet').waitFor();
    await shot(page, 'not-available');
  });

  it('runs over an Electron-style preload API (window.peerpbx) and validates what comes back', async () => {
    const office = new TestOffice({ colleagues: COLLEAGUES });
    const { bridge } = await startBridge(office.engine, staticDir);
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    page.setDefaultTimeout(5000);
    open.push({ bridge, tracked: { page, context, csp: async () => [], consoleErrors: [] } });
    const consoleLines: string[] = [];
    page.on('console', (m) => consoleLines.push(m.text()));
    // What a preload exposes: command() over invoke, on() over the event channel. The "main
    // process" here is the test engine, reached through playwright's exposed function.
    await page.exposeFunction('__ipcInvoke', (cmd: { type: string }) =>
      cmd.type === 'members.list'
        ? { ok: true, value: { members: [{ extension: 'not-digits' }] } } // a broken main process
        : office.engine.command(cmd as never),
    );
    await page.addInitScript(() => {
      const w = window as unknown as Record<string, unknown>;
      const handlers: ((e: unknown) => void)[] = [];
      w.__ipcHandlers = handlers;
      w.peerpbx = {
        command: (c: unknown) => (w.__ipcInvoke as (c: unknown) => Promise<unknown>)(c),
        on: (h: (e: unknown) => void) => {
          handlers.push(h);
          return () => handlers.splice(handlers.indexOf(h), 1);
        },
      };
    });
    const push = (ev: unknown) =>
      page.evaluate((e) => {
        for (const h of (window as unknown as { __ipcHandlers: ((e: unknown) => void)[] }).__ipcHandlers)
          h(e);
      }, ev);
    await page.goto(`http://127.0.0.1:${bridge.port}/`); // no token: IPC needs none
    await page.getByRole('heading', { name: 'Directory' }).waitFor();
    // The invalid members reply was refused: nothing of it reached the directory.
    expect(await page.locator('li.member').count()).toBe(0);
    expect(consoleLines.some((l) => l.includes('invalid reply from the engine'))).toBe(true);
    await push({ type: 'member.up', member: { ...office.members.get('102'), presence: { state: 'away' } } });
    await page.locator('li.member[data-extension="102"]').getByText('Away').waitFor();
    await push({ type: 'presence.changed', extension: '102', presence: { state: 'hacked' } });
    await push({ type: 'presence.changed', extension: '102', presence: { state: 'dnd' } });
    await page.locator('li.member[data-extension="102"]').getByText('Do not disturb').waitFor();
    expect(consoleLines.some((l) => l.includes('invalid event from the engine'))).toBe(true);
    // Commands go through too.
    await page.getByRole('button', { name: 'Away' }).click();
    await expect.poll(() => office.status.presence?.state).toBe('away');
  });

  it('is readable at 200% zoom: one column, no horizontal scrolling', async () => {
    const { page } = await scenario({ colleagues: COLLEAGUES }, { width: 640, height: 400 }, 2);
    await page.getByRole('heading', { name: 'Directory' }).waitFor();
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    const [dir, side] = await Promise.all([
      page.locator('.directory').boundingBox(),
      page.locator('.side').boundingBox(),
    ]);
    expect(side!.y).toBeGreaterThan(dir!.y + dir!.height - 1); // stacked, not squeezed side by side
    await shot(page, 'home-zoom-200');
  });
});
