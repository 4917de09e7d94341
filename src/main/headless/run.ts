// `peerpbx run`: lock the data folder, start the peer, print where it listens, stop cleanly on
// SIGINT/SIGTERM.
import { isIPv6 } from 'node:net';
import { resolve } from 'node:path';
import type { TimerConfig } from '../../core/sip/transaction/layer.ts';
import type { PeerConfig } from '../config.ts';
import { createLogger } from '../log.ts';
import { Peer, type PeerOptions } from '../peer.ts';
import { acquireDataLock } from './lock.ts';
import { discoveryFromEnv, passphraseFromEnv } from './office-commands.ts';

const log = createLogger({ component: 'run' });

function fail(line: string): number {
  process.stderr.write(`peerpbx: ${line}\n`);
  return 1;
}

/**
 * PEERPBX_SIP_T1_MS shortens RFC 3261's T1 (and with it timers B, F, H, J: 64*T1) so that tests
 * can watch transactions expire in seconds. Not for production use: peers need the real 500 ms.
 */
function timersFromEnv(): Partial<TimerConfig> | undefined {
  const t1 = Number(process.env.PEERPBX_SIP_T1_MS);
  if (!Number.isInteger(t1) || t1 <= 0) return undefined;
  log.warn('SIP T1 overridden by PEERPBX_SIP_T1_MS', { t1 });
  return { t1, t4: Math.max(t1, 100), timerD: 64 * t1 };
}

/** Runs until a signal; returns the exit code. */
export async function runPeer(config: PeerConfig, phone: PeerOptions['phone'] = {}): Promise<number> {
  const dataDir = resolve(config.dataDir);
  let lock: ReturnType<typeof acquireDataLock>;
  try {
    lock = acquireDataLock(dataDir);
  } catch (err) {
    return fail(`cannot use data folder ${dataDir}: ${(err as Error).message}`);
  }
  if (!lock.ok) return fail(`data folder ${dataDir} is in use by a running peer (pid ${lock.pid})`);

  let peer: Peer;
  try {
    peer = await Peer.start({
      ...config,
      dataDir,
      sipTimers: timersFromEnv(),
      passphrase: passphraseFromEnv(),
      discovery: discoveryFromEnv(),
      phone,
    });
  } catch (err) {
    lock.release();
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE')
      return fail(`cannot listen on ${config.bind}:${config.sipPort}: address in use`);
    if (e.code === 'EADDRNOTAVAIL') return fail(`cannot listen on ${config.bind}: no such local address`);
    if (e.code === 'EACCES') return fail(`cannot listen on port ${config.sipPort}: permission denied`);
    log.error('peer failed to start', { err });
    return fail(`peer failed to start: ${e.message}`);
  }

  // A bug in one handler must not take the office's phones down: log it loudly and keep serving.
  const onCrash = (err: unknown) => log.error('uncaught error, peer keeps serving', { err });
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);

  // Handlers go in before the listening line: a test may signal the moment it reads it.
  const stopSignal = new Promise<NodeJS.Signals>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  // SIGUSR2: log memory and table sizes (after a full GC when node runs with --expose-gc), so an
  // operator or a test can tell a leak from a heap that has not been collected yet.
  process.on('SIGUSR2', () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    log.info('memory', { gc: !!gc, ...process.memoryUsage(), ...peer.stats() });
  });

  let ui: RunningUi | null = null;
  if (config.httpPort !== undefined) {
    try {
      ui = await startUi(peer, dataDir, config.httpPort);
    } catch (err) {
      await peer.stop();
      lock.release();
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'EADDRINUSE')
        return fail(`cannot serve the UI on 127.0.0.1:${config.httpPort}: address in use`);
      return fail(`UI failed to start: ${e.message}`);
    }
    // Before the SIP line (scripts take that as ready). The URL holds the token: stdout only.
    process.stdout.write(`peerpbx ui ${ui.url}\n`);
  }

  const sip = peer.sipAddress;
  const hostPort = `${isIPv6(sip.host) ? `[${sip.host}]` : sip.host}:${sip.port}`;
  const office = peer.office;
  if (office) {
    const id = office.identity;
    const enroll = office.enrollment ? ` enrollment tls://${sip.host}:${office.enrollment.port}` : '';
    // Before the SIP line: tests and scripts take the SIP line as "ready".
    process.stdout.write(
      `peerpbx office ${id.office} extension ${id.extension} node ${office.nodeId} overlay tls://${sip.host}:${office.overlayPort}${enroll}\n`,
    );
  }
  if (peer.pbx) process.stdout.write(`peerpbx phone ${peer.pbx.phone.uri} registrar ${peer.pbx.sipUri}\n`);
  else
    process.stdout.write(
      `peerpbx: ${dataDir} is not in an office yet (SIP only). Next: \`peerpbx office create --data ${dataDir} --name NAME --extension EXT\` for a new office, or \`peerpbx join --data ${dataDir} --extension EXT --code CODE\` with a code from the admin's \`office invite\`; then run again.\n`,
    );
  process.stdout.write(`peerpbx listening: sip udp://${hostPort} tcp://${hostPort} data ${dataDir}\n`);
  log.info('peer running', { pid: process.pid, sipPort: sip.port, bind: sip.host, dataDir });

  const signal = await stopSignal;
  log.info('shutting down', { signal });
  try {
    await ui?.close();
    await peer.stop();
  } finally {
    lock.release();
  }
  return 0;
}

interface RunningUi {
  url: string;
  close(): Promise<void>;
}

/**
 * The engine over this peer and the token-protected UI on 127.0.0.1. Loaded only with --http-port,
 * so a peer without a UI never loads the renderer's bridge. The UI cannot enroll a folder here
 * (no EngineEnrollment: `office create` / `join` from the CLI, then run again).
 */
async function startUi(peer: Peer, dataDir: string, httpPort: number): Promise<RunningUi> {
  const [{ startPeerUi }, { PeerEngine }, { createEngineHost }] = await Promise.all([
    import('../engine/ui.ts'),
    import('../engine/peer-engine.ts'),
    import('../engine/peer-host.ts'),
  ]);
  const engine = new PeerEngine(createEngineHost(peer), { log: log.child({ component: 'engine' }) });
  try {
    const ui = await startPeerUi({ engine, dataDir, httpPort, log });
    return {
      url: ui.url,
      close: async () => {
        await ui.close();
        engine.close();
      },
    };
  } catch (err) {
    engine.close();
    throw err;
  }
}
