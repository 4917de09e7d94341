// Interop: a real SIP phone stack (baresip with its mwi module) registers with digest at gateway G
// as 201 and subscribes to its own message-summary on its own; when a VOICEMAIL entry for 201 is
// stored, G's NOTIFY reaches it with Messages-Waiting: yes (baresip prints the body it got).
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { baresipConfig } from '../helpers/baresip.ts';
import { freePort } from '../helpers/ports.ts';
import { killAll, type Running, start, tempDir, waitFor } from '../helpers/processes.ts';
import { enrolledFolders, nextEvent, type PresencePeer, startOffice } from './harness.ts';

const haveBaresip = existsSync('/usr/lib/baresip/modules/mwi.so');

describe.skipIf(!haveBaresip)('baresip gets the message-waiting lamp from its gateway peer', () => {
  const folders = enrolledFolders(['101']);
  const peers: PresencePeer[] = [];
  const dir = tempDir('presence-baresip-');
  let phone: Running | null = null;
  afterAll(async () => {
    phone?.child.kill('SIGKILL');
    await Promise.allSettled(peers.map((p) => p.request({ op: 'stop' }, 5000)));
    await killAll();
    folders.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('subscribes to message-summary and shows Messages-Waiting: yes after a deposit', async () => {
    const [g] = await startOffice(
      folders.dirs,
      [{ name: 'g', extension: '101', deskPhones: [{ extension: '201', password: 'secret-201' }] }],
      peers,
    );
    const registrar = `127.0.0.1:${String(g.ready.sipPort)}`;
    const recDir = join(dir, 'rec');
    mkdirSync(recDir);
    const sipPort = await freePort();
    const config = [
      ...baresipConfig({ sipListen: `127.0.0.1:${sipPort}`, toneHz: 440, recDir, rtpPorts: [23000, 23010] }),
      'module_app mwi.so',
    ];
    writeFileSync(join(dir, 'config'), `${config.join('\n')}\n`);
    writeFileSync(
      join(dir, 'accounts'),
      `<sip:201@${registrar}>;auth_pass=secret-201;regint=300;answermode=auto;audio_codecs=PCMU\n`,
    );
    phone = start('baresip', ['-f', dir, '-t', '40']);
    const running = phone;
    const subscribed = await nextEvent(g, 'pbx', { type: 'desk-phone', extension: '201', registered: true });
    expect(subscribed).toBeTruthy();
    // baresip subscribes right after registering; its first NOTIFY says no messages.
    const end = Date.now() + 15_000;
    while (((await g.request({ op: 'events' })).subscriptions as number) < 1) {
      if (Date.now() > end) throw new Error(`baresip did not subscribe: ${running.stdout().slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    await g.request({ op: 'deposit', extension: '201' });
    const out = await waitFor(
      'baresip shows Messages-Waiting: yes',
      () => {
        const text = running.stdout() + running.stderr();
        return /Messages-Waiting:\s*yes/i.test(text) ? text : null;
      },
      15_000,
    );
    expect(out).toMatch(/Voice-Message:\s*1\/0/);
  }, 60_000);
});
