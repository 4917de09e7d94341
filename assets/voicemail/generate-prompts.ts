// Regenerates the voicemail's default spoken prompts (8 kHz mono 16-bit PCM WAV) with
// espeak-ng. Run once after changing a text: `node --import tsx assets/voicemail/generate-prompts.ts`.
// Needs espeak-ng (`apt-get install espeak-ng`); CI and the app only read the committed WAVs.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resample } from '../../src/core/media/resample.ts';
import { decodeWav, encodeWav } from '../../src/core/media/wav.ts';
import { PROMPT_TEXTS } from '../../src/main/voicemail/prompt-texts.ts';

const out = import.meta.dirname;
const tmp = mkdtempSync(join(tmpdir(), 'vm-prompts-'));
try {
  for (const [name, text] of Object.entries(PROMPT_TEXTS)) {
    const raw = join(tmp, `${name}.wav`);
    execFileSync('espeak-ng', ['-v', 'en-us', '-s', '150', '-w', raw, text]);
    const decoded = decodeWav(new Uint8Array(await readFile(raw)));
    if (!decoded.ok) throw new Error(`${name}: ${decoded.error.reason}`);
    const pcm = resample(decoded.value.samples, decoded.value.sampleRate, 8000);
    writeFileSync(join(out, `${name}.wav`), encodeWav({ sampleRate: 8000, samples: pcm }));
    console.log(`${name}.wav ${(pcm.length / 8000).toFixed(1)} s`);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
