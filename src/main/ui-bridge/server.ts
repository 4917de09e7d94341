// The headless UI bridge: the built renderer over HTTP and the engine contract over a WebSocket, on
// 127.0.0.1 only. The socket requires the data folder's UI token as its first message (see
// src/core/api/wire.ts); a wrong or missing token closes it with 4401 and a log line.
//
// Wiring (one line in `peerpbx run`):
//   const ui = await startUiBridge({ engine, port, token: loadUiToken(dataDir), staticDir, log });
//   process.stdout.write(`peerpbx ui: ${ui.url}\n`);   // the URL carries #token=...
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import { type Engine, errReply } from '../../core/api/engine.ts';
import {
  CLOSE_AUTH_TIMEOUT,
  CLOSE_UNAUTHORIZED,
  MAX_CLIENT_FRAME,
  parseClientMessage,
  type ServerMessage,
} from '../../core/api/wire.ts';
import type { Logger } from '../log.ts';
import { type AudioChannel, openAudioChannel } from './audio.ts';
import { securityHeaders, serveStatic } from './static-files.ts';

export const UI_HOST = '127.0.0.1';
export const WS_PATH = '/api';

export interface UiBridgeOptions {
  engine: Engine;
  /** Must be 127.0.0.1: the UI never listens on another address. */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  token: string;
  /** The built renderer (dist/renderer). */
  staticDir: string;
  log: Logger;
  /** How long a socket may stay without a good auth message. */
  authTimeoutMs?: number;
  /** Commands in flight per socket before new ones are refused. */
  maxInFlight?: number;
  /** Microphone frames accepted per second per socket (default 200). */
  maxAudioFramesPerSecond?: number;
}

export interface UiBridge {
  readonly port: number;
  /** The page's address with the token in its fragment (never sent to the server). */
  readonly url: string;
  close(): Promise<void>;
}

const digest = (s: string) => createHash('sha256').update(s).digest();
const sameToken = (a: string, b: string) => timingSafeEqual(digest(a), digest(b));

function toBytes(data: Buffer | ArrayBuffer | Buffer[]): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  return data instanceof ArrayBuffer
    ? new Uint8Array(data)
    : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

