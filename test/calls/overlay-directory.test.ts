// The PBX's read cache over the overlay: one fetch + one watch per resource, then reads from the
// cache; watch notifications replace the values (also when they race the first fetch); a resource
// whose watch or fetch failed is not cached.
import { describe, expect, it } from 'vitest';
import type { KindName, StoredValue } from '../../src/core/records/types.ts';
import { createLogger } from '../../src/main/log.ts';
import { OverlayDirectory, type PbxOverlay } from '../../src/main/pbx/overlay-directory.ts';

const value = (key: string): StoredValue => ({ kind: 'SIP-REGISTRATION', key }) as unknown as StoredValue;

class FakeOverlay implements PbxOverlay {
  readonly nodeId = 'n';
  readonly user = '101@office';
  fetches = 0;
  watches = 0;
  cancelled = 0;
  stored: StoredValue[] = [value('a')];
  watchFails = false;
  fetchFails = false;
  notify: ((values: StoredValue[]) => void) | null = null;
  /** Runs while a fetch is in flight (to race a notification against it). */
  duringFetch: (() => void) | null = null;

  sign(): StoredValue {
    throw new Error('unused');
  }
  async store(): Promise<{ copies: number }> {
    return { copies: 3 };
  }
  async fetch(_r: string, _k?: KindName): Promise<{ values: StoredValue[] }> {
    this.fetches++;
    const answer = [...this.stored];
    await Promise.resolve();
    this.duringFetch?.();
    if (this.fetchFails) throw new Error('timeout');
    return { values: answer };
  }
  async watch(_r: string, _k: KindName | undefined, cb: (v: StoredValue[]) => void) {
    this.watches++;
    if (this.watchFails) throw new Error('refused');
    this.notify = cb;
    return { cancel: () => void this.cancelled++ };
  }
}

const log = createLogger({ test: 'directory' });

describe('OverlayDirectory', () => {
  it('fetches and watches once, then answers from the cache; notifications replace the values', async () => {
    const o = new FakeOverlay();
    const d = new OverlayDirectory(o, log);
    expect((await d.values('101@office', 'SIP-REGISTRATION')).map((v) => v.key)).toEqual(['a']);
    expect((await d.values('101@office', 'SIP-REGISTRATION')).map((v) => v.key)).toEqual(['a']);
    expect(o.fetches).toBe(1);
    expect(o.watches).toBe(1);
    expect(d.stats.hits).toBe(1);
    o.notify?.([value('b'), value('c')]);
    expect((await d.values('101@office', 'SIP-REGISTRATION')).map((v) => v.key)).toEqual(['b', 'c']);
    expect(o.fetches).toBe(1);
    d.close();
    expect(o.cancelled).toBe(1);
  });

  it('a notification that arrives while the first fetch is in flight wins over the older answer', async () => {
    const o = new FakeOverlay();
    o.duringFetch = () => o.notify?.([value('newer')]);
    const d = new OverlayDirectory(o, log);
    expect((await d.values('101@office', 'SIP-REGISTRATION')).map((v) => v.key)).toEqual(['newer']);
  });

  it('does not cache a resource whose watch failed, nor one whose fetch failed', async () => {
    const o = new FakeOverlay();
    o.watchFails = true;
    const d = new OverlayDirectory(o, log);
    await d.values('101@office', 'SIP-REGISTRATION');
    await d.values('101@office', 'SIP-REGISTRATION');
    expect(o.fetches).toBe(2);
    o.watchFails = false;
    o.fetchFails = true;
    expect(await d.values('102@office', 'SIP-REGISTRATION')).toEqual([]);
    expect(o.cancelled).toBe(1); // its watch is not left behind
    o.fetchFails = false;
    expect((await d.values('102@office', 'SIP-REGISTRATION')).map((v) => v.key)).toEqual(['a']);
    expect(o.fetches).toBe(4);
  });
});
