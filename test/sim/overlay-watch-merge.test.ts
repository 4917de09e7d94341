import { describe, expect, it } from 'vitest';
import type { OverlayEvent } from '../../src/core/overlay/node.ts';
import { growOverlay, testValue } from './sim-helpers.ts';
import { SimNetwork, seededRandom, trueHolders } from './sim-network.ts';

// Two rings that merge (a healed split; PCs that started apart and then found each other): a watch
// registered in one ring must reach the responsible peer of the merged ring and show the watcher
// what that peer holds, without waiting for the watch's refresh or a new write.
describe('overlay simulation: watches across a ring merge', () => {
  it('a watch held in one half reaches the merged ring`s responsible peer, which notifies its value', () => {
    const net = new SimNetwork({ seed: 81 });
    growOverlay(net, 8, 10, 6000, seededRandom(82));
    const v = testValue('205@office', 'registered-in-the-other-half', net.now);
    const responsible = trueHolders(net.trueRing(), v.resourceId)[0];
    // The watcher's half: the watcher only; the rest (with the responsible peer) in the other.
    const watcher = net.peers.find((p) => !trueHolders(net.trueRing(), v.resourceId).includes(p))!;
    const others = net.peers.filter((p) => p !== watcher).map((p) => p.index);
    net.partition([[watcher.index], others]);
    const alone = net.runUntilTrue(() => watcher.node.table.liveCount === 0, 30_000, 500);
    expect(alone).not.toBeNull();

    // Long lifetime: no refresh within the test, so only the hand-over can bring the value.
    const w = watcher.node.watch(net.now, v.resourceId, 3_600_000);
    net.command(watcher.index, () => ({ requestId: w.requestId, effects: w.effects }));
    net.command(responsible.index, (n, now) => n.storeValues(now, [v]));
    net.runFor(1000);
    const notes = () =>
      watcher.events.filter(
        (e): e is Extract<OverlayEvent, { type: 'watch-notify' }> => e.type === 'watch-notify',
      );
    expect(notes()).toEqual([]);

    net.heal();
    const merged = net.runUntilTrue(
      () => net.livePeers().every((p) => p.node.table.liveCount === net.peers.length - 1),
      60_000,
      500,
    );
    expect(merged).not.toBeNull();
    const notified = net.runUntilTrue(() => notes().length > 0, 20_000, 250);
    console.log(`watch notified ${notified! - merged!} ms after the rings merged (simulated)`);
    expect(notified).not.toBeNull();
    expect(new TextDecoder().decode(notes()[0].values[0]?.value)).toBe('registered-in-the-other-half');
  }, 60_000);
});
