// Discovery's beacon path in one process over loopback: hostile datagrams, other offices, own
// beacons, duplicates and restarts, with a capturing logger.
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import type { Announcement } from '../../../src/main/discovery/announcement.ts';
import { decodeBeacon, encodeBeacon } from '../../../src/main/discovery/beacon.ts';
import { Discovery, type DiscoveryOptions, type FoundPeer } from '../../../src/main/discovery/discovery.ts';
import type { LogFields, Logger } from '../../../src/main/log.ts';

interface Line {
  level: string;
  msg: string;
  fields?: LogFields;
}

function captureLogger(lines: Line[]): Logger {
  const at =
    (level: string) =>
    (msg: string, fields?: LogFields): void => {
      lines.push({ level, msg, fields });
    };
  const log: Logger = {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: () => log,
  };
  return log;
}

async function freePort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const self: Announcement = {
  nodeId: 'aa'.repeat(16),
  office: 'Acme',
  caFingerprint: 'AB:CD',
  port: 7000,
  sipPort: 5060,
  version: '0.1.0',
};
const peer: Announcement = { ...self, nodeId: 'bb'.repeat(16), port: 7001, sipPort: 5061 };

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

async function setup(opts: Partial<DiscoveryOptions> = { self }) {
  const port = await freePort();
  const lines: Line[] = [];
  const discovery = new Discovery({
    ...opts,
    mdns: false,
    beaconPort: port,
    // Our own beacons come straight back to us: they must be ignored.
    beaconAddresses: ['127.0.0.1'],
    logger: captureLogger(lines),
  });
  const found: FoundPeer[] = [];
  discovery.on('peer', (p) => found.push(p));
  await discovery.start();
  cleanup.push(() => discovery.stop());
  const sender: Socket = createSocket('udp4');
  await new Promise<void>((r) => sender.bind(0, '127.0.0.1', () => r()));
  cleanup.push(() => new Promise<void>((r) => sender.close(() => r())));
  const send = (bytes: Uint8Array) =>
    new Promise<void>((resolve, reject) =>
      sender.send(bytes, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())),
    );
  return { discovery, found, lines, send, port };
}

const settle = () => new Promise((r) => setTimeout(r, 150));

