// linphonec (Debian linphone-cli, liblinphone 5) as a second independent SIP client: it registers
// as desk phone 201 at a gateway peer (digest), calls extension 102 (a PeerPBX user on another
// peer) and receives a call from 102, with audio checked both ways. linphonec is driven through
// its stdin commands; it needs a writable HOME (its databases) or it never opens its SIP port.
// It is also the target of an attended transfer: it honours Replaces (RFC 3891) and BYEs the
// replaced dialog itself. (As the transferor it is not usable here: liblinphone 5.1 writes
// Refer-To without the target's port, e.g. <sip:101@127.0.0.1?Replaces=...>, so the INVITE goes
// to 5060.)
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/ports.ts';
import { killAll, type Running, start, waitFor } from '../helpers/processes.ts';
import {
  newOffice,
  nextPbxEvent,
  overlayAddress,
  type PbxPeer,
  startPbxPeer,
  toneIn,
  waitForContacts,
  writeToneWav,
} from './harness.ts';

const haveLinphonec = spawnSync('linphonec', ['-v'], { stdio: 'ignore' }).error === undefined;

/** One linphonec process with its own config and HOME; commands on stdin, state from stdout. */
class Linphonec {
  private constructor(
    readonly proc: Running,
    readonly dir: string,
  ) {}

  static async start(gateway: string, extension: string, password: string): Promise<Linphonec> {
    const dir = mkdtempSync(join(tmpdir(), 'linphonec-'));
    mkdirSync(join(dir, '.local/share/linphone'), { recursive: true });
    const port = await freePort();
    const rtp = await freePort();
    // The identity's host:port is the gateway, so REGISTER's Request-URI names the registrar.
    writeFileSync(
      join(dir, 'rc'),
      [
        '[sip]',
        `sip_port=${port}`,
        'sip_tcp_port=0',
        'sip_tls_port=0',
        'default_proxy=0',
        '[rtp]',
        `audio_rtp_port=${rtp}`,
        '[proxy_0]',
        `reg_proxy=<sip:${gateway}>`,
        `reg_route=<sip:${gateway};lr>`,
        `reg_identity=sip:${extension}@${gateway}`,
        'reg_expires=600',
        'reg_sendregister=1',
        'publish=0',
        '[auth_info_0]',
        `username=${extension}`,
        `passwd=${password}`,
        '',
      ].join('\n'),
    );
    const proc = start('linphonec', ['-c', join(dir, 'rc'), '-a', '-d', '0'], { env: { HOME: dir } });
    const lp = new Linphonec(proc, dir);
    // No sound card here: its file player/recorder stand in for the microphone and the speaker.
    lp.send('soundcard use files');
    await lp.waitOutput(/Using wav files instead of soundcard/);
    return lp;
  }

  send(command: string): void {
    this.proc.child.stdin?.write(`${command}\n`);
  }

  /** Waits until stdout (after `from` characters) matches; returns the match. */
  waitOutput(re: RegExp, from = 0, timeoutMs = 15_000): Promise<RegExpMatchArray> {
    return waitFor(`linphonec output ${re}`, () => this.proc.stdout().slice(from).match(re), timeoutMs);
  }

  get outputLength(): number {
    return this.proc.stdout().length;
  }

