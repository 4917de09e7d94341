// Distributed voicemail, deposit side, with real peers and a real desk phone: four PCs (101 the
// gateway with desk phone 201, 102, 103, and 104 whose voicemail is called). The caller's own
// peer (101, the desk phone's gateway) answers for 104: 104's own greeting from the overlay, a
// beep, the caller's 440 Hz tone recorded, encrypted to 104's certificate and stored with 3 copies.
// Opening it with the key in 104's data folder gives the tone back. Then busy (and # ends the
// recording), no answer (short noAnswerMs) and DND each lead to voicemail too. When 104 starts
// again its own Mailbox lists the message and plays the tone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sine } from '../../src/core/media/tones.ts';
import { decodeWav, encodeWav } from '../../src/core/media/wav.ts';
import { blockToneStrength } from '../../src/main/media/sinks.ts';
import type { Peer } from '../../src/main/peer.ts';
import { openDeposited, peakTone, startVmOffice, until, type VmOffice } from './deposit-office.ts';
import type { DeskPhone } from './deposit-phone.ts';

/** A WAV's samples at 8 kHz (the stored format). */
function samples8k(wav: Uint8Array): Int16Array {
  const d = decodeWav(wav);
  if (!d.ok || d.value.sampleRate !== 8000) throw new Error('not an 8 kHz WAV');
  return d.value.samples;
}

