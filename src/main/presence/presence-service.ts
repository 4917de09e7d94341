// Live presence (issue 6): this user's PRESENCE record, published with a short lifetime and
// refreshed well before it ends, so a PC that crashes shows offline within the lifetime; published
// again at once on every change (a call ringing, answered, ended; the user's own choice). Watchers
// use the overlay's Watch at the responsible peer, plus a local timer for expiry (an expiry is no
// store, so no Watch notification tells of it).
//
// DND is also a routing setting: set('dnd') writes USER-SETTINGS.dnd (read-modify-write, the other
// fields kept) so calls really divert, and leaving DND clears it.
import type { PresenceState, UserSettingsData } from '../../core/records/kinds.ts';
import { encodeJson } from '../../core/records/kinds.ts';
import { userResourceName } from '../../core/records/resource-names.ts';
import type { KindName, StoredValue } from '../../core/records/types.ts';
import type { Identity } from '../identity/identity.ts';
import type { Logger } from '../log.ts';
import { EventServer } from '../pbx/event-server.ts';
import type { OfficePbx, PbxEvent } from '../pbx/office-pbx.ts';
import type { PbxOverlay } from '../pbx/overlay-directory.ts';
import {
  mergedExpiry,
  mergedPresenceViewOf,
  type PresenceRecord,
  type PresenceView,
  samePresence,
} from './presence-view.ts';

export type { PresenceView } from './presence-view.ts';

/** 12 s: a crashed PC shows offline within 15 s (goal of issue 6), with a refresh every 4 s. */
export const PRESENCE_LIFETIME_MS = 12_000;
const STOP_BUDGET_MS = 3000;
/** What an extension's presence is read from: the user's own record and its desk phones' states. */
const WATCHED_KINDS: readonly KindName[] = ['PRESENCE', 'DEVICE-STATE'];
/** After the local expiry timer: a re-fetch tells "expired" from "a missed notification". */
const EXPIRY_GRACE_MS = 100;

export type UserChoice = 'available' | 'dnd' | 'away';

export interface PresenceServiceOptions {
  overlay: PbxOverlay;
  identity: Pick<Identity, 'extension' | 'office'>;
  /** Phone events (ringing, answered, ended) and USER-SETTINGS writes. */
  pbx: Pick<OfficePbx, 'on' | 'off' | 'getUserSettings' | 'updateUserSettings'> &
    Partial<Pick<OfficePbx, 'setSubscriptionRouter'>>;
  log: Logger;
  lifetimeMs?: number;
  /** How often the record is stored again (default a third of the lifetime). */
  refreshMs?: number;
  /** Serve desk phones' SUBSCRIBEs (dialog, message-summary) on this gateway (default: when the pbx can route them). */
  gateway?: boolean;
}

export class PresenceService {
  private choice: { state: UserChoice; note?: string } = { state: 'available' };
  /** This user's calls: incoming and not answered ('ringing'), or in progress ('active'). */
  private readonly calls = new Map<string, 'ringing' | 'active'>();
  private view: PresenceView;
  private refreshTimer: NodeJS.Timeout | null = null;
  private publishing: Promise<void> | null = null;
  private publishAgain = false;
  private closed = false;
  private readonly watchers = new Set<() => void>();
  private readonly lifetimeMs: number;
  private readonly resource: string;
  private readonly onPbxEvent = (e: PbxEvent) => this.onPhone(e);
  /** The gateway's notifier for desk phones (null when not serving them). */
  events: EventServer | null = null;

  private constructor(private readonly opts: PresenceServiceOptions) {
    this.lifetimeMs = opts.lifetimeMs ?? PRESENCE_LIFETIME_MS;
    this.resource = userResourceName(opts.identity.extension, opts.identity.office);
    this.view = { state: 'available', since: Date.now() };
  }