  async stop(): Promise<void> {
    this.send('quit');
    const quit = await Promise.race([this.proc.done, new Promise((r) => setTimeout(r, 3000))]);
    if (!quit) this.proc.child.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

describe.skipIf(!haveLinphonec)('linphonec as a desk phone', () => {
  const office = newOffice();
  let g: PbxPeer; // 101: the gateway serving desk phone 201
  let u: PbxPeer; // 102: a PeerPBX user on another peer, auto-answers, plays 1000 Hz
  let lp: Linphonec;
  let tone = '';

  beforeAll(async () => {
    g = await startPbxPeer({
      name: 'g',
      extension: '101',
      office,
      admin: true,
      deskPhones: [{ extension: '201', password: 'pw201' }],
    });
    u = await startPbxPeer({
      name: 'u',
      extension: '102',
      office,
      bootstrap: [overlayAddress(g)],
      autoAnswer: true,
      tone: 1000,
    });
    await waitForContacts(g, '102', 1);
    lp = await Linphonec.start(`127.0.0.1:${String(g.ready.sipPort)}`, '201', 'pw201');
    tone = writeToneWav(join(lp.dir, 'tone440.wav'), 440, 10);
  }, 60_000);

  afterAll(async () => {
    await lp?.stop();
    await Promise.allSettled([g, u].filter(Boolean).map((p) => p.request({ op: 'stop' }, 5000)));
    await killAll();
  });

  it('registers with digest at the gateway; the overlay then knows 201 from another peer', async () => {
    await nextPbxEvent(g, 'desk-phone', (e) => e.extension === '201' && e.registered === true);
    const contacts = (await waitForContacts(u, '201', 1)) as Array<{ deskPhone?: boolean }>;
    expect(contacts[0].deskPhone).toBe(true);
  }, 30_000);

  it('calls extension 102 through the gateway and the overlay; 102 hears its 440 Hz', async () => {
    const mark = lp.outputLength;
    lp.send(`call sip:102@127.0.0.1:${String(g.ready.sipPort)}`);
    const incoming = await nextPbxEvent(u, 'incoming');
    expect(String(incoming.from)).toContain('201');
    await lp.waitOutput(/Call (\d+) with \S+ connected/, mark);
    lp.send(`play ${tone}`);
    await new Promise((r) => setTimeout(r, 2500));
    lp.send('terminate');
    const ended = await nextPbxEvent(u, 'ended', (e) => e.call === incoming.call);
    expect(ended.reason).toBe('remote-bye');
    const strength = await toneIn(String(ended.recording), 440);
    console.log(`linphonec -> 102: 440 Hz strength ${strength.toFixed(2)} in 102's recording`);
    expect(strength).toBeGreaterThan(0.5);
  }, 30_000);

  it('receives a call from 102 (auto-answer) and records its 1000 Hz', async () => {
    const mark = lp.outputLength;
    const call = String((await u.request({ op: 'dial', target: '201' })).call);
    await lp.waitOutput(/Call (\d+) with \S+ connected/, mark);
    await nextPbxEvent(u, 'answered', (e) => e.call === call);
    const file = join(lp.dir, 'heard.wav');
    lp.send(`record ${file}`);
    await new Promise((r) => setTimeout(r, 2500));
    await u.request({ op: 'hangup', call });
    await lp.waitOutput(/Call \d+ with \S+ ended/, mark);
    expect((await nextPbxEvent(u, 'ended', (e) => e.call === call)).reason).toBe('local-bye');
    const strength = await toneIn(file, 1000);
    console.log(`102 -> linphonec: 1000 Hz strength ${strength.toFixed(2)} in linphonec's recording`);
    expect(strength).toBeGreaterThan(0.5);
  }, 30_000);

  it('is the target of an attended transfer: takes over the consultation of 101 by Replaces and ends it', async () => {
    // 101 (the gateway's own user) talks to 102, holds it, consults linphonec (201) and transfers:
    // 102 sends its INVITE with Replaces to linphonec, which answers and BYEs the consultation.
    const ab = String((await g.request({ op: 'dial', target: '102' })).call);
    await nextPbxEvent(g, 'answered', (e) => e.call === ab);
    expect((await g.request({ op: 'hold', call: ab })).done).toBe(true);
    const mark = lp.outputLength;
    const ac = String((await g.request({ op: 'dial', target: '201' })).call);
    await nextPbxEvent(g, 'answered', (e) => e.call === ac);
    await lp.waitOutput(/Call \d+ with \S+ connected/, mark);
    const r = await g.request({ op: 'attended-transfer', call: ab, consultation: ac }, 25_000);
    expect(r.status).toBe(200);
    const moved = await nextPbxEvent(u, 'transferred');
    await nextPbxEvent(u, 'answered', (e) => e.call === moved.call);
    // linphonec itself ended the replaced dialog (RFC 3891): a BYE from it, not A's fallback.
    expect((await nextPbxEvent(g, 'ended', (e) => e.call === ac)).reason).toBe('remote-bye');
    expect((await nextPbxEvent(g, 'ended', (e) => e.call === ab)).reason).toBe('local-bye');
    await new Promise((res) => setTimeout(res, 1000));
    await u.request({ op: 'hangup', call: moved.call });
    expect((await nextPbxEvent(u, 'ended', (e) => e.call === moved.call)).reason).toBe('local-bye');
    await lp.waitOutput(/Call \d+ with sip:102@\S+ ended/, mark);
  }, 40_000);
});
