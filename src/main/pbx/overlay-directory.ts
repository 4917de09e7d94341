// What call routing reads from the overlay (registrations, user settings, the office dial plan),
// cached and kept fresh by an overlay Watch at the responsible peer: after the first call to an
// extension, routing a call costs no overlay round trip (call setup time is a goal of issue 5).
// A resource whose watch could not be registered is not cached: every read fetches it again.
import type { KindName, StoredValue } from '../../core/records/types.ts';
import type { Logger } from '../log.ts';

/** The part of OverlayRuntime the PBX uses (narrow, so tests and the Peer can pass their own). */
export interface PbxOverlay {
  readonly nodeId: string;
  readonly user: string;
  sign(
    resourceName: string,
    kind: KindName,
    value: Uint8Array,
    lifetimeMs: number,
    opts?: { key?: string; exists?: boolean },
  ): StoredValue;
  store(values: StoredValue[]): Promise<{ copies: number }>;
  fetch(resource: string, kind?: KindName, key?: string): Promise<{ values: StoredValue[] }>;
  watch(
    resource: string,
    kind: KindName | undefined,
    callback: (values: StoredValue[]) => void,
    lifetimeMs?: number,
  ): Promise<{ cancel: () => void }>;
}

interface Entry {
  values: StoredValue[];
  ready: Promise<void>;
  /** Bumped by every watch notification: a fetch answer older than a notification loses. */
  version: number;
  cancel: (() => void) | null;
}

export class OverlayDirectory {
  private readonly entries = new Map<string, Entry>();
  private closed = false;
  /** Counters for tests and the benchmark: cache hits need no overlay request. */
  readonly stats = { hits: 0, fetches: 0, notifications: 0 };

  constructor(
    private readonly overlay: PbxOverlay,
    private readonly log: Logger,
  ) {}

  /** The values of `kind` at `resourceName`: cached, or fetched (and watched from then on). */
  async values(resourceName: string, kind: KindName): Promise<StoredValue[]> {
    const key = `${kind} ${resourceName}`;
    const hit = this.entries.get(key);
    if (hit) {
      this.stats.hits++;
      await hit.ready;
      return hit.values;
    }
    const entry: Entry = { values: [], ready: Promise.resolve(), version: 0, cancel: null };
    this.entries.set(key, entry);
    entry.ready = this.load(key, resourceName, kind, entry);
    await entry.ready;
    return entry.values;
  }

  /** What the cache holds right now, without asking the overlay (undefined: not cached). */
  cached(resourceName: string, kind: KindName): StoredValue[] | undefined {
    return this.entries.get(`${kind} ${resourceName}`)?.values;
  }

  /** Drops a cached resource (e.g. after writing it ourselves, so the next read sees the write). */
  forget(resourceName: string, kind: KindName): void {
    const key = `${kind} ${resourceName}`;
    this.entries.get(key)?.cancel?.();
    this.entries.delete(key);
  }

  close(): void {
    this.closed = true;
    for (const e of this.entries.values()) e.cancel?.();
    this.entries.clear();
  }

  private async load(key: string, resourceName: string, kind: KindName, entry: Entry): Promise<void> {
    const watched = this.overlay
      .watch(resourceName, kind, (values) => {
        entry.version++;
        this.stats.notifications++;
        entry.values = values.filter((v) => v.kind === kind);
      })
      .then(
        (w) => {
          if (this.closed || this.entries.get(key) !== entry) w.cancel();
          else entry.cancel = w.cancel;
          return true;
        },
        (e: unknown) => {
          this.log.warn('watch failed: not caching', { resource: resourceName, kind, error: String(e) });
          return false;
        },
      );
    const version = entry.version;
    this.stats.fetches++;
    try {
      const r = await this.overlay.fetch(resourceName, kind);
      if (entry.version === version) entry.values = r.values.filter((v) => v.kind === kind);
    } catch (e) {
      this.log.warn('overlay fetch failed', { resource: resourceName, kind, error: String(e) });
      if (this.entries.get(key) === entry) this.entries.delete(key);
      // A watch registered already is dropped with the entry (one that registers later is too).
      entry.cancel?.();
      return;
    }
    if (!(await watched) && this.entries.get(key) === entry) this.entries.delete(key);
  }
}
