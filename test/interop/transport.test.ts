// The transports on real sockets: TCP framing (split, pipelined, keepalives, compact l:), limits,
// connection reuse for responses, outbound connect; UDP datagrams and oversize drops.
import dgram from 'node:dgram';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { contentLengthOf, StreamFramer } from '../../src/main/transport/framing.ts';
import { SipTransports } from '../../src/main/transport/sip-transports.ts';
import type { InboundMessage } from '../../src/main/transport/types.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

function msg(body = '', compact = false): string {
  const cl = compact ? 'l' : 'Content-Length';
  return `OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n${cl}: ${body.length}\r\n\r\n${body}`;
}

describe('StreamFramer', () => {
  it('frames pipelined messages split at every byte', () => {
    const stream = enc.encode(`\r\n\r\n${msg('hello')}\r\n${msg('', true)}${msg('xy', true)}`);
    const f = new StreamFramer();
    const out: string[] = [];
    for (let i = 0; i < stream.length; i++) {
      const r = f.push(stream.subarray(i, i + 1));
      expect(r.error).toBeUndefined();
      out.push(...r.messages.map((m) => dec.decode(m)));
    }
    expect(out).toEqual([msg('hello'), msg('', true), msg('xy', true)]);
    expect(f.buffered).toBe(0);
  });

  it('waits for the body', () => {
    const f = new StreamFramer();
    const full = msg('0123456789');
    expect(f.push(enc.encode(full.slice(0, -3))).messages).toHaveLength(0);
    expect(f.push(enc.encode(full.slice(-3))).messages.map((m) => dec.decode(m))).toEqual([full]);
  });

  it('fails on oversize, bad Content-Length and garbage', () => {
    expect(new StreamFramer(100).push(enc.encode(msg('x'.repeat(200)))).error?.code).toBe('too-large');
    expect(new StreamFramer(100).push(enc.encode('A'.repeat(101))).error?.code).toBe('too-large');
    const bad = 'OPTIONS sip:a SIP/2.0\r\nContent-Length: -4\r\n\r\n';
    expect(new StreamFramer().push(enc.encode(bad)).error?.code).toBe('bad-content-length');
    expect(new StreamFramer().push(new Uint8Array([0, 1, 2, 13, 10, 13, 10])).error?.code).toBe('garbage');
  });

  it('reads Content-Length in any case and compact form, rejects conflicts', () => {
    expect(contentLengthOf('X\r\ncontent-LENGTH :  12')).toBe(12);
    expect(contentLengthOf('X\r\nl: 3')).toBe(3);
    expect(contentLengthOf('X\r\nVia: a')).toBeNull();
    expect(contentLengthOf('X\r\nl: 3\r\nContent-Length: 4')).toBeNaN();
  });
});

