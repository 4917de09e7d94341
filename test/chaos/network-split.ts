// A split of an office's LAN into two halves, and the heal: the bridge ports of one half's hosts move
// to a bridge of their own (everything between the halves stops, multicast and broadcast included;
// each half still talks inside itself), then back. NetnsLab names its bridge ports internally, so a
// host's port is found from its veth's peer ifindex. The extra bridge is removed by heal(), and on
// process exit if a test dies first.
import { spawnSync } from 'node:child_process';
import type { LanHost } from '../lan/netns.ts';

function ip(args: string[]): string {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${(r.stderr || r.error?.message || '').trim()}`);
  return r.stdout;
}

/** The root-namespace end of `host`'s veth and the bridge it is plugged into. */
export function bridgePortOf(host: LanHost): { port: string; bridge: string } {
  const inner = ip(['-n', host.ns, '-o', 'link', 'show', host.iface]);
  const ifindex = /@if(\d+)/.exec(inner)?.[1];
  if (!ifindex) throw new Error(`no veth peer for ${host.ns}/${host.iface}: ${inner}`);
  const line = ip(['-o', 'link', 'show'])
    .split('\n')
    .find((l) => l.startsWith(`${ifindex}: `));
  const m = line && /^\d+: ([^@:]+)[@:].* master (\S+)/.exec(line);
  if (!m) throw new Error(`bridge port ${ifindex} not found: ${line}`);
  return { port: m[1], bridge: m[2] };
}

export class NetworkSplit {
  private readonly ports: { port: string; bridge: string }[];
  private readonly island = `ppxsplit${process.pid % 10000}`;
  private made = false;
  private readonly onExit = () => this.healSync();

  /** `half`: the hosts cut off from the rest. */
  constructor(half: LanHost[]) {
    this.ports = half.map(bridgePortOf);
  }

  split(): void {
    ip(['link', 'add', this.island, 'type', 'bridge', 'mcast_snooping', '0']);
    this.made = true;
    process.on('exit', this.onExit);
    ip(['link', 'set', this.island, 'up']);
    for (const p of this.ports) ip(['link', 'set', p.port, 'master', this.island]);
  }

  heal(): void {
    for (const p of this.ports) ip(['link', 'set', p.port, 'master', p.bridge]);
    this.healSync();
  }

  /** Removes the island bridge (its ports fall off it; heal() put them back first). */
  healSync(): void {
    if (!this.made) return;
    this.made = false;
    process.off('exit', this.onExit);
    spawnSync('ip', ['link', 'del', this.island], { stdio: 'ignore' });
  }
}
