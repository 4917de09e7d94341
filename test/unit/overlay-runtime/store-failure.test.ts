// A store whose disk fails under it (SQLite: "database or disk is full"): the overlay refuses that
// store to the writer with the cause, logs it with context at the holder, and keeps serving. It
// used to throw out of the frame handler ("uncaught error, peer keeps serving"), the writer timing out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredValue } from '../../../src/core/records/types.ts';
import { OverlayError } from '../../../src/main/overlay/runtime.ts';
import { makeCa } from '../../helpers/certs.ts';
import { startOverlay, type TestRuntime, text } from './helpers.ts';

let peers: TestRuntime[] = [];

beforeAll(async () => {
  peers = await startOverlay(makeCa('Disk Office'), ['101@office', '102@office']);
  // Both stores fail for the resources of a "full" disk, like better-sqlite3 on SQLITE_FULL.
  for (const p of peers) {
    const put = p.store.put.bind(p.store);
    p.store.put = (v: StoredValue) => {
      if (v.resourceName.includes('/full')) throw new Error('SQLITE_FULL: database or disk is full');
      return put(v);
    };
  }
}, 30_000);

afterAll(async () => {
  await Promise.all(peers.map((p) => p.rt.stop()));
});

describe('a store on a failing disk', () => {
  it('is refused to the writer with the cause, logged with context, and the peer keeps serving', async () => {
    const writer = peers[0];
    // Several resources: some held by the writer itself, some by the other peer (over the link).
    for (let i = 0; i < 6; i++) {
      const v = writer.rt.sign(`101@office/full-${i}`, 'TEST', text('x'), 60_000, { key: 'k' });
      const err = await writer.rt.store([v]).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(OverlayError);
      expect((err as OverlayError).code).toBe('invalid');
      expect((err as OverlayError).message).toMatch(
        /storage failed at [0-9a-f]{32}: SQLITE_FULL: database or disk is full/,
      );
    }
    const logged = peers.flatMap((p) =>
      p.logs.filter((l) => l.level === 'warn' && l.msg.startsWith('store failed')),
    );
    console.log(`disk full: ${logged.length} warnings, e.g. ${logged[0]?.msg}`);
    expect(logged.length).toBeGreaterThanOrEqual(6);
    expect(logged[0].msg).toMatch(/TEST 101@office\/full-\d key k from [0-9a-f]{32}: SQLITE_FULL/);
    // Still serving: an ordinary store and fetch work.
    const ok = writer.rt.sign('101@office/fine', 'TEST', text('y'), 60_000, { key: 'k' });
    expect((await writer.rt.store([ok])).copies).toBeGreaterThanOrEqual(1);
    expect((await peers[1].rt.fetch('101@office/fine', 'TEST', 'k')).values).toHaveLength(1);
  });
});