describe('SipTransports', () => {
  const open: SipTransports[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((t) => t.close()));
  });

  async function start(limits = {}): Promise<{ t: SipTransports; inbox: InboundMessage[] }> {
    const inbox: InboundMessage[] = [];
    const t = await SipTransports.start({
      bind: '127.0.0.1',
      port: 0,
      onMessage: (m) => inbox.push(m),
      limits,
    });
    open.push(t);
    return { t, inbox };
  }

  const until = async (cond: () => boolean, ms = 3000) => {
    const end = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > end) throw new Error('timeout');
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  it('binds UDP and TCP on the same port', async () => {
    const { t } = await start();
    expect(t.port).toBeGreaterThan(0);
    expect(t.local('TCP').port).toBe(t.local('UDP').port);
  });

  it('UDP: delivers datagrams with the source, drops oversize and keepalives', async () => {
    const { t, inbox } = await start({ maxMessageBytes: 1000 });
    const s = dgram.createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    s.send('\r\n\r\n', t.port, '127.0.0.1');
    s.send(Buffer.alloc(2000, 65), t.port, '127.0.0.1');
    s.send(msg('hi'), t.port, '127.0.0.1');
    await until(() => inbox.length >= 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(inbox).toHaveLength(1);
    expect(dec.decode(inbox[0].data)).toBe(msg('hi'));
    expect(inbox[0].from).toEqual({ transport: 'UDP', host: '127.0.0.1', port: s.address().port });
    s.close();
  });

  it('TCP: frames a stream, answers on the same connection, closes on garbage', async () => {
    const { t, inbox } = await start();
    const c = net.connect(t.port, '127.0.0.1');
    const got: Buffer[] = [];
    c.on('data', (d) => got.push(d));
    await new Promise((r) => c.once('connect', r));
    c.write(`${msg('ab')}${msg('')}`.slice(0, 30));
    c.write(`${msg('ab')}${msg('')}`.slice(30));
    await until(() => inbox.length === 2);
    expect(inbox[0].connectionId).toBeDefined();
    expect(inbox[0].from.port).toBe(c.localPort);
    t.send(inbox[0].from, enc.encode('SIP/2.0 200 OK\r\n\r\n'), { connectionId: inbox[0].connectionId });
    await until(() => got.length > 0);
    expect(Buffer.concat(got).toString()).toBe('SIP/2.0 200 OK\r\n\r\n');
    const closed = new Promise((r) => c.once('close', r));
    c.write(Buffer.from([0, 0, 0, 13, 10, 13, 10]));
    await closed;
    await until(() => t.tcp.connectionCount === 0);
  });

  it('TCP: closes a connection whose message is over the limit', async () => {
    const { t, inbox } = await start({ maxMessageBytes: 500 });
    const c = net.connect(t.port, '127.0.0.1');
    c.on('error', () => {});
    const closed = new Promise((r) => c.once('close', r));
    c.write(msg('z'.repeat(1000)));
    await closed;
    expect(inbox).toHaveLength(0);
  });

  it('TCP: connects out when no connection exists and reuses it', async () => {
    const a = await start();
    const b = await start();
    a.t.send(b.t.local('TCP'), enc.encode(msg('1')));
    a.t.send(b.t.local('TCP'), enc.encode(msg('2')));
    await until(() => b.inbox.length === 2);
    expect(a.t.tcp.connectionCount).toBe(1);
    // b answers to the address it saw: the existing connection carries it back.
    b.t.send(b.inbox[0].from, enc.encode(msg('3')));
    await until(() => a.inbox.length === 1);
    expect(a.t.tcp.connectionCount).toBe(1);
    expect(dec.decode(a.inbox[0].data)).toBe(msg('3'));
  });

  it('TCP: idle connections are closed', async () => {
    const { t } = await start({ tcpIdleMs: 100 });
    const c = net.connect(t.port, '127.0.0.1');
    await new Promise((r) => c.once('connect', r));
    await until(() => t.tcp.connectionCount === 1);
    await new Promise((r) => c.once('close', r));
    await until(() => t.tcp.connectionCount === 0);
  });

  it('TCP: reports an undeliverable message when the connect is refused', async () => {
    const { t } = await start();
    const closedPort = await (async () => {
      const probe = await start();
      const p = probe.t.port;
      await probe.t.close();
      return p;
    })();
    const err = await new Promise<Error>((resolve) =>
      t.send({ transport: 'TCP', host: '127.0.0.1', port: closedPort }, enc.encode(msg('x')), {
        onError: resolve,
      }),
    );
    expect(err.message).toMatch(/ECONNREFUSED/);
    await until(() => t.tcp.connectionCount === 0);
  });

  it('TCP: a response whose connection closed goes to the fallback (Via sent-by) address', async () => {
    const a = await start();
    const b = await start();
    // a connects to b; b learns a's ephemeral port; the connection then closes.
    a.t.send(b.t.local('TCP'), enc.encode(msg('1')));
    await until(() => b.inbox.length === 1);
    const ephemeral = b.inbox[0].from;
    await a.t.tcp.close();
    await until(() => b.t.tcp.connectionCount === 0);
    const a2 = await start();
    b.t.send(ephemeral, enc.encode(msg('2')), { fallback: a2.t.local('TCP') });
    await until(() => a2.inbox.length === 1);
    expect(dec.decode(a2.inbox[0].data)).toBe(msg('2'));
  });

  it('TCP: closes a connection that trickles a message without finishing it', async () => {
    const { t, inbox } = await start({ partialMessageMs: 200 });
    const c = net.connect(t.port, '127.0.0.1');
    c.on('error', () => {});
    await new Promise((r) => c.once('connect', r));
    const closed = new Promise((r) => c.once('close', r));
    const trickle = setInterval(() => c.write('X'), 20); // keeps the idle timer from firing
    c.write('OPTIONS sip:a@b SIP/2.0\r\n');
    await closed;
    clearInterval(trickle);
    expect(inbox).toHaveLength(0);
    await until(() => t.tcp.connectionCount === 0);
  });

  it('dual-stack bind (::) serves IPv4 peers with plain IPv4 addresses', async () => {
    const inbox: InboundMessage[] = [];
    const t = await SipTransports.start({ bind: '::', port: 0, onMessage: (m) => inbox.push(m) });
    open.push(t);
    const s = dgram.createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    const replies: string[] = [];
    s.on('message', (m) => replies.push(m.toString()));
    s.send(msg('v4'), t.port, '127.0.0.1');
    await until(() => inbox.length === 1);
    expect(inbox[0].from).toEqual({ transport: 'UDP', host: '127.0.0.1', port: s.address().port });
    t.send(inbox[0].from, enc.encode('SIP/2.0 200 OK\r\n\r\n'));
    await until(() => replies.length === 1);
    s.close();
    const c = net.connect(t.port, '127.0.0.1');
    await new Promise((r) => c.once('connect', r));
    c.write(msg('tcp'));
    await until(() => inbox.length === 2);
    expect(inbox[1].from.host).toBe('127.0.0.1');
    c.destroy();
  });

  it('TCP: refuses connections beyond the limit and serves again once some close', async () => {
    const { t, inbox } = await start({ maxTcpConnections: 5 });
    const conns = Array.from({ length: 8 }, () => {
      const c = net.connect(t.port, '127.0.0.1');
      c.on('error', () => {});
      return c;
    });
    const closed = new Set<net.Socket>();
    for (const c of conns) c.on('close', () => closed.add(c));
    await until(() => closed.size === 3);
    expect(t.tcp.connectionCount).toBe(5);
    for (const c of conns) c.destroy();
    await until(() => t.tcp.connectionCount === 0);
    const again = net.connect(t.port, '127.0.0.1');
    await new Promise((r) => again.once('connect', r));
    again.write(msg('after'));
    await until(() => inbox.length === 1);
    again.destroy();
  });
});
