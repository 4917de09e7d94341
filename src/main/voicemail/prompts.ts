// The default prompts (assets/voicemail/NAME.wav, spoken once by generate-prompts.ts) as 8 kHz PCM,
// loaded once per service. A missing or unreadable file is logged and becomes a short silence:
// the call still follows its script (beep, record, menu) rather than failing.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beep, silence } from '../../core/media/tones.ts';
import type { Logger } from '../log.ts';
import { loadWav8k } from '../media/sources.ts';
import { PROMPT_TEXTS, type PromptName } from './prompt-texts.ts';

export type Prompts = Record<PromptName, Int16Array> & { beep: Int16Array };

/** Finds assets/voicemail from this module (source tree or bundle) or the working directory. */
export function findPromptDir(override?: string): string | null {
  const probe = (d: string) => existsSync(join(d, 'goodbye.wav'));
  if (override) return probe(override) ? override : null;
  // import.meta in the ESM sources and CLI bundle; __dirname in the Electron main's CJS bundle.
  const starts = [
    typeof import.meta.dirname === 'string' ? import.meta.dirname : '',
    typeof __dirname === 'string' ? __dirname : '',
    process.cwd(),
  ];
  for (const start of starts.filter(Boolean)) {
    let dir = start;
    for (let i = 0; i < 6; i++) {
      const candidate = join(dir, 'assets', 'voicemail');
      if (probe(candidate)) return candidate;
      dir = dirname(dir);
    }
  }
  return null;
}

export async function loadPrompts(log: Logger, override?: string): Promise<Prompts> {
  const dir = findPromptDir(override);
  if (!dir) log.error('voicemail prompts not found: callers hear silence instead', { override });
  const entries = await Promise.all(
    (Object.keys(PROMPT_TEXTS) as PromptName[]).map(async (name) => {
      if (!dir) return [name, silence(500)] as const;
      try {
        return [name, await loadWav8k(join(dir, `${name}.wav`))] as const;
      } catch (err) {
        log.error('voicemail prompt unreadable', { name, dir, err: String(err) });
        return [name, silence(500)] as const;
      }
    }),
  );
  return { ...(Object.fromEntries(entries) as Record<PromptName, Int16Array>), beep: beep(400) };
}
