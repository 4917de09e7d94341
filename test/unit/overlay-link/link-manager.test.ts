import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrame } from '../../../src/main/overlay-link/frame-codec.ts';
import { decodeLinkControl, encodeLinkControl } from '../../../src/main/overlay-link/link-control.ts';
import {
  issuePeerCert,
  makeCa,
  selfSignedPeerCert,
  type TestCa,
  type TestPeerCert,
} from '../../helpers/certs.ts';
import {
  collectFrames,
  introduce,
  next,
  type Peer,
  rawClient,
  rawServer,
  splitFrames,
  startPeer,
  waitFor,
  warned,
} from './fixtures.ts';

let ca: TestCa;
let otherCa: TestCa;
let alice: TestPeerCert;
let bob: TestPeerCert;
let carol: TestPeerCert;
let rogue: TestPeerCert;
let selfSigned: TestPeerCert;

const running: Peer[] = [];
async function peer(cert: TestPeerCert, withCa: TestCa = ca, extra = {}): Promise<Peer> {
  const p = await startPeer(withCa, cert, extra);
  running.push(p);
  return p;
}

beforeAll(() => {
  ca = makeCa('Office');
  otherCa = makeCa('Elsewhere');
  alice = issuePeerCert(ca, { user: '101@office' });
  bob = issuePeerCert(ca, { user: '102@office' });
  carol = issuePeerCert(ca, { user: '103@office' });
  rogue = issuePeerCert(otherCa, { user: '666@office' });
  selfSigned = selfSignedPeerCert('667@office');
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.mgr.stop()));
});

describe('LinkManager: links between office peers', () => {
  it('brings a link up with both identities and carries frames both ways', async () => {
    const a = await peer(alice);
    const b = await peer(bob);
    introduce(a, b);
    const upA = next(a, 'link-up');
    const upB = next(b, 'link-up');
    const atB = next(b, 'frame');
    expect(a.mgr.send(bob.nodeId, new TextEncoder().encode('hello bob'))).toEqual({ ok: true });
    expect(await upA).toMatchObject({ nodeId: bob.nodeId, user: '102@office', initiator: 'local' });
    expect(await upB).toMatchObject({ nodeId: alice.nodeId, user: '101@office', initiator: 'remote' });
    const f = await atB;
    expect(f.nodeId).toBe(alice.nodeId);
    expect(new TextDecoder().decode(f.bytes)).toBe('hello bob');

    // Bob answers over the same link: he has no address for Alice and needs none.
    const atA = next(a, 'frame');
    expect(b.mgr.send(alice.nodeId, new TextEncoder().encode('hi alice'))).toEqual({ ok: true });
    expect(new TextDecoder().decode((await atA).bytes)).toBe('hi alice');
    expect(a.mgr.linkInfos()).toHaveLength(1);
    expect(b.mgr.linkInfos()).toHaveLength(1);
  });

  it('carries a 5 MB frame split across TCP segments, intact, in both directions', async () => {
    const a = await peer(alice);
    const b = await peer(bob);
    introduce(a, b);
    const big = new Uint8Array(randomBytes(5 * 1024 * 1024));
    const atB = collectFrames(b, 1);
    a.mgr.send(bob.nodeId, big);
    const [gotB] = await atB;
    expect(gotB.length).toBe(big.length);
    expect(Buffer.compare(gotB, big)).toBe(0);
    const back = new Uint8Array(randomBytes(5 * 1024 * 1024 + 17));
    const atA = collectFrames(a, 1);
    b.mgr.send(alice.nodeId, back);
    expect(Buffer.compare((await atA)[0], back)).toBe(0);
  });

  it('delivers 1,000 small frames in order', async () => {
    const a = await peer(alice);
    const b = await peer(bob);
    introduce(a, b);
    const atB = collectFrames(b, 1000);
    for (let i = 0; i < 1000; i++) {
      const f = Buffer.alloc(4 + (i % 50));
      f.writeUInt32BE(i, 0);
      expect(a.mgr.send(bob.nodeId, f).ok).toBe(true);
    }
    const got = await atB;
    expect(got.map((f) => Buffer.from(f).readUInt32BE(0))).toEqual([...Array(1000).keys()]);
    expect(got.map((f) => f.length)).toEqual([...Array(1000).keys()].map((i) => 4 + (i % 50)));
  });

  it('detects a dead peer promptly and reports link-down on the survivor', async () => {
    const a = await peer(alice);
    const b = await peer(bob);
    introduce(a, b);
    const up = next(b, 'link-up');
    a.mgr.send(bob.nodeId, new Uint8Array([1]));
    await up;
    const down = next(b, 'link-down', 2000);
    await a.mgr.stop();
    expect(await down).toMatchObject({ nodeId: alice.nodeId, wasUp: true });
    expect(b.mgr.hasLink(alice.nodeId)).toBe(false);
  });
});

