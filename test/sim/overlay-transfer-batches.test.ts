// A second PC joining a peer that holds 10,000 records (about 10 MB with their values): the range it
// takes over goes in batches of `transferBatchBytes` (the join answer carries the first, replicate
// messages the rest), each far below the link's 8 MB frame limit. It used to be one join answer
// past the limit, which was never sent: the join timed out.
import { describe, expect, it } from 'vitest';
import { encodeFrame } from '../../src/core/overlay/frame.ts';
import type { OverlayMessage } from '../../src/core/overlay/messages.ts';
import { DEFAULT_OVERLAY_CONFIG } from '../../src/core/overlay/node.ts';
import { testValue } from './sim-helpers.ts';
import { SimNetwork } from './sim-network.ts';

const LINK_FRAME_LIMIT = 8 * 1024 * 1024;

describe('overlay simulation: range hand-over in batches', () => {
  it('a joiner receives all 10,000 records of a lone peer, in frames under the link limit', () => {
    const net = new SimNetwork({ seed: 320, wire: true });
    const first = net.addPeer();
    net.runFor(1000);
    const filler = 'x'.repeat(1000);
    const values = Array.from({ length: 10_000 }, (_, i) => testValue(`r${i}@office`, `${i}${filler}`, 1000));
    for (const v of values) first.store.put(v);
    const total = values.reduce(
      (n, v) => n + encodeFrame({ t: 'leave', from: first.node.me, values: [v] }).length,
      0,
    );
    expect(total).toBeGreaterThan(LINK_FRAME_LIMIT);
    // Every message the peers send, measured as the frame it becomes on a link.
    let largest = 0;
    const measure = (m: OverlayMessage) => {
      const n = encodeFrame(m).length;
      largest = Math.max(largest, n);
    };
    const transmit = (net as unknown as { transmit: (f: unknown, t: unknown, m: OverlayMessage) => void })
      .transmit;
    (net as unknown as { transmit: typeof transmit }).transmit = function (this: SimNetwork, f, t, m) {
      measure(m);
      return transmit.call(this, f, t, m);
    };
    const joiner = net.addPeer(first.index);
    const t0 = net.now;
    const at = net.runUntilTrue(
      () => joiner.node.joined && joiner.store.range(joiner.id, joiner.id, net.now).length === values.length,
      5000,
      10,
    );
    expect(at).not.toBeNull();
    console.log(
      `10,000 records (${(total / 1e6).toFixed(1)} MB) handed over in ${at! - t0} simulated ms; largest frame ${(largest / 1e6).toFixed(2)} MB, ${net.delivered.replicate ?? 0} replicate messages`,
    );
    expect(largest).toBeLessThan(LINK_FRAME_LIMIT);
    expect(largest).toBeLessThan(DEFAULT_OVERLAY_CONFIG.transferBatchBytes * 2);
    expect(net.delivered.replicate ?? 0).toBeGreaterThanOrEqual(
      Math.floor(total / DEFAULT_OVERLAY_CONFIG.transferBatchBytes) - 1,
    );
    // And back: the joiner leaves gracefully; the lone peer keeps everything (batched the same way).
    net.leave(joiner.index);
    net.runFor(1000);
    expect(first.store.range(first.id, first.id, net.now).length).toBe(values.length);
  });
});