describe('voicemail deposit: offline, busy, no answer, DND', () => {
  let office: VmOffice;
  let phone: DeskPhone;
  const gw = () => office.peers.get('101') as Peer;

  beforeAll(async () => {
    office = await startVmOffice({
      extensions: ['101', '102', '103', '104'],
      deskPhones: [{ extension: '201', password: 'pw-201' }],
    });
    // 104's own greetings (16 kHz: the voicemail resamples them): 300 Hz unavailable, 500 Hz busy.
    const box = office.peers.get('104')?.mailbox;
    await box?.setGreeting('unavailable', encodeWav({ sampleRate: 16000, samples: sine(300, 700, 16000) }));
    await box?.setGreeting('busy', encodeWav({ sampleRate: 16000, samples: sine(500, 700, 16000) }));
    phone = await office.deskPhone('201', 'pw-201', 440, [23100, 23119]);
  }, 90_000);

  afterAll(async () => {
    await office?.stop();
  });

  /** Calls 104 from the desk phone; plays the tone `toneMs` after the beep; `end` hangs up or presses #. */
  async function leaveMessage(toneMs: number, end: 'hangup' | '#') {
    const before = office.events.length;
    const since = phone.dial('104');
    await phone.waitEvent('CALL_ESTABLISHED', 20_000, since);
    await until('recording', () => office.logs.slice(-50).some((l) => l.msg === 'voicemail call'), 10_000);
    await new Promise((r) => setTimeout(r, 1500 + toneMs)); // greeting 0.7 s + beep 0.4 s, then the tone
    if (end === 'hangup') phone.hangup();
    else await phone.sendDigits('#');
    await phone.waitEvent('CALL_CLOSED', 10_000, since);
    await until('deposit outcome', () => office.events.length > before, 30_000);
    return office.events[before];
  }

  it("callee offline: the caller's peer takes a message, 3 copies, that only 104's key opens to the same tone", async () => {
    await office.stopPeer('104');
    await until('104 offline', async () => ((await gw().pbx?.lookup('104')) ?? []).length === 0, 20_000);
    const heardBefore = phone.heard().length;
    const t0 = Date.now();
    const e = await leaveMessage(2500, 'hangup');
    expect(e).toMatchObject({ type: 'deposited', extension: '104', at: '101' });
    if (e.type !== 'deposited') return;
    console.log(
      `offline deposit: ${e.copies} copies, ${e.duration} ms of audio, ${Date.now() - t0} ms from dial`,
    );
    expect(e.copies).toBeGreaterThanOrEqual(3);
    expect(e.duration).toBeGreaterThan(1500);
    const msg = await openDeposited(office.peers.get('103') as Peer, office.dirs['104'], e.entryId);
    expect(msg.wav.sampleRate).toBe(8000);
    expect(msg.meta.from).toBe('201');
    // The recording starts after the beep: the caller's tone, not our greeting.
    const strength = blockToneStrength(msg.wav.samples, 440, 8000);
    console.log(`decrypted message: 440 Hz strength ${strength.toFixed(3)}`);
    expect(strength).toBeGreaterThan(0.5);
    expect(blockToneStrength(msg.wav.samples, 300, 8000)).toBeLessThan(0.1);
    // Another key cannot open it.
    await expect(
      openDeposited(office.peers.get('103') as Peer, office.dirs['102'], e.entryId),
    ).rejects.toThrow();
    // The caller heard 104's own greeting (300 Hz) and the beep (1 kHz).
    await until('recording written', () => phone.heard().length > heardBefore, 5000);
    const heard = phone.heard().sort().at(-1) as string;
    expect(await peakTone(heard, 300)).toBeGreaterThan(0.5);
    expect(await peakTone(heard, 1000)).toBeGreaterThan(0.5);
  }, 60_000);

  it('104 starts again: its own Mailbox lists the message left while it was off and plays the tone', async () => {
    const offline = office.events.find((e) => e.type === 'deposited');
    const x = await office.startPeer('104');
    const box = x.mailbox;
    await until('listed', async () => ((await box?.refresh()) ?? []).length === 1, 15_000);
    const [m] = box?.list() ?? [];
    expect(m).toMatchObject({ from: '201', heard: false });
    expect(offline?.type === 'deposited' && m.id === offline.entryId).toBe(true);
    const audio = samples8k(await (box as NonNullable<typeof box>).audio(m.id));
    expect(blockToneStrength(audio, 440, 8000)).toBeGreaterThan(0.5);
  }, 60_000);

  it('callee busy: busy greeting, and # ends the recording', async () => {
    const x = office.peers.get('104') as Peer;
    x.pbx?.on('event', (e) => {
      if (e.type === 'incoming') x.pbx?.hangup(e.call); // the user declines: 603, i.e. busy
    });
    await until('104 online', async () => ((await gw().pbx?.lookup('104')) ?? []).length > 0, 20_000);
    const heardBefore = phone.heard().length;
    const e = await leaveMessage(2000, '#');
    expect(e).toMatchObject({ type: 'deposited', extension: '104' });
    expect(office.logs.some((l) => l.msg === 'voicemail recorded' && l.end === '#')).toBe(true);
    await until('recording written', () => phone.heard().length > heardBefore, 5000);
    expect(await peakTone(phone.heard().sort().at(-1) as string, 500)).toBeGreaterThan(0.5);
  }, 60_000);

  it("no answer within the user's noAnswerMs, and DND, lead to voicemail", async () => {
    const x = office.peers.get('104') as Peer;
    x.pbx?.removeAllListeners('event');
    await x.pbx?.setUserSettings({ dnd: false, noAnswerMs: 1500 });
    await new Promise((r) => setTimeout(r, 500));
    const noAnswer = await leaveMessage(2000, 'hangup');
    expect(noAnswer).toMatchObject({ type: 'deposited', extension: '104' });
    expect(office.logs.some((l) => l.msg === 'voicemail call' && l.service === 'unavailable')).toBe(true);

    await x.pbx?.setUserSettings({ dnd: true });
    await new Promise((r) => setTimeout(r, 500));
    const logsBefore = office.logs.length;
    const dnd = await leaveMessage(2000, 'hangup');
    expect(dnd).toMatchObject({ type: 'deposited', extension: '104' });
    const call = office.logs.slice(logsBefore).find((l) => l.msg === 'voicemail call');
    expect(call?.service).toBe('busy');
  }, 60_000);
});
