// The namespace harness itself: topology as promised, and nothing left behind however the
// process using it ends.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { NetnsLab, rootSkipReason } from './netns.ts';

const skip = rootSkipReason();
if (skip) console.warn(`test/lan/netns.test.ts skipped: ${skip}`);

const HOLDER = fileURLToPath(new URL('./fixtures/lab-holder.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../../', import.meta.url));

const labs: NetnsLab[] = [];
afterEach(async () => {
  for (const lab of labs.splice(0)) await lab.destroy();
});

function ipOut(args: string[]): string {
  return spawnSync('ip', args, { encoding: 'utf8' }).stdout ?? '';
}

/** Running, as opposed to gone or a zombie (an orphan's zombie waits for a reaper we do not control). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

function namesWithPrefix(prefix: string): string[] {
  const all = `${ipOut(['netns', 'list'])}\n${ipOut(['-o', 'link'])}`;
  return [...new Set(all.split(/[\s:@]+/).filter((w) => w.startsWith(prefix)))];
}

describe.skipIf(skip)('network namespace harness', () => {
  it('builds hosts with their own addresses, lo up, and the multicast route only when asked', async () => {
    const lab = new NetnsLab();
    labs.push(lab);
    const withMc = lab.lan({ hosts: 2 });
    const noMc = lab.lan({ hosts: 1, multicastRoute: false });
    expect(withMc.map((h) => h.address)).toEqual(['10.77.1.1', '10.77.1.2']);
    expect(noMc[0].address).toBe('10.77.2.1');
    expect(withMc[0].broadcast).toBe('10.77.1.255');
    expect(ipOut(['-n', withMc[1].ns, '-4', 'addr', 'show', 'eth0'])).toContain('10.77.1.2/24');
    expect(ipOut(['-n', withMc[0].ns, 'link', 'show', 'lo'])).toMatch(/UP/);
    expect(ipOut(['-n', withMc[0].ns, 'route'])).toMatch(/^224\.0\.0\.0\/4 dev eth0/m);
    expect(ipOut(['-n', noMc[0].ns, 'route'])).not.toMatch(/224\.0\.0\.0/);
    const r = await lab.exec(withMc[0].ns, 'ip', ['-4', '-o', 'addr']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('10.77.1.1/24');
    expect(r.stdout).not.toContain('10.77.1.2/');
    // 3 namespaces, 2 bridges, 3 root-side veth ends.
    expect(lab.leftovers()).toHaveLength(8);
    await lab.destroy();
    expect(lab.leftovers()).toEqual([]);
  });

  it('routes unicast between the two subnets through the router namespace', async () => {
    const lab = new NetnsLab();
    labs.push(lab);
    const { router, subnets } = lab.routedLans(1);
    expect((await lab.exec(router, 'sysctl', ['-n', 'net.ipv4.ip_forward'])).stdout.trim()).toBe('1');
    const [[a], [b]] = subnets;
    const route = await lab.exec(a.ns, 'ip', ['route', 'get', b.address]);
    expect(route.stdout).toContain(`via 10.77.1.254`);
  });

  it.each(['throw', 'wait', 'exit'])('leaves nothing behind when the process ends by %s', async (mode) => {
    const child = spawn(process.execPath, ['--import', 'tsx', HOLDER, mode], {
      cwd: REPO,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
    });
    const info = await new Promise<{ prefix: string; childPid: number }>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        out += d;
        const nl = out.indexOf('\n');
        if (nl >= 0) resolve(JSON.parse(out.slice(0, nl)));
      });
      child.on('exit', () => reject(new Error(`holder exited early: ${err}`)));
    });
    expect(namesWithPrefix(info.prefix).length).toBeGreaterThan(0);
    expect(alive(info.childPid)).toBe(true);
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    if (mode === 'wait') child.kill('SIGTERM');
    else child.stdin.write('go\n');
    const code = await exited;
    expect(code).not.toBe(0);
    if (mode === 'throw') expect(err).toContain('test failure inside the lab');
    expect(namesWithPrefix(info.prefix)).toEqual([]);
    expect(alive(info.childPid)).toBe(false);
  });
});
