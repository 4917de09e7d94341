// The CLI's end of the control channel: one request to the running peer of a data folder.
import { connect } from 'node:net';
import { resolve } from 'node:path';
import { type ControlRequest, controlSocketPath } from './protocol.ts';

/** No peer runs on the folder (or it is not enrolled): the CLI prints this one line. */
export class NoRunningPeer extends Error {}

/**
 * Answers come from our own user's peer over a 0600 socket, so they are not capped like requests
 * from the network: a status of a peer holding 10,000 records is a line of a few MB.
 */
export const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

/** The first newline-terminated line of a stream (or `onTooLong` past `maxBytes`). */
export function firstLineReader(
  onLine: (line: string) => void,
  onTooLong: () => void,
  maxBytes = MAX_ANSWER_BYTES,
): (chunk: Buffer) => void {
  const chunks: Buffer[] = [];
  let size = 0;
  let done = false;
  return (chunk) => {
    if (done) return;
    const nl = chunk.indexOf(10);
    if (nl < 0) {
      chunks.push(chunk);
      size += chunk.length;
      if (size > maxBytes) {
        done = true;
        onTooLong();
      }
      return;
    }
    done = true;
    chunks.push(chunk.subarray(0, nl));
    onLine(Buffer.concat(chunks).toString('utf8'));
  };
}

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
      firstLineReader(
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
        () => {
          clearTimeout(timer);
          socket.destroy();
          fail(new Error(`answer longer than ${MAX_ANSWER_BYTES} bytes`));
        },
      ),
    );
  });
}
