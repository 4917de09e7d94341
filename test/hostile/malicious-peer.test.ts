// An enrolled but malicious peer against an office of real processes. Three honest PCs run
// `peerpbx run` (101 created the office, 102 and 103 joined); a fourth PC enrolled as 104 with a
// valid certificate, but its code is test/helpers/malicious-peer.ts driving OverlayRuntime and
// LinkManager directly. Each attack must be refused by the honest peers and logged by them with
// context (who, what, why). test/sim/overlay-rogue.test.ts proves the same rules in the simulator;
// this is the real-process version (TLS links, SQLite stores, the CLI's enrollment).
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrame } from '../../src/core/overlay/frame.ts';
import { compareIds, resourceIdFromName } from '../../src/core/overlay/ids.ts';
import type { OverlayMessage } from '../../src/core/overlay/messages.ts';
import type { StoredValue } from '../../src/core/records/types.ts';
import { nodeSignatureProvider } from '../../src/core/security/signature-provider.ts';
import { ValueSigner } from '../../src/core/security/value-signing.ts';
import { loadIdentity, openDataDatabase } from '../../src/main/identity/identity.ts';
import { MaliciousPeer } from '../helpers/malicious-peer.ts';
import { killAll, waitFor } from '../helpers/processes.ts';
import {
  createOffice,
  dataDirs,
  invite,
  lookupUntilFound,
  mustSucceed,
  type OfficePeer,
  runPeer,
} from '../office/harness.ts';

const OFFICE = 'acme';
const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const dirs = dataDirs(['a', 'b', 'c', 'evil']);
const honest: OfficePeer[] = [];
let evil: MaliciousPeer;

interface LogLine {
  level: string;
  msg: string;
  [k: string]: unknown;
}

/** Every JSON log line the honest peers wrote since `marks` (per-peer stderr offsets). */
function honestLogSince(marks: number[]): LogLine[] {
  return honest.flatMap((p, i) =>
    p.run
      .stderr()
      .slice(marks[i])
      .split('\n')
      .flatMap((l) => {
        try {
          return [{ ...(JSON.parse(l) as LogLine), proc: i }];
        } catch {
          return [];
        }
      }),
  );
}
const marks = () => honest.map((p) => p.run.stderr().length);

/** The signing identity of an honest PC, read from its data folder (what its own code signs with). */
function signerOf(dataDir: string, nodeId: string): ValueSigner {
  const db = openDataDatabase(dataDir);
  try {
    const id = loadIdentity(dataDir, db);
    return new ValueSigner(
      { nodeId, user: id.user, certificate: id.certPem },
      id.keyPem,
      nodeSignatureProvider(),
    );
  } finally {
    db.close();
  }
}

/** The holder responsible for a resource: its successor among the members' Node-IDs. */
function responsibleFor(resourceName: string): string {
  const rid = resourceIdFromName(resourceName);
  const ids = evil.runtime
    .members()
    .map((m) => m.nodeId)
    .sort(compareIds);
  return ids.find((id) => compareIds(id, rid) >= 0) ?? ids[0];
}

/** A resource name from `candidates` that an honest peer is responsible for (so honest code decides). */
function honestlyHeld(candidates: string[]): string {
  const name = candidates.find((n) => responsibleFor(n) !== evil.nodeId);
  if (!name)
    throw new Error(
      `the malicious peer is responsible for all of ${candidates.join(', ')} (its view: ${evil.runtime.members().length} members)`,
    );
  return name;
}
const ownNames = (tag: string) => Array.from({ length: 8 }, (_, i) => `104@${OFFICE}/${tag}-${i}`);

/** Attempts a store and waits for the honest peers' log line about it. */
async function refusedAndLogged(values: StoredValue[], code: RegExp, logged: RegExp) {
  const before = marks();
  const r = await evil.store(values);
  expect(r.ok, JSON.stringify(r)).toBe(false);
  if (r.ok) throw new Error('stored');
  expect(r.code).toMatch(code);
  const line = await waitFor(
    `honest log line ${logged}`,
    () => honestLogSince(before).find((l) => l.level === 'warn' && logged.test(JSON.stringify(l))),
    10_000,
  );
  // Context: who sent it (the malicious Node-ID) and why.
  expect(JSON.stringify(line)).toContain(evil.nodeId);
  console.log(
    `refused ${r.code}: ${r.reason}\n  logged by process ${line.proc}: ${JSON.stringify(line).slice(0, 400)}`,
  );
  return { result: r, line };
}

