// The CLI's end of the control channel: one request to the running peer of a data folder.
import { connect } from 'node:net';
import { resolve } from 'node:path';
import { lineReader } from '../enrollment/protocol.ts';
import { type ControlRequest, controlSocketPath } from './protocol.ts';

/** No peer runs on the folder (or it is not enrolled): the CLI prints this one line. */
export class NoRunningPeer extends Error {}

export function askPeer(dataDir: string, req: ControlRequest, timeoutMs = 20_000): Promise<unknown> {
  const dir = resolve(dataDir);
  return new Promise((done, fail) => {
    const socket = connect(controlSocketPath(dir));
    const timer = setTimeout(() => {
      socket.destroy();
      fail(new Error(`the peer running on ${dir} did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('connect', () => socket.write(`${JSON.stringify(req)}\n`));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED')
        fail(
          new NoRunningPeer(
            `no peer is running on data folder ${dir} (start it with \`peerpbx run --data ${dataDir}\`)`,
          ),
        );
      else fail(err);
    });
    socket.on(
      'data',
      lineReader(
        (line) => {
          clearTimeout(timer);
          socket.destroy();
          try {
            const a = JSON.parse(line) as { ok: boolean; result?: unknown; error?: string };
            if (a.ok) done(a.result);
            else fail(new Error(a.error ?? 'the peer refused the request'));
          } catch {
            fail(new Error('unreadable answer from the running peer'));
          }
        },
        () => fail(new Error('answer too long')),
      ),
    );
  });
}
