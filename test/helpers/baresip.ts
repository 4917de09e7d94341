// baresip as a scripted softphone for media interop tests (recipe in /work/shared/RECIPES.md):
// each instance gets a generated config folder (aubridge instead of a sound card, ausine as the
// microphone, sndfile recording every call to snd_path, ctrl_tcp for remote control, its own SIP,
// control and RTP ports). Commands and events travel as netstring-framed JSON over ctrl_tcp.
// stopAllBaresip() (afterEach) kills every instance and removes its folder, also after a failure.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { freePort, isListening, waitListening } from './ports.ts';
import { type Running, start, tempDir } from './processes.ts';

export interface BaresipOptions {
  /** Frequency of ausine, its "microphone" (Hz). */
  toneHz?: number;
  /** auto: answers incoming calls itself; manual: wait for accept(). */
  answerMode?: 'auto' | 'manual';
  codecs?: Array<'PCMU' | 'PCMA'>;
  user?: string;
  /** baresip quits by itself after this long (-t), a safety net should the test runner die. */
  lifetimeSec?: number;
}

export interface BaresipEvent {
  type: string;
  class?: string;
  param?: string;
  peeruri?: string;
  id?: string;
  direction?: string;
  [key: string]: unknown;
}

export interface BaresipResponse {
  ok: boolean;
  data: string;
}

const instances = new Set<Baresip>();

// Last resort if a test run dies without its afterEach: no baresip or folder outlives the process.
process.once('exit', () => {
  for (const b of instances) {
    b.proc.child.kill('SIGKILL');
    rmSync(b.dir, { recursive: true, force: true });
  }
});
let rtpBase = 42000 + (process.pid % 100) * 20;

/** A SIP port whose neighbour is free too (baresip also listens for TLS on port + 1). */
async function sipPortPair(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const p = await freePort();
    if (p < 65000 && !isListening(p + 1, 'udp') && !isListening(p + 1, 'tcp')) return p;
  }
  throw new Error('no free SIP port pair for baresip');
}

function nextRtpRange(): [number, number] {
  const min = rtpBase;
  rtpBase += 20;
  if (rtpBase > 43980) rtpBase = 42000;
  return [min, min + 19];
}

export interface BaresipConfigSpec {
  /** host:port for SIP (baresip also takes port + 1 for TLS). */
  sipListen: string;
  /** ausine frequency: the phone's microphone. */
  toneHz: number;
  /** sndfile's snd_path: every call's audio lands there as dump-*-dec.wav / -enc.wav. */
  recDir: string;
  rtpPorts: [number, number];
  /** host:port of ctrl_tcp remote control; omitted: no remote control. */
  ctrlListen?: string;
}

/** The lines of a headless baresip `config` (recipe in /work/shared/RECIPES.md). */
export function baresipConfig(s: BaresipConfigSpec): string[] {
  return [
    'poll_method epoll',
    `sip_listen ${s.sipListen}`,
    'audio_player aubridge,x',
    'audio_alert aubridge,x',
    `audio_source ausine,${s.toneHz}`,
    'ausrc_srate 48000',
    'auplay_srate 48000',
    'ausrc_channels 2',
    'module_path /usr/lib/baresip/modules',
    'module g711.so',
    'module ausine.so',
    'module aubridge.so',
    'module sndfile.so',
    'module_app account.so',
    'module_app menu.so',
    ...(s.ctrlListen ? ['module_app ctrl_tcp.so', `ctrl_tcp_listen ${s.ctrlListen}`] : []),
    `snd_path ${s.recDir}`,
    `rtp_ports ${s.rtpPorts[0]}-${s.rtpPorts[1]}`,
  ];
}

/** Splits netstrings ("len:payload,") out of a byte stream. */
export class NetstringReader {
  private buf = Buffer.alloc(0);
  push(chunk: Buffer): string[] {
    this.buf = Buffer.concat([this.buf, chunk]);
    const out: string[] = [];
    for (;;) {
      const colon = this.buf.indexOf(0x3a);
      if (colon < 0) break;
      const len = Number(this.buf.subarray(0, colon).toString('latin1'));
      if (!Number.isInteger(len)) throw new Error('bad netstring from baresip');
      if (this.buf.length < colon + 1 + len + 1) break;
      out.push(this.buf.subarray(colon + 1, colon + 1 + len).toString('utf8'));
      this.buf = this.buf.subarray(colon + 1 + len + 1);
    }
    return out;
  }
}

export function netstring(payload: string): string {
  return `${Buffer.byteLength(payload)}:${payload},`;
}

export class Baresip {
  readonly events: BaresipEvent[] = [];
  private socket: net.Socket | null = null;
  private readonly pending = new Map<string, (r: BaresipResponse) => void>();
  private tokenSeq = 0;
  private stopped = false;

  private constructor(
    readonly dir: string,
    readonly recDir: string,
    readonly sipPort: number,
    readonly ctrlPort: number,
    readonly rtpPorts: [number, number],
    readonly user: string,
    readonly proc: Running,
  ) {}

