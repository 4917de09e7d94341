// The `peerpbx` command line as scripts see it: help text, one-line errors with non-zero exits,
// the data-folder lock (refused while held, taken over from a dead pid), clean shutdown on signals.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killAll, runCli, startPeer, tempDir } from '../helpers/processes.ts';
import { request, statusOf, udpExchange } from '../helpers/raw-sip.ts';

afterAll(async () => {
  await killAll();
});

function oneLine(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l.trim() !== '');
  expect(lines, `stderr was:\n${stderr}`).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
  return lines[0];
}

describe('peerpbx --help', () => {
  it('documents every command of the design card', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const cmd of [
      'office create',
      'office invite',
      'join',
      'run',
      'phone add',
      'status',
      'lookup',
      'voicemail list',
      'voicemail export',
    ]) {
      expect(r.stdout).toContain(`peerpbx ${cmd}`);
    }
    for (const opt of ['--sip-port', '--overlay-port', '--http-port', '--bind', '--peer', '--data']) {
      expect(r.stdout).toContain(opt);
    }
  });

  it('run --help lists its options', async () => {
    const r = await runCli(['run', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--sip-port <n>/);
    expect(r.stdout).toMatch(/--data <dir>/);
  });
});

describe('bad arguments exit non-zero with one clear line', () => {
  const dir = tempDir();
  const cases: [string, string[], RegExp][] = [
    ['unknown option', ['run', '--data', dir, '--frobnicate'], /unknown option '--frobnicate'/],
    [
      'non-numeric port',
      ['run', '--data', dir, '--sip-port', 'abc'],
      /--sip-port.*"abc" is not a port number/,
    ],
    ['port out of range', ['run', '--data', dir, '--sip-port', '70000'], /--sip-port.*70000 is out of range/],
    ['missing --data', ['run'], /required option '--data <dir>' not specified/],
    ['bad --peer', ['run', '--data', dir, '--peer', 'nohostport'], /--peer.*not HOST:PORT/],
    ['bad --bind', ['run', '--data', dir, '--bind', 'not an address!'], /--bind/],
    ['unknown command', ['frob'], /unknown command 'frob'/],
    [
      'voicemail list with no peer running',
      ['voicemail', 'list', '--data', dir],
      /^peerpbx: no peer is running/,
    ],
    [
      'voicemail export to no folder',
      ['voicemail', 'export', '--data', dir, 'x', '/nonexistent/m.wav'],
      /no folder/,
    ],
    ['voicemail pin not digits', ['voicemail', 'pin', '--data', dir, '12ab'], /PIN is 4 to 12 digits/],
    [
      'phone add in a folder with no office',
      ['phone', 'add', '--data', dir, '--extension', '201', '--password', 'pw-201'],
      /^peerpbx: data folder .* is not in an office: run `peerpbx office create` or `peerpbx join` first$/,
    ],
    ['bad --play', ['run', '--data', dir, '--play', '/nonexistent/tone.wav'], /--play.*no file/],
    [
      'status with no peer running',
      ['status', '--data', dir],
      /^peerpbx: no peer is running on data folder /,
    ],
    [
      'invite in a folder with no office',
      ['office', 'invite', '--data', dir, '--extension', '101'],
      /has no office identity/,
    ],
    [
      'join with a bad extension',
      ['join', '--data', dir, '--extension', 'x1', '--code', 'AAAAA-AAAAA'],
      /extension "x1" must be 2 to 10 digits/,
    ],
  ];
  for (const [name, args, pattern] of cases) {
    it(name, async () => {
      const r = await runCli(args);
      expect(r.code).not.toBe(0);
      expect(r.code).not.toBeNull();
      expect(oneLine(r.stderr)).toMatch(pattern);
    });
  }
});

describe('peerpbx run and its data folder', () => {
  it('refuses a second run on a folder in use, and shuts down cleanly on SIGTERM', async () => {
    const peer = await startPeer();
    const lock = join(peer.dataDir, 'peerpbx.lock');
    expect(readFileSync(lock, 'utf8').trim()).toBe(String(peer.pid));
    // A fresh folder (what `npm start` runs on first): SIP only, and what to do next.
    expect(peer.stdout()).toMatch(
      /is not in an office yet \(SIP only\)\. Next: `peerpbx office create --data .*`peerpbx join --data /,
    );

    const second = await runCli(['run', '--data', peer.dataDir, '--bind', '127.0.0.1', '--sip-port', '0']);
    expect(second.code).toBe(1);
    expect(oneLine(second.stderr)).toMatch(new RegExp(`in use by a running peer \\(pid ${peer.pid}\\)`));

    // The first peer is unaffected.
    const [res] = await udpExchange(peer.port, request('OPTIONS', 'x', peer.port));
    expect(statusOf(res)).toBe(200);

    const end = await peer.stop();
    expect(end.code).toBe(0);
    expect(existsSync(lock)).toBe(false);
    expect(end.stderr).toContain('"msg":"shutting down"');
    // Every stderr line is a JSON log record.
    for (const line of end.stderr.trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
  });

  it('--http-port on a fresh folder (what `npm start` runs): the UI URL with the folder token, SIP only', async () => {
    const peer = await startPeer(['--http-port', '0']);
    const m = /^peerpbx ui (http:\/\/127\.0\.0\.1:\d+\/)#token=(\S+)$/m.exec(peer.stdout());
    expect(m, peer.stdout()).not.toBeNull();
    expect(m?.[2]).toBe(readFileSync(join(peer.dataDir, 'ui-token'), 'utf8').trim());
    // The renderer is served when it was built (npm run build); the bridge answers either way.
    const page = await fetch(m?.[1] ?? '');
    if (existsSync(join(import.meta.dirname, '../../dist/renderer/index.html'))) {
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/<html/i);
    } else expect(page.status).toBeLessThan(500);
    expect((await peer.stop()).code).toBe(0);
  });

  it('takes over a stale lock left by a dead process', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'peerpbx.lock'), '999999999\n');
    const peer = await startPeer([], dir);
    expect(readFileSync(join(dir, 'peerpbx.lock'), 'utf8').trim()).toBe(String(peer.pid));
    const end = await peer.stop();
    expect(end.code).toBe(0);
  });

  it('stops on SIGINT too', async () => {
    const peer = await startPeer();
    peer.child.kill('SIGINT');
    const end = await peer.done;
    expect(end.code).toBe(0);
  });

  it('says so in one line when the SIP port is taken', async () => {
    const first = await startPeer();
    const r = await runCli([
      'run',
      '--data',
      tempDir(),
      '--bind',
      '127.0.0.1',
      '--sip-port',
      String(first.port),
    ]);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toMatch(/address in use/);
    await first.stop();
  });
});
