// The gateway's side of remote BLF: publishes the call state of the desk phones this peer serves
// (as its proxy sees their calls) as DEVICE-STATE entries at their extensions, keyed by this peer's
// Node-ID (the validator admits nothing else). Short lifetime, stored again on every change and
// refreshed; when a phone's binding ends, and on a clean stop, the entry is tombstoned. A crashed
// gateway's entries end with their lifetime, so watchers then see the phone idle/offline.
import { type DeviceState, type DeviceStateData, encodeJson } from '../../core/records/kinds.ts';
import { userResourceName } from '../../core/records/resource-names.ts';
import type { PhoneActivity } from '../../core/sip/events/index.ts';
import type { Logger } from '../log.ts';
import type { PbxOverlay } from '../pbx/overlay-directory.ts';

/** As PRESENCE: a crashed gateway's phones show idle within 12 s (+ the watcher's re-fetch). */
export const DEVICE_STATE_LIFETIME_MS = 12_000;
const STOP_BUDGET_MS = 3000;

export interface DeviceStatePublisherOptions {
  overlay: Pick<PbxOverlay, 'sign' | 'store' | 'nodeId'>;
  office: string;
  log: Logger;
  /** Whether a desk phone of this extension is registered at this gateway now. */
  registered: (extension: string, now: number) => boolean;
  /** Its call activity as the proxy sees it. */
  activity: (extension: string, now: number) => PhoneActivity;
  lifetimeMs?: number;
  refreshMs?: number;
}

export class DeviceStatePublisher {
  /** What was last published per extension (absent: nothing live of ours). */
  private readonly published = new Map<string, DeviceStateData>();
  /** Extensions seen registering here: checked again at every refresh. */
  private readonly known = new Set<string>();
  /** One store chain per extension, so a later state is never overtaken by an earlier one. */
  private readonly chains = new Map<string, Promise<void>>();
  private readonly lifetimeMs: number;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly opts: DeviceStatePublisherOptions) {
    this.lifetimeMs = opts.lifetimeMs ?? DEVICE_STATE_LIFETIME_MS;
    this.schedule();
  }

  /** The extension registered, unregistered or its calls changed: publish when its state did. */
  touch(extension: string): void {
    if (this.closed) return;
    this.known.add(extension);
    this.update(extension, false);
  }

  /** Tombstones every entry of ours (watchers see the phones go idle/offline at once). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const ext of [...this.published.keys()]) this.enqueue(ext, null);
    await Promise.race([
      Promise.allSettled([...this.chains.values()]),
      new Promise((r) => setTimeout(r, STOP_BUDGET_MS).unref()),
    ]);
  }

  private stateOf(extension: string, now: number): DeviceState | null {
    if (!this.opts.registered(extension, now)) return null;
    return this.opts.activity(extension, now) ?? 'available';
  }

  private update(extension: string, refresh: boolean): void {
    const now = Date.now();
    const state = this.stateOf(extension, now);
    const last = this.published.get(extension);
    if (state === null) {
      this.known.delete(extension);
      if (last) this.enqueue(extension, null);
      return;
    }
    if (last?.state === state && !refresh) return;
    this.enqueue(extension, last?.state === state ? last : { state, since: now });
  }

  private enqueue(extension: string, data: DeviceStateData | null): void {
    if (data) this.published.set(extension, data);
    else this.published.delete(extension);
    const resource = userResourceName(extension, this.opts.office);
    const prev = this.chains.get(extension) ?? Promise.resolve();
    const next = prev.then(async () => {
      try {
        const value = data
          ? this.opts.overlay.sign(resource, 'DEVICE-STATE', encodeJson(data), this.lifetimeMs, {
              key: this.opts.overlay.nodeId,
            })
          : this.opts.overlay.sign(resource, 'DEVICE-STATE', new Uint8Array(0), this.lifetimeMs, {
              key: this.opts.overlay.nodeId,
              exists: false,
            });
        await this.opts.overlay.store([value]);
      } catch (err) {
        this.opts.log.warn('desk-phone state not stored (retried at the next refresh)', {
          extension,
          state: data?.state ?? 'removed',
          error: String(err),
        });
      }
    });
    this.chains.set(extension, next);
    void next.finally(() => {
      if (this.chains.get(extension) === next) this.chains.delete(extension);
    });
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(
      () => {
        for (const ext of new Set([...this.known, ...this.published.keys()])) this.update(ext, true);
        this.schedule();
      },
      this.opts.refreshMs ?? Math.floor(this.lifetimeMs / 3),
    );
    this.timer.unref();
  }
}
