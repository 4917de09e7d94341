// An office for the voicemail tests: data folders enrolled through the real `peerpbx` CLI (office
// create / invite / join, `phone add` for desk phones), each run as a real Peer (the composition
// root: overlay, pbx, mailbox, voicemail) in this process, so tests can set a user's settings,
// watch the voicemail's events and open messages with a user's key. Log lines are captured.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { decodeWav } from '../../src/core/media/wav.ts';
import { userResourceName, voicemailChunkResourceName } from '../../src/core/records/resource-names.ts';
import { openVoicemail } from '../../src/core/security/voicemail-deposit.ts';
import { loadIdentity, openDataDatabase } from '../../src/main/identity/identity.ts';
import { createLogger, setLogSink } from '../../src/main/log.ts';
import { blockToneStrength } from '../../src/main/media/sinks.ts';
import { loadWav8k } from '../../src/main/media/sources.ts';
import { Peer } from '../../src/main/peer.ts';
import type { VoicemailLimits } from '../../src/main/voicemail/voicemail-limits.ts';
import type { VoicemailEvent } from '../../src/main/voicemail/voicemail-service.ts';
import { tempDir } from '../helpers/processes.ts';
import { BASE_ENV, createOffice, invite, mustSucceed, PASSPHRASE } from '../office/harness.ts';
import { DeskPhone, stopDeskPhones } from './deposit-phone.ts';

export interface LogLine {
  msg: string;
  level: string;
  peer?: string;
  [k: string]: unknown;
}

export interface VmOffice {
  root: string;
  dirs: Record<string, string>;
  peers: Map<string, Peer>;
  logs: LogLine[];
  events: Array<VoicemailEvent & { at: string }>;
  /** Starts (or restarts) the peer of an extension's folder. */
  startPeer(extension: string): Promise<Peer>;
  stopPeer(extension: string): Promise<void>;
  /** A baresip desk phone of an account on the gateway (the first peer), once registered there. */
  deskPhone(
    extension: string,
    password: string,
    toneHz: number,
    rtpPorts: [number, number],
  ): Promise<DeskPhone>;
  /** Stops desk phones and peers and removes the folders. */
  stop(): Promise<void>;
}

/**
 * Enrolls `extensions` (the first is the admin) and starts their peers. `deskPhones` are accounts
 * on the first peer (the gateway).
 */