export async function startUiBridge(opts: UiBridgeOptions): Promise<UiBridge> {
  const host = opts.host ?? UI_HOST;
  if (host !== UI_HOST) throw new Error(`the UI bridge listens on ${UI_HOST} only, not ${host}`);
  if (opts.token.length < 16) throw new Error('the UI token is too short');
  const { engine, log, token } = opts;
  const authTimeoutMs = opts.authTimeoutMs ?? 5000;
  const maxInFlight = opts.maxInFlight ?? 64;
  const maxBuffered = 32 * 1024 * 1024;
  // Audio is dropped rather than queued behind a slow page: late audio is worse than a gap.
  const maxAudioBuffered = 512 * 1024;
  /** Microphone frames per second per socket (a page sends 50): more is dropped. */
  const maxAudioFramesPerSecond = opts.maxAudioFramesPerSecond ?? 200;

  let port = opts.port;
  // Requests naming another host are refused: a DNS-rebinding page must not reach the bridge.
  const hostAllowed = (req: IncomingMessage) =>
    req.headers.host === `${UI_HOST}:${port}` || req.headers.host === `localhost:${port}`;

  const server: Server = createServer((req, res) => {
    const headers = securityHeaders(port);
    if (!hostAllowed(req)) {
      log.warn('ui request with a foreign Host refused', { host: req.headers.host, url: req.url });
      res.writeHead(421, headers).end('misdirected request');
      return;
    }
    serveStatic(opts.staticDir, req, res, headers).catch((err) => {
      log.error('ui static file failed', { url: req.url, err });
      if (!res.headersSent) res.writeHead(500, headers);
      res.end();
    });
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_FRAME });
  server.on('upgrade', (req, socket, head) => {
    const origin = req.headers.origin;
    const originOk =
      origin === undefined || origin === `http://${UI_HOST}:${port}` || origin === `http://localhost:${port}`;
    const path = (req.url ?? '').split('?')[0];
    if (path !== WS_PATH || !hostAllowed(req) || !originOk) {
      log.warn('ui websocket upgrade refused', { url: req.url, host: req.headers.host, origin });
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => session(ws, req.socket.remoteAddress ?? '?'));
  });

  function session(ws: WebSocket, remote: string): void {
    const slog = log.child({ component: 'ui-bridge', remote });
    let authed = false;
    let inFlight = 0;
    let unsubscribe: (() => void) | null = null;
    let audio: AudioChannel | null = null;
    const send = (m: ServerMessage) => {
      if (ws.readyState !== ws.OPEN) return;
      // A page that stops reading (a frozen tab) must not make the peer buffer without end.
      if (ws.bufferedAmount > maxBuffered) {
        slog.warn('ui websocket too slow, closing', { bufferedAmount: ws.bufferedAmount });
        ws.close(1013, 'too slow');
        return;
      }
      ws.send(JSON.stringify(m));
    };
    const reject = (code: number, reason: string) => {
      slog.warn('ui websocket rejected', { reason });
      ws.close(code, reason);
    };
    const authTimer = setTimeout(() => reject(CLOSE_AUTH_TIMEOUT, 'no token'), authTimeoutMs);

    ws.on('message', (data, isBinary) => {
      if (authed && isBinary) return audio?.receive(toBytes(data));
      const text = isBinary ? '' : data.toString();
      const parsed = parseClientMessage(text);
      if (!authed) {
        clearTimeout(authTimer);
        if (!parsed.ok || parsed.message.kind !== 'auth') return reject(CLOSE_UNAUTHORIZED, 'token required');
        if (!sameToken(parsed.message.token, token)) return reject(CLOSE_UNAUTHORIZED, 'wrong token');
        authed = true;
        unsubscribe = engine.on((event) => send({ kind: 'event', event }));
        audio = openAudioChannel({
          engine,
          log: slog,
          maxFramesPerSecond: maxAudioFramesPerSecond,
          send: (bytes) => {
            if (ws.readyState !== ws.OPEN || ws.bufferedAmount > maxAudioBuffered) return false;
            ws.send(bytes);
            return true;
          },
        });
        slog.info('ui connected');
        return send({ kind: 'ready' });
      }
      if (!parsed.ok) {
        slog.warn('invalid ui message', { error: parsed.error });
        return send({ kind: 'reply', id: parsed.id, reply: errReply('invalid', parsed.error) });
      }
      const msg = parsed.message;
      if (msg.kind !== 'command') return; // a repeated auth: harmless
      if (inFlight >= maxInFlight) {
        slog.warn('ui commands in flight over the limit', { maxInFlight });
        return send({ kind: 'reply', id: msg.id, reply: errReply('busy', 'too many commands in flight') });
      }
      inFlight++;
      engine
        .command(msg.command)
        .catch((err) => {
          slog.error('engine command rejected', { type: msg.command.type, err });
          return errReply('internal', String(err));
        })
        .then((reply) => {
          inFlight--;
          send({ kind: 'reply', id: msg.id, reply });
        });
    });
    ws.on('close', () => {
      clearTimeout(authTimer);
      unsubscribe?.();
      audio?.close();
      if (authed) slog.info('ui disconnected');
    });
    ws.on('error', (err) => slog.warn('ui websocket error', { err }));
  }

  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(opts.port, host, () => {
      server.off('error', fail);
      done();
    });
  });
  port = (server.address() as AddressInfo).port;
  server.on('error', (err) => log.error('ui bridge server error', { err }));
  log.info('ui bridge listening', { host, port });

  return {
    port,
    url: `http://${UI_HOST}:${port}/#token=${encodeURIComponent(token)}`,
    close: () =>
      new Promise<void>((done) => {
        for (const c of wss.clients) c.close(1001, 'peer stopping');
        wss.close();
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}
