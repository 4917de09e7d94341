// The owner side over the real deposit path: a baresip desk phone (201, on gateway 101) calls 104
// while 104's PC is off; the caller's peer (VoicemailService) records its 440 Hz tone and stores
// it. 104 starts later: `peerpbx voicemail list` shows the message and `voicemail export` writes a
// WAV with that tone. Then, 104 online on DND, a new message is listed by its Mailbox as soon as it
// is stored (timed on one clock: the peers run in this process, the CLI talks to their sockets).
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sine } from '../../src/core/media/tones.ts';
import { decodeWav, encodeWav } from '../../src/core/media/wav.ts';
import { blockToneStrength } from '../../src/main/media/sinks.ts';
import type { Peer } from '../../src/main/peer.ts';
import type { MailboxMessage } from '../../src/main/voicemail/mailbox.ts';
import { mustSucceed } from '../office/harness.ts';
import { startVmOffice, until, type VmOffice } from './deposit-office.ts';
import { DeskPhone, stopDeskPhones } from './deposit-phone.ts';

describe('voicemail owner side over the real deposit path', () => {
  let office: VmOffice;
  let phone: DeskPhone;
  const gw = () => office.peers.get('101') as Peer;
  const owner = () => office.peers.get('104') as Peer;

  beforeAll(async () => {
    office = await startVmOffice({
      extensions: ['101', '102', '103', '104'],
      deskPhones: [{ extension: '201', password: 'pw-201' }],
    });
    // Short greetings (300 Hz, 0.7 s), stored by 104's own Mailbox: the tone then follows soon.
    const greeting = encodeWav({ sampleRate: 8000, samples: sine(300, 700, 8000) });
    await owner().mailbox?.setGreeting('unavailable', greeting);
    await owner().mailbox?.setGreeting('busy', greeting);
    phone = await DeskPhone.start({
      extension: '201',
      password: 'pw-201',
      registrar: `127.0.0.1:${gw().pbx?.sipPort}`,
      toneHz: 440,
      rtpPorts: [23400, 23419],
      registered: async () => ((await gw().pbx?.lookup('201')) ?? []).length > 0,
    });
  }, 90_000);

  afterAll(async () => {
    await stopDeskPhones();
    await office?.stop();
    if (office) rmSync(office.root, { recursive: true, force: true });
  });

  /** The desk phone calls 104 and plays its tone `toneMs` after the greeting; hangs up. */
  async function leaveMessage(toneMs: number) {
    const before = office.events.length;
    const since = phone.dial('104');
    await phone.waitEvent('CALL_ESTABLISHED', 20_000, since);
    await until('recording', () => office.logs.slice(-50).some((l) => l.msg === 'voicemail call'), 10_000);
    await new Promise((r) => setTimeout(r, 1500 + toneMs)); // greeting + beep, then the tone
    const hungUpAt = performance.now();
    phone.hangup();
    await phone.waitEvent('CALL_CLOSED', 10_000, since);
    await until('deposit outcome', () => office.events.length > before, 30_000);
    const e = office.events[before];
    if (e.type !== 'deposited') throw new Error(`no deposit: ${JSON.stringify(e)}`);
    return { ...e, hungUpAt, depositedAt: performance.now() };
  }

  const list = async (): Promise<MailboxMessage[]> =>
    JSON.parse((await mustSucceed(['voicemail', 'list', '--data', office.dirs['104'], '--json'])).stdout);

  it('104 off: the message is listed when 104 starts and exports to a WAV of the caller’s tone', async () => {
    await office.stopPeer('104');
    await until('104 offline', async () => ((await gw().pbx?.lookup('104')) ?? []).length === 0, 20_000);
    const e = await leaveMessage(2500);
    expect(e.copies).toBeGreaterThanOrEqual(3);
    await office.startPeer('104');
    const listed = await list();
    expect(listed).toContainEqual({
      id: e.entryId,
      from: '201',
      time: expect.any(Number),
      duration: e.duration,
      heard: false,
    });
    const file = join(office.root, 'exported.wav');
    await mustSucceed(['voicemail', 'export', '--data', office.dirs['104'], e.entryId, file]);
    const wav = decodeWav(new Uint8Array(readFileSync(file)));
    if (!wav.ok) throw new Error(wav.error.reason);
    expect(wav.value.sampleRate).toBe(8000);
    const strength = blockToneStrength(wav.value.samples, 440, 8000);
    console.log(`exported ${e.duration} ms message: 440 Hz strength ${strength.toFixed(3)}`);
    expect(strength).toBeGreaterThan(0.5);
    expect(blockToneStrength(wav.value.samples, 700, 8000)).toBeLessThan(0.1);
  }, 80_000);

  it('104 online (DND): a new message is listed by its Mailbox within a second of being stored', async () => {
    await owner().pbx?.setUserSettings({ dnd: true });
    const box = owner().mailbox;
    if (!box) throw new Error('104 has no mailbox');
    const seen = new Map<string, number>();
    const off = box.on((ev) => {
      if (ev.type === 'new') seen.set(ev.message.id, performance.now());
    });
    try {
      // The gateway's cached USER-SETTINGS follow by watch; had it not yet, the call would only
      // ring 104 until no answer and still reach voicemail (slower, same outcome).
      await new Promise((r) => setTimeout(r, 500));
      const e = await leaveMessage(1500);
      await until('listed by the mailbox', () => seen.has(e.entryId), 10_000);
      const listedAt = seen.get(e.entryId) as number;
      // The 'deposited' event comes after every copy acknowledged; the watch may well be first.
      const afterStored = listedAt - e.depositedAt;
      console.log(
        `real deposit -> listed: ${(listedAt - e.hungUpAt).toFixed(0)} ms after the caller hung up (recording closed, encrypted, stored), ${afterStored.toFixed(0)} ms after the deposit was acknowledged`,
      );
      expect(afterStored).toBeLessThan(1000);
      expect(box.list()[0]).toMatchObject({ id: e.entryId, from: '201', heard: false });
    } finally {
      off();
    }
  }, 60_000);
});
