// *97 with real peers and baresip desk phones: user 101's PC (the gateway) serves 101's own desk
// phone. A message is left in 101's box (101 on DND, desk phone 201 plays 440 Hz). 101's desk
// phone dials *97, keys the PIN by RFC 4733, hears the message (the tone arrives) and deletes it
// with 7: the box is empty afterwards. Desk phone 201 dialing *97 on the same peer hears "not
// available on this phone": 201's box is not on this PC.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rms } from '../../src/core/media/silence.ts';
import { loadWav8k } from '../../src/main/media/sources.ts';
import type { Peer } from '../../src/main/peer.ts';
import { peakTone, startVmOffice, until, type VmOffice } from './deposit-office.ts';
import type { DeskPhone } from './deposit-phone.ts';

describe('*97: PIN by DTMF, play, delete', () => {
  let office: VmOffice;
  let caller: DeskPhone;
  let own: DeskPhone;
  const gw = () => office.peers.get('101') as Peer;
  const logged = (msg: string, from = 0) => office.logs.slice(from).find((l) => l.msg === msg);

  beforeAll(async () => {
    office = await startVmOffice({
      extensions: ['101', '102', '103'],
      deskPhones: [
        { extension: '201', password: 'pw-201' },
        { extension: '101', password: 'pw-101' },
      ],
    });
    await gw().pbx?.setUserSettings({ dnd: true });
    await gw().mailbox?.setPin('2468'); // keeps dnd
    caller = await office.deskPhone('201', 'pw-201', 440, [23180, 23199]);
    own = await office.deskPhone('101', 'pw-101', 1200, [23200, 23219]);
  }, 90_000);

  afterAll(async () => {
    await office?.stop();
  });

  it("the owner's desk phone rings beside the owner's app: both contacts stay registered", async () => {
    await until('two contacts', async () => ((await gw().pbx?.lookup('101')) ?? []).length === 2, 10_000);
    const contacts = (await gw().pbx?.lookup('101')) ?? [];
    expect(contacts.map((c) => c.deskPhone).sort()).toEqual([false, true]);
  }, 20_000);

  it("the owner's desk phone: PIN, the message plays (440 Hz arrives), 7 deletes it", async () => {
    // A message for 101 (DND sends the call to voicemail; the default busy greeting plays first).
    const since = caller.dial('101');
    await caller.waitEvent('CALL_ESTABLISHED', 20_000, since);
    await until('recording', () => logged('voicemail call') !== undefined, 10_000);
    await new Promise((r) => setTimeout(r, 7300 + 400 + 3000));
    caller.hangup();
    await until('deposit', () => office.events.some((e) => e.type === 'deposited'), 30_000);
    await until('listed', async () => ((await gw().mailbox?.refresh()) ?? []).length === 1, 10_000);

    const mark = office.logs.length;
    const heardBefore = own.heard().length;
    const call = own.dial('*97');
    await own.waitEvent('CALL_ESTABLISHED', 20_000, call);
    await new Promise((r) => setTimeout(r, 1000));
    await own.sendDigits('2468'); // typed over the PIN prompt: it stops and the digits count
    const hash = Date.now();
    own.command('sndcode', '#');
    await until('playing', () => logged('*97: playing message', mark) !== undefined, 15_000);
    const t0 = Date.now();
    // PIN check (USER-SETTINGS fetch), box refresh, fetch + decrypt: the playback start latency.
    console.log(`*97: playback started ${t0 - hash} ms after the PIN's #`);
    expect(t0 - hash).toBeLessThan(5000);
    await new Promise((r) => setTimeout(r, 2500));
    await own.sendDigits('7');
    await until('deleted', () => logged('*97: message deleted', mark) !== undefined, 15_000);
    console.log(`*97: message deleted ${Date.now() - t0} ms after playback started`);
    await own.waitEvent('CALL_CLOSED', 20_000, call); // "deleted", "end of messages", hang-up
    expect(logged('*97: wrong PIN', mark)).toBeUndefined();
    expect(await gw().mailbox?.refresh()).toEqual([]);
    await until('recording written', () => own.heard().length > heardBefore, 5000);
    const tone = await peakTone(own.heard().sort().at(-1) as string, 440);
    console.log(`*97: 440 Hz strength in what the desk phone heard: ${tone.toFixed(3)}`);
    expect(tone).toBeGreaterThan(0.5);
  }, 80_000);

  it('another user\'s desk phone on this PC: "not available on this phone"', async () => {
    const mark = office.logs.length;
    const heardBefore = caller.heard().length;
    const call = caller.dial('*97');
    await caller.waitEvent('CALL_ESTABLISHED', 20_000, call);
    const t0 = Date.now();
    await caller.waitEvent('CALL_CLOSED', 20_000, call); // the voicemail says it and hangs up
    console.log(`*97 elsewhere: closed by the voicemail after ${Date.now() - t0} ms`);
    await until('recording written', () => caller.heard().length > heardBefore, 5000);
    const pcm = await loadWav8k(caller.heard().sort().at(-1) as string);
    expect(pcm.length / 8000).toBeGreaterThan(5); // the whole prompt (7.9 s) was played
    expect(rms(pcm)).toBeGreaterThan(300);
    expect(logged('*97 refused: the box is not on this peer', mark)).toMatchObject({ extension: '201' });
  }, 40_000);
});
