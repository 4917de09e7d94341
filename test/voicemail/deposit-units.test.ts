// The voicemail's pieces without a network: the committed prompts load as real speech at 8 kHz,
// the playlist plays clips in order and a key can cut them short, the recorder keeps only what
// comes after the beep and tells silence from a tone, the PIN check, and the routing targets.
import { describe, expect, it } from 'vitest';
import { rms } from '../../src/core/media/silence.ts';
import { sine } from '../../src/core/media/tones.ts';
import { encodeWav } from '../../src/core/media/wav.ts';
import type { StoredValue } from '../../src/core/records/types.ts';
import { CertificateVerifier } from '../../src/core/security/certificate-verifier.ts';
import type { Identity } from '../../src/main/identity/identity.ts';
import { createLogger } from '../../src/main/log.ts';
import type { PbxOverlay } from '../../src/main/pbx/overlay-directory.ts';
import { ownerCertificate, storeDeposit } from '../../src/main/voicemail/box-records.ts';
import { MessageRecorder, Playlist } from '../../src/main/voicemail/call-audio.ts';
import { voicemailPinHash } from '../../src/main/voicemail/mailbox.ts';
import { PROMPT_TEXTS } from '../../src/main/voicemail/prompt-texts.ts';
import { loadPrompts } from '../../src/main/voicemail/prompts.ts';
import { pinMatches } from '../../src/main/voicemail/voicemail-pin.ts';
import { makeOffice } from '../unit/security/fixtures.ts';

describe('voicemail prompts', () => {
  it('every default prompt is committed, loads at 8 kHz and is speech (not the silent fallback)', async () => {
    const errors: string[] = [];
    const log = createLogger({});
    const prompts = await loadPrompts({ ...log, error: (m) => errors.push(m), child: () => log });
    expect(errors).toEqual([]);
    for (const name of Object.keys(PROMPT_TEXTS) as Array<keyof typeof PROMPT_TEXTS>) {
      const pcm = prompts[name];
      expect(pcm.length / 8000, name).toBeGreaterThan(0.8);
      expect(rms(pcm), name).toBeGreaterThan(300);
    }
  });
});

describe('Playlist', () => {
  it('plays clips back to back, resolves each at its end, and stop() cuts the rest', async () => {
    const p = new Playlist();
    const a = p.play(new Int16Array(200).fill(1));
    const b = p.play(new Int16Array(200).fill(2));
    const first = p.read(160);
    expect([...first].every((x) => x === 1)).toBe(true);
    const second = p.read(160);
    expect(second[39]).toBe(1);
    expect(second[40]).toBe(2);
    expect(await a).toBe(true);
    p.stop();
    expect(await b).toBe(false);
    expect(p.playing).toBe(false);
    expect([...p.read(160)].every((x) => x === 0)).toBe(true);
  });
});

describe('MessageRecorder', () => {
  it('records only while armed, caps at the limit, and measures voiced audio', () => {
    const r = new MessageRecorder({ maxMs: 1000 });
    r.write(sine(440, 20), 'audio'); // before the beep: not kept
    expect(r.durationMs).toBe(0);
    r.start();
    for (let i = 0; i < 10; i++) r.write(new Int16Array(160), 'silence');
    expect(r.voicedMs).toBe(0);
    for (let i = 0; i < 100; i++) r.write(sine(440, 20), 'audio');
    expect(r.durationMs).toBe(1000); // 200 ms of silence + 800 ms of tone, then the cap
    expect(r.voicedMs).toBe(800);
    r.stop();
    r.write(sine(440, 20), 'audio');
    expect(r.samples.length).toBe(8000);
  });

  it('grows past its first 10 s buffer without losing audio', () => {
    const r = new MessageRecorder({ maxMs: 30_000 });
    r.start();
    for (let i = 0; i < 1250; i++) r.write(new Int16Array(160).fill(i % 1000), 'audio'); // 25 s
    const s = r.samples;
    expect(s.length).toBe(25 * 8000);
    expect([s[0], s[160 * 700], s[160 * 1249 + 159]]).toEqual([0, 700, 249]);
  });
});

describe('PIN', () => {
  it('matches the USER-SETTINGS hash of office:ext:pin only', () => {
    const stored = voicemailPinHash('acme', '101', '2468');
    expect(pinMatches('acme', '101', '2468', stored)).toBe(true);
    expect(pinMatches('acme', '101', '2469', stored)).toBe(false);
    expect(pinMatches('acme', '102', '2468', stored)).toBe(false);
    expect(pinMatches('acme', '101', '2468', 'not-hex')).toBe(false);
  });
});

