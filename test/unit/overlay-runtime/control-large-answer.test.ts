// `peerpbx status` of a peer holding 10,000 records: the control answer is one JSON line of a few
// MB; the CLI's reader takes it whole (it used to fail with "answer too long" past 64 KiB).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { askPeer, firstLineReader } from '../../../src/main/control/client.ts';
import { ControlServer } from '../../../src/main/control/server.ts';
import { createLogger } from '../../../src/main/log.ts';

const dir = mkdtempSync(join(tmpdir(), 'peerpbx-control-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('control channel answers', () => {
  it('carries a status with 10,000 records to the CLI', async () => {
    const list = Array.from({ length: 10_000 }, (_, i) => ({
      name: `${1000 + i}@office`,
      kind: 'SIP-REGISTRATION',
      key: 'ab'.repeat(16),
      role: 'responsible',
      copies: 3,
    }));
    const server = new ControlServer(
      dir,
      async () => ({ records: { total: list.length, list } }),
      createLogger({ component: 'control-test' }),
    );
    await server.start();
    try {
      const r = (await askPeer(dir, { op: 'status' }, 15_000)) as {
        records: { total: number; list: unknown[] };
      };
      const bytes = JSON.stringify(r).length;
      console.log(`status answer with 10,000 records: ${bytes} bytes`);
      expect(bytes).toBeGreaterThan(1_000_000);
      expect(r.records.list).toHaveLength(10_000);
      expect(r.records.list[9999]).toEqual(list[9999]);
    } finally {
      await server.stop();
    }
  });

  it('still refuses an endless answer, and reads a line split across chunks', () => {
    const lines: string[] = [];
    let tooLong = 0;
    const read = firstLineReader(
      (l) => lines.push(l),
      () => tooLong++,
      10,
    );
    read(Buffer.from('12345'));
    read(Buffer.from('67890'));
    read(Buffer.from('x'));
    expect(tooLong).toBe(1);
    expect(lines).toEqual([]);
    const ok = firstLineReader(
      (l) => lines.push(l),
      () => tooLong++,
      100,
    );
    ok(Buffer.from('{"ok":'));
    ok(Buffer.from('true}\nrest'));
    expect(lines).toEqual(['{"ok":true}']);
  });
});
