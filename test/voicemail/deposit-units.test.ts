// The voicemail's pieces without a network: the committed prompts load as real speech at 8 kHz,
// the playlist plays clips in order and a key can cut them short, the recorder keeps only what
// comes after the beep and tells silence from a tone, the PIN check, and the routing targets.
import { describe, expect, it } from 'vitest';
import { rms } from '../../src/core/media/silence.ts';
import { sine } from '../../src/core/media/tones.ts';
import { createLogger } from '../../src/main/log.ts';
import { MessageRecorder, Playlist } from '../../src/main/voicemail/call-audio.ts';
import { voicemailPinHash } from '../../src/main/voicemail/mailbox.ts';
import { PROMPT_TEXTS } from '../../src/main/voicemail/prompt-texts.ts';
import { loadPrompts } from '../../src/main/voicemail/prompts.ts';
import { pinMatches } from '../../src/main/voicemail/voicemail-pin.ts';

describe('voicemail prompts', () => {
  it('every default prompt is committed, loads at 8 kHz and is speech (not the silent fallback)', async () => {
    const errors: string[] = [];
    const log = createLogger({});
    const prompts = await loadPrompts({ ...log, error: (m) => errors.push(m), child: () => log });
    expect(errors).toEqual([]);
    for (const name of Object.keys(PROMPT_TEXTS) as Array<keyof typeof PROMPT_TEXTS>) {
      const pcm = prompts[name];
      expect(pcm.length / 8000, name).toBeGreaterThan(0.8);
      expect(rms(pcm), name).toBeGreaterThan(300);
    }
  });
});

describe('Playlist', () => {
  it('plays clips back to back, resolves each at its end, and stop() cuts the rest', async () => {
    const p = new Playlist();
    const a = p.play(new Int16Array(200).fill(1));
    const b = p.play(new Int16Array(200).fill(2));
    const first = p.read(160);
    expect([...first].every((x) => x === 1)).toBe(true);
    const second = p.read(160);
    expect(second[39]).toBe(1);
    expect(second[40]).toBe(2);
    expect(await a).toBe(true);
    p.stop();
    expect(await b).toBe(false);
    expect(p.playing).toBe(false);
    expect([...p.read(160)].every((x) => x === 0)).toBe(true);
  });
});

describe('MessageRecorder', () => {
  it('records only while armed, caps at the limit, and measures voiced audio', () => {
    const r = new MessageRecorder({ maxMs: 1000 });
    r.write(sine(440, 20), 'audio'); // before the beep: not kept
    expect(r.durationMs).toBe(0);
    r.start();
    for (let i = 0; i < 10; i++) r.write(new Int16Array(160), 'silence');
    expect(r.voicedMs).toBe(0);
    for (let i = 0; i < 100; i++) r.write(sine(440, 20), 'audio');
    expect(r.durationMs).toBe(1000); // 200 ms of silence + 800 ms of tone, then the cap
    expect(r.voicedMs).toBe(800);
    r.stop();
    r.write(sine(440, 20), 'audio');
    expect(r.samples.length).toBe(8000);
  });
});

describe('PIN', () => {
  it('matches the USER-SETTINGS hash of office:ext:pin only', () => {
    const stored = voicemailPinHash('acme', '101', '2468');
    expect(pinMatches('acme', '101', '2468', stored)).toBe(true);
    expect(pinMatches('acme', '101', '2469', stored)).toBe(false);
    expect(pinMatches('acme', '102', '2468', stored)).toBe(false);
    expect(pinMatches('acme', '101', '2468', 'not-hex')).toBe(false);
  });
});
