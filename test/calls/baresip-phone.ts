// A baresip desk phone for the call tests (recipe in /work/shared/RECIPES.md), registering with
// digest auth to a PeerPBX gateway peer, optionally inside a network namespace. No remote control:
// a caller dials with `-e /dial` at start, both quit after `lifetimeSec`; sndfile records every
// call (`*-dec.wav` is what the phone heard).
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
  const config = [
    'poll_method epoll',
    `sip_listen ${s.host}:${s.sipPort ?? 5160}`,
    'audio_player aubridge,x',
    'audio_alert aubridge,x',
    `audio_source ausine,${s.toneHz}`,
    'ausrc_srate 48000',
    'auplay_srate 48000',
    'ausrc_channels 2',
    'module_path /usr/lib/baresip/modules',
    'module g711.so',
    'module ausine.so',
    'module aubridge.so',
    'module sndfile.so',
    'module_app account.so',
    'module_app menu.so',
    `snd_path ${recDir}`,
    `rtp_ports ${(s.rtpPorts ?? [21000, 21010]).join('-')}`,
  ];
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
