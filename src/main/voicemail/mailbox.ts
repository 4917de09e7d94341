// The owner's side of this user's voicemail box (issue 6). The VOICEMAIL dictionary at the user's
// resource is watched at its responsible peer, so a deposit made while this peer is online is
// listed within a second; a fetch on start finds what was deposited while it was off; a slow poll
// covers a watch lost with a crashed responsible peer until the node re-registers it. Only this
// peer holds the key that opens the audio; heard and delete are signed with the owner's
// certificate, so replicas accept them from nobody else (DEPOSIT policy).
import { createHash } from 'node:crypto';
import { decodeWav } from '../../core/media/wav.ts';
import {
  decodeJson,
  encodeJson,
  KINDS,
  type UserSettingsData,
  type VoicemailEntryData,
} from '../../core/records/kinds.ts';
import {
  type GreetingName,
  greetingResourceName,
  userResourceName,
} from '../../core/records/resource-names.ts';
import { isLive } from '../../core/records/slot.ts';
import type { StoredValue } from '../../core/records/types.ts';
import { nodeSignatureProvider } from '../../core/security/signature-provider.ts';
import { ValueSigner } from '../../core/security/value-signing.ts';
import {
  deleteVoicemail,
  markVoicemailHeard,
  openVoicemail,
  readVoicemailEntry,
  voicemailChunkNames,
} from '../../core/security/voicemail-deposit.ts';
import type { Identity } from '../identity/identity.ts';
import type { Logger } from '../log.ts';
import type { OfficePbx } from '../pbx/office-pbx.ts';
import type { PbxOverlay } from '../pbx/overlay-directory.ts';
import { nativeVoicemailCipher } from './native-cipher.ts';

export interface MailboxMessage {
  id: string;
  from: string;
  time: number;
  duration: number;
  heard: boolean;
}

/** 'new': a message not seen before; 'changed': a message was marked heard, deleted or expired. */
export type MailboxEvent = { type: 'new'; message: MailboxMessage } | { type: 'changed' };

export type GreetingKind = GreetingName;

/** What the Mailbox needs of the identity: who owns the box and the key that opens it. */
export type MailboxIdentity = Pick<Identity, 'extension' | 'office' | 'certPem' | 'keyPem'>;

export interface MailboxOptions {
  overlay: PbxOverlay;
  identity: MailboxIdentity;
  log: Logger;
  /** Fallback poll of the box (the watch is the fast path). Default 30 s; 0 = none. */
  pollMs?: number;
  /** Watch registration lifetime at the responsible peer (refreshed at half-life). Default 20 s. */
  watchLifetimeMs?: number;
  /** The peer's serialized USER-SETTINGS read-modify-write (OfficePbx); without it setPin does its own. */
  settings?: Pick<OfficePbx, 'updateUserSettings'>;
}

export const MAX_GREETING_BYTES = KINDS.GREETING.maxValueSize;
const GREETING_LIFETIME_MS = KINDS.GREETING.maxLifetime;
const SETTINGS_LIFETIME_MS = KINDS['USER-SETTINGS'].maxLifetime;
/** After a member event, the ring settles this long before the watch is registered again. */
const REWATCH_DELAY_MS = 1000;
/** A chunk fetch that fails (a holder just died) is asked again this many times. */
const CHUNK_ATTEMPTS = 3;
/** Native AES-GCM and RSA-OAEP: playback decrypts the whole message before it starts. */
const nativeCipher = nativeVoicemailCipher();

/** USER-SETTINGS.voicemailPinHash (interfaces.md): hex SHA-256 of `${office}:${ext}:${pin}`. */
export function voicemailPinHash(office: string, extension: string, pin: string): string {
  return createHash('sha256').update(`${office}:${extension}:${pin}`).digest('hex');
}

/** A PIN typed on a phone keypad: 4 to 12 digits. */
export function checkPin(pin: string): string | null {
  return /^[0-9]{4,12}$/.test(pin) ? null : 'a voicemail PIN is 4 to 12 digits';
}

/** Why a greeting file cannot be used, or null: a readable WAV of at most 512 KiB. */
export function checkGreetingWav(wav: Uint8Array): string | null {
  if (wav.length > MAX_GREETING_BYTES)
    return `greeting is ${wav.length} bytes; at most ${MAX_GREETING_BYTES} (512 KiB)`;
  const d = decodeWav(wav);
  return d.ok ? null : `greeting is not a usable WAV file: ${d.error.reason}`;
}

