// Distributed voicemail, owner side, with real `peerpbx run` processes (issue 6 proof):
// - a message deposited for 104 while its PC is off is listed by `voicemail list` once it starts,
//   and `voicemail export` writes exactly the WAV that was deposited (and its tone);
// - while 104 runs, a new deposit is listed within a second (the watch, timed from its log line);
// - kill -9 two of the three peers holding the message: still listed and exported, 3 copies again;
// - another member can neither open nor delete it; the owner's heard and delete reach every copy.
// The depositor (102) runs in this process (OfficeNode) and deposits with buildVoicemailDeposit,
// the records a caller's peer writes; the office is enrolled in process (the CA issues directly).
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VoicemailEntryData } from '../../src/core/records/kinds.ts';
import {
  greetingResourceName,
  userResourceName,
  voicemailChunkResourceName,
} from '../../src/core/records/resource-names.ts';
import { askPeer } from '../../src/main/control/client.ts';
import { databasePath } from '../../src/main/identity/identity.ts';
import { createLogger, setLogLevel } from '../../src/main/log.ts';
import { Mailbox, voicemailPinHash } from '../../src/main/voicemail/mailbox.ts';
import { toneIn, writeToneWav } from '../calls/harness.ts';
import { killAll, tempDir, waitFor } from '../helpers/processes.ts';
import { cli, mustSucceed, type OfficePeer, runPeer } from '../office/harness.ts';
import {
  depositFor,
  enrollOffice,
  type InProcessPc,
  identityOf,
  OFFICE,
  ringHolders,
  startInProcess,
} from './mailbox-office.ts';

const DEPOSITOR = '102';
const CANDIDATES = ['103', '104', '105', '106'];

