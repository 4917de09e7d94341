// Runs test/lan/fixtures/discover-peer.ts in namespaces and collects what each one found.
import { fileURLToPath } from 'node:url';
import type { FoundPeer } from '../../src/main/discovery/discovery.ts';
import type { LanHost, NetnsLab } from './netns.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/discover-peer.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../../', import.meta.url));

export interface PeerSpec {
  host: LanHost;
  nodeId: string;
  office?: string;
  ca?: string;
  port?: number;
  extraArgs?: string[];
  /** Spawn only once this holds (checked on every event); default: at once. */
  startWhen?: (runs: PeerRun[]) => boolean;
}

/** For `startWhen`: the runs before `index` have all found each other. */
export const earlierFoundEachOther = (index: number) => (runs: PeerRun[]) =>
  runs.slice(0, index).every((r) => r.found.size >= index - 1);

/** Time from a run's Discovery start until it had found `n` peers. */
export function msToFind(run: PeerRun, n: number): number | undefined {
  const times = [...run.found.values()].map((f) => f.ms).sort((a, b) => a - b);
  return times.length >= n ? times[n - 1] : undefined;
}

export interface PeerRun {
  spec: PeerSpec;
  found: Map<string, { ms: number; peer: FoundPeer }>;
  /** Node-IDs reported lost (mDNS goodbye), in order. */
  lost: string[];
  startedMs?: number;
  stopped: boolean;
  exitCode: number | null;
  stderr: string;
  /** Time from Discovery start to the first peer found. */
  firstFoundMs?: number;
  /** Wall time from spawning the process (node + tsx start-up included) to the first peer found. */
  spawnToFirstFoundMs?: number;
}

export interface RunOptions {
  /** Hard stop for every peer. */
  durationMs: number;
  /** Finish early once this returns true for every run (checked on each event). */
  doneWhen?: (run: PeerRun) => boolean;
  /** Keep running at least this long even if everyone is done (to catch unwanted discoveries). */
  minMs?: number;
}

export async function runPeers(lab: NetnsLab, specs: PeerSpec[], opts: RunOptions): Promise<PeerRun[]> {
  const t0 = Date.now();
  const runs: PeerRun[] = specs.map((spec) => ({
    spec,
    found: new Map(),
    lost: [],
    stopped: false,
    exitCode: null,
    stderr: '',
  }));
  const allDone = () => opts.doneWhen !== undefined && runs.every((r) => opts.doneWhen?.(r));
  let finish: () => void = () => {};
  const finished = new Promise<void>((r) => {
    finish = r;
  });
  const exits: Promise<void>[] = [];
  const spawned = new Set<PeerRun>();

  const onProgress = () => {
    for (const run of runs) {
      if (!spawned.has(run) && (run.spec.startWhen?.(runs) ?? true)) start(run);
    }
    if (allDone() && Date.now() - t0 >= (opts.minMs ?? 0)) finish();
  };

  const start = (run: PeerRun) => {
    spawned.add(run);
    const s = run.spec;
    const spawnedAt = Date.now();
    const child = lab.spawn(
      s.host.ns,
      process.execPath,
      [
        '--import',
        'tsx',
        FIXTURE,
        '--node-id',
        s.nodeId,
        '--office',
        s.office ?? 'Acme',
        '--ca',
        s.ca ?? 'aa:bb:cc',
        '--port',
        String(s.port ?? 7000),
        '--duration',
        String(opts.durationMs),
        ...(s.extraArgs ?? []),
      ],
      // `--import tsx` resolves from the working directory.
      { env: { PEERPBX_LOG: 'info' }, cwd: REPO },
    );
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let ev: { event: string; ms: number; peer?: FoundPeer; nodeId?: string };
        try {
          ev = JSON.parse(line);
        } catch {
          run.stderr += `unparsable stdout: ${line}\n`;
          continue;
        }
        if (ev.event === 'started') run.startedMs = ev.ms;
        if (ev.event === 'stopped') run.stopped = true;
        if (ev.event === 'lost' && ev.nodeId) run.lost.push(ev.nodeId);
        if (ev.event === 'found' && ev.peer && !run.found.has(ev.peer.nodeId)) {
          run.found.set(ev.peer.nodeId, { ms: ev.ms, peer: ev.peer });
          run.firstFoundMs ??= ev.ms;
          run.spawnToFirstFoundMs ??= Date.now() - spawnedAt;
        }
        onProgress();
      }
    });
    child.stderr.on('data', (d) => {
      run.stderr += d;
    });
    exits.push(
      new Promise<void>((resolve) =>
        child.on('close', (code) => {
          run.exitCode = code;
          resolve();
          // Everyone ran out of time on their own: nothing more will happen.
          if (runs.every((r) => spawned.has(r) && r.exitCode !== null)) finish();
        }),
      ),
    );
  };

  onProgress();
  const minTimer = opts.minMs ? setTimeout(() => allDone() && finish(), opts.minMs) : undefined;
  const hardStop = setTimeout(finish, opts.durationMs + 3000);
  await finished;
  clearTimeout(minTimer);
  clearTimeout(hardStop);
  // Stop everyone cleanly (the fixture handles SIGTERM by stopping Discovery) and wait for them.
  await lab.stopChildren();
  await Promise.all(exits);
  return runs;
}

/** One line per peer, for the test log: who found whom and how fast. */
export function report(title: string, runs: PeerRun[]): void {
  const lines = runs.map((r) => {
    const vias = [...r.found.values()]
      .map((f) => `${f.peer.nodeId.slice(0, 8)}@${f.ms}ms/${f.peer.via}`)
      .join(' ');
    return `  ${r.spec.nodeId.slice(0, 8)} (${r.spec.host.address}): first found ${r.firstFoundMs ?? '-'} ms after start (${r.spawnToFirstFoundMs ?? '-'} ms after spawn); ${vias || 'nothing'}`;
  });
  console.log(`${title}\n${lines.join('\n')}`);
}