  static async start(opts: BaresipOptions = {}): Promise<Baresip> {
    const dir = tempDir('baresip-');
    const recDir = join(dir, 'rec');
    const sipPort = await sipPortPair();
    const ctrlPort = await freePort();
    const rtp = nextRtpRange();
    const user = opts.user ?? 'bob';
    const config = baresipConfig({
      sipListen: `127.0.0.1:${sipPort}`,
      toneHz: opts.toneHz ?? 440,
      recDir,
      rtpPorts: rtp,
      ctrlListen: `127.0.0.1:${ctrlPort}`,
    });
    // No registrar: the account only names us; calls go straight to host:port URIs.
    const codecs = (opts.codecs ?? ['PCMU']).join(',');
    const account = `<sip:${user}@127.0.0.1:${sipPort}>;regint=0;answermode=${opts.answerMode ?? 'auto'};audio_codecs=${codecs}`;
    writeFileSync(join(dir, 'config'), `${config.join('\n')}\n`);
    writeFileSync(join(dir, 'accounts'), `${account}\n`);
    mkdirSync(recDir);
    const proc = start('baresip', ['-f', dir, '-t', String(opts.lifetimeSec ?? 60)]);
    const b = new Baresip(dir, recDir, sipPort, ctrlPort, rtp, user, proc);
    instances.add(b);
    try {
      await waitListening(ctrlPort, 'tcp', 10_000);
      await b.connect();
    } catch (err) {
      await b.stop();
      throw new Error(`baresip did not start: ${(err as Error).message}\n${b.output()}`);
    }
    return b;
  }

  get uri(): string {
    return `sip:${this.user}@127.0.0.1:${this.sipPort}`;
  }

  output(): string {
    return `${this.proc.stdout()}${this.proc.stderr()}`;
  }

  private connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      const reader = new NetstringReader();
      const s = net.connect(this.ctrlPort, '127.0.0.1', () => resolve());
      s.once('error', reject);
      s.on('data', (chunk) => {
        for (const text of reader.push(chunk)) this.onMessage(text);
      });
      this.socket = s;
    });
  }

  private onMessage(text: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    if (msg.event === true) {
      this.events.push(msg as unknown as BaresipEvent);
    } else if (msg.response === true) {
      const token = String(msg.token ?? '');
      const done = this.pending.get(token);
      this.pending.delete(token);
      done?.({ ok: msg.ok === true, data: String(msg.data ?? '') });
    }
  }

  /** A ctrl_tcp command (the names of the interactive menu: dial, hangup, accept, hold ...). */
  command(command: string, params = '', timeoutMs = 5000): Promise<BaresipResponse> {
    const token = `t${++this.tokenSeq}`;
    return new Promise((resolve, reject) => {
      if (!this.socket) return reject(new Error('baresip control not connected'));
      const timer = setTimeout(() => {
        this.pending.delete(token);
        reject(new Error(`baresip: no response to ${command}`));
      }, timeoutMs);
      this.pending.set(token, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      this.socket.write(netstring(JSON.stringify({ command, params, token })));
    });
  }

  dial(uri: string): Promise<BaresipResponse> {
    return this.command('dial', uri);
  }
  accept(): Promise<BaresipResponse> {
    return this.command('accept');
  }
  hangup(): Promise<BaresipResponse> {
    return this.command('hangup');
  }
  hold(): Promise<BaresipResponse> {
    return this.command('hold');
  }
  resume(): Promise<BaresipResponse> {
    return this.command('resume');
  }
  /** RFC 4733 digits from baresip (its "sndcode" command, one key at a time). */
  async sendDigits(digits: string): Promise<void> {
    for (const d of digits) {
      await this.command('sndcode', d);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** Waits for an event of `type` (from index `since` on), e.g. CALL_ESTABLISHED, CALL_CLOSED. */
  async waitEvent(
    type: string,
    timeoutMs = 15_000,
    since = 0,
    filter: (e: BaresipEvent) => boolean = () => true,
  ): Promise<BaresipEvent> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const e = this.events.slice(since).find((x) => x.type === type && filter(x));
      if (e) return e;
      if (this.stopped) throw new Error(`baresip stopped while waiting for ${type}`);
      if (Date.now() > end) {
        const seen = this.events.map((x) => x.type).join(', ');
        throw new Error(`baresip: no ${type} within ${timeoutMs} ms (events: ${seen})`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** WAV files sndfile wrote: `dec` is what baresip received and decoded, `enc` what it sent. */
  recordings(): { dec: string[]; enc: string[] } {
    const files = readdirSync(this.recDir).map((f) => join(this.recDir, f));
    return {
      dec: files.filter((f) => f.endsWith('-dec.wav')),
      enc: files.filter((f) => f.endsWith('-enc.wav')),
    };
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    instances.delete(this);
    this.socket?.destroy();
    this.proc.child.kill('SIGTERM');
    const killer = setTimeout(() => this.proc.child.kill('SIGKILL'), 1500);
    await this.proc.done;
    clearTimeout(killer);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Kills every baresip still running and removes its folder (afterEach / afterAll). */
export async function stopAllBaresip(): Promise<void> {
  await Promise.all([...instances].map((b) => b.stop()));
}
