// A baresip desk phone for the call tests (recipe in /work/shared/RECIPES.md), registering with
// digest auth to a PeerPBX gateway peer, optionally inside a network namespace. No remote control:
// a caller dials with `-e /dial` at start, both quit after `lifetimeSec`; sndfile records every
// call (`*-dec.wav` is what the phone heard).
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { baresipConfig } from '../helpers/baresip.ts';
import { type Running, start, tempDir } from '../helpers/processes.ts';

export interface DeskPhoneSpec {
  extension: string;
  password: string;
  /** The gateway peer's SIP address, host:port. */
  registrar: string;
  /** Address and SIP port this phone listens on (default port 5160: one phone per namespace). */
  host: string;
  sipPort?: number;
  rtpPorts?: [number, number];
  toneHz: number;
  /** Dial this extension right after start. */
  dial?: string;
  lifetimeSec: number;
  netns?: string;
}

export interface DeskPhone {
  proc: Running;
  recDir: string;
  decoded(): string[];
}

export function startDeskPhone(s: DeskPhoneSpec): DeskPhone {
  const dir = tempDir('calls-baresip-');
  const recDir = join(dir, 'rec');
  mkdirSync(recDir);
  const config = baresipConfig({
    sipListen: `${s.host}:${s.sipPort ?? 5160}`,
    toneHz: s.toneHz,
    recDir,
    rtpPorts: s.rtpPorts ?? [21000, 21010],
  });
  writeFileSync(join(dir, 'config'), `${config.join('\n')}\n`);
  const account = `<sip:${s.extension}@${s.registrar}>;auth_pass=${s.password};regint=300;answermode=auto;audio_codecs=PCMU`;
  writeFileSync(join(dir, 'accounts'), `${account}\n`);
  const args = ['-f', dir, '-t', String(s.lifetimeSec)];
  if (s.dial) args.push('-e', `/dial sip:${s.dial}@${s.registrar}`);
  const proc = s.netns ? start('ip', ['netns', 'exec', s.netns, 'baresip', ...args]) : start('baresip', args);
  return {
    proc,
    recDir,
    decoded: () =>
      readdirSync(recDir)
        .filter((f) => f.endsWith('-dec.wav'))
        .map((f) => join(recDir, f)),
  };
}