  static async start(opts: PresenceServiceOptions): Promise<PresenceService> {
    const p = new PresenceService(opts);
    // A DND left on by the last run stays on (calls divert by USER-SETTINGS anyway).
    const settings = await p.readSettings().catch(() => null);
    if (settings?.dnd === true) p.choice = { state: 'dnd' };
    p.view = { ...p.derived(), since: Date.now() };
    opts.pbx.on('event', p.onPbxEvent);
    await p.publishNow();
    p.scheduleRefresh();
    if ((opts.gateway ?? true) && opts.pbx.setSubscriptionRouter) {
      try {
        p.events = await EventServer.start({
          pbx: opts.pbx as OfficePbx,
          overlay: opts.overlay,
          office: opts.identity.office,
          presence: p,
          log: opts.log.child({ part: 'events' }),
        });
      } catch (err) {
        await p.close();
        throw err;
      }
    }
    opts.log.info('presence started', { state: p.view.state, lifetimeMs: p.lifetimeMs });
    return p;
  }

  /** The user's own choice; ringing/on-call come from calls automatically. */
  async set(state: UserChoice, note?: string): Promise<PresenceView> {
    if (state !== 'available' && state !== 'dnd' && state !== 'away')
      throw new Error(`bad presence ${state}`);
    const wasDnd = this.choice.state === 'dnd';
    this.choice = { state, ...(note ? { note: note.slice(0, 200) } : {}) };
    const publish = this.update();
    if ((state === 'dnd') !== wasDnd) await this.writeDnd(state === 'dnd');
    await publish;
    return this.own();
  }

  own(): PresenceView {
    return { ...this.view };
  }

  /** An extension's presence: its PRESENCE merged with its desk phones' DEVICE-STATE entries. */
  async get(extension: string): Promise<PresenceView> {
    if (extension === this.opts.identity.extension) return this.own();
    const name = this.nameOf(extension);
    const [presence, devices] = await Promise.all(
      WATCHED_KINDS.map((k) => this.opts.overlay.fetch(name, k).then((r) => r.values)),
    );
    return mergedPresenceViewOf([...presence, ...devices], Date.now());
  }

  /**
   * Calls `cb` with the extension's presence now and on every change (state or note). Resolves
   * once the Watches are registered; the returned function stops watching.
   */
  async watch(extension: string, cb: (p: PresenceView) => void): Promise<() => void> {
    const name = this.nameOf(extension);
    /** Per kind: the values last fetched or notified, and how many notifications came. */
    const held = new Map<KindName, { values: StoredValue[]; notified: number }>(
      WATCHED_KINDS.map((k) => [k, { values: [], notified: 0 }]),
    );
    const all = () => [...held.values()].flatMap((h) => h.values);
    let shown: PresenceView | null = null;
    let timer: NodeJS.Timeout | null = null;
    let stopped = false;
    const show = () => {
      if (stopped) return;
      const now = Date.now();
      const values = all();
      const v = mergedPresenceViewOf(values, now);
      if (!samePresence(shown, v)) {
        shown = v;
        try {
          cb({ ...v });
        } catch (err) {
          this.opts.log.error('presence watcher failed', { extension, error: String(err) });
        }
      }
      if (timer) clearTimeout(timer);
      timer = null;
      const at = mergedExpiry(values, now);
      if (at !== null) {
        timer = setTimeout(() => void onExpiry(), Math.max(0, at - now) + EXPIRY_GRACE_MS);
        timer.unref();
      }
    };
    /** Fetches every kind; a fetch answer older than a notification of its kind loses. */
    const refetch = () =>
      Promise.all(
        WATCHED_KINDS.map(async (k) => {
          const h = held.get(k) as { values: StoredValue[]; notified: number };
          const before = h.notified;
          const r = await this.opts.overlay.fetch(name, k);
          if (h.notified === before) h.values = r.values;
        }),
      );
    const onExpiry = async () => {
      try {
        await refetch();
      } catch (err) {
        this.opts.log.debug('presence re-fetch failed: judging by time', { extension, error: String(err) });
      }
      show();
    };
    const watches: Array<{ cancel: () => void }> = [];
    try {
      for (const k of WATCHED_KINDS) {
        watches.push(
          await this.opts.overlay.watch(name, k, (vals) => {
            const h = held.get(k) as { values: StoredValue[]; notified: number };
            h.notified++;
            h.values = vals;
            show();
          }),
        );
      }
      await refetch();
    } catch (err) {
      for (const w of watches) w.cancel();
      throw err;
    }
    show();
    const stop = () => {
      stopped = true;
      for (const w of watches) w.cancel();
      if (timer) clearTimeout(timer);
      this.watchers.delete(stop);
    };
    this.watchers.add(stop);
    return stop;
  }

