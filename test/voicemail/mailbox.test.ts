// The owner's Mailbox against an in-memory office overlay that checks every write with the real
// validator (signatures, DEPOSIT and USER-MATCH policies) and notifies watchers like a responsible
// peer: listing, live 'new' events, decryption only by the owner, heard/delete, greetings, PIN.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeWav } from '../../src/core/media/wav.ts';
import { checkedPut } from '../../src/core/records/checked-put.ts';
import { resourceIdFromName } from '../../src/core/records/ids.ts';
import { decodeJson, encodeJson, type UserSettingsData } from '../../src/core/records/kinds.ts';
import { MemoryRecordStore } from '../../src/core/records/memory-store.ts';
import { greetingResourceName } from '../../src/core/records/resource-names.ts';
import type { KindName, StoredValue } from '../../src/core/records/types.ts';
import { nodeSignatureProvider } from '../../src/core/security/signature-provider.ts';
import { OfficeValueValidator } from '../../src/core/security/value-validator.ts';
import {
  buildVoicemailDeposit,
  markVoicemailHeard,
  readVoicemailEntry,
} from '../../src/core/security/voicemail-deposit.ts';
import { createLogger, type Logger } from '../../src/main/log.ts';
import { PeerSigner } from '../../src/main/overlay/peer-signer.ts';
import type { PbxOverlay } from '../../src/main/pbx/overlay-directory.ts';
import { Mailbox, type MailboxEvent, voicemailPinHash } from '../../src/main/voicemail/mailbox.ts';
import { pinMatches } from '../../src/main/voicemail/voicemail-pin.ts';
import { makeOffice, type TestPeer } from '../unit/security/fixtures.ts';

const office = makeOffice('office');
const enrolled = (user: string) => office.enroll(user, { now: Date.now() - 60_000 });
const owner = enrolled('101@office');
const caller = enrolled('102@office');
const other = enrolled('103@office');
const DAY = 86_400_000;

/** One office's records in memory; every member's overlay writes through the real validator. */
class MemoryOffice {
  readonly store = new MemoryRecordStore();
  readonly validator = new OfficeValueValidator({
    caCertificatePem: office.ca.certificatePem,
    signatures: nodeSignatureProvider(),
  });
  private readonly watchers = new Map<string, Set<(v: StoredValue[]) => void>>();

  overlay(peer: TestPeer): PbxOverlay & { fetches: number } {
    const signer = new PeerSigner(peer.certificatePem, peer.keyPair.privateKeyPem);
    const ring = this;
    return {
      nodeId: peer.nodeId,
      user: peer.user,
      fetches: 0,
      sign: (name, kind, value, lifetime, opts) => signer.sign(name, kind, value, lifetime, opts),
      async store(values) {
        return ring.put(values);
      },
      async fetch(name: string, kind?: KindName, key?: string) {
        this.fetches++;
        return { values: ring.store.get(resourceIdFromName(name), Date.now(), kind, key) };
      },
      async watch(name: string, kind: KindName | undefined, cb: (v: StoredValue[]) => void) {
        const set = ring.watchers.get(name) ?? new Set();
        const filtered = (vs: StoredValue[]) => cb(kind ? vs.filter((v) => v.kind === kind) : vs);
        set.add(filtered);
        ring.watchers.set(name, set);
        return { cancel: () => set.delete(filtered) };
      },
    };
  }

  put(values: StoredValue[]): { copies: number } {
    for (const v of values) {
      const r = checkedPut(this.store, this.validator, v, Date.now());
      if (!r.ok) throw new Error(`${r.code}: ${r.reason}`);
    }
    for (const name of new Set(values.map((v) => v.resourceName))) this.notify(name);
    return { copies: 3 };
  }

  /** A value the validator would refuse, as a broken replica could still hand out. */
  inject(v: StoredValue): void {
    this.store.put(v);
    this.notify(v.resourceName);
  }

  private notify(name: string): void {
    const values = this.store.get(resourceIdFromName(name), Date.now());
    for (const cb of this.watchers.get(name) ?? []) cb(values);
  }
}

function toneWav(hz: number, seconds: number): Uint8Array {
  const samples = new Int16Array(8000 * seconds);
  for (let i = 0; i < samples.length; i++)
    samples[i] = Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / 8000));
  return encodeWav({ sampleRate: 8000, samples });
}

function deposit(net: MemoryOffice, audio: Uint8Array, time = Date.now(), store = true) {
  const d = buildVoicemailDeposit({
    owner: owner.user,
    ownerCertificatePem: owner.certificatePem,
    audio,
    from: '102',
    time,
    duration: 1000,
    unique: randomBytes(6).toString('hex'),
    signer: caller.signer,
    now: Date.now(),
    lifetime: 30 * DAY,
    random: (n) => new Uint8Array(randomBytes(n)),
  });
  if (store) net.put([d.entry, ...d.chunks]);
  return d;
}

