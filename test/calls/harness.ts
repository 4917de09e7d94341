// Starts pbx-peer.ts processes (an overlay peer + OfficePbx each) for the call tests and checks
// the audio they recorded. Processes go through test/helpers/processes.ts: killAll() reaps them.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeWav } from '../../src/core/media/wav.ts';
import { blockToneStrength } from '../../src/main/media/sinks.ts';
import { loadWav8k } from '../../src/main/media/sources.ts';
import { ROOT, start, waitFor } from '../helpers/processes.ts';
import { PeerHandle, type PeerSpec } from '../overlay-processes/harness.ts';
import { makeOffice, type TestOffice } from '../unit/security/fixtures.ts';

const FIXTURE = join(ROOT, 'test/calls/fixtures/pbx-peer.ts');

export interface PbxPeerSpec {
  name: string;
  extension: string;
  office: TestOffice;
  admin?: boolean;
  bootstrap?: string[];
  host?: string;
  deskPhones?: Array<{ extension: string; password: string }>;
  autoAnswer?: boolean;
  answerDelayMs?: number;
  tone?: number;
  play?: string;
  registrationLifetimeMs?: number;
  /** host:port sources whose calls need no digest (a trunk, a benchmark client). */
  trust?: string[];
  /** Wrap the command (e.g. `ip netns exec h1`). */
  prefix?: string[];
}

export interface PbxPeer extends PeerHandle {
  dir: string;
  recordDir: string;
  ready: Record<string, unknown>;
}

/** A fresh office CA (certificates valid from now). */
export function newOffice(): TestOffice {
  return makeOffice('office');
}

export async function startPbxPeer(s: PbxPeerSpec): Promise<PbxPeer> {
  const dir = mkdtempSync(join(tmpdir(), `calls-${s.name}-`));
  const recordDir = join(dir, 'rec');
  mkdirSync(recordDir, { recursive: true });
  const peer = s.office.enroll(`${s.extension}@office`, { isAdmin: s.admin, now: Date.now() - 60_000 });
  const files = { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem'), ca: join(dir, 'ca.pem') };
  writeFileSync(files.cert, peer.certificatePem);
  writeFileSync(files.key, peer.keyPair.privateKeyPem);
  writeFileSync(files.ca, s.office.ca.certificatePem);
  const args = [
    ...[
      '--import',
      'tsx',
      FIXTURE,
      '--data',
      dir,
      '--cert',
      files.cert,
      '--key',
      files.key,
      '--ca',
      files.ca,
    ],
    ...[
      '--extension',
      s.extension,
      '--office',
      'office',
      '--host',
      s.host ?? '127.0.0.1',
      '--record',
      recordDir,
    ],
    ...(s.bootstrap ?? []).flatMap((b) => ['--bootstrap', b]),
    ...(s.deskPhones ?? []).flatMap((d) => ['--desk-phone', `${d.extension}:${d.password}`]),
    ...(s.autoAnswer ? ['--auto-answer', '--answer-delay', String(s.answerDelayMs ?? 0)] : []),
    ...(s.registrationLifetimeMs ? ['--registration-lifetime', String(s.registrationLifetimeMs)] : []),
    ...(s.trust ?? []).flatMap((t) => ['--trust', t]),
    ...(s.tone ? ['--tone', String(s.tone)] : []),
    ...(s.play ? ['--play', s.play] : []),
  ];
  const [cmd, ...pre] = s.prefix ?? [];
  const proc = cmd ? start(cmd, [...pre, process.execPath, ...args]) : start(process.execPath, args);
  const spec = { name: s.name, dir } as unknown as PeerSpec;
  const handle = new PeerHandle(spec, proc);
  const ready = await waitFor(
    `${s.name} ready`,
    () => {
      if (handle.exited) throw new Error(`${s.name} exited: ${handle.exited.stderr.slice(-3000)}`);
      const failed = handle.event('start-failed');
      if (failed) throw new Error(`${s.name} failed: ${String(failed.reason)}`);
      return handle.event('ready');
    },
    40_000,
  );
  return Object.assign(handle, { dir, recordDir, ready });
}

/** The address other peers bootstrap through. */
export function overlayAddress(p: PbxPeer, host = '127.0.0.1'): string {
  return `${host}:${String(p.ready.overlayPort)}`;
}

/** PBX events of a peer (optionally of one type). */
export function pbxEvents(p: PbxPeer, type?: string): Record<string, unknown>[] {
  return p.events.filter((e) => e.event === 'pbx' && (type === undefined || e.type === type));
}

export function nextPbxEvent(
  p: PbxPeer,
  type: string,
  filter: (e: Record<string, unknown>) => boolean = () => true,
  timeoutMs = 15_000,
): Promise<Record<string, unknown>> {
  return waitFor(`${p.spec.name} ${type}`, () => pbxEvents(p, type).find(filter), timeoutMs);
}

/** Waits until `extension` has `count` live contacts as `from` sees it (the overlay converged). */
export async function waitForContacts(from: PbxPeer, extension: string, count: number): Promise<unknown[]> {
  const end = Date.now() + 15_000;
  for (;;) {
    const r = await from.request({ op: 'lookup', extension });
    const contacts = (r.contacts as unknown[]) ?? [];
    if (contacts.length === count) return contacts;
    if (Date.now() > end) throw new Error(`${extension} has ${contacts.length} contacts, wanted ${count}`);
    await new Promise((res) => setTimeout(res, 200));
  }
}

/** Writes a mono 8 kHz WAV with a sine of `hz` lasting `seconds`. */
export function writeToneWav(path: string, hz: number, seconds = 2): string {
  const samples = new Int16Array(8000 * seconds);
  for (let i = 0; i < samples.length; i++)
    samples[i] = Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / 8000));
  writeFileSync(path, encodeWav({ sampleRate: 8000, samples }));
  return path;
}

/** Tone strength (0..1) of `hz` in a recorded WAV (median over 100 ms blocks, after 0.5 s). */
export async function toneIn(file: string, hz: number): Promise<number> {
  const pcm = await loadWav8k(file);
  return blockToneStrength(pcm.subarray(Math.min(4000, pcm.length >> 1)), hz, 8000);
}