export async function startVmOffice(opts: {
  extensions: string[];
  deskPhones: Array<{ extension: string; password: string }>;
  limits?: Partial<VoicemailLimits>;
}): Promise<VmOffice> {
  Object.assign(process.env, BASE_ENV);
  const root = tempDir('vm-office-');
  const dirs = Object.fromEntries(opts.extensions.map((e) => [e, join(root, e)]));
  const logs: LogLine[] = [];
  setLogSink((line) => {
    try {
      logs.push(JSON.parse(line) as LogLine);
    } catch {
      // not JSON: ignore
    }
  });
  const [admin, ...others] = opts.extensions;
  const t0 = Date.now();
  const peers = new Map<string, Peer>();
  const events: VmOffice['events'] = [];
  let bootstrap: { host: string; port: number } | null = null;
  const startPeer = async (ext: string): Promise<Peer> => {
    const peer = await Peer.start({
      dataDir: dirs[ext],
      bind: '127.0.0.1',
      sipPort: 0,
      overlayPort: 0,
      peers: bootstrap ? [bootstrap] : [],
      passphrase: ext === admin ? PASSPHRASE : undefined,
      discovery: { mdns: false, broadcast: false },
      voicemailLimits: opts.limits,
      log: createLogger({ peer: ext }),
    });
    peer.voicemail?.on((e) => events.push({ ...e, at: ext }));
    peers.set(ext, peer);
    return peer;
  };
  let a: Peer;
  try {
    await createOffice(dirs[admin], 'acme', admin);
    for (const d of opts.deskPhones) {
      await mustSucceed([
        'phone',
        'add',
        '--data',
        dirs[admin],
        '--extension',
        d.extension,
        '--password',
        d.password,
      ]);
    }
    a = await startPeer(admin);
    bootstrap = { host: '127.0.0.1', port: a.office?.overlayPort ?? 0 };
    for (const ext of others) {
      const code = await invite(dirs[admin], ext);
      await mustSucceed([
        'join',
        '--data',
        dirs[ext],
        '--extension',
        ext,
        '--code',
        code,
        '--peer',
        `127.0.0.1:${bootstrap.port}`,
      ]);
      await startPeer(ext);
    }
    // Converged: the gateway routes to every user.
    for (const ext of opts.extensions) {
      await until(`${ext} registered`, async () => ((await a.pbx?.lookup(ext)) ?? []).length > 0, 20_000);
    }
  } catch (err) {
    // A half-built office leaves no peer or folder behind.
    await Promise.allSettled([...peers.values()].map((p) => p.stop()));
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
  console.log(`office of ${opts.extensions.length} enrolled and running in ${Date.now() - t0} ms`);
  return {
    root,
    dirs,
    peers,
    logs,
    events,
    startPeer,
    stopPeer: async (ext) => {
      await peers.get(ext)?.stop();
      peers.delete(ext);
    },
    deskPhone: (extension, password, toneHz, rtpPorts) =>
      DeskPhone.start({
        extension,
        password,
        registrar: `127.0.0.1:${a.pbx?.sipPort}`,
        toneHz,
        rtpPorts,
        registered: async () => (a.pbx?.proxy.registrar?.bindings(extension, Date.now()) ?? []).length > 0,
      }),
    stop: async () => {
      await stopDeskPhones();
      await Promise.allSettled([...peers.values()].map((p) => p.stop()));
      peers.clear();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** A user's private key, read from the data folder as the app reads it. */
export function keyOf(dataDir: string): { keyPem: string; office: string; extension: string } {
  const db = openDataDatabase(dataDir);
  try {
    const id = loadIdentity(dataDir, db);
    return { keyPem: id.keyPem, office: id.office, extension: id.extension };
  } finally {
    db.close();
  }
}

/**
 * Fetches a deposited message through `via` (any member) and opens it with the owner's key from
 * the owner's data folder: the plaintext WAV as 8 kHz PCM.
 */
export async function openDeposited(via: Peer, ownerDir: string, entryId: string) {
  const owner = keyOf(ownerDir);
  const overlay = via.office?.overlay;
  if (!overlay) throw new Error('peer not enrolled');
  const name = userResourceName(owner.extension, owner.office);
  const entries = await overlay.fetch(name, 'VOICEMAIL', entryId);
  const entry = entries.values.find((v) => v.key === entryId && v.exists);
  if (!entry) throw new Error(`no VOICEMAIL entry ${entryId}`);
  const meta = JSON.parse(new TextDecoder().decode(entry.value)) as {
    chunkCount: number;
    from: string;
    duration: number;
  };
  const chunks = await Promise.all(
    Array.from({ length: meta.chunkCount }, async (_, i) => {
      const r = await overlay.fetch(voicemailChunkResourceName(name, entryId, i), 'VOICEMAIL-CHUNK');
      return r.values.find((v) => v.exists);
    }),
  );
  const opened = openVoicemail(entry, chunks, owner.keyPem);
  if (!opened.ok) throw new Error(`cannot open ${entryId}: ${opened.error}`);
  const wav = decodeWav(opened.audio);
  if (!wav.ok) throw new Error(`not a WAV: ${wav.error.reason}`);
  return { meta: opened.meta, wav: wav.value, bytes: opened.audio };
}

export function readWavFile(path: string) {
  const wav = decodeWav(new Uint8Array(readFileSync(path)));
  if (!wav.ok) throw new Error(`${path}: ${wav.error.reason}`);
  return wav.value;
}

/** Polls an async condition every 100 ms until true (or throws after `timeoutMs`). */
export async function until(what: string, probe: () => Promise<boolean> | boolean, timeoutMs = 15_000) {
  const end = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The strongest 100 ms block of `hz` in a WAV the phone recorded (any rate). */
export async function peakTone(file: string, hz: number): Promise<number> {
  const pcm = await loadWav8k(file);
  let best = 0;
  for (let i = 0; i + 800 <= pcm.length; i += 800)
    best = Math.max(best, blockToneStrength(pcm.subarray(i, i + 800), hz, 8000));
  return best;
}