interface Slot {
  /** The newest value seen for this entry id: a live entry, or null once deleted/unreadable. */
  value: StoredValue | null;
  meta: VoicemailEntryData | null;
  storageTime: number;
}

export class Mailbox {
  /** "101@office": the VOICEMAIL dictionary's resource name. */
  readonly owner: string;
  private readonly slots = new Map<string, Slot>();
  private readonly listeners = new Set<(e: MailboxEvent) => void>();
  private readonly signer: ValueSigner;
  private readonly log: Logger;
  private cancelWatch: (() => void) | null = null;
  private poll: ReturnType<typeof setInterval> | null = null;
  private rewatchTimer: ReturnType<typeof setTimeout> | null = null;
  private offMembership: (() => void) | null = null;
  private closed = false;
  private lastSignTime = 0;

  private constructor(private readonly opts: MailboxOptions) {
    const id = opts.identity;
    this.owner = userResourceName(id.extension, id.office);
    this.log = opts.log;
    // Heard/delete must be signed as the owner: the same certificate and key the overlay signs with.
    this.signer = new ValueSigner(
      { nodeId: opts.overlay.nodeId, user: opts.overlay.user, certificate: id.certPem },
      id.keyPem,
      nodeSignatureProvider(),
    );
  }

  static async start(opts: MailboxOptions): Promise<Mailbox> {
    const m = new Mailbox(opts);
    await m.ensureWatch();
    try {
      await m.refresh();
    } catch (err) {
      m.log.warn('voicemail box not fetched on start: will poll', { owner: m.owner, error: String(err) });
    }
    m.followMembership();
    const pollMs = opts.pollMs ?? 30_000;
    if (pollMs > 0) {
      m.poll = setInterval(() => {
        void m.ensureWatch();
        m.refresh().catch((err: unknown) =>
          m.log.warn('voicemail poll failed', { owner: m.owner, error: String(err) }),
        );
      }, pollMs);
      m.poll.unref();
    }
    return m;
  }

  /** Live messages, newest first. */
  list(): MailboxMessage[] {
    const now = Date.now();
    const out: MailboxMessage[] = [];
    for (const s of this.slots.values())
      if (s.value && s.meta && isLive(s.value, now)) out.push(messageOf(s.meta));
    return out.sort((a, b) => b.time - a.time || (a.id < b.id ? -1 : 1));
  }

  async refresh(): Promise<MailboxMessage[]> {
    const r = await this.opts.overlay.fetch(this.owner, 'VOICEMAIL');
    this.apply(r.values);
    return this.list();
  }

