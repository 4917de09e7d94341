// A baresip desk phone for the voicemail tests: registered with digest auth to a PeerPBX gateway
// peer (an account made with `peerpbx phone add`), driven over ctrl_tcp (dial, RFC 4733 digits,
// hang-up), its microphone a sine (ausine), every call's received audio recorded by sndfile.
// Config lines, netstrings and ports come from test/helpers; stopDeskPhones() reaps them all.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { baresipConfig, NetstringReader, netstring } from '../helpers/baresip.ts';
import { freePort, waitListening } from '../helpers/ports.ts';
import { type Running, start, tempDir, waitFor } from '../helpers/processes.ts';

export interface DeskPhoneOptions {
  extension: string;
  password: string;
  /** The gateway peer's SIP address, host:port. */
  registrar: string;
  toneHz: number;
  rtpPorts: [number, number];
  /** Whether the gateway has the registration (baresip's REGISTER_OK may come before we listen). */
  registered: () => Promise<boolean>;
}

const phones = new Set<DeskPhone>();

export class DeskPhone {
  readonly events: Array<{ type: string; [k: string]: unknown }> = [];
  private seq = 0;

  private constructor(
    readonly dir: string,
    readonly recDir: string,
    readonly registrar: string,
    readonly proc: Running,
    private readonly socket: net.Socket,
  ) {}

  static async start(o: DeskPhoneOptions): Promise<DeskPhone> {
    const dir = tempDir('vm-baresip-');
    const recDir = join(dir, 'rec');
    mkdirSync(recDir);
    const sipPort = await freePort();
    const ctrlPort = await freePort();
    const config = baresipConfig({
      sipListen: `127.0.0.1:${sipPort}`,
      toneHz: o.toneHz,
      recDir,
      rtpPorts: o.rtpPorts,
      ctrlListen: `127.0.0.1:${ctrlPort}`,
    });
    writeFileSync(join(dir, 'config'), `${config.join('\n')}\n`);
    const account = `<sip:${o.extension}@${o.registrar}>;auth_pass=${o.password};regint=300;answermode=manual;audio_codecs=PCMU`;
    writeFileSync(join(dir, 'accounts'), `${account}\n`);
    const proc = start('baresip', ['-f', dir, '-t', '120']);
    await waitListening(ctrlPort, 'tcp', 10_000);
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect(ctrlPort, '127.0.0.1', () => resolve(s));
      s.once('error', reject);
    });
    const phone = new DeskPhone(dir, recDir, o.registrar, proc, socket);
    phones.add(phone);
    const reader = new NetstringReader();
    socket.on('data', (chunk) => {
      for (const text of reader.push(chunk)) {
        const msg = JSON.parse(text) as { event?: boolean; type?: string };
        if (msg.event === true && msg.type) phone.events.push(msg as { type: string });
      }
    });
    const end = Date.now() + 15_000;
    while (!(await o.registered())) {
      if (Date.now() > end) {
        await phone.stop();
        throw new Error(`desk phone ${o.extension} not registered:\n${proc.stdout().slice(-3000)}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return phone;
  }

  /** A ctrl_tcp command (menu names: dial, hangup, mute, sndcode...). */
  command(command: string, params = ''): void {
    this.socket.write(netstring(JSON.stringify({ command, params, token: `t${++this.seq}` })));
  }

  /** Dials a number through the gateway (sip:NUMBER@registrar). */
  dial(number: string): number {
    const since = this.events.length;
    this.command('dial', `sip:${number}@${this.registrar}`);
    return since;
  }

  /** RFC 4733 digits, one key at a time. */
  async sendDigits(digits: string): Promise<void> {
    for (const d of digits) {
      this.command('sndcode', d);
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  hangup(): void {
    this.command('hangup');
  }

  waitEvent(type: string, timeoutMs = 20_000, since = 0): Promise<{ type: string }> {
    return waitFor(`baresip ${type}`, () => this.events.slice(since).find((e) => e.type === type), timeoutMs);
  }

  /** What the phone heard, one WAV per call (sndfile's *-dec.wav). */
  heard(): string[] {
    return readdirSync(this.recDir)
      .filter((f) => f.endsWith('-dec.wav'))
      .map((f) => join(this.recDir, f));
  }

  async stop(): Promise<void> {
    if (!phones.delete(this)) return;
    this.socket.destroy();
    this.proc.child.kill('SIGTERM');
    const killer = setTimeout(() => this.proc.child.kill('SIGKILL'), 1500);
    await this.proc.done;
    clearTimeout(killer);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function stopDeskPhones(): Promise<void> {
  await Promise.all([...phones].map((p) => p.stop()));
}