  /** Clean stop: the record is tombstoned (watchers see offline at once). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.opts.pbx.off('event', this.onPbxEvent);
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    for (const stop of [...this.watchers]) stop();
    await this.events?.close();
    const tombstone = this.opts.overlay.sign(this.resource, 'PRESENCE', new Uint8Array(0), this.lifetimeMs, {
      exists: false,
    });
    await Promise.race([
      Promise.allSettled([this.publishing]).then(() => this.opts.overlay.store([tombstone])),
      new Promise((r) => setTimeout(r, STOP_BUDGET_MS).unref()),
    ]).catch((err: unknown) => this.opts.log.warn('presence tombstone not stored', { error: String(err) }));
  }

  // --- own state -----------------------------------------------------------------------------------

  private onPhone(e: PbxEvent): void {
    switch (e.type) {
      case 'incoming':
        this.calls.set(e.call, 'ringing');
        break;
      case 'ringing': // our outgoing call rings at the other end: we are on the phone
      case 'answered':
        this.calls.set(e.call, 'active');
        break;
      case 'ended':
        this.calls.delete(e.call);
        break;
      default:
        return;
    }
    void this.update();
  }

  private derived(): { state: PresenceState; note?: string } {
    const states = [...this.calls.values()];
    if (states.includes('active')) return { state: 'on-call' };
    if (states.includes('ringing')) return { state: 'ringing' };
    return { ...this.choice };
  }

  /** Recomputes the view; publishes at once when it changed. */
  private update(): Promise<void> {
    const next = { ...this.derived(), since: Date.now() };
    if (samePresence(this.view, next)) return Promise.resolve();
    this.view = next;
    this.opts.log.info('presence changed', { state: next.state, note: next.note });
    return this.publishNow();
  }

  /** Stores the current view; one store at a time, the latest view wins. */
  private publishNow(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.publishing) {
      this.publishAgain = true;
      return this.publishing;
    }
    const run = async () => {
      do {
        this.publishAgain = false;
        const record: PresenceRecord = { state: this.view.state as PresenceState, since: this.view.since };
        if (this.view.note) record.note = this.view.note;
        try {
          const value = this.opts.overlay.sign(
            this.resource,
            'PRESENCE',
            encodeJson(record),
            this.lifetimeMs,
          );
          await this.opts.overlay.store([value]);
        } catch (err) {
          this.opts.log.warn('presence store failed (retried at the next refresh)', { error: String(err) });
        }
      } while (this.publishAgain && !this.closed);
    };
    this.publishing = run().finally(() => {
      this.publishing = null;
    });
    return this.publishing;
  }

  private scheduleRefresh(): void {
    if (this.closed) return;
    const every = this.opts.refreshMs ?? Math.floor(this.lifetimeMs / 3);
    this.refreshTimer = setTimeout(() => {
      void this.publishNow().finally(() => this.scheduleRefresh());
    }, every);
    this.refreshTimer.unref();
  }

  // --- USER-SETTINGS.dnd ----------------------------------------------------------------------------

  private async readSettings(): Promise<UserSettingsData> {
    return this.opts.pbx.getUserSettings();
  }

  /** Read-modify-write: every other field of USER-SETTINGS stays as it was. */
  private async writeDnd(dnd: boolean): Promise<void> {
    try {
      await this.opts.pbx.updateUserSettings({ dnd });
    } catch (err) {
      this.opts.log.error('USER-SETTINGS.dnd not written', { dnd, error: String(err) });
      throw err;
    }
  }

  private nameOf(extension: string): string {
    return userResourceName(extension, this.opts.identity.office);
  }
}