describe('LinkManager: refusals', () => {
  async function expectRefusedBothWays(good: Peer, bad: Peer): Promise<void> {
    // The bad peer dials the good one: the server refuses it (and so does the client's view).
    introduce(bad, good);
    const serverRefused = next(good, 'refused');
    const clientRefused = next(bad, 'refused');
    const badDown = next(bad, 'link-down');
    bad.mgr.send(good.cert.nodeId, new Uint8Array([1]));
    const s = await serverRefused;
    expect(s.side).toBe('server');
    expect(s.address).toMatch(/^127\.0\.0\.1:\d+$/);
    // The OpenSSL verification code: UNABLE_TO_VERIFY_LEAF_SIGNATURE, DEPTH_ZERO_SELF_SIGNED_CERT...
    expect(s.reason).toMatch(/^client certificate refused: [A-Z_]+(CERT|SIGNATURE)$/);
    expect((await clientRefused).side).toBe('client');
    expect(await badDown).toMatchObject({ nodeId: good.cert.nodeId, wasUp: false });
    expect(warned(good, 'overlay link refused').some((e) => e.fields.address === s.address)).toBe(true);

    // The good peer dials the bad one: the client refuses the server's certificate.
    introduce(good, bad);
    const refusedByClient = next(good, 'refused');
    const badServerSaw = next(bad, 'refused');
    good.mgr.send(bad.cert.nodeId, new Uint8Array([2]));
    const c = await refusedByClient;
    expect(c).toMatchObject({
      side: 'client',
      nodeId: bad.cert.nodeId,
      address: `127.0.0.1:${bad.mgr.port}`,
    });
    expect(c.reason).toMatch(/certificate|verify|issuer/i);
    expect((await badServerSaw).side).toBe('server');
    expect(warned(good, 'overlay link refused').length).toBeGreaterThanOrEqual(2);
    expect(good.mgr.linkInfos()).toEqual([]);
    expect(bad.mgr.linkInfos()).toEqual([]);
  }

  it('refuses a peer whose certificate comes from another CA, on both server and client sides', async () => {
    const good = await peer(alice);
    // The rogue trusts the real office CA too (it knows the office), but its own cert is foreign.
    const bad = await peer(rogue, ca);
    await expectRefusedBothWays(good, bad);
  });

  it('refuses a self-signed peer certificate', async () => {
    const good = await peer(alice);
    const bad = await peer(selfSigned, ca);
    await expectRefusedBothWays(good, bad);
  });

  it('refuses a client that presents no certificate', async () => {
    const good = await peer(alice);
    const refused = next(good, 'refused');
    const { socket } = await rawClient(good.mgr.port, ca, null);
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => {});
    const r = await refused;
    expect(r.side).toBe('server');
    expect(r.reason).toMatch(/certificate/i);
    await closed;
    expect(good.mgr.linkInfos()).toEqual([]);
    expect(warned(good, 'overlay link refused')).toHaveLength(1);
  });

  it('refuses an office certificate that names no Node-ID', async () => {
    const good = await peer(alice);
    const anonymous = issuePeerCert(ca, { user: '104@office', omitNodeId: true });
    const refused = next(good, 'refused');
    const { socket, data } = await rawClient(good.mgr.port, ca, anonymous);
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    expect((await refused).reason).toMatch(/Node-ID/);
    await closed;
    expect(Buffer.concat(data).subarray(4, 8)).toEqual(Buffer.from([0x50, 0x4c, 1, 2])); // REJECT
  });

  it("refuses an office member whose certificate claims another peer's Node-ID", async () => {
    // Issued by the real CA, but naming Bob's Node-ID on another key: impersonation.
    const mallory = issuePeerCert(ca, { user: '105@office', nodeId: bob.nodeId });
    const a = await peer(alice);
    const m = await peer(mallory);
    // Mallory dials Alice: Alice's server refuses.
    const serverRefused = next(a, 'refused');
    const { socket } = await rawClient(a.mgr.port, ca, mallory);
    socket.on('error', () => {});
    expect((await serverRefused).reason).toMatch(/is not its key's/);
    // Alice dials "Bob" at Mallory's address: Alice's client refuses.
    a.mgr.setAddress(bob.nodeId, '127.0.0.1', m.mgr.port);
    const clientRefused = next(a, 'refused');
    a.mgr.send(bob.nodeId, new Uint8Array([1]));
    const r = await clientRefused;
    expect(r).toMatchObject({ side: 'client', nodeId: bob.nodeId });
    expect(r.reason).toMatch(/is not its key's/);
    expect(a.mgr.linkInfos()).toEqual([]);
    socket.destroy();
  });

  it('refuses a connection that never completes its handshake, after the timeout', async () => {
    const good = await peer(alice, ca, { connectTimeoutMs: 300 });
    const refused = next(good, 'refused');
    const idle = net.connect(good.mgr.port, '127.0.0.1');
    idle.on('error', () => {});
    const closed = new Promise<void>((resolve) => idle.on('close', () => resolve()));
    const r = await refused;
    expect(r.side).toBe('server');
    expect(r.reason).toMatch(/timeout/i);
    expect(r.address).toBe(`127.0.0.1:${idle.localPort}`);
    await closed;
  });

  it('drops inbound connections beyond the connection limit, with a warning', async () => {
    const good = await peer(alice, ca, { maxConnections: 1 });
    const first = net.connect(good.mgr.port, '127.0.0.1');
    await new Promise((resolve) => first.once('connect', resolve));
    const second = net.connect(good.mgr.port, '127.0.0.1');
    second.on('error', () => {});
    await new Promise<void>((resolve) => second.on('close', () => resolve()));
    expect(warned(good, 'overlay link: connection limit reached, dropping')).toHaveLength(1);
    first.destroy();
  });

  it('refuses a peer that is not the expected Node-ID', async () => {
    const a = await peer(alice);
    const b = await peer(bob);
    const expected = carol.nodeId; // Alice believes Carol listens at Bob's address
    a.mgr.setAddress(expected, '127.0.0.1', b.mgr.port);
    const refused = next(a, 'refused');
    const down = next(a, 'link-down');
    a.mgr.send(expected, new Uint8Array([1]));
    const r = await refused;
    expect(r).toMatchObject({ side: 'client', nodeId: expected });
    expect(r.reason).toContain('Node-ID mismatch');
    expect(r.reason).toContain(bob.nodeId);
    expect(await down).toMatchObject({ nodeId: expected, wasUp: false });
    expect(a.mgr.hasLink(bob.nodeId) || a.mgr.hasLink(expected)).toBe(false);
  });
});

describe('LinkManager: limits', () => {
  it('closes the link on a length prefix above the maximum, with a logged reason', async () => {
    const b = await peer(bob);
    const up = next(b, 'link-up');
    const { socket, data } = await rawClient(b.mgr.port, ca, alice);
    await up;
    await waitFor(() => data.length > 0); // the ACCEPT preface
    const down = next(b, 'link-down');
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.write(Buffer.from([0xff, 0xff, 0xff, 0xf0]));
    const d = await down;
    expect(d).toMatchObject({ nodeId: alice.nodeId, wasUp: true });
    expect(d.reason).toContain('exceeds maximum');
    await closed;
    expect(warned(b, 'overlay link down').some((e) => String(e.fields.reason).includes('exceeds'))).toBe(
      true,
    );
  });

  it('honours a configured maximum: a larger frame from a peer closes the link on both ends', async () => {
    const a = await peer(alice);
    const b = await peer(bob, ca, { maxFrameBytes: 1024 });
    introduce(a, b);
    const atB = collectFrames(b, 1);
    a.mgr.send(bob.nodeId, new Uint8Array(1024));
    expect((await atB)[0].length).toBe(1024);
    const downB = next(b, 'link-down');
    const downA = next(a, 'link-down');
    a.mgr.send(bob.nodeId, new Uint8Array(1025));
    expect((await downB).reason).toBe('frame length 1025 exceeds maximum 1024');
    expect((await downA).nodeId).toBe(bob.nodeId);
    expect(b.mgr.send(alice.nodeId, new Uint8Array(1025))).toEqual({ ok: false, error: 'too-large' });
  });

  it('closes a link as overloaded when the peer does not read and the queue bound is hit', async () => {
    const b = await peer(bob, ca, { maxQueuedBytes: 1 << 20 });
    const up = next(b, 'link-up');
    const { socket } = await rawClient(b.mgr.port, ca, alice);
    await up;
    socket.pause(); // a peer that stops reading
    const down = next(b, 'link-down');
    const frame = new Uint8Array(64 * 1024);
    let result = b.mgr.send(alice.nodeId, frame);
    let sent = 0;
    while (result.ok && sent < 10_000) {
      sent++;
      result = b.mgr.send(alice.nodeId, frame);
    }
    expect(result).toEqual({ ok: false, error: 'overloaded' });
    expect(sent).toBeGreaterThan(10); // what the socket buffered plus the 1 MiB queue
    expect((await down).reason).toMatch(/^overloaded/);
    expect(warned(b, 'overlay link down')).toHaveLength(1);
    socket.destroy();
  });

  it('reports a dial to a closed port as link-down, not as a refusal', async () => {
    const a = await peer(alice);
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
    const closedPort = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    a.mgr.setAddress(bob.nodeId, '127.0.0.1', closedPort);
    let refusals = 0;
    a.mgr.on('refused', () => refusals++);
    const down = next(a, 'link-down');
    expect(a.mgr.send(bob.nodeId, new Uint8Array([1])).ok).toBe(true);
    const d = await down;
    expect(d).toMatchObject({ nodeId: bob.nodeId, wasUp: false });
    expect(d.reason).toContain('ECONNREFUSED');
    expect(refusals).toBe(0);
    expect(warned(a, 'overlay dial failed')[0].fields).toMatchObject({ peer: bob.nodeId, dropped: 1 });
    await expect(a.mgr.start()).rejects.toThrow(/already started/);
  });

  it('reports no-address for a peer it cannot dial, and self for itself', async () => {
    const a = await peer(alice);
    expect(a.mgr.send(carol.nodeId, new Uint8Array(1))).toEqual({ ok: false, error: 'no-address' });
    a.mgr.setAddress(alice.nodeId, '127.0.0.1', a.mgr.port);
    expect(a.mgr.send(alice.nodeId, new Uint8Array(1))).toEqual({ ok: false, error: 'self' });
  });

  it('lets the overlay close a link with a reason (a malformed frame)', async () => {
    const a = await peer(alice);
    const b = await peer(bob);
    introduce(a, b);
    const atB = next(b, 'frame');
    a.mgr.send(bob.nodeId, new Uint8Array([0xde, 0xad]));
    await atB;
    const downA = next(a, 'link-down');
    const downB = next(b, 'link-down');
    b.mgr.close(alice.nodeId, 'malformed overlay frame: bad version');
    expect((await downB).reason).toBe('malformed overlay frame: bad version');
    expect((await downA).wasUp).toBe(true);
    expect(warned(b, 'closing overlay link')[0].fields.reason).toBe('malformed overlay frame: bad version');
  });
});

describe('LinkManager: simultaneous dials', () => {
  it('keeps exactly one link per pair, initiated by the lower Node-ID, and loses no frame', async () => {
    const [low, high] = [alice, bob].sort((x, y) => (x.nodeId < y.nodeId ? -1 : 1));
    const highPaths: string[] = [];
    for (let round = 0; round < 8; round++) {
      const l = await peer(low);
      const h = await peer(high);
      introduce(l, h);
      introduce(h, l);
      const upsL: string[] = [];
      const upsH: string[] = [];
      l.mgr.on('link-up', (e) => upsL.push(e.initiator));
      h.mgr.on('link-up', (e) => upsH.push(e.initiator));
      const atL = collectFrames(l, 20);
      const atH = collectFrames(h, 20);
      for (let i = 0; i < 20; i++) {
        l.mgr.send(high.nodeId, new Uint8Array([i]));
        h.mgr.send(low.nodeId, new Uint8Array([i]));
      }
      expect((await atL).map((f) => f[0])).toEqual([...Array(20).keys()]);
      expect((await atH).map((f) => f[0])).toEqual([...Array(20).keys()]);
      const ll = l.mgr.linkInfos();
      const lh = h.mgr.linkInfos();
      expect(ll).toHaveLength(1);
      expect(lh).toHaveLength(1);
      // The same TCP connection seen from both ends, initiated by the lower Node-ID.
      expect(ll[0].localPort).toBe(lh[0].remotePort);
      expect(ll[0].remotePort).toBe(lh[0].localPort);
      expect(upsL).toEqual(['local']);
      expect(upsH).toEqual(['remote']);
      // Both dials really raced: the lower peer turned the higher peer's connection away.
      expect(l.logs.filter((e) => e.msg.startsWith('simultaneous dial: dropping'))).toHaveLength(1);
      highPaths.push(
        ...h.logs.filter((e) => e.msg.startsWith('simultaneous dial: ours lost')).map((e) => e.msg),
      );
      await Promise.all(running.splice(0).map((p) => p.mgr.stop()));
    }
    expect(highPaths).toHaveLength(8);
  });
});

describe('LinkManager: the losing dialer of a race', () => {
  const reject = () => Buffer.concat(encodeFrame(encodeLinkControl({ type: 'reject', reason: 'duplicate' })));

  it('keeps its frames for the winning inbound link and sends them on it, in order', async () => {
    const [low, high] = [alice, bob].sort((x, y) => (x.nodeId < y.nodeId ? -1 : 1));
    const h = await peer(high);
    // "low" answers high's dial with REJECT duplicate, then dials high itself.
    const fake = await rawServer(ca, low, reject());
    h.mgr.setAddress(low.nodeId, '127.0.0.1', fake.port);
    for (let i = 0; i < 5; i++) h.mgr.send(low.nodeId, new Uint8Array([i]));
    await waitFor(() => h.logs.some((e) => e.msg.startsWith('simultaneous dial: ours lost, awaiting')));
    expect(h.mgr.pendingBytes(low.nodeId)).toBe(5);
    h.mgr.send(low.nodeId, new Uint8Array([5]));
    const up = next(h, 'link-up');
    const { socket, data } = await rawClient(h.mgr.port, ca, low);
    expect(await up).toMatchObject({ nodeId: low.nodeId, initiator: 'remote' });
    await waitFor(() => splitFrames(Buffer.concat(data)).length === 7);
    const frames = splitFrames(Buffer.concat(data));
    expect(decodeLinkControl(frames[0])).toEqual({ ok: true, control: { type: 'accept' } });
    expect(frames.slice(1).map((f) => f[0])).toEqual([0, 1, 2, 3, 4, 5]);
    socket.destroy();
    fake.server.close();
  });

  it('drops its frames with link-down when the winning link never comes', async () => {
    const [low, high] = [alice, bob].sort((x, y) => (x.nodeId < y.nodeId ? -1 : 1));
    const h = await peer(high, ca, { connectTimeoutMs: 300 });
    const fake = await rawServer(ca, low, reject());
    h.mgr.setAddress(low.nodeId, '127.0.0.1', fake.port);
    const down = next(h, 'link-down');
    h.mgr.send(low.nodeId, new Uint8Array([1]));
    const d = await down;
    expect(d).toMatchObject({ nodeId: low.nodeId, wasUp: false });
    expect(d.reason).toContain('never came');
    expect(h.mgr.pendingBytes(low.nodeId)).toBe(0);
    expect(warned(h, 'overlay frames dropped')).toHaveLength(1);
    fake.server.close();
  });

  it('treats any other REJECT as a refusal', async () => {
    const h = await peer(bob);
    const rej = Buffer.concat(encodeFrame(encodeLinkControl({ type: 'reject', reason: 'not today' })));
    const fake = await rawServer(ca, carol, rej);
    h.mgr.setAddress(carol.nodeId, '127.0.0.1', fake.port);
    const refused = next(h, 'refused');
    h.mgr.send(carol.nodeId, new Uint8Array([1]));
    expect(await refused).toMatchObject({ side: 'client', reason: 'rejected by peer: not today' });
    fake.server.close();
  });
});

describe('LinkManager: a peer that dials again replaces its old link', () => {
  it('the higher peer restarts and dials the lower: the new link replaces the old one', async () => {
    const [low, high] = [alice, bob].sort((x, y) => (x.nodeId < y.nodeId ? -1 : 1));
    const l = await peer(low);
    const hOld = await peer(high);
    introduce(hOld, l);
    const up1 = next(l, 'link-up');
    hOld.mgr.send(low.nodeId, new Uint8Array([1]));
    await up1;
    // Same certificate, new process: the old one still holds its socket (a half-open link).
    const hNew = await peer(high);
    introduce(hNew, l);
    const up2 = next(l, 'link-up');
    const oldDown = next(hOld, 'link-down');
    let lDowns = 0;
    l.mgr.on('link-down', () => lDowns++);
    hNew.mgr.send(low.nodeId, new Uint8Array([2]));
    expect(await up2).toMatchObject({ nodeId: high.nodeId, initiator: 'remote' });
    expect(await oldDown).toMatchObject({ nodeId: low.nodeId, wasUp: true });
    expect(lDowns).toBe(0); // the overlay sees a continuous link, not a failure
    const atNew = next(hNew, 'frame');
    l.mgr.send(high.nodeId, new Uint8Array([3]));
    expect(Array.from((await atNew).bytes)).toEqual([3]);
    expect(l.mgr.linkInfos()).toHaveLength(1);
    expect(l.mgr.linkInfos()[0].remotePort).toBe(hNew.mgr.linkInfos()[0].localPort);
  });
});

describe('LinkManager: stop', () => {
  it('closes every link and frees the port', async () => {
    const a = await peer(alice);
    const b = await peer(bob);
    const c = await peer(carol);
    introduce(b, a);
    introduce(c, a);
    const ups = collectUps(a, 2);
    b.mgr.send(alice.nodeId, new Uint8Array([1]));
    c.mgr.send(alice.nodeId, new Uint8Array([1]));
    await ups;
    const downB = next(b, 'link-down');
    const downC = next(c, 'link-down');
    const port = a.mgr.port;
    await a.mgr.stop();
    expect((await downB).nodeId).toBe(alice.nodeId);
    expect((await downC).nodeId).toBe(alice.nodeId);
    expect(a.mgr.linkInfos()).toEqual([]);
    expect(a.mgr.send(bob.nodeId, new Uint8Array(1))).toEqual({ ok: false, error: 'stopped' });
    const probe = net.createServer();
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen({ host: '127.0.0.1', port, exclusive: true }, () => resolve());
    });
    await new Promise<void>((resolve) => probe.close(() => resolve()));
  });
});