  on(listener: (e: MailboxEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async audio(id: string): Promise<Uint8Array> {
    const { value, meta } = await this.entry(id);
    const names = voicemailChunkNames(this.owner, meta);
    const started = Date.now();
    this.log.info('fetching voicemail audio', { id, chunks: names.length, bytes: meta.size });
    let done = 0;
    const chunks = await Promise.all(
      names.map(async (name, i) => {
        const v = await this.fetchChunk(name, i, id);
        done++;
        this.log.debug('voicemail chunk fetched', { id, chunk: i, done, of: names.length });
        return v;
      }),
    );
    const opened = openVoicemail(value, chunks, this.opts.identity.keyPem, nativeCipher);
    if (!opened.ok) {
      const missing = chunks.filter((c) => !c).length;
      throw new Error(
        missing > 0
          ? `voicemail ${id}: ${missing} of ${names.length} audio chunks could not be fetched (${opened.error})`
          : `voicemail ${id} cannot be opened with this peer's key (${this.owner}): ${opened.error}`,
      );
    }
    this.log.info('voicemail opened', {
      id,
      chunks: names.length,
      bytes: opened.audio.length,
      ms: Date.now() - started,
    });
    return opened.audio;
  }

  async markHeard(id: string): Promise<void> {
    const { value, meta } = await this.entry(id);
    if (meta.heard) return;
    const heard = markVoicemailHeard(value, meta, this.signer, this.signTime());
    await this.storeOwn([heard], `mark voicemail ${id} heard`);
    this.apply([heard]);
  }

  async delete(id: string): Promise<void> {
    const { value, meta } = await this.entry(id);
    const tombstones = deleteVoicemail(value, meta, this.signer, this.signTime());
    await this.storeOwn(tombstones, `delete voicemail ${id}`);
    this.apply(tombstones.filter((t) => t.kind === 'VOICEMAIL'));
  }

  async getGreeting(kind: GreetingKind): Promise<Uint8Array | null> {
    const r = await this.opts.overlay.fetch(greetingResourceName(this.owner, kind), 'GREETING');
    const now = Date.now();
    const live = r.values.filter((v) => v.kind === 'GREETING' && v.exists && isLive(v, now));
    live.sort((a, b) => b.storageTime - a.storageTime);
    return live[0]?.value ?? null;
  }

  /** Stores (or with null removes) a greeting; refuses what is not a WAV of at most 512 KiB. */
  async setGreeting(kind: GreetingKind, wav: Uint8Array | null): Promise<void> {
    if (kind !== 'unavailable' && kind !== 'busy') throw new Error(`unknown greeting kind ${String(kind)}`);
    const bad = wav ? checkGreetingWav(wav) : null;
    if (bad) throw new Error(bad);
    const name = greetingResourceName(this.owner, kind);
    const value = wav
      ? this.opts.overlay.sign(name, 'GREETING', wav, GREETING_LIFETIME_MS)
      : this.opts.overlay.sign(name, 'GREETING', new Uint8Array(0), GREETING_LIFETIME_MS, { exists: false });
    await this.storeOwn([value], `store the ${kind} greeting`);
    this.log.info(wav ? 'greeting stored' : 'greeting removed', { kind, bytes: wav?.length ?? 0 });
  }

  /** Sets the *97 PIN: USER-SETTINGS read, voicemailPinHash replaced, every other field kept. */
  async setPin(pin: string): Promise<void> {
    const bad = checkPin(pin);
    if (bad) throw new Error(bad);
    const { extension, office } = this.opts.identity;
    const patch = { voicemailPinHash: voicemailPinHash(office, extension, pin) };
    if (this.opts.settings) {
      await this.opts.settings.updateUserSettings(patch).catch((err: unknown) => {
        throw new Error(
          `could not store the voicemail PIN: ${err instanceof Error ? err.message : String(err)}`,
        );
      });
    } else {
      const next: UserSettingsData = { ...(await this.userSettings()), ...patch };
      const value = this.opts.overlay.sign(
        this.owner,
        'USER-SETTINGS',
        encodeJson(next),
        SETTINGS_LIFETIME_MS,
      );
      await this.storeOwn([value], 'store the voicemail PIN');
    }
    this.log.info('voicemail PIN set', { owner: this.owner });
  }

  close(): void {
    this.closed = true;
    this.cancelWatch?.();
    this.cancelWatch = null;
    if (this.poll) clearInterval(this.poll);
    this.poll = null;
    if (this.rewatchTimer) clearTimeout(this.rewatchTimer);
    this.offMembership?.();
    this.listeners.clear();
  }

  // ------------------------------------------------------------------ internals

  private watching: Promise<void> | null = null;

  /** Registers the box's watch unless one is registered or being registered. */
  private ensureWatch(): Promise<void> {
    if (this.cancelWatch || this.closed) return Promise.resolve();
    this.watching ??= this.registerWatch().finally(() => {
      this.watching = null;
    });
    return this.watching;
  }

  private async registerWatch(): Promise<void> {
    try {
      const w = await this.opts.overlay.watch(
        this.owner,
        'VOICEMAIL',
        (values) => this.apply(values),
        this.opts.watchLifetimeMs ?? 20_000,
      );
      if (this.closed) w.cancel();
      else this.cancelWatch = w.cancel;
    } catch (err) {
      this.log.warn('voicemail watch not registered: polling until it is', {
        owner: this.owner,
        error: String(err),
      });
    }
  }

  /**
   * When a member goes or comes, the box's responsible peer may have changed: the watch is
   * registered again at once (not at its next refresh) and the box fetched, so a deposit made
   * after a crash is still listed promptly. Needs an overlay that emits member events
   * (OverlayRuntime does); a plain PbxOverlay keeps the refresh and the poll.
   */
  private followMembership(): void {
    const events = this.opts.overlay as Partial<{
      on(e: string, l: () => void): unknown;
      off(e: string, l: () => void): unknown;
    }>;
    if (typeof events.on !== 'function' || typeof events.off !== 'function') return;
    const changed = () => {
      if (this.closed || this.rewatchTimer) return;
      this.rewatchTimer = setTimeout(() => {
        this.rewatchTimer = null;
        this.cancelWatch?.();
        this.cancelWatch = null;
        void this.ensureWatch().then(() =>
          this.refresh().catch((err: unknown) =>
            this.log.warn('voicemail refresh after a membership change failed', { error: String(err) }),
          ),
        );
      }, REWATCH_DELAY_MS);
      this.rewatchTimer.unref();
    };
    events.on('member-down', changed);
    events.on('member-up', changed);
    this.offMembership = () => {
      events.off?.('member-down', changed);
      events.off?.('member-up', changed);
    };
  }

  /** Merges values of the box (a fetch answer, a watch notification, our own writes): newer wins. */
  private apply(values: StoredValue[]): void {
    if (this.closed) return;
    const fresh: MailboxMessage[] = [];
    let changed = false;
    for (const v of values) {
      if (v.kind !== 'VOICEMAIL' || v.resourceName !== this.owner) continue;
      const had = this.slots.get(v.key);
      if (had && had.storageTime >= v.storageTime) continue;
      let meta: VoicemailEntryData | null = null;
      if (v.exists) {
        const r = readVoicemailEntry(v);
        if (r.ok) meta = r.meta;
        else
          this.log.warn('malformed voicemail entry skipped', {
            owner: this.owner,
            id: v.key,
            writer: v.signer.user,
            error: r.error,
          });
      }
      this.slots.set(v.key, { value: meta ? v : null, meta, storageTime: v.storageTime });
      // Already heard (on another PC of this user): listed, but nothing new to announce.
      if (meta && !had?.meta && !meta.heard) fresh.push(messageOf(meta));
      else if (meta || had?.meta) changed = true;
    }
    for (const message of fresh) {
      this.log.info('new voicemail', { id: message.id, from: message.from, duration: message.duration });
      this.emit({ type: 'new', message });
    }
    if (changed) this.emit({ type: 'changed' });
  }

  private emit(e: MailboxEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        this.log.warn('voicemail listener failed', { event: e.type, error: String(err) });
      }
    }
  }

