// Real audio between our SoftPhone and baresip (a real softphone) on loopback, no registrar:
// baresip dials our URI straight, or we dial its. baresip's microphone is ausine (440 Hz); ours is
// a 1 kHz WAV file (16 kHz, resampled). Each side's recording must hold the other side's tone
// (Goertzel), hang-up must end both sides with one BYE answered by 200 (no retransmission).
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sine } from '../../src/core/media/tones.ts';
import { decodeWav, encodeWav } from '../../src/core/media/wav.ts';
import { blockToneStrength, ToneProbe } from '../../src/main/media/sinks.ts';
import { SoftPhone, type SoftPhoneOptions } from '../../src/main/phone/soft-phone.ts';
import { Baresip, stopAllBaresip } from '../helpers/baresip.ts';
import { tempDir } from '../helpers/processes.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const phones: SoftPhone[] = [];
const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(phones.splice(0).map((p) => p.close()));
  await stopAllBaresip();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function toneWav(dir: string, hz: number): string {
  const path = join(dir, `tone-${hz}.wav`);
  writeFileSync(path, encodeWav({ sampleRate: 16000, samples: sine(hz, 3000, 16000, 0.4) }));
  return path;
}

async function startPhone(extra: Partial<SoftPhoneOptions> = {}) {
  const dir = tempDir('phone-media-');
  dirs.push(dir);
  const probe = new ToneProbe(1000);
  const phone = await SoftPhone.start({
    play: toneWav(dir, 1000),
    record: join(dir, 'rec'),
    rtpPorts: { min: 31200, max: 31299 },
    statsIntervalMs: 0,
    sinks: () => [probe],
    ...extra,
  });
  phones.push(phone);
  return { phone, probe, dir };
}

/**
 * Tone strength over the last second of sound in a recording: it starts with silence until media
 * flows and ends with the fade-out of concealment and silence after the sender stopped.
 */
function recordedTone(path: string, hz: number): number {
  const w = decodeWav(new Uint8Array(readFileSync(path)));
  if (!w.ok) throw new Error(`${path}: ${w.error.reason}`);
  const { samples, sampleRate } = w.value;
  let last = samples.length - 1;
  while (last > 0 && Math.abs(samples[last]) < 2000) last--;
  const end = last - Math.round(sampleRate * 0.1);
  expect(end).toBeGreaterThan(sampleRate); // at least a second of sound was recorded
  return blockToneStrength(samples.subarray(end - sampleRate, end), hz, sampleRate);
}

/** SIP messages our phone sends and receives in `ms` (a BYE answered by 200 travels once). */
async function sipDuring(phone: SoftPhone, ms: number, action: () => void) {
  const { sent, received } = phone.host.stats;
  action();
  await sleep(ms);
  return { sent: phone.host.stats.sent - sent, received: phone.host.stats.received - received };
}

describe('SoftPhone and baresip exchange real audio', () => {
  it('baresip calls us (auto-answer): 440 Hz reaches us, our 1 kHz WAV reaches baresip, clean BYE', async () => {
    const { phone, probe } = await startPhone({ autoAnswer: true });
    const b = await Baresip.start({ toneHz: 440 });
    const answered = phone.next('answered');
    const dial = await b.dial(phone.uri);
    expect(dial.ok).toBe(true);
    await b.waitEvent('CALL_ESTABLISHED');
    const call = (await answered).call;
    await sleep(2500);
    expect(probe.strength(440)).toBeGreaterThan(0.8);
    expect(probe.strength(700)).toBeLessThan(0.05);
    const stats = phone.mediaStats(call)!;
    expect(stats.packetsReceived).toBeGreaterThan(60);
    expect(stats.lost).toBe(0);

    const ended = phone.next('ended');
    // baresip's BYE arrives once (our 200 reached it: no retransmission at 0.5 s, 1.5 s), our 200 goes once.
    const sip = await sipDuring(phone, 1700, () => void b.hangup());
    const end = await ended;
    expect(end.reason).toBe('remote-bye');
    expect(sip).toEqual({ sent: 1, received: 1 });
    await b.waitEvent('CALL_CLOSED');
    // Our recording holds baresip's tone; baresip's decoded recording holds ours.
    expect(recordedTone(end.recording!, 440)).toBeGreaterThan(0.8);
    expect(recordedTone(end.recording!, 1000)).toBeLessThan(0.05);
    await sleep(300); // sndfile closes its files as the call goes
    const dec = b.recordings().dec;
    expect(dec.length).toBe(1);
    expect(recordedTone(dec[0], 1000)).toBeGreaterThan(0.8);
    expect(recordedTone(dec[0], 440)).toBeLessThan(0.05);
    expect(phone.ua.load.calls).toBe(0);
  });

  it('we call baresip (auto-answer): same checks the other way, our BYE gets its 200', async () => {
    const { phone, probe } = await startPhone();
    const b = await Baresip.start({ toneHz: 440 });
    const answered = phone.next('answered');
    const call = await phone.call(b.uri);
    await answered;
    await b.waitEvent('CALL_ESTABLISHED');
    await sleep(2500);
    expect(probe.strength(440)).toBeGreaterThan(0.8);
    expect(probe.strength(700)).toBeLessThan(0.05);

    const ended = phone.next('ended');
    // Our BYE goes once: a missing 200 would show as retransmissions at 0.5 s and 1.5 s.
    const sip = await sipDuring(phone, 1700, () => phone.hangup(call));
    expect(sip).toEqual({ sent: 1, received: 1 }); // the BYE and its 200
    const end = await ended;
    expect(end.reason).toBe('local-bye');
    expect(end.stats!.packetsSent).toBeGreaterThan(100);
    await b.waitEvent('CALL_CLOSED');
    expect(recordedTone(end.recording!, 440)).toBeGreaterThan(0.8);
    await sleep(300);
    const dec = b.recordings().dec;
    expect(dec.length).toBe(1);
    expect(recordedTone(dec[0], 1000)).toBeGreaterThan(0.8);
    expect(recordedTone(dec[0], 440)).toBeLessThan(0.05);
  });
});