describe('deposit records', () => {
  const office = makeOffice('acme');
  const owner = office.enroll('104@acme', { now: Date.now() - 60_000 });
  const depositor = office.enroll('101@acme', { now: Date.now() - 60_000 });
  const identity = {
    office: 'acme',
    extension: '101',
    user: '101@acme',
    certPem: depositor.certificatePem,
    keyPem: depositor.keyPair.privateKeyPem,
    caPem: office.ca.certificatePem,
  } as Identity;
  const logged: Array<{ level: string; msg: string; fields?: Record<string, unknown> }> = [];
  const log = {
    debug: () => {},
    info: () => {},
    warn: (msg: string, fields?: Record<string, unknown>) => logged.push({ level: 'warn', msg, fields }),
    error: (msg: string, fields?: Record<string, unknown>) => logged.push({ level: 'error', msg, fields }),
    child: () => log,
  };
  /** An overlay whose store answers come from `answers` in turn (a number of copies, or a refusal). */
  function fakeOverlay(answers: Array<number | Error>, values: Record<string, StoredValue[]> = {}) {
    const stored: StoredValue[][] = [];
    const overlay: PbxOverlay = {
      nodeId: depositor.nodeId,
      user: depositor.user,
      sign: () => {
        throw new Error('not used');
      },
      store: async (v) => {
        stored.push(v);
        const a = answers[Math.min(answers.length - 1, Math.floor((stored.length - 1) / 2))];
        if (a instanceof Error) throw a;
        return { copies: a };
      },
      fetch: async (resource) => ({ values: values[resource] ?? [] }),
      watch: async () => ({ cancel: () => {} }),
    };
    return { overlay, stored };
  }
  const request = {
    extension: '104',
    certificatePem: owner.certificatePem,
    wav: encodeWav({ sampleRate: 8000, samples: sine(440, 500) }),
    from: '201',
    time: Date.now(),
    durationMs: 500,
    lifetimeMs: 86_400_000,
    attempts: 3,
  };

  it('fewer than 3 copies: logged with context and stored again, re-signed newer, until 3', async () => {
    logged.length = 0;
    const { overlay, stored } = fakeOverlay([2, 3]);
    const r = await storeDeposit(overlay, identity, request, log);
    expect(r.copies).toBe(3);
    expect(stored.length).toBe(4); // chunks + entry, twice
    expect(logged).toEqual([
      expect.objectContaining({ level: 'error', msg: 'voicemail stored with too few copies' }),
    ]);
    expect(logged[0].fields).toMatchObject({ owner: '104@acme', copies: 2, wanted: 3, attempt: 1 });
    // The retry carries the same bytes, newer.
    expect(stored[2][0].value).toEqual(stored[0][0].value);
    expect(stored[2][0].storageTime).toBeGreaterThan(stored[0][0].storageTime);
    expect(stored[3][0].key).toBe(r.entryId);
  });

  it('bounded: gives up after the attempts with the best count, or throws when nothing was stored', async () => {
    const two = fakeOverlay([2]);
    expect((await storeDeposit(two.overlay, identity, request, log)).copies).toBe(2);
    expect(two.stored.length).toBe(6);
    const none = fakeOverlay([new Error('no route')]);
    await expect(storeDeposit(none.overlay, identity, request, log)).rejects.toThrow(/not stored after 3/);
  });

  it("the owner's certificate must come from the office CA and name the box's user", async () => {
    const verifier = new CertificateVerifier(office.ca.certificatePem);
    const record = (pem: string, signer = owner) =>
      signer.signer.sign({
        resourceName: '104@acme',
        kind: 'CERTIFICATE',
        value: new TextEncoder().encode(pem),
        storageTime: Date.now(),
        lifetime: 86_400_000,
      });
    const good = fakeOverlay([3], { '104@acme': [record(owner.certificatePem)] });
    expect(await ownerCertificate(good.overlay, verifier, '104@acme', Date.now())).toEqual({
      ok: true,
      pem: owner.certificatePem,
    });
    const stranger = makeOffice('acme').enroll('104@acme', { now: Date.now() - 60_000 });
    const foreign = fakeOverlay([3], { '104@acme': [record(stranger.certificatePem)] });
    expect((await ownerCertificate(foreign.overlay, verifier, '104@acme', Date.now())).ok).toBe(false);
    const other = fakeOverlay([3], { '104@acme': [record(depositor.certificatePem)] });
    expect(await ownerCertificate(other.overlay, verifier, '104@acme', Date.now())).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/101@acme/),
    });
    const empty = fakeOverlay([3]);
    expect(await ownerCertificate(empty.overlay, verifier, '104@acme', Date.now())).toEqual({
      ok: false,
      reason: 'no CERTIFICATE record',
    });
  });
});
