// Test harness: several "hosts" on one machine as Linux network namespaces joined by bridges.
// Every namespace, veth and bridge it makes is recorded the moment it exists and removed by
// destroy(), and also on process exit, SIGINT and SIGTERM, so a failed or killed test run leaves
// nothing behind. It removes only what it made (names carry a per-run prefix that is checked to be
// free first). Needs root; `rootSkipReason()` says why a test should skip otherwise.
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';

export interface LanHost {
  /** Namespace name. */
  ns: string;
  /** Interface inside the namespace. */
  iface: string;
  /** IPv4 address (no prefix length). */
  address: string;
  /** Broadcast address of its subnet. */
  broadcast: string;
}

export interface LanOptions {
  hosts: number;
  /** Add `224.0.0.0/4 dev eth0` (default true); false simulates a network that drops multicast. */
  multicastRoute?: boolean;
}

export interface RoutedLans {
  router: string;
  subnets: LanHost[][];
}

export interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function rootSkipReason(): string | undefined {
  if (process.platform !== 'linux') return 'LAN tests need Linux network namespaces';
  if (process.getuid?.() !== 0) return 'LAN tests need root (network namespaces); run as root, as CI does';
  return undefined;
}

function ip(args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0)
    throw new Error(`ip ${args.join(' ')} failed: ${(r.stderr || r.error?.message || '').trim()}`);
}

/** Best-effort removal: the thing may already be gone (a netns takes its veth ends with it). */
function ipQuiet(args: string[]): void {
  spawnSync('ip', args, { stdio: 'ignore' });
}

function existingNames(): string {
  const ns = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  const links = spawnSync('ip', ['-o', 'link'], { encoding: 'utf8' }).stdout ?? '';
  return `${ns}\n${links}`;
}

const liveLabs = new Set<NetnsLab>();
let handlersInstalled = false;

function cleanupAllSync(): void {
  for (const lab of liveLabs) lab.destroySync();
}

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', cleanupAllSync);
  for (const [sig, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.on(sig, () => {
      cleanupAllSync();
      process.exit(code);
    });
  }
}

let labSerial = 0;

export class NetnsLab {
  readonly prefix: string;
  private readonly namespaces: string[] = [];
  private readonly links: string[] = [];
  private readonly children = new Set<ChildProcessWithoutNullStreams>();
  private subnetSerial = 0;
  private hostSerial = 0;

  constructor() {
    // Short (interface names have 15 characters) and unique per process and lab; skip prefixes
    // that some other run (or a crashed one) still uses rather than touching its objects.
    const names = existingNames();
    let prefix: string;
    do {
      prefix = `ppx${process.pid % 1000}${String.fromCharCode(97 + (labSerial++ % 26))}`;
    } while (names.includes(prefix) && labSerial < 26 * 40);
    this.prefix = prefix;
    liveLabs.add(this);
    installExitHandlers();
  }

  private addNamespace(name: string): string {
    ip(['netns', 'add', name]);
    this.namespaces.push(name);
    ip(['-n', name, 'link', 'set', 'lo', 'up']);
    return name;
  }

  private addBridge(): { bridge: string; subnet: number } {
    const subnet = ++this.subnetSerial;
    const bridge = `${this.prefix}br${subnet}`;
    // Snooping off: with no IGMP querier on this wire, a snooping bridge may stop flooding mDNS.
    ip(['link', 'add', bridge, 'type', 'bridge', 'mcast_snooping', '0']);
    this.links.push(bridge);
    ip(['link', 'set', bridge, 'up']);
    return { bridge, subnet };
  }

  /** A veth from `ns` (named `iface` there) into `bridge`, with address 10.77.subnet.hostPart/24. */
  private plug(ns: string, iface: string, bridge: string, subnet: number, hostPart: number): LanHost {
    const outer = `${this.prefix}b${++this.hostSerial}`;
    ip(['link', 'add', 'name', iface, 'netns', ns, 'type', 'veth', 'peer', 'name', outer]);
    this.links.push(outer);
    ip(['link', 'set', outer, 'master', bridge]);
    ip(['link', 'set', outer, 'up']);
    const address = `10.77.${subnet}.${hostPart}`;
    ip(['-n', ns, 'addr', 'add', `${address}/24`, 'brd', '+', 'dev', iface]);
    ip(['-n', ns, 'link', 'set', iface, 'up']);
    return { ns, iface, address, broadcast: `10.77.${subnet}.255` };
  }

