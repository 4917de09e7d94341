// Voicemail deposits that must not happen, with real peers and a baresip desk phone: a muted caller
// leaves silence only (dropped), a full box (maxMessages 1) answers with the spoken "mailbox is
// full" prompt and hangs up without a deposit, and an extension without a CERTIFICATE record gets
// the "no voicemail box" prompt. Each is logged.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rms } from '../../src/core/media/silence.ts';
import { sine } from '../../src/core/media/tones.ts';
import { encodeWav } from '../../src/core/media/wav.ts';
import { loadWav8k } from '../../src/main/media/sources.ts';
import type { Peer } from '../../src/main/peer.ts';
import { startVmOffice, until, type VmOffice } from './deposit-office.ts';
import type { DeskPhone } from './deposit-phone.ts';

describe('voicemail deposit limits: silence, full box, no certificate', () => {
  let office: VmOffice;
  let phone: DeskPhone;
  const gw = () => office.peers.get('101') as Peer;

  beforeAll(async () => {
    office = await startVmOffice({
      extensions: ['101', '102', '103'],
      deskPhones: [{ extension: '201', password: 'pw-201' }],
      limits: { maxMessages: 1 },
    });
    const x = office.peers.get('102') as Peer;
    await x.mailbox?.setGreeting('busy', encodeWav({ sampleRate: 8000, samples: sine(500, 600) }));
    await x.pbx?.setUserSettings({ dnd: true });
    phone = await office.deskPhone('201', 'pw-201', 440, [23140, 23159]);
  }, 90_000);

  afterAll(async () => {
    await office?.stop();
  });

  /** Dials, waits `talkMs` after the answer (muted or not), hangs up unless the voicemail did. */
  async function call(number: string, talkMs: number, mute = false) {
    const before = office.events.length;
    const heard = phone.heard().length;
    const since = phone.dial(number);
    await phone.waitEvent('CALL_ESTABLISHED', 20_000, since);
    if (mute) phone.command('mute');
    const closedByUs = await Promise.race([
      phone.waitEvent('CALL_CLOSED', talkMs, since).then(
        () => true,
        () => false,
      ),
    ]);
    if (!closedByUs) {
      phone.hangup();
      await phone.waitEvent('CALL_CLOSED', 10_000, since);
    }
    if (mute) phone.command('mute');
    await until('outcome', () => office.events.length > before, 30_000);
    await until('recording written', () => phone.heard().length > heard, 5000);
    return { event: office.events[before], closedByUs, heard: phone.heard().sort().at(-1) as string };
  }

  it('a silence-only message is dropped; a real one is then deposited', async () => {
    const silent = await call('102', 4000, true);
    expect(silent.event).toMatchObject({ type: 'dropped', extension: '102', reason: 'silence only' });
    expect(office.logs.some((l) => l.msg === 'voicemail dropped: silence only')).toBe(true);
    const real = await call('102', 3500);
    expect(real.event).toMatchObject({ type: 'deposited', extension: '102' });
  }, 60_000);

  it('a full box: the caller hears "mailbox is full", the voicemail hangs up, nothing is stored', async () => {
    const entriesBefore = (await gw().office?.overlay.fetch('102@acme', 'VOICEMAIL'))?.values.length;
    const full = await call('102', 15_000);
    expect(full.event).toMatchObject({ type: 'dropped', extension: '102', reason: 'mailbox full' });
    expect(full.closedByUs).toBe(true);
    expect(office.logs.some((l) => l.msg === 'voicemail: mailbox full, caller told so')).toBe(true);
    // The prompt is speech: clearly above the silence of a muted line.
    const level = rms(await loadWav8k(full.heard));
    console.log(`full-box prompt level at the phone: rms ${level.toFixed(0)}`);
    expect(level).toBeGreaterThan(300);
    const entriesAfter = (await gw().office?.overlay.fetch('102@acme', 'VOICEMAIL'))?.values.length;
    expect(entriesAfter).toBe(entriesBefore);
  }, 60_000);

  it('an extension with no certificate: "no voicemail box" and no deposit', async () => {
    const none = await call('109', 15_000);
    expect(none.event).toMatchObject({ type: 'dropped', extension: '109' });
    expect(none.event.type === 'dropped' && none.event.reason).toMatch(/no certificate/);
    expect(none.closedByUs).toBe(true);
    expect(office.logs.some((l) => l.msg === 'voicemail: callee has no usable certificate, no deposit')).toBe(
      true,
    );
  }, 60_000);
});