describe('Discovery beacons', () => {
  it('reports a same-office peer once, with its source address; drops hostile and foreign beacons', async () => {
    const { discovery, found, lines, send } = await setup();
    await send(Buffer.from('garbage'));
    await send(Buffer.concat([Buffer.from('PPXB'), Buffer.from([1]), Buffer.from('{"id')]));
    await send(encodeBeacon({ ...peer, nodeId: 'cc'.repeat(16), office: 'Globex' }));
    await send(encodeBeacon({ ...peer, nodeId: 'dd'.repeat(16), caFingerprint: 'EE:FF' }));
    await send(encodeBeacon(peer));
    await send(encodeBeacon(peer));
    await settle();
    expect(found).toEqual([{ ...peer, host: '127.0.0.1', candidates: ['127.0.0.1'], via: 'broadcast' }]);
    expect(discovery.peers()).toEqual(found);
    const dropped = lines.filter((l) => l.msg === 'beacon dropped');
    expect(dropped.map((l) => [l.level, l.fields?.error, l.fields?.from])).toEqual([
      ['debug', 'bad-magic', '127.0.0.1'],
      ['debug', 'bad-json', '127.0.0.1'],
    ]);
    expect(lines.filter((l) => l.msg === 'peer not accepted (another office?)')).toHaveLength(2);
    // Our own beacons were looped back to us all along, and never reported.
    expect(found.some((p) => p.nodeId === self.nodeId)).toBe(false);
  });

  it('reports a peer again when it comes back on other ports (a restart)', async () => {
    const { found, send } = await setup();
    await send(encodeBeacon(peer));
    await settle();
    await send(encodeBeacon({ ...peer, port: 7002 }));
    await settle();
    expect(found.map((p) => p.port)).toEqual([7001, 7002]);
  });

  it('answers the first beacon of a peer with a unicast beacon to its beacon port, once', async () => {
    const { port, send } = await setup();
    // A "peer host" at 127.0.0.2 on the shared beacon port: the more specific bind gets the unicast.
    const peerSocket = createSocket({ type: 'udp4', reuseAddr: true });
    await new Promise<void>((r) => peerSocket.bind(port, '127.0.0.2', () => r()));
    cleanup.push(() => new Promise<void>((r) => peerSocket.close(() => r())));
    const answers: Buffer[] = [];
    peerSocket.on('message', (m) => answers.push(m));
    const beacon = encodeBeacon(peer);
    const fromPeer = () =>
      new Promise<void>((resolve, reject) =>
        peerSocket.send(beacon, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())),
      );
    await fromPeer();
    await settle();
    await fromPeer();
    await send(beacon);
    await settle();
    expect(answers.map((a) => decodeBeacon(a))).toEqual([{ ok: true, beacon: self }]);
  });

  it('browses without advertising for a PC not enrolled yet: its own predicate, no beacons sent', async () => {
    const { port, found, send } = await setup({ accept: (a) => a.office === 'Acme' });
    const listener = createSocket({ type: 'udp4', reuseAddr: true });
    await new Promise<void>((r) => listener.bind(port, '127.0.0.2', () => r()));
    cleanup.push(() => new Promise<void>((r) => listener.close(() => r())));
    const heard: Buffer[] = [];
    listener.on('message', (m) => heard.push(m));
    await send(encodeBeacon(peer));
    await send(encodeBeacon({ ...peer, nodeId: 'dd'.repeat(16), caFingerprint: 'EE:FF' }));
    await send(encodeBeacon({ ...peer, nodeId: 'ee'.repeat(16), office: 'Globex' }));
    // Peers beacon from their beacon port; answers would go there.
    await new Promise<void>((resolve, reject) =>
      listener.send(encodeBeacon({ ...peer, nodeId: '11'.repeat(16) }), port, '127.0.0.1', (e) =>
        e ? reject(e) : resolve(),
      ),
    );
    await settle();
    expect(found.map((p) => p.nodeId).sort()).toEqual(['11'.repeat(16), 'bb'.repeat(16), 'dd'.repeat(16)]);
    expect(heard).toEqual([]);
  });

  it('refuses to start with neither an office to match nor a predicate', () => {
    expect(() => new Discovery({ mdns: false })).toThrow(TypeError);
  });

  it('a throwing peer listener is logged, not fatal; later peers are still reported', async () => {
    const { discovery, found, lines, send } = await setup();
    discovery.prependListener('peer', (p) => {
      if (p.nodeId === peer.nodeId) throw new Error('listener bug');
    });
    await send(encodeBeacon(peer));
    await send(encodeBeacon({ ...peer, nodeId: 'cd'.repeat(16) }));
    await settle();
    expect(lines.filter((l) => l.level === 'error').map((l) => l.msg)).toEqual([
      'discovery peer listener threw',
    ]);
    expect(found.map((p) => p.nodeId)).toEqual(['cd'.repeat(16)]);
  });

  it('stop() right after start() settles both and leaves the port free', async () => {
    const port = await freePort();
    const d = new Discovery({ self, mdns: false, beaconPort: port, beaconAddresses: ['127.0.0.1'] });
    const started = d.start();
    await d.stop();
    await started;
    const probe = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.bind(port, '127.0.0.1', () => resolve());
    });
    await new Promise<void>((r) => probe.close(() => r()));
  });

  it('forget() makes the next sighting of an unchanged peer count as new again', async () => {
    const { discovery, found, send } = await setup();
    await send(encodeBeacon(peer));
    await settle();
    await send(encodeBeacon(peer));
    await settle();
    expect(found).toHaveLength(1);
    discovery.forget(peer.nodeId);
    expect(discovery.peers()).toEqual([]);
    await send(encodeBeacon(peer));
    await settle();
    expect(found.map((p) => p.nodeId)).toEqual([peer.nodeId, peer.nodeId]);
  });

  it('stop() closes the socket: the port is free again and nothing more is reported', async () => {
    const { discovery, found, send } = await setup();
    await discovery.stop();
    await send(encodeBeacon(peer));
    await settle();
    expect(found).toEqual([]);
  });
});