/** Polls an async probe until it returns a value (waitFor's probes are synchronous). */
async function poll<T>(
  what: string,
  probe: () => Promise<T | null | undefined>,
  timeoutMs: number,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => null);
    if (v !== null && v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

interface StatusRecords {
  nodeId: string;
  peers: unknown[];
  records: { list: Array<{ name: string; kind: string; key: string; role: string }> };
}

describe('voicemail: owner side across real peers', () => {
  const root = tempDir('peerpbx-vm-');
  let dirs: Record<string, string> = {};
  const peers = new Map<string, OfficePeer>(); // extension -> running CLI peer
  let owner = '';
  let ownerUser = '';
  let depositor: InProcessPc;
  let ownerCertPem = '';
  const deposited: Array<{ id: string; wav: Uint8Array; meta: VoicemailEntryData }> = [];

  async function deposit(
    hz: number,
    seconds: number,
    onBuilt: (id: string) => void = () => {},
  ): Promise<{ id: string; startedAt: number }> {
    const wav = new Uint8Array(readFileSync(writeToneWav(join(root, `in-${hz}.wav`), hz, seconds)));
    const d = depositFor(depositor, { user: ownerUser, certPem: ownerCertPem }, wav, seconds * 1000);
    onBuilt(d.entryId);
    // Chunks first: an entry that is listed can be played at once.
    await depositor.node.overlay.store(d.chunks);
    const startedAt = performance.now();
    const ack = await depositor.node.overlay.store([d.entry]);
    expect(ack.copies).toBe(3);
    deposited.push({ id: d.entryId, wav, meta: d.meta });
    return { id: d.entryId, startedAt };
  }

  /** Deposits a message; ms from storing its entry until the owner's log says 'new voicemail'. */
  async function timeListing(hz: number): Promise<number> {
    const o = ext(owner);
    let entry = '';
    let seenAt = 0;
    const onLog = (d: string) => {
      if (entry && !seenAt && d.includes('"new voicemail"') && d.includes(entry)) seenAt = performance.now();
    };
    o.run.child.stderr?.on('data', onLog);
    try {
      const r = await deposit(hz, 1, (id) => {
        entry = id;
      });
      await waitFor(`'new voicemail' ${entry} in the owner's log`, () => seenAt || null, 15_000);
      return seenAt - r.startedAt;
    } finally {
      o.run.child.stderr?.off('data', onLog);
    }
  }

  const ext = (e: string) => peers.get(e) as OfficePeer;
  const running = () =>
    [...peers.entries()].filter(([, p]) => p.run.child.exitCode === null && !p.run.child.killed);

  async function list(): Promise<
    Array<{ id: string; from: string; time: number; duration: number; heard: boolean }>
  > {
    const r = await mustSucceed(['voicemail', 'list', '--data', dirs[owner], '--json']);
    return JSON.parse(r.stdout);
  }

  /** The same request `voicemail list` makes, without starting a process (the CLI is proven above). */
  async function listFast(): Promise<Array<{ id: string; heard: boolean }>> {
    return (await askPeer(dirs[owner], { op: 'voicemail-list' })) as Array<{ id: string; heard: boolean }>;
  }

  async function exportTo(id: string, name: string): Promise<Uint8Array> {
    const file = join(root, name);
    await mustSucceed(['voicemail', 'export', '--data', dirs[owner], id, file]);
    return new Uint8Array(readFileSync(file));
  }

  /** Extensions holding a record (responsible or replica), as each live peer reports it. */
  async function holders(name: string, kind: string, key = ''): Promise<string[]> {
    const statuses: Array<[string, StatusRecords]> = [[DEPOSITOR, depositor.node.status() as StatusRecords]];
    for (const [e, p] of running())
      statuses.push([e, (await askPeer(p.dataDir, { op: 'status' }, 10_000)) as StatusRecords]);
    return statuses
      .filter(([, s]) =>
        s.records.list.some(
          (r) =>
            r.name === name &&
            r.kind === kind &&
            r.key === key &&
            (r.role === 'responsible' || r.role === 'replica'),
        ),
      )
      .map(([e]) => e);
  }

  /** The copy of a record in a peer's database (read-only, beside the running peer). */
  function copyIn(extension: string, name: string, kind: string, key = '') {
    const db = new Database(databasePath(dirs[extension]), { readonly: true, fileMustExist: true });
    try {
      return db
        .prepare(
          'SELECT value, present, signer_user AS signer FROM records WHERE resource_name = ? AND kind = ? AND key = ? AND expires_at > ?',
        )
        .get(name, kind, key, Date.now()) as { value: Buffer; present: number; signer: string } | undefined;
    } finally {
      db.close();
    }
  }

  beforeAll(async () => {
    setLogLevel('warn');
    const office = enrollOffice(root, ['101', DEPOSITOR, ...CANDIDATES]);
    dirs = office.dirs;
    // The owner: a member whose box is held by neither itself nor the depositor, so that two of
    // its three holders are other PCs this test may kill (else the one with the fewest of them).
    const all = Object.values(office.nodeIds);
    const mine = (e: string) =>
      ringHolders(userResourceName(e, OFFICE), all).filter(
        (id) => id === office.nodeIds[e] || id === office.nodeIds[DEPOSITOR],
      ).length;
    owner = [...CANDIDATES].sort((a, b) => mine(a) - mine(b))[0];
    ownerUser = userResourceName(owner, OFFICE);
    ownerCertPem = identityOf(dirs[owner]).certPem;

    const a = await runPeer(dirs['101']);
    peers.set('101', a);
    const others = CANDIDATES.filter((e) => e !== owner);
    const started = await Promise.all(others.map((e) => runPeer(dirs[e], { extra: ['--peer', a.overlay] })));
    for (const [i, e] of others.entries()) peers.set(e, started[i]);
    depositor = await startInProcess(dirs[DEPOSITOR], [a.overlay]);
    await waitFor('office of 5 converged', () => depositor.node.status().peers.length === 5 || null, 30_000);
    for (const [, p] of running())
      await poll(
        'every peer sees 5',
        async () =>
          ((await askPeer(p.dataDir, { op: 'status' })) as StatusRecords).peers.length === 5 || null,
        30_000,
      );
  }, 85_000);

  afterAll(async () => {
    await depositor?.stop();
    await killAll();
    rmSync(root, { recursive: true, force: true });
  });

  it('a message left while the owner is off is listed when it starts, and exports to the same WAV', async () => {
    const { id } = await deposit(440, 6); // ~96 kB: two chunks
    const start = performance.now();
    peers.set(owner, await runPeer(dirs[owner], { extra: ['--peer', ext('101').overlay] }));
    const found = await poll(
      'the message in the list',
      async () => (await list()).find((m) => m.id === id),
      30_000,
    );
    console.log(
      `owner started and listed the offline message in ${Math.round(performance.now() - start)} ms`,
    );
    expect(found).toEqual({
      id,
      from: DEPOSITOR,
      time: deposited[0].meta.time,
      duration: 6000,
      heard: false,
    });
    const out = await exportTo(id, 'out-440.wav');
    expect(Buffer.from(out).equals(Buffer.from(deposited[0].wav))).toBe(true);
    expect(await toneIn(join(root, 'out-440.wav'), 440)).toBeGreaterThan(0.5);
    expect(await toneIn(join(root, 'out-440.wav'), 700)).toBeLessThan(0.1);
    // A wrong id and an unwritable file: one clear line, non-zero exit.
    const bad = await cli(['voicemail', 'export', '--data', dirs[owner], 'no-such-id', join(root, 'x.wav')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toMatch(/^peerpbx: no voicemail message no-such-id in the box of 10\d@office$/);
  }, 80_000);

  it('while the owner runs, a new deposit is listed within one second (watch)', async () => {
    const times: number[] = [];
    for (const hz of [500, 600, 700]) times.push(await timeListing(hz));
    const median = [...times].sort((a, b) => a - b)[1];
    console.log(
      `deposit -> listed by the owner's watch: ${times.map((t) => t.toFixed(0)).join(', ')} ms (median ${median.toFixed(0)})`,
    );
    // Goal 1 s; the median absorbs one slow run on the shared 2-core machine.
    expect(median).toBeLessThan(1000);
    const ids = (await listFast()).map((m) => m.id);
    for (const d of deposited) expect(ids).toContain(d.id);
  }, 60_000);

  it('kill -9 two of the three holders: still listed and exported, then back at 3 copies', async () => {
    const { id, wav } = deposited[0];
    const before = await holders(ownerUser, 'VOICEMAIL', id);
    expect(before).toHaveLength(3);
    const victims = before.filter((e) => e !== owner && e !== DEPOSITOR).slice(0, 2);
    expect(victims, `holders ${before.join(', ')}: two must be killable`).toHaveLength(2);
    for (const v of victims) {
      ext(v).run.child.kill('SIGKILL');
      await ext(v).run.done;
    }
    const t0 = performance.now();
    await poll('still listed', async () => (await list()).some((m) => m.id === id) || null, 30_000);
    const out = await exportTo(id, 'after-kill.wav');
    expect(Buffer.from(out).equals(Buffer.from(wav))).toBe(true);
    console.log(
      `killed ${victims.join(' and ')} (holders ${before.join(', ')}): listed and exported after ${Math.round(performance.now() - t0)} ms`,
    );
    const chunks = Array.from({ length: deposited[0].meta.chunkCount }, (_, i) =>
      voicemailChunkResourceName(ownerUser, id, i),
    );
    const healed = async () => {
      if ((await holders(ownerUser, 'VOICEMAIL', id)).length < 3) return null;
      for (const c of chunks) if ((await holders(c, 'VOICEMAIL-CHUNK')).length < 3) return null;
      return true;
    };
    await poll('3 copies of the entry and of every chunk again', healed, 60_000);
    console.log(
      `entry and ${chunks.length} chunks back at 3 copies ${Math.round(performance.now() - t0)} ms after the kill`,
    );
    // The box's watch followed the ring: a new message is listed promptly after the failover too.
    const after = await timeListing(800);
    console.log(`a deposit after the kill listed by the owner's watch in ${after.toFixed(0)} ms`);
    expect(after).toBeLessThan(2000); // goal 1 s; one run, so a margin for the loaded machine
  }, 90_000);

  it('another member cannot open or delete the message; the owner’s heard and delete reach every copy', async () => {
    const [first, second] = deposited;
    // 102 points a Mailbox at the owner's box: metadata yes (MWI), audio and deletion no.
    const intruder = await Mailbox.start({
      overlay: depositor.node.overlay,
      identity: { ...depositor.identity, extension: owner },
      log: createLogger({ test: 'intruder' }),
      pollMs: 0,
    });
    try {
      expect(intruder.list().map((m) => m.id)).toContain(first.id);
      await expect(intruder.audio(first.id)).rejects.toThrow(/cannot be opened with this peer's key/);
      await expect(intruder.delete(first.id)).rejects.toThrow(/forbidden.*only 10\d@office may delete/);
    } finally {
      intruder.close();
    }
    expect((await listFast()).map((m) => m.id)).toContain(first.id);

    await mustSucceed(['voicemail', 'heard', '--data', dirs[owner], first.id]);
    const heardOn = await holders(ownerUser, 'VOICEMAIL', first.id);
    await waitFor(
      'heard on every copy',
      () =>
        heardOn.every((e) => {
          if (e === DEPOSITOR) return true; // its database is open in this process: checked via fetch below
          const c = copyIn(e, ownerUser, 'VOICEMAIL', first.id);
          return c && c.signer === ownerUser && JSON.parse(c.value.toString()).heard === true;
        }) || null,
    );
    const fetched = await depositor.node.overlay.fetch(ownerUser, 'VOICEMAIL', first.id);
    expect(JSON.parse(new TextDecoder().decode(fetched.values[0].value)).heard).toBe(true);

    await mustSucceed(['voicemail', 'delete', '--data', dirs[owner], second.id]);
    const deletedOn = await holders(ownerUser, 'VOICEMAIL', second.id);
    expect(deletedOn.length).toBe(3);
    await waitFor(
      'tombstone on every copy',
      () =>
        deletedOn.every(
          (e) => e === DEPOSITOR || copyIn(e, ownerUser, 'VOICEMAIL', second.id)?.present === 0,
        ) || null,
    );
    const listed = await list();
    expect(listed.map((m) => m.id)).not.toContain(second.id);
    expect(listed.find((m) => m.id === first.id)?.heard).toBe(true);
    console.log(`heard replicated to ${heardOn.join(', ')}; delete to ${deletedOn.join(', ')}`);
  }, 60_000);

  it('`voicemail greeting` and `voicemail pin` store the owner-signed records others read', async () => {
    const greeting = writeToneWav(join(root, 'greeting.wav'), 300, 1);
    await mustSucceed(['voicemail', 'greeting', '--data', dirs[owner], '--kind', 'busy', greeting]);
    const g = await depositor.node.overlay.fetch(greetingResourceName(ownerUser, 'busy'), 'GREETING');
    expect(g.values[0].signer.user).toBe(ownerUser);
    expect(Buffer.from(g.values[0].value).equals(readFileSync(greeting))).toBe(true);
    writeFileSync(join(root, 'junk.wav'), 'not a wav at all');
    const junk = await cli([
      'voicemail',
      'greeting',
      '--data',
      dirs[owner],
      '--kind',
      'busy',
      join(root, 'junk.wav'),
    ]);
    expect(junk.code).toBe(2);
    expect(junk.stderr.trim()).toMatch(/^peerpbx: .*junk\.wav: greeting is not a usable WAV file/);

    await mustSucceed(['voicemail', 'pin', '--data', dirs[owner], '2468']);
    const u = await depositor.node.overlay.fetch(ownerUser, 'USER-SETTINGS');
    const settings = JSON.parse(new TextDecoder().decode(u.values[0].value));
    expect(settings).toMatchObject({ dnd: false, voicemailPinHash: voicemailPinHash(OFFICE, owner, '2468') });
    await askPeer(dirs[owner], { op: 'greeting-set', kind: 'busy', file: null }); // = `--remove`
    const gone = await depositor.node.overlay.fetch(greetingResourceName(ownerUser, 'busy'), 'GREETING');
    expect(gone.values.every((v) => !v.exists)).toBe(true);
  }, 40_000);
});