/** A logger that remembers warnings (malformed entries must be reported). */
function recordingLog(): Logger & { warnings: Array<{ msg: string; fields?: Record<string, unknown> }> } {
  const warnings: Array<{ msg: string; fields?: Record<string, unknown> }> = [];
  const base = createLogger({ test: 'mailbox' });
  const log = {
    warnings,
    debug: () => {},
    info: () => {},
    warn: (msg: string, fields?: Record<string, unknown>) => warnings.push({ msg, fields }),
    error: base.error,
    child: () => log,
  };
  return log;
}

const identityOf = (p: TestPeer, extension = p.user.split('@')[0]) => ({
  extension,
  office: 'office',
  certPem: p.certificatePem,
  keyPem: p.keyPair.privateKeyPem,
});

const boxes: Mailbox[] = [];
async function startBox(net: MemoryOffice, peer = owner, extension?: string, log: Logger = recordingLog()) {
  const m = await Mailbox.start({
    overlay: net.overlay(peer),
    identity: identityOf(peer, extension),
    log,
    pollMs: 0,
  });
  boxes.push(m);
  return m;
}
afterEach(() => {
  for (const b of boxes.splice(0)) b.close();
});

describe('Mailbox', () => {
  it('lists on start what was deposited while offline (newest first) and decrypts it', async () => {
    const net = new MemoryOffice();
    const older = deposit(net, toneWav(440, 1), Date.now() - 60_000);
    const newer = deposit(net, toneWav(700, 2));
    const box = await startBox(net);
    expect(box.list().map((m) => m.id)).toEqual([newer.entryId, older.entryId]);
    expect(box.list()[0]).toMatchObject({ from: '102', duration: 1000, heard: false });
    expect(Buffer.from(await box.audio(newer.entryId)).equals(Buffer.from(toneWav(700, 2)))).toBe(true);
  });

  it('a deposit while online raises "new" through the watch, without a fetch', async () => {
    const net = new MemoryOffice();
    const overlay = net.overlay(owner);
    const box = await Mailbox.start({ overlay, identity: identityOf(owner), log: recordingLog(), pollMs: 0 });
    boxes.push(box);
    const events: MailboxEvent[] = [];
    box.on((e) => events.push(e));
    const fetches = overlay.fetches;
    const d = deposit(net, toneWav(440, 1));
    expect(events).toEqual([
      { type: 'new', message: expect.objectContaining({ id: d.entryId, from: '102' }) },
    ]);
    expect(box.list().map((m) => m.id)).toEqual([d.entryId]);
    expect(overlay.fetches).toBe(fetches);
    // A message that arrives already heard (marked on another PC of 101) is listed, not announced.
    const e2 = deposit(net, toneWav(500, 1), Date.now(), false);
    const meta = readVoicemailEntry(e2.entry);
    if (!meta.ok) throw new Error(meta.error);
    net.put([...e2.chunks, markVoicemailHeard(e2.entry, meta.meta, owner.signer, Date.now())]);
    expect(events.filter((e) => e.type === 'new')).toHaveLength(1);
    expect(events.at(-1)).toEqual({ type: 'changed' });
    expect(box.list().find((m) => m.id === e2.entryId)?.heard).toBe(true);
  });

  it('skips a malformed entry with a warning naming it, and keeps the good ones', async () => {
    const net = new MemoryOffice();
    const good = deposit(net, toneWav(440, 1));
    const bad = caller.signer.sign({
      resourceName: owner.user,
      kind: 'VOICEMAIL',
      key: `${caller.nodeId}-bad`,
      value: encodeJson({ id: 'something-else', from: 7 }),
      storageTime: Date.now(),
      lifetime: DAY,
    });
    net.inject(bad);
    const log = recordingLog();
    const box = await startBox(net, owner, undefined, log);
    expect(box.list().map((m) => m.id)).toEqual([good.entryId]);
    expect(log.warnings).toContainEqual({
      msg: 'malformed voicemail entry skipped',
      fields: expect.objectContaining({ id: `${caller.nodeId}-bad`, writer: '102@office' }),
    });
  });

  it('heard and delete are signed by the owner and reach the replicas; unknown ids fail clearly', async () => {
    const net = new MemoryOffice();
    const d = deposit(net, toneWav(440, 1));
    const box = await startBox(net);
    const events: MailboxEvent[] = [];
    box.on((e) => events.push(e));
    await box.markHeard(d.entryId);
    const stored = net.store.get(resourceIdFromName(owner.user), Date.now(), 'VOICEMAIL', d.entryId)[0];
    expect(stored.signer.user).toBe('101@office');
    expect(decodeJson<{ heard: boolean }>(stored.value)).toMatchObject({ ok: true, value: { heard: true } });
    expect(box.list()[0].heard).toBe(true);
    await box.delete(d.entryId);
    expect(box.list()).toEqual([]);
    expect(net.store.get(resourceIdFromName(owner.user), Date.now(), 'VOICEMAIL')[0].exists).toBe(false);
    expect(net.store.get(d.chunks[0].resourceId, Date.now())[0].exists).toBe(false);
    expect(events.filter((e) => e.type === 'changed').length).toBeGreaterThanOrEqual(2);
    await expect(box.audio(d.entryId)).rejects.toThrow(/no voicemail message .* in the box of 101@office/);
  });

  it('another member can neither open nor delete the message; it stays', async () => {
    const net = new MemoryOffice();
    const d = deposit(net, toneWav(440, 1));
    // 103 points a Mailbox at 101's box: it sees the metadata (MWI needs that), not the audio.
    const intruder = await startBox(net, other, '101');
    expect(intruder.list().map((m) => m.id)).toEqual([d.entryId]);
    await expect(intruder.audio(d.entryId)).rejects.toThrow(/cannot be opened with this peer's key/);
    await expect(intruder.delete(d.entryId)).rejects.toThrow(/forbidden.*only 101@office may delete/);
    await expect(intruder.markHeard(d.entryId)).rejects.toThrow(/forbidden/);
    const box = await startBox(net);
    expect(box.list()).toMatchObject([{ id: d.entryId, heard: false }]);
    expect((await box.audio(d.entryId)).length).toBeGreaterThan(0);
  });

  it('greetings: WAV only, at most 512 KiB, stored under the greeting name, removable', async () => {
    const net = new MemoryOffice();
    const box = await startBox(net);
    expect(await box.getGreeting('busy')).toBeNull();
    await expect(box.setGreeting('busy', new TextEncoder().encode('not a wav file at all'))).rejects.toThrow(
      /not a usable WAV/,
    );
    await expect(box.setGreeting('busy', toneWav(440, 40))).rejects.toThrow(/at most 524288/);
    const wav = toneWav(440, 3);
    await box.setGreeting('busy', wav);
    expect(Buffer.from((await box.getGreeting('busy')) ?? []).equals(Buffer.from(wav))).toBe(true);
    expect(await box.getGreeting('unavailable')).toBeNull();
    const v = net.store.get(resourceIdFromName(greetingResourceName(owner.user, 'busy')), Date.now())[0];
    expect(v.signer.user).toBe('101@office');
    await box.setGreeting('busy', null);
    expect(await box.getGreeting('busy')).toBeNull();
  });

  it('a member going down re-registers the watch (the responsible peer may have changed) and refetches', async () => {
    const net = new MemoryOffice();
    const base = net.overlay(owner);
    let watches = 0;
    const events = new EventEmitter();
    const overlay = Object.assign(events, {
      nodeId: base.nodeId,
      user: base.user,
      sign: base.sign,
      store: base.store,
      fetch: (...a: Parameters<typeof base.fetch>) => base.fetch(...a),
      watch: (...a: Parameters<typeof base.watch>) => {
        watches++;
        return base.watch(...a);
      },
    });
    const box = await Mailbox.start({ overlay, identity: identityOf(owner), log: recordingLog(), pollMs: 0 });
    boxes.push(box);
    expect(watches).toBe(1);
    const fetches = base.fetches;
    events.emit('member-down', { nodeId: 'x' });
    events.emit('member-up', { nodeId: 'y' }); // coalesced with the first
    await new Promise((r) => setTimeout(r, 1300));
    expect(watches).toBe(2);
    expect(base.fetches).toBe(fetches + 1);
    const d = deposit(net, toneWav(440, 1));
    expect(box.list().map((m) => m.id)).toEqual([d.entryId]); // one live watch, one 'new'
    box.close();
    expect(events.listenerCount('member-down')).toBe(0);
  });

  it('setPin writes the PIN hash and keeps DND and forwarding', async () => {
    const net = new MemoryOffice();
    const ownOverlay = net.overlay(owner);
    const settings: UserSettingsData = { dnd: true, forwardBusy: '103', noAnswerMs: 15_000 };
    await ownOverlay.store([ownOverlay.sign(owner.user, 'USER-SETTINGS', encodeJson(settings), DAY)]);
    const box = await startBox(net);
    await expect(box.setPin('12a4')).rejects.toThrow(/4 to 12 digits/);
    await box.setPin('4321');
    const v = net.store.get(resourceIdFromName(owner.user), Date.now(), 'USER-SETTINGS')[0];
    expect(decodeJson<UserSettingsData>(v.value)).toEqual({
      ok: true,
      value: { ...settings, voicemailPinHash: voicemailPinHash('office', '101', '4321') },
    });
    // What *97 checks (helper vm-deposit's side) accepts it, and nothing else.
    const stored =
      (decodeJson<UserSettingsData>(v.value) as { value: UserSettingsData }).value.voicemailPinHash ?? '';
    expect(pinMatches('office', '101', '4321', stored)).toBe(true);
    expect(pinMatches('office', '101', '4322', stored)).toBe(false);
  });
});
