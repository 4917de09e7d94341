// The running peer's end of the control channel (see protocol.ts).
import { chmodSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { lineReader } from '../enrollment/protocol.ts';
import type { Logger } from '../log.ts';
import {
  type ControlAnswer,
  type ControlRequest,
  controlSocketPath,
  parseControlRequest,
} from './protocol.ts';

export type ControlHandler = (req: ControlRequest) => Promise<unknown>;

export class ControlServer {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly dataDir: string,
    private readonly handle: ControlHandler,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    const path = controlSocketPath(this.dataDir);
    // A socket file left by a crashed peer: the data-folder lock says we own the folder now.
    try {
      unlinkSync(path);
    } catch {
      // none
    }
    const server = createServer((s) => this.onConnection(s));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    chmodSync(path, 0o600);
    server.on('error', (err) => this.log.error('control channel error', { err }));
    this.server = server;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  private onConnection(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', (err) => this.log.debug('control socket error', { err: err.message }));
    const answer = (a: ControlAnswer) => {
      if (!socket.destroyed) socket.end(`${JSON.stringify(a)}\n`);
    };
    let seen = false;
    socket.on(
      'data',
      lineReader(
        (line) => {
          if (seen) return;
          seen = true;
          const req = parseControlRequest(line);
          if (!req) return answer({ ok: false, error: 'malformed control request' });
          this.handle(req).then(
            (result) => answer({ ok: true, result }),
            (err: unknown) => {
              this.log.warn('control request failed', { op: req.op, err });
              answer({ ok: false, error: err instanceof Error ? err.message : String(err) });
            },
          );
        },
        () => socket.destroy(),
      ),
    );
  }
}
