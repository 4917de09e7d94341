// Two PeerPBX users on two peers (real processes on loopback): registration in the overlay, a call
// by extension routed through the caller's peer, audio both ways, a clean hang-up.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killAll } from '../helpers/processes.ts';
import {
  newOffice,
  nextPbxEvent,
  overlayAddress,
  type PbxPeer,
  startPbxPeer,
  toneIn,
  waitForContacts,
  writeToneWav,
} from './harness.ts';

describe('PeerPBX user to PeerPBX user through the overlay', () => {
  const peers: PbxPeer[] = [];
  afterAll(async () => {
    await Promise.allSettled(peers.map((p) => p.request({ op: 'stop' }, 5000)));
    await killAll();
  });

  it('A dials B by extension: B auto-answers, tones cross both ways, hold/resume, clean hang-up, history, MESSAGE, unregister on stop', async () => {
    const office = newOffice();
    const a = await startPbxPeer({ name: 'a', extension: '101', office, tone: 1000 });
    peers.push(a);
    const wav = writeToneWav(join(a.dir, 'tone440.wav'), 440);
    const b = await startPbxPeer({
      name: 'b',
      extension: '102',
      office,
      bootstrap: [overlayAddress(a)],
      autoAnswer: true,
      play: wav,
    });
    peers.push(b);
    const contacts = (await waitForContacts(a, '102', 1)) as Array<{ uri: string; deskPhone: boolean }>;
    expect(contacts[0].uri).toBe(String(b.ready.phoneUri));
    expect(contacts[0].deskPhone).toBe(false);

    const dialled = await a.request({ op: 'dial', target: '102' });
    const call = String(dialled.call);
    await nextPbxEvent(a, 'answered', (e) => e.call === call);
    const incoming = await nextPbxEvent(b, 'incoming');
    expect(String(incoming.from)).toContain('101');
    await new Promise((r) => setTimeout(r, 2500));
    // Hold and resume: re-INVITEs through A's proxy (Record-Route) reach B.
    expect((await a.request({ op: 'hold', call })).done).toBe(true);
    await nextPbxEvent(b, 'media-updated', (e) => e.remoteHold === true);
    expect((await a.request({ op: 'resume', call })).done).toBe(true);
    await nextPbxEvent(b, 'media-updated', (e) => e.remoteHold === false);
    await a.request({ op: 'hangup', call });
    const endA = await nextPbxEvent(a, 'ended', (e) => e.call === call);
    const endB = await nextPbxEvent(b, 'ended');
    expect(endA.reason).toBe('local-bye');
    expect(endB.reason).toBe('remote-bye');
    // B played a 440 Hz WAV, A a 1000 Hz tone: each hears the other's.
    expect(await toneIn(String(endB.recording), 1000)).toBeGreaterThan(0.8);
    expect(await toneIn(String(endA.recording), 440)).toBeGreaterThan(0.8);
    expect(await toneIn(String(endA.recording), 1000)).toBeLessThan(0.1);
    const stats = await a.request({ op: 'stats' });
    expect(stats.calls).toBe(0);
    expect(stats.rtpPorts).toBe(0);
    // Call history in each peer's SQLite database.
    const histA = (await a.request({ op: 'history' })).calls as Array<Record<string, unknown>>;
    const histB = (await b.request({ op: 'history' })).calls as Array<Record<string, unknown>>;
    expect(histA).toMatchObject([{ direction: 'out', remote: '102', outcome: 'answered', localUser: '101' }]);
    expect(histB).toMatchObject([{ direction: 'in', outcome: 'answered', localUser: '102' }]);
    expect(histA[0].durationMs as number).toBeGreaterThan(2000);

    // SIP MESSAGE: A's proxy sends it to B's peer, which hands it to its user.
    expect((await a.request({ op: 'message', to: '102', text: 'lunch at 1?' })).status).toBe(200);
    const msg = await nextPbxEvent(b, 'message');
    expect(msg).toMatchObject({ text: 'lunch at 1?', contentType: 'text/plain' });
    expect(String(msg.from)).toContain('101');
    expect((await a.request({ op: 'message', to: '199', text: 'anyone?' })).status).toBe(480);

    // A clean stop removes B's registration from the overlay (A's watched cache follows).
    await b.request({ op: 'stop' });
    await b.proc.done;
    await waitForContacts(a, '102', 0);
    const missed = await a.request({ op: 'dial', target: '102' });
    const refused = await nextPbxEvent(a, 'ended', (e) => e.call === missed.call);
    expect(refused).toMatchObject({ reason: 'rejected', status: 480 });
  }, 90_000);
});
