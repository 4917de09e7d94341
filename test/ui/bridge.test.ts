// The headless UI bridge over real sockets: token required on the WebSocket (missing, wrong, late),
// payload validation, Host/Origin checks, static files with MIME types and the CSP header.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startUiBridge, type UiBridge } from '../../src/main/ui-bridge/index.ts';
import { captureLogger, type LogLine, startBridge, TOKEN } from './harness.ts';
import { TestOffice } from './test-engine.ts';

let dir: string;
let bridge: UiBridge;
let log: LogLine[];
let office: TestOffice;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'peerpbx-static-'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>t</title>');
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(join(dir, 'assets', 'app.css'), 'body{}');
  writeFileSync(join(dir, '..', 'secret-outside.txt'), 'secret');
  office = new TestOffice({ colleagues: [{ extension: '102', displayName: 'Bob' }] });
  ({ bridge, log } = await startBridge(office.engine, dir, { authTimeoutMs: 300 }));
});
afterAll(async () => {
  await bridge.close();
  rmSync(dir, { recursive: true, force: true });
  rmSync(join(dir, '..', 'secret-outside.txt'), { force: true });
});

interface Session {
  ws: WebSocket;
  messages: unknown[];
  closed: Promise<{ code: number; reason: string }>;
  next: () => Promise<Record<string, unknown>>;
}

function connect(headers: Record<string, string> = {}): Promise<Session> {
  const ws = new WebSocket(`ws://127.0.0.1:${bridge.port}/api`, { headers });
  const messages: unknown[] = [];
  const waiters: ((m: unknown) => void)[] = [];
  ws.on('message', (d) => {
    const m = JSON.parse(d.toString());
    const w = waiters.shift();
    if (w) w(m);
    else messages.push(m);
  });
  const closed = new Promise<{ code: number; reason: string }>((r) =>
    ws.on('close', (code, reason) => r({ code, reason: reason.toString() })),
  );
  const next = () =>
    new Promise<Record<string, unknown>>((r) => {
      const m = messages.shift();
      if (m !== undefined) r(m as Record<string, unknown>);
      else waiters.push(r as (m: unknown) => void);
    });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, messages, closed, next }));
    ws.once('error', reject);
  });
}

function http(path: string, headers: Record<string, string> = {}, method = 'GET') {
  return new Promise<{
    status: number;
    headers: Record<string, string | string[] | undefined>;
    body: string;
  }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: bridge.port, path, method, headers }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('UI bridge WebSocket', () => {
  it('closes a socket whose first message is a command, not the token, and logs it', async () => {
    const s = await connect();
    s.ws.send(JSON.stringify({ kind: 'command', id: 1, command: { type: 'office.status' } }));
    const c = await s.closed;
    expect(c.code).toBe(4401);
    expect(s.messages).toEqual([]); // nothing of the engine leaked before the close
    expect(log.some((l) => l.msg === 'ui websocket rejected' && l.fields.reason === 'token required')).toBe(
      true,
    );
  });

  it('closes a socket with a wrong token', async () => {
    const s = await connect();
    s.ws.send(JSON.stringify({ kind: 'auth', token: `${TOKEN}x` }));
    expect((await s.closed).code).toBe(4401);
    expect(log.some((l) => l.fields.reason === 'wrong token')).toBe(true);
  });

  it('closes a socket that never sends the token', async () => {
    const s = await connect();
    expect((await s.closed).code).toBe(4408);
  });

  it('carries commands and events after the right token, and answers invalid payloads with `invalid`', async () => {
    const s = await connect();
    s.ws.send(JSON.stringify({ kind: 'auth', token: TOKEN }));
    expect(await s.next()).toEqual({ kind: 'ready' });

    s.ws.send(JSON.stringify({ kind: 'command', id: 7, command: { type: 'lookup', extension: '102' } }));
    const reply = await s.next();
    expect(reply).toMatchObject({
      kind: 'reply',
      id: 7,
      reply: { ok: true, value: { extension: '102', reachable: true } },
    });

    s.ws.send(JSON.stringify({ kind: 'command', id: 8, command: { type: 'lookup', extension: '10; DROP' } }));
    expect(await s.next()).toMatchObject({ kind: 'reply', id: 8, reply: { ok: false, error: 'invalid' } });
    s.ws.send('not json');
    expect(await s.next()).toMatchObject({ kind: 'reply', id: null, reply: { ok: false, error: 'invalid' } });
    s.ws.send(JSON.stringify({ kind: 'command', id: 9, command: { type: 'rm -rf' } }));
    expect(await s.next()).toMatchObject({ kind: 'reply', id: 9, reply: { ok: false, error: 'invalid' } });
    expect(log.filter((l) => l.msg === 'invalid ui message').length).toBeGreaterThanOrEqual(3);

    office.setPresence('102', { state: 'dnd', note: 'focus' });
    expect(await s.next()).toEqual({
      kind: 'event',
      event: { type: 'presence.changed', extension: '102', presence: { state: 'dnd', note: 'focus' } },
    });
    s.ws.close();
  });

  it('refuses an upgrade from a foreign Origin or Host (cross-site and DNS rebinding)', async () => {
    await expect(connect({ Origin: 'http://evil.example' })).rejects.toThrow(/403/);
    await expect(connect({ Host: `evil.example:${bridge.port}` })).rejects.toThrow(/403/);
  });
});

describe('UI bridge HTTP', () => {
  it('serves files with MIME types and a strict CSP naming its own port', async () => {
    const page = await http('/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain(`connect-src 'self' ws://127.0.0.1:${bridge.port}`);
    expect(csp).toContain("media-src 'self' blob:");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect((await http('/assets/app.js')).headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect((await http('/assets/app.css')).headers['content-type']).toBe('text/css; charset=utf-8');
    expect((await http('/nope.js')).status).toBe(404);
  });

  it('never serves a file outside its folder and only GET/HEAD', async () => {
    for (const p of [
      '/../secret-outside.txt',
      '/%2e%2e/secret-outside.txt',
      '/assets/..%2f..%2fsecret-outside.txt',
    ]) {
      const r = await http(p);
      expect(r.body).not.toContain('secret');
      expect([400, 404]).toContain(r.status);
    }
    expect((await http('/', {}, 'POST')).status).toBe(405);
  });

  it('says how to build the UI when the folder has no index.html', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'peerpbx-empty-'));
    const b = await startUiBridge({
      engine: office.engine,
      port: 0,
      token: TOKEN,
      staticDir: empty,
      log: captureLogger([]),
    });
    try {
      const r = await fetch(`http://127.0.0.1:${b.port}/`);
      expect(r.status).toBe(503);
      expect(await r.text()).toContain('npm run build:renderer');
    } finally {
      await b.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('refuses a request naming another host', async () => {
    expect((await http('/', { Host: 'evil.example' })).status).toBe(421);
  });

  it('listens on 127.0.0.1 only', async () => {
    const lines: LogLine[] = [];
    const opts = { engine: office.engine, port: 0, token: TOKEN, staticDir: dir, log: captureLogger(lines) };
    await expect(startUiBridge({ ...opts, host: '0.0.0.0' })).rejects.toThrow(/127\.0\.0\.1 only/);
    await expect(startUiBridge({ ...opts, host: '::' })).rejects.toThrow(/127\.0\.0\.1 only/);
    await expect(startUiBridge({ ...opts, token: 'short' })).rejects.toThrow(/too short/);
    expect(bridge.url).toBe(`http://127.0.0.1:${bridge.port}/#token=${TOKEN}`);
  });
});