describe('an enrolled but malicious peer against an office of real processes', () => {
  beforeAll(async () => {
    await createOffice(dirs.a, OFFICE, '101');
    honest.push(await runPeer(dirs.a));
    const codes = [await invite(dirs.a, '102'), await invite(dirs.a, '103'), await invite(dirs.a, '104')];
    const at = honest[0].overlay;
    await Promise.all(
      [dirs.b, dirs.c, dirs.evil].map((d, i) =>
        mustSucceed(['join', '--data', d, '--extension', String(102 + i), '--code', codes[i], '--peer', at]),
      ),
    );
    honest.push(await runPeer(dirs.b, { extra: ['--peer', at] }));
    honest.push(await runPeer(dirs.c, { extra: ['--peer', at] }));
    evil = await MaliciousPeer.start(dirs.evil, [at]);
    await waitFor(
      '4 members seen by the malicious peer',
      () => evil.runtime.members().length === 4 || null,
      30_000,
    );
    // The honest registrations exist before they are attacked.
    for (const ext of ['101', '102', '103']) expect((await lookupUntilFound(dirs.a, ext)).code).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await evil?.stop().catch(() => {});
    await killAll();
    rmSync(dirname(dirs.a), { recursive: true, force: true });
  });

  it('a forged signature is refused (bad-signature) and logged', async () => {
    const name = honestlyHeld(ownNames('forged'));
    const good = evil.sign({
      resourceName: name,
      kind: 'TEST',
      key: 'k',
      value: json({ n: 1 }),
      lifetime: 60_000,
    });
    const tampered = { ...good, value: json({ n: 2 }) };
    await refusedAndLogged([tampered], /bad-signature/, /value refused.*bad-signature/);
  });

  it("a value signed with its own key under another user's certificate is refused and logged", async () => {
    const name = honestlyHeld(['101', '102', '103'].map((e) => `${e}@${OFFICE}`));
    const victim = Number(name.split('@')[0]) - 101;
    const certs = await evil.fetch(name, 'CERTIFICATE');
    expect(certs.length).toBe(1);
    const victimCert = new TextDecoder().decode(certs[0].value);
    const v = evil.sign({
      resourceName: name,
      kind: 'PRESENCE',
      value: json({ state: 'dnd' }),
      lifetime: 60_000,
    });
    const impostor = {
      ...v,
      signer: { ...v.signer, certificate: victimCert, user: name, nodeId: honest[victim].nodeId },
    };
    await refusedAndLogged([impostor], /bad-signature/, /value refused.*bad-signature/);
  });

  it("writes to another user's SIP-REGISTRATION are refused (forbidden) and logged; lookups still find the real contact", async () => {
    const victim = honestlyHeld(['101', '102', '103'].map((e) => `${e}@${OFFICE}`));
    const ext = victim.split('@')[0];
    const victimNode = honest[Number(ext) - 101].nodeId;
    const hijack = { contacts: [{ uri: `sip:${ext}@127.0.0.1:9`, expires: 3600 }] };
    // Its own key in the victim's dictionary (not a desk-phone gateway entry)...
    const own = evil.sign({
      resourceName: victim,
      kind: 'SIP-REGISTRATION',
      key: evil.nodeId,
      value: json(hijack),
      lifetime: 60_000,
    });
    await refusedAndLogged([own], /forbidden/, /value refused.*forbidden.*SIP-REGISTRATION/);
    // ...and overwriting the victim's own entry.
    const over = evil.sign({
      resourceName: victim,
      kind: 'SIP-REGISTRATION',
      key: victimNode,
      value: json(hijack),
      lifetime: 60_000,
    });
    await refusedAndLogged([over], /forbidden/, /value refused.*forbidden/);
    const look = await lookupUntilFound(dirs.b, ext);
    expect(look.stdout).not.toContain('127.0.0.1:9');
    expect(look.stdout).toContain(victimNode);
  });

  it("deleting a voicemail in another user's box, or restoring one its owner deleted, is refused (forbidden) and logged", async () => {
    const box = honestlyHeld(['101', '102', '103'].map((e) => `${e}@${OFFICE}`));
    const owner = Number(box.split('@')[0]) - 101;
    const entryId = `${evil.nodeId}-m1`;
    const meta = {
      id: entryId,
      from: '104',
      time: Date.now(),
      duration: 3,
      size: 100,
      chunkCount: 0,
      chunkSize: 65536,
      sha256: '00'.repeat(32),
      heard: false,
    };
    const entry = (exists: boolean, storageTime: number) =>
      evil.sign({
        resourceName: box,
        kind: 'VOICEMAIL',
        key: entryId,
        value: exists ? json(meta) : new Uint8Array(0),
        exists,
        storageTime,
        lifetime: 86_400_000,
      });
    const t0 = Date.now();
    // Depositing is what any member may do (DEPOSIT)...
    expect(await evil.store([entry(true, t0)])).toMatchObject({ ok: true });
    // ...deleting is the owner's alone, even the depositor's own entry, and anyone else's.
    await refusedAndLogged([entry(false, t0 + 1)], /forbidden/, /value refused.*forbidden.*may delete/);
    const other = evil.sign({
      resourceName: box,
      kind: 'VOICEMAIL',
      key: `${honest[1].nodeId}-x`,
      value: new Uint8Array(0),
      exists: false,
      lifetime: 86_400_000,
    });
    await refusedAndLogged([other], /forbidden/, /value refused.*forbidden/);
    // The owner deletes the entry (signed with the owner's own key, as its Mailbox would)...
    const ownerSigner = signerOf([dirs.a, dirs.b, dirs.c][owner], honest[owner].nodeId);
    const tombstone = ownerSigner.sign({
      resourceName: box,
      kind: 'VOICEMAIL',
      key: entryId,
      value: new Uint8Array(0),
      exists: false,
      storageTime: t0 + 2,
      lifetime: 86_400_000,
    });
    expect(await evil.store([tombstone])).toMatchObject({ ok: true });
    // ...and the depositor cannot bring it back with a newer write.
    await refusedAndLogged([entry(true, t0 + 3)], /forbidden/, /value refused.*forbidden.*may not restore/);
  });

  it('oversized values are refused (too-large) and logged', async () => {
    const name = honestlyHeld(ownNames('big'));
    const big = evil.sign({
      resourceName: name,
      kind: 'TEST',
      key: 'k',
      value: new Uint8Array(65 * 1024 + 1),
      lifetime: 60_000,
    });
    await refusedAndLogged([big], /too-large/, /value refused.*too-large/);
    const presence = honestlyHeld([`104@${OFFICE}`, ...ownNames('p')]);
    if (presence === `104@${OFFICE}`) {
      const fat = evil.sign({
        resourceName: presence,
        kind: 'PRESENCE',
        value: json({ state: 'away', note: 'x'.repeat(4000) }),
        lifetime: 60_000,
      });
      await refusedAndLogged([fat], /too-large/, /value refused.*too-large/);
    }
  });

  it('replaying an old value over a newer one is refused (stale) and logged', async () => {
    const name = honestlyHeld(ownNames('replay'));
    const now = Date.now();
    const old = evil.sign({
      resourceName: name,
      kind: 'TEST',
      key: 'k',
      value: json({ v: 'old' }),
      storageTime: now - 5000,
      lifetime: 60_000,
    });
    const newer = evil.sign({
      resourceName: name,
      kind: 'TEST',
      key: 'k',
      value: json({ v: 'new' }),
      storageTime: now,
      lifetime: 60_000,
    });
    expect(await evil.store([newer])).toMatchObject({ ok: true });
    await refusedAndLogged([old], /stale/, /refused.*stale/);
    const held = await evil.fetch(name, 'TEST', 'k');
    expect(held.map((v) => new TextDecoder().decode(v.value))).toEqual([JSON.stringify({ v: 'new' })]);
  });

  it('a malformed overlay frame closes that link, logged with the reason', async () => {
    const target = honest[1].nodeId;
    await waitFor('a link to the target', () => evil.links.hasLink(target) || null, 10_000);
    const down = new Promise<string>((resolve) =>
      evil.links.on('link-down', (e) => {
        if (e.nodeId === target) resolve(e.reason);
      }),
    );
    const before = marks();
    // A frame header announcing version 9 and CBOR that is not a message.
    evil.sendRaw(target, Uint8Array.from([0, 0, 0, 4, 9, 0xbf, 0xff, 0xff]));
    const reason = await Promise.race([
      down,
      new Promise<string>((_, j) => setTimeout(() => j(new Error('link stayed up')), 10_000)),
    ]);
    const line = await waitFor('malformed-frame log line', () =>
      honestLogSince(before).find((l) => l.msg.includes('malformed overlay frame') && l.proc === 1),
    );
    expect(JSON.stringify(line)).toContain(evil.nodeId);
    expect(JSON.stringify(line)).toMatch(/bad-version|bad-encoding|bad-message/);
    console.log(`malformed frame: link down (${reason}); logged ${JSON.stringify(line)}`);
  });

  it('a well-formed frame claiming another Node-ID closes that link, logged', async () => {
    const target = honest[2].nodeId;
    await waitFor('a link to the target', () => evil.links.hasLink(target) || null, 10_000);
    const down = new Promise<void>((resolve) =>
      evil.links.on('link-down', (e) => {
        if (e.nodeId === target) resolve();
      }),
    );
    const before = marks();
    const spoofed: OverlayMessage = {
      t: 'ping',
      from: {
        id: honest[0].nodeId,
        address: { transport: 'TCP', host: '127.0.0.1', port: 9 },
        inc: Date.now(),
      },
      g: [
        {
          peer: {
            id: honest[1].nodeId,
            address: { transport: 'TCP', host: '127.0.0.1', port: 9 },
            inc: Date.now(),
          },
          status: 'dead',
        },
      ],
      nb: [],
      wantPong: true,
    } as OverlayMessage;
    evil.sendRaw(target, encodeFrame(spoofed));
    await Promise.race([
      down,
      new Promise((_, j) => setTimeout(() => j(new Error('link stayed up')), 10_000)),
    ]);
    const line = await waitFor('spoofed-sender log line', () =>
      honestLogSince(before).find((l) => l.msg.includes('malformed overlay frame') && l.proc === 2),
    );
    expect(JSON.stringify(line)).toContain(`claims Node-ID ${honest[0].nodeId}`);
    // The forged death notice was not believed: 102 is still a member at 103.
    const status = await mustSucceed(['status', '--data', dirs.c, '--json']);
    expect(status.stdout).toContain(honest[1].nodeId);
  });

  it('fake members it gossips are never listed nor routed to by the honest peers; it is named', async () => {
    const hex = () => Array.from({ length: 32 }, () => Math.floor(Math.random() * 16).toString(16)).join('');
    const at = (host: string, port: number) => ({ transport: 'TLS' as const, host, port });
    const [h0host, h0port] = honest[0].overlay.split(':');
    // Made-up addresses, and an honest peer's address under a Node-ID its certificate does not name.
    const fakes = [
      { id: hex(), address: at('127.0.0.1', 9), inc: Date.now() + 1e9 },
      { id: hex(), address: at('127.0.0.1', 10), inc: Date.now() + 1e9 },
      { id: hex(), address: at(h0host, Number(h0port)), inc: Date.now() + 1e9 },
    ];
    const fakeIds = fakes.map((f) => f.id);
    const before = marks();
    for (let round = 0; round < 3; round++) {
      for (const h of honest) {
        evil.gossip(
          h.nodeId,
          fakes.map((peer) => ({ peer, status: 'alive' as const })),
          fakes,
        );
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    // Until every honest peer gave up on every fake (and named the liar), none lists any of them.
    let blamed: LogLine[] = [];
    const started = Date.now();
    const end = started + 40_000;
    for (;;) {
      for (const [i, h] of honest.entries()) {
        const st = await mustSucceed(['status', '--data', [dirs.a, dirs.b, dirs.c][i], '--json']);
        for (const id of fakeIds) expect(st.stdout).not.toContain(id);
        expect(st.stdout).toContain(h.nodeId);
      }
      blamed = honestLogSince(before).filter(
        (l) => l.msg === 'gossiped member never verified, ignored' && l.from === evil.nodeId,
      );
      // Watched for 15 s at least (the old bug: fakes spread to every peer within a second or two).
      const named = new Set(blamed.map((l) => l.about));
      if (Date.now() - started > 15_000 && fakeIds.every((id) => named.has(id))) break;
      if (Date.now() > end) throw new Error(`not every fake was refused: ${JSON.stringify(blamed)}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    console.log(
      `fake members: ${blamed.length} log lines naming the liar, e.g. ${JSON.stringify(blamed[0])}`,
    );
    const log = honestLogSince(before);
    // Never in the ring: no member-up, and no request ever routed to one.
    for (const id of fakeIds) {
      expect(log.filter((l) => l.msg === 'member up' && l.peer === id)).toEqual([]);
    }
    // Lookups (routed over the ring) still reach the real contacts.
    for (const ext of ['101', '102', '103']) expect((await lookupUntilFound(dirs.b, ext)).code).toBe(0);
  }, 90_000);

  it('a false death claim it gossips drops no honest peer; it is named', async () => {
    const victim = honest[1];
    const info = evil.infoOf(victim.nodeId);
    expect(info).toBeDefined();
    const before = marks();
    for (let round = 0; round < 3; round++) {
      for (const h of [honest[0], honest[2]]) {
        evil.gossip(h.nodeId, [
          { peer: info!, status: 'dead' },
          { peer: { ...info!, inc: info!.inc + 1e9 }, status: 'left' },
        ]);
      }
      await new Promise((r) => setTimeout(r, 1000));
      for (const dir of [dirs.a, dirs.c]) {
        const st = await mustSucceed(['status', '--data', dir, '--json']);
        expect(st.stdout).toContain(victim.nodeId);
      }
    }
    const refuted = await waitFor('refuted death claims logged by both peers', () => {
      const lines = honestLogSince(before).filter(
        (l) => l.msg === 'death claim refuted by a direct probe, ignored' && l.about === victim.nodeId,
      );
      return new Set(lines.map((l) => l.proc)).size === 2 ? lines : null;
    });
    for (const l of refuted) expect(l.from).toBe(evil.nodeId);
    console.log(`false death claim: refuted and logged, e.g. ${JSON.stringify(refuted[0])}`);
    expect(honestLogSince(before).filter((l) => l.msg === 'member down' && l.peer === victim.nodeId)).toEqual(
      [],
    );
  }, 60_000);

  it('a burst of 600 forged values is refused and logged in a bounded way (not 600 lines)', async () => {
    const name = honestlyHeld(ownNames('burst'));
    const good = evil.sign({
      resourceName: name,
      kind: 'TEST',
      key: 'k',
      value: json({ n: 0 }),
      lifetime: 60_000,
    });
    // Same signature, other keys: every one fails verification at the storing peer.
    const forged = Array.from({ length: 600 }, (_, i) => ({ ...good, key: `k${i}` }));
    const before = marks();
    const r = await evil.store(forged);
    expect(r).toMatchObject({ ok: false, code: 'bad-signature' });
    await new Promise((res) => setTimeout(res, 1000));
    const refused = honestLogSince(before).filter((l) => l.msg === 'value refused');
    console.log(`600 forged values: ${refused.length} 'value refused' lines at the honest peers`);
    expect(refused.length).toBeGreaterThan(0);
    // A budget per peer (20 per 10 s window, then one summary line): 3 peers at most 60.
    expect(refused.length).toBeLessThanOrEqual(60);
    expect(await evil.fetch(name, 'TEST')).toEqual([]);
  });

  it('the honest peers are unharmed: no error logged, all still running', () => {
    for (const p of honest) {
      expect(p.run.child.exitCode).toBeNull();
      expect(p.run.stderr()).not.toMatch(/"level":"error"/);
    }
  });
});
