import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src/main/store/database.ts';
import { openPeerDatabase } from '../../../src/main/store/peer-database.ts';
import { SqliteRecordStore } from '../../../src/main/store/sqlite-record-store.ts';
import { recordStoreContract, testValue } from '../records/store-contract.ts';

const dir = mkdtempSync(join(tmpdir(), 'peerpbx-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

recordStoreContract(
  'SqliteRecordStore',
  () => new SqliteRecordStore(openDatabase(join(dir, `contract-${n++}.db`))),
);

describe('SqliteRecordStore on disk', () => {
  it('uses WAL with synchronous FULL by default', () => {
    const db = openDatabase(join(dir, 'pragmas.db'));
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    db.close();
  });

  it('keeps records, settings, peers and calls across reopen', () => {
    const path = join(dir, 'reopen.db');
    const a = openPeerDatabase(path);
    a.records.put(testValue({ key: 'x', value: new Uint8Array([4, 2]) }));
    a.settings.set('identity', { user: '101@office', nodeId: 'ab' });
    a.peers.seen('n1', '10.0.0.1:7000', 100);
    a.peers.seen('n2', '10.0.0.2:7000', 300);
    a.peers.seen('n1', '10.0.0.9:7000', 200);
    a.calls.add({
      startedAt: 5,
      direction: 'in',
      localUser: '101@office',
      remote: '102@office',
      durationMs: 1000,
      outcome: 'answered',
    });
    a.calls.add({
      startedAt: 9,
      direction: 'out',
      localUser: '101@office',
      remote: '103@office',
      durationMs: 0,
      outcome: 'missed',
    });
    a.close();

    const b = openPeerDatabase(path);
    expect([...b.records.get(testValue().resourceId, 1000, 'TEST', 'x')[0].value]).toEqual([4, 2]);
    expect(b.settings.get('identity')).toEqual({ user: '101@office', nodeId: 'ab' });
    expect(b.settings.get('missing')).toBeUndefined();
    expect(b.peers.recent()).toEqual([
      { nodeId: 'n2', address: '10.0.0.2:7000', lastSeen: 300 },
      { nodeId: 'n1', address: '10.0.0.9:7000', lastSeen: 200 },
    ]);
    expect(b.peers.prune(250)).toBe(1);
    expect(b.calls.list().map((c) => c.remote)).toEqual(['103@office', '102@office']);
    expect(b.calls.list(10, 9).map((c) => c.outcome)).toEqual(['answered']);
    b.close();
  });

  it('putMany stores a batch in one transaction with per-value outcomes', () => {
    const s = new SqliteRecordStore(openDatabase(join(dir, 'batch.db')));
    const out = s.putMany([
      testValue({ key: 'a', storageTime: 2000 }),
      testValue({ key: 'a', storageTime: 1000 }),
      testValue({ key: 'b' }),
    ]);
    expect(out.map((o) => o.ok)).toEqual([true, false, true]);
    expect(s.count()).toBe(2);
  });

  it('refuses to open a database from a newer schema', () => {
    const path = join(dir, 'future.db');
    const db = openDatabase(path);
    db.pragma('user_version = 99');
    db.close();
    expect(() => openDatabase(path)).toThrow(/newer/);
  });
});
