// `peerpbx voicemail list|export|greeting|pin`: asks the running peer of the data folder (its
// Mailbox holds the key that opens the messages). Local input (file names, PIN) is checked here
// first so a typo fails at once with one line; the peer's refusals come back as one line too.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigError, parseWavFile } from '../config.ts';
import { askPeer, NoRunningPeer } from '../control/client.ts';
import type { ControlRequest } from '../control/protocol.ts';
import { checkGreetingWav, checkPin, type MailboxMessage } from '../voicemail/mailbox.ts';

/** The running peer refused (unknown id, no key, store refused...): exit 1 with its reason. */
export class VoicemailError extends Error {}

const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

async function ask(data: string, req: ControlRequest): Promise<unknown> {
  try {
    return await askPeer(data, req, 60_000);
  } catch (err) {
    if (err instanceof NoRunningPeer) throw err;
    throw new VoicemailError((err as Error).message);
  }
}

export async function voicemailListCommand(o: { data: string; json?: boolean }): Promise<void> {
  const list = (await ask(o.data, { op: 'voicemail-list' })) as MailboxMessage[];
  if (o.json) return out(JSON.stringify(list));
  if (list.length === 0) return out('no voicemail messages');
  for (const m of list)
    out(
      `${m.id}  from ${m.from.padEnd(8)} ${new Date(m.time).toISOString()}  ${(m.duration / 1000).toFixed(1)} s${m.heard ? '' : '  (new)'}`,
    );
}

export async function voicemailExportCommand(id: string, file: string, o: { data: string }): Promise<void> {
  if (!/\.wav$/i.test(file)) throw new ConfigError(`"${file}" is not a .wav file name`);
  const path = resolve(file);
  if (!existsSync(dirname(path)) || !statSync(dirname(path)).isDirectory())
    throw new ConfigError(`no folder ${dirname(path)} to write ${file} in`);
  const r = (await ask(o.data, { op: 'voicemail-export', id, file: path })) as { bytes: number };
  out(`wrote ${file} (${r.bytes} bytes)`);
}

/** `voicemail heard|delete ID`: signed by this user and replicated to every copy. */
export function markCommand(op: 'voicemail-heard' | 'voicemail-delete') {
  return async (id: string, o: { data: string }): Promise<void> => {
    await ask(o.data, { op, id });
    out(op === 'voicemail-heard' ? `${id} marked heard` : `${id} deleted`);
  };
}

export async function greetingCommand(
  file: string | undefined,
  o: { data: string; kind: string; remove?: boolean },
): Promise<void> {
  if (o.kind !== 'unavailable' && o.kind !== 'busy')
    throw new ConfigError(`--kind: "${o.kind}" is not unavailable or busy`);
  if (o.remove && file) throw new ConfigError('give a greeting file or --remove, not both');
  if (!o.remove && !file) throw new ConfigError('give a greeting file (.wav) or --remove');
  let path: string | null = null;
  if (file) {
    path = resolve(parseWavFile(file, 'greeting'));
    const bad = checkGreetingWav(new Uint8Array(readFileSync(path)));
    if (bad) throw new ConfigError(`${file}: ${bad}`);
  }
  const r = (await ask(o.data, { op: 'greeting-set', kind: o.kind, file: path })) as { bytes: number };
  out(path ? `${o.kind} greeting stored (${r.bytes} bytes)` : `${o.kind} greeting removed`);
}

export async function pinCommand(pin: string, o: { data: string }): Promise<void> {
  const bad = checkPin(pin);
  if (bad) throw new ConfigError(bad);
  await ask(o.data, { op: 'pin-set', pin });
  out('voicemail PIN set');
}