  private addLan(
    hosts: number,
    multicastRoute: boolean,
  ): { hosts: LanHost[]; bridge: string; subnet: number } {
    const { bridge, subnet } = this.addBridge();
    const out: LanHost[] = [];
    for (let i = 1; i <= hosts; i++) {
      const ns = this.addNamespace(`${this.prefix}s${subnet}h${i}`);
      const host = this.plug(ns, 'eth0', bridge, subnet, i);
      // Without it a namespace has no route for 224.0.0.251 and mDNS cannot leave the host.
      if (multicastRoute) ip(['-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', 'eth0']);
      out.push(host);
    }
    return { hosts: out, bridge, subnet };
  }

  /** N hosts on one bridge (one broadcast domain), 10.77.K.1..N/24. */
  lan(opts: LanOptions): LanHost[] {
    return this.addLan(opts.hosts, opts.multicastRoute ?? true).hosts;
  }

  /**
   * Two subnets, each its own bridge, joined by a router namespace (.254 on each, ip_forward=1):
   * unicast is routed; multicast and broadcast stay on their own subnet.
   */
  routedLans(hostsPerSubnet: number): RoutedLans {
    const a = this.addLan(hostsPerSubnet, true);
    const b = this.addLan(hostsPerSubnet, true);
    const router = this.addNamespace(`${this.prefix}rt`);
    this.plug(router, 'eth0', a.bridge, a.subnet, 254);
    this.plug(router, 'eth1', b.bridge, b.subnet, 254);
    ip(['netns', 'exec', router, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    for (const [lan, gw] of [
      [a, `10.77.${a.subnet}.254`],
      [b, `10.77.${b.subnet}.254`],
    ] as const) {
      for (const h of lan.hosts) ip(['-n', h.ns, 'route', 'add', 'default', 'via', gw]);
    }
    return { router, subnets: [a.hosts, b.hosts] };
  }

  /** Starts `cmd args` inside `ns`, stdio piped; the process is killed by destroy(). */
  spawn(
    ns: string,
    cmd: string,
    args: string[],
    opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
  ): ChildProcessWithoutNullStreams {
    // `ip netns exec` execs the command in place, so signals reach it directly.
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], {
      env: { ...process.env, ...opts.env },
      cwd: opts.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.children.add(child);
    child.on('exit', () => this.children.delete(child));
    return child;
  }

  /** Runs `cmd args` inside `ns` to completion (killed after timeoutMs) and returns its output. */
  exec(ns: string, cmd: string, args: string[], timeoutMs = 20_000): Promise<ExecResult> {
    const child = this.spawn(ns, cmd, args);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    return new Promise((resolve) => {
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  }

  /** Kills what it started (TERM, then KILL after a grace period) and removes what it made. */
  async destroy(graceMs = 1500): Promise<void> {
    await this.stopChildren(graceMs);
    this.destroySync();
  }

  /** TERM to every process it started, KILL to those still alive after graceMs. */
  async stopChildren(graceMs = 1500): Promise<void> {
    const running = [...this.children].filter((c) => c.exitCode === null && c.signalCode === null);
    await Promise.all(
      running.map(
        (c) =>
          new Promise<void>((resolve) => {
            const t = setTimeout(() => c.kill('SIGKILL'), graceMs);
            c.once('exit', () => {
              clearTimeout(t);
              resolve();
            });
            c.kill('SIGTERM');
          }),
      ),
    );
  }

  /** Synchronous teardown for exit/signal handlers (no event loop left there). */
  destroySync(): void {
    for (const c of this.children) c.kill('SIGKILL');
    this.children.clear();
    // A namespace with a live process outlives `ip netns del` (only its name goes), and its veth
    // ends with it; deleting the root-side veth ends explicitly cuts them off the bridge now.
    for (const ns of this.namespaces.splice(0).reverse()) ipQuiet(['netns', 'del', ns]);
    for (const link of this.links.splice(0).reverse()) ipQuiet(['link', 'del', link]);
    liveLabs.delete(this);
  }

  /** Names of this lab's objects that still exist (tests assert it is empty after destroy). */
  leftovers(): string[] {
    const names = existingNames();
    return names
      .split(/[\s:@]+/)
      .filter((w) => w.startsWith(this.prefix))
      .filter((w, i, all) => all.indexOf(w) === i);
  }
}