function collectUps(p: Peer, n: number): Promise<void> {
  let seen = 0;
  return new Promise((resolve) =>
    p.mgr.on('link-up', () => {
      if (++seen === n) resolve();
    }),
  );
}

describe('LinkManager: throughput', () => {
  it('measures 1 KiB frames over one link', async () => {
    const a = await peer(alice);
    const b = await peer(bob);
    introduce(a, b);
    const warm = collectFrames(b, 1);
    a.mgr.send(bob.nodeId, new Uint8Array(1));
    await warm;
    const n = 100_000;
    const frame = new Uint8Array(1024).fill(7);
    let got = 0;
    const done = new Promise<void>((resolve) =>
      b.mgr.on('frame', () => {
        if (++got === n) resolve();
      }),
    );
    const t0 = performance.now();
    // A well-behaved bulk sender: keep at most 4 MiB in flight, well under the overload bound.
    for (let sent = 0; sent < n; ) {
      while (sent < n && a.mgr.pendingBytes(bob.nodeId) < 4 << 20) {
        expect(a.mgr.send(bob.nodeId, frame).ok).toBe(true);
        sent++;
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    await done;
    const secs = (performance.now() - t0) / 1000;
    const fps = n / secs;
    const mbps = (n * (1024 + encodeFrame(new Uint8Array(0))[0].length)) / secs / 1e6;
    console.log(
      `overlay-link: ${n} x 1 KiB frames in ${secs.toFixed(2)} s: ${Math.round(fps)} frames/s, ${mbps.toFixed(1)} MB/s`,
    );
    expect(got).toBe(n);
  });
});