  /** A live entry by id (fetched again once when unknown here). */
  private async entry(id: string): Promise<{ value: StoredValue; meta: VoicemailEntryData }> {
    let s = this.slots.get(id);
    if (!s?.value) {
      await this.refresh();
      s = this.slots.get(id);
    }
    if (!s?.value || !s.meta || !isLive(s.value, Date.now()))
      throw new Error(`no voicemail message ${id} in the box of ${this.owner}`);
    return { value: s.value, meta: s.meta };
  }

  private async fetchChunk(name: string, index: number, id: string): Promise<StoredValue | undefined> {
    for (let attempt = 1; ; attempt++) {
      try {
        const r = await this.opts.overlay.fetch(name, 'VOICEMAIL-CHUNK');
        const v = r.values.find((x) => x.kind === 'VOICEMAIL-CHUNK' && x.exists);
        if (v || attempt >= CHUNK_ATTEMPTS) return v;
        this.log.warn('voicemail chunk not found: asking again', { id, chunk: index, attempt });
      } catch (err) {
        if (attempt >= CHUNK_ATTEMPTS) {
          this.log.warn('voicemail chunk fetch failed', { id, chunk: index, error: String(err) });
          return undefined;
        }
        this.log.warn('voicemail chunk fetch failed: asking again', { id, chunk: index, error: String(err) });
      }
      await new Promise((r) => setTimeout(r, 300 * attempt));
    }
  }

  private async userSettings(): Promise<UserSettingsData> {
    const r = await this.opts.overlay.fetch(this.owner, 'USER-SETTINGS');
    const now = Date.now();
    const v = r.values
      .filter((x) => x.kind === 'USER-SETTINGS' && x.exists && isLive(x, now))
      .sort((a, b) => b.storageTime - a.storageTime)[0];
    if (!v) return { dnd: false };
    const d = decodeJson<UserSettingsData>(v.value);
    if (d.ok && typeof d.value === 'object' && d.value !== null) return d.value;
    // Overwriting unreadable settings would lose nothing readable; say so.
    this.log.warn('unreadable USER-SETTINGS replaced', { owner: this.owner });
    return { dnd: false };
  }

  private async storeOwn(values: StoredValue[], what: string): Promise<void> {
    try {
      await this.opts.overlay.store(values);
    } catch (err) {
      throw new Error(`could not ${what}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** Storage times that never repeat (heard then delete in the same millisecond must still order). */
  private signTime(): number {
    this.lastSignTime = Math.max(Date.now(), this.lastSignTime + 1);
    return this.lastSignTime;
  }
}

function messageOf(m: VoicemailEntryData): MailboxMessage {
  return { id: m.id, from: m.from, time: m.time, duration: m.duration, heard: m.heard };
}
