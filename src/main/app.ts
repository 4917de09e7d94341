// The desktop app's engine: one Peer on the user's data folder and the PeerEngine the window talks
// to (src/main/electron/main.ts serves it over IPC). An unenrolled folder starts SIP only; creating
// or joining an office from the first-run screen enrolls the folder and restarts the peer as a
// member, under the same engine.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Engine } from '../core/api/engine.ts';
import { openCaKey } from '../core/security/ca.ts';
import { type HostPort, parseHostPort } from './config.ts';
import { Discovery, type FoundPeer } from './discovery/discovery.ts';
import type { EngineEnrollment, EngineHost } from './engine/host.ts';
import { PeerEngine } from './engine/peer-engine.ts';
import { createEngineHost } from './engine/peer-host.ts';
import { joinOffice } from './enrollment/join.ts';
import { acquireDataLock } from './headless/lock.ts';
import { discoveryFromEnv, passphraseFromEnv } from './headless/office-commands.ts';
import type { Logger } from './log.ts';
import { createOffice, generatePassphrase } from './office/office.ts';
import { Peer, type PeerOptions } from './peer.ts';

export interface RunningApp {
  engine: Engine;
  stop(): Promise<void>;
}

export interface StartAppOptions {
  dataDir: string;
  log: Logger;
  /** Defaults: 0.0.0.0, SIP 5060, overlay 7070; a port in use falls back to a free one. */
  bind?: string;
  sipPort?: number;
  overlayPort?: number;
  discovery?: PeerOptions['discovery'];
  /** Overlay addresses of office peers (routed subnets); a join's peer address is added. */
  peers?: HostPort[];
}

const DISCOVER_MS = 2500;

const isInUse = (err: unknown) => (err as NodeJS.ErrnoException)?.code === 'EADDRINUSE';

/** Starts a peer on the usual ports; another program (a desk softphone) may hold them: then any port. */
async function startPeer(o: StartAppOptions, passphrase: string | undefined): Promise<Peer> {
  const base: PeerOptions = {
    dataDir: o.dataDir,
    bind: o.bind ?? '0.0.0.0',
    sipPort: o.sipPort ?? 5060,
    overlayPort: o.overlayPort ?? 7070,
    httpPort: 0,
    peers: o.peers ?? [],
    passphrase,
    discovery: o.discovery ?? discoveryFromEnv(),
    log: o.log.child({ component: 'peer' }),
  };
  try {
    return await Peer.start(base);
  } catch (err) {
    if (!isInUse(err)) throw err;
    o.log.warn('usual ports in use: the peer takes free ones', {
      sipPort: base.sipPort,
      overlayPort: base.overlayPort,
    });
    return Peer.start({ ...base, sipPort: 0, overlayPort: 0 });
  }
}

/** Browses the LAN for office announcements for a moment; one entry per office CA. */
async function discoverOffices(
  options: PeerOptions['discovery'],
  log: Logger,
): Promise<Array<{ id: string; name: string; peers: number; address?: string }>> {
  const found = new Map<string, FoundPeer>();
  const d = new Discovery({
    accept: () => true, // browse only: the join's TLS answer proves which office it is
    mdns: options?.mdns,
    broadcast: options?.broadcast,
    beaconPort: options?.beaconPort,
    logger: log.child({ component: 'discovery' }),
  });
  d.on('peer', (p) => found.set(p.nodeId, p));
  await d.start();
  const ms = Number(process.env.PEERPBX_JOIN_DISCOVER_MS);
  await new Promise((r) => setTimeout(r, Number.isFinite(ms) && ms > 0 ? ms : DISCOVER_MS));
  await d.stop();
  const offices = new Map<string, { id: string; name: string; peers: number; address?: string }>();
  for (const p of found.values()) {
    const o = offices.get(p.caFingerprint) ?? { id: p.caFingerprint, name: p.office, peers: 0 };
    o.peers++;
    o.address ??= `${p.host.includes(':') ? `[${p.host}]` : p.host}:${p.port}`;
    offices.set(p.caFingerprint, o);
  }
  return [...offices.values()];
}

export async function startApp(opts: StartAppOptions): Promise<RunningApp> {
  const dataDir = resolve(opts.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const lock = acquireDataLock(dataDir);
  if (!lock.ok) throw new Error(`data folder ${dataDir} is in use by a running peer (pid ${lock.pid})`);
  const o: StartAppOptions = { ...opts, dataDir, peers: [...(opts.peers ?? [])] };
  // The admin passphrase opens the CA key for enrolling PCs; kept in memory only.
  let passphrase = passphraseFromEnv();
  let peer: Peer;
  try {
    peer = await startPeer(o, passphrase);
  } catch (err) {
    lock.release();
    throw err;
  }
  let stopping = false;

  /** Stops the SIP-only peer and starts it again as an office member. */
  const restart = async (): Promise<EngineHost> => {
    if (stopping) throw new Error('the app is quitting');
    await peer.stop();
    peer = await startPeer(o, passphrase);
    const host = createEngineHost(peer);
    if (!host) throw new Error('the data folder was enrolled but the peer started without its office');
    return host;
  };

  const enrollment: EngineEnrollment = {
    discover: () => discoverOffices(o.discovery ?? discoveryFromEnv(), opts.log),
    async create(p) {
      const pass = p.passphrase ?? passphrase ?? generatePassphrase();
      createOffice({
        dataDir,
        name: p.officeName,
        extension: p.extension,
        displayName: p.displayName,
        passphrase: pass,
      });
      passphrase = pass;
      return restart();
    },
    async join(p, onPending) {
      const via = p.peer ? [parseHostPort(p.peer, 'office peer')] : [];
      await joinOffice({
        dataDir,
        extension: p.extension,
        code: p.code,
        displayName: p.displayName,
        peers: via,
        discovery: o.discovery ?? discoveryFromEnv(),
        onPending: (id) => onPending(id),
        log: opts.log.child({ component: 'join' }),
      });
      // The member peer starts from where the office was found (the peer cache is still empty).
      o.peers?.push(...via);
      return restart();
    },
    // The admin PC started without its passphrase (no PEERPBX_PASSPHRASE): opening the CA key
    // needs a restart of the peer with it (the enrollment server takes the key at start).
    async unlock(pass) {
      const id = peer.office?.identity;
      if (!id?.admin || !id.caKeyEncryptedPem) throw new Error('this PC is not the office admin');
      if (!openCaKey(id.caKeyEncryptedPem, pass).ok)
        throw new Error('That passphrase does not open the office CA key');
      passphrase = pass;
      return restart();
    },
  };

  const engine = new PeerEngine(createEngineHost(peer), {
    log: opts.log.child({ component: 'engine' }),
    enrollment,
  });
  return {
    engine,
    async stop() {
      if (stopping) return;
      stopping = true;
      engine.close();
      try {
        await peer.stop();
      } finally {
        lock.release();
      }
    },
  };
}
