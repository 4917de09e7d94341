// Starts peer-process.ts children and talks to them over their JSON-line stdin/stdout. Every child
// goes through test/helpers/processes.ts, so killAll() in afterAll/afterEach reaps them on failure.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestPeerCert } from '../helpers/certs.ts';
import { type Finished, ROOT, type Running, start, waitFor } from '../helpers/processes.ts';

const FIXTURE = join(ROOT, 'test/overlay-processes/peer-process.ts');

export interface PeerSpec {
  name: string;
  dir: string;
  cert: TestPeerCert;
  /** PEM of the CA this peer trusts (the office CA, also for a rogue). */
  caPem: string;
  port?: number;
}

export type Reply = { id: number; ok: boolean; code?: string; reason?: string } & Record<string, unknown>;

export class PeerHandle {
  readonly replies = new Map<number, Reply>();
  readonly events: Record<string, unknown>[] = [];
  private nextId = 1;
  private buffer = '';
  exited: Finished | null = null;

  constructor(
    readonly spec: PeerSpec,
    readonly proc: Running,
  ) {
    proc.child.stdout?.on('data', (d: string) => {
      this.buffer += d;
      for (let i = this.buffer.indexOf('\n'); i >= 0; i = this.buffer.indexOf('\n')) {
        const line = this.buffer.slice(0, i);
        this.buffer = this.buffer.slice(i + 1);
        if (!line.trim()) continue;
        const msg = JSON.parse(line) as Record<string, unknown>;
        if (typeof msg.id === 'number') this.replies.set(msg.id, msg as Reply);
        else this.events.push(msg);
      }
    });
    proc.done.then((f) => {
      this.exited = f;
    });
  }

  get pid(): number {
    return this.proc.child.pid!;
  }

  event(name: string): Record<string, unknown> | undefined {
    return this.events.find((e) => e.event === name);
  }

  async request(op: Record<string, unknown>, timeoutMs = 15_000): Promise<Reply> {
    const id = this.nextId++;
    this.proc.child.stdin?.write(`${JSON.stringify({ id, ...op })}\n`);
    return waitFor(
      `${this.spec.name} ${String(op.op)} #${id}`,
      () => {
        if (this.exited) throw new Error(`${this.spec.name} exited: ${this.exited.stderr.slice(-2000)}`);
        return this.replies.get(id);
      },
      timeoutMs,
    );
  }

  kill9(): Promise<Finished> {
    this.proc.child.kill('SIGKILL');
    return this.proc.done;
  }
}

/** Writes the PEM files of a peer into its data folder. */
export function writePeerFiles(spec: PeerSpec): { cert: string; key: string; ca: string } {
  mkdirSync(spec.dir, { recursive: true });
  const files = {
    cert: join(spec.dir, 'cert.pem'),
    key: join(spec.dir, 'key.pem'),
    ca: join(spec.dir, 'ca.pem'),
  };
  writeFileSync(files.cert, spec.cert.certPem);
  writeFileSync(files.key, spec.cert.keyPem, { mode: 0o600 });
  writeFileSync(files.ca, spec.caPem);
  return files;
}

export function spawnPeer(spec: PeerSpec, bootstrap: string[], joinTimeoutMs = 30_000): PeerHandle {
  const f = writePeerFiles(spec);
  const args = [
    '--import',
    'tsx',
    FIXTURE,
    '--data',
    spec.dir,
    '--cert',
    f.cert,
    '--key',
    f.key,
    '--ca',
    f.ca,
    '--host',
    '127.0.0.1',
    '--port',
    String(spec.port ?? 0),
    '--join-timeout',
    String(joinTimeoutMs),
    ...bootstrap.flatMap((b) => ['--bootstrap', b]),
  ];
  return new PeerHandle(spec, start(process.execPath, args));
}

/** Waits for the ready line; records the bound port in the spec (a restart reuses it). */
export async function waitReady(p: PeerHandle, timeoutMs = 40_000): Promise<PeerHandle> {
  const ready = await waitFor(
    `${p.spec.name} ready`,
    () => {
      if (p.exited) throw new Error(`${p.spec.name} exited early: ${p.exited.stderr.slice(-3000)}`);
      return p.event('ready');
    },
    timeoutMs,
  );
  p.spec.port = ready.port as number;
  return p;
}
