// Voicemail benchmark (issue 6/8): in an office of 5 PCs (3 `peerpbx run` processes, the caller's
// and the owner's PCs in this process so both ends are timed on one clock):
// - deposit-to-listed: the caller's peer starts storing the VOICEMAIL entry (its chunks already
//   stored) until the owner's Mailbox raises 'new' from its watch. Reference: a plain overlay store
//   of a TEST value of the same size until the owner's watch on it fires.
// - playback start: Mailbox.audio(id) (fetch every chunk in parallel, reassemble, decrypt) until the
//   WAV bytes are there. References: fetching the same chunk records raw (no decryption), and a
//   local SQLite read of the same bytes; the decryption alone is shown too.
// Medians over BENCH_REPEATS runs (default 15), the two contenders alternating.
//   node --import tsx test/bench/voicemail.bench.ts            (npm run bench -- voicemail)
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { encodeWav } from '../../src/core/media/wav.ts';
import { userResourceName } from '../../src/core/records/resource-names.ts';
import { openVoicemail, voicemailChunkNames } from '../../src/core/security/voicemail-deposit.ts';
import { askPeer } from '../../src/main/control/client.ts';
import { createLogger, setLogLevel } from '../../src/main/log.ts';
import { Mailbox } from '../../src/main/voicemail/mailbox.ts';
import { killAll, tempDir } from '../helpers/processes.ts';
import { type OfficePeer, runPeer } from '../office/harness.ts';
import { depositFor, enrollOffice, OFFICE, startInProcess } from '../voicemail/mailbox-office.ts';

const REPEATS = Number(process.env.BENCH_REPEATS ?? 15);
const MESSAGE_SECONDS = Number(process.env.BENCH_MESSAGE_SECONDS ?? 10);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const p90 = (xs: number[]) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.9))];

function toneWav(hz: number, seconds: number): Uint8Array {
  const samples = new Int16Array(8000 * seconds);
  for (let i = 0; i < samples.length; i++)
    samples[i] = Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / 8000));
  return encodeWav({ sampleRate: 8000, samples });
}

/** Resolves when `test` holds, checked on each notification `subscribe` delivers. */
function until<T>(
  subscribe: (cb: (v: T) => void) => () => void,
  test: (v: T) => boolean,
  ms = 10_000,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error('timed out'));
    }, ms);
    const off = subscribe((v) => {
      if (!test(v)) return;
      clearTimeout(timer);
      off();
      resolve(performance.now());
    });
  });
}

async function main(): Promise<void> {
  setLogLevel('warn');
  const root = tempDir('peerpbx-vm-bench-');
  const { dirs } = enrollOffice(root, ['101', '102', '103', '104', '105']);
  const procs: OfficePeer[] = [];
  const pcs: Array<Awaited<ReturnType<typeof startInProcess>>> = [];
  try {
    const a = await runPeer(dirs['101']);
    procs.push(
      a,
      ...(await Promise.all(['104', '105'].map((e) => runPeer(dirs[e], { extra: ['--peer', a.overlay] })))),
    );
    const caller = await startInProcess(dirs['102'], [a.overlay]);
    pcs.push(caller);
    const owner = await startInProcess(dirs['103'], [a.overlay]);
    pcs.push(owner);
    const converged = async () =>
      owner.node.status().peers.length === 5 &&
      caller.node.status().peers.length === 5 &&
      (await Promise.all(procs.map((p) => askPeer(p.dataDir, { op: 'status' })))).every(
        (s) => (s as { peers: unknown[] }).peers.length === 5,
      );
    for (let i = 0; !(await converged()); i++) {
      if (i > 100) throw new Error('office did not converge');
      await new Promise((r) => setTimeout(r, 300));
    }
    const ownerUser = userResourceName('103', OFFICE);
    const mailbox = await Mailbox.start({
      overlay: owner.node.overlay,
      identity: owner.identity,
      log: createLogger({ bench: 'mailbox' }),
      pollMs: 0,
    });
    // The reference's watch: the caller's own TEST dictionary (USER-MATCH lets it write there).
    const refResource = `${userResourceName('102', OFFICE)}/bench`;
    const refListeners = new Set<(keys: string[]) => void>();
    const refWatch = await owner.node.overlay.watch(refResource, 'TEST', (values) => {
      for (const l of refListeners) l(values.map((v) => v.key));
    });
    const sqlite = new Database(join(root, 'reference.db'));
    sqlite.exec('CREATE TABLE blobs (id TEXT PRIMARY KEY, data BLOB NOT NULL)');
    const put = sqlite.prepare('INSERT INTO blobs (id, data) VALUES (?, ?)');
    const get = sqlite.prepare('SELECT data FROM blobs WHERE id = ?');

    const wav = toneWav(440, MESSAGE_SECONDS);
    const listed: number[] = [];
    const refNotified: number[] = [];
    const playback: number[] = [];
    const rawFetch: number[] = [];
    const sqliteRead: number[] = [];
    const decryptOnly: number[] = [];
    let entryBytes = 0;
    let blobBytes = 0;
    let chunkCount = 0;

    const depositOnce = async () => {
      const d = depositFor(
        caller,
        { user: ownerUser, certPem: owner.identity.certPem },
        wav,
        MESSAGE_SECONDS * 1000,
      );
      entryBytes = d.entry.value.length;
      blobBytes = d.meta.size;
      chunkCount = d.chunks.length;
      await caller.node.overlay.store(d.chunks);
      const seen = until<{ type: string; message?: { id: string } }>(
        (cb) => mailbox.on(cb),
        (e) => e.type === 'new' && e.message?.id === d.entryId,
      );
      const t0 = performance.now();
      await caller.node.overlay.store([d.entry]);
      listed.push((await seen) - t0);
      return d;
    };
    const referenceOnce = async (i: number) => {
      const key = `r${i}`;
      const value = caller.node.overlay.sign(
        refResource,
        'TEST',
        new Uint8Array(entryBytes).fill(i),
        3_600_000,
        {
          key,
        },
      );
      const seen = until<string[]>(
        (cb) => {
          refListeners.add(cb);
          return () => refListeners.delete(cb);
        },
        (keys) => keys.includes(key),
      );
      const t0 = performance.now();
      await caller.node.overlay.store([value]);
      refNotified.push((await seen) - t0);
    };

    for (let i = 0; i < REPEATS + 1; i++) {
      const warm = i === 0;
      // Alternate which contender goes first.
      if (i % 2 === 0) await referenceOnce(i);
      const d = await depositOnce();
      if (i % 2 === 1) await referenceOnce(i);
      // Playback start and its references, on the message just deposited.
      let t0 = performance.now();
      const audio = await mailbox.audio(d.entryId);
      const tPlay = performance.now() - t0;
      if (audio.length !== wav.length) throw new Error('decrypted audio differs in size');
      t0 = performance.now();
      const raw = await Promise.all(
        voicemailChunkNames(ownerUser, d.meta).map((n) => owner.node.overlay.fetch(n, 'VOICEMAIL-CHUNK')),
      );
      const tRaw = performance.now() - t0;
      if (raw.some((r) => r.values.length === 0)) throw new Error('a chunk was not found');
      t0 = performance.now();
      const opened = openVoicemail(d.entry, d.chunks, owner.identity.keyPem);
      const tDecrypt = performance.now() - t0;
      if (!opened.ok) throw new Error(opened.error);
      put.run(d.entryId, Buffer.concat(d.chunks.map((c) => c.value)));
      t0 = performance.now();
      const row = get.get(d.entryId) as { data: Buffer };
      const tSql = performance.now() - t0;
      if (row.data.length !== blobBytes) throw new Error('sqlite row differs in size');
      if (warm) {
        listed.length = 0;
        refNotified.length = 0;
        continue;
      }
      playback.push(tPlay);
      rawFetch.push(tRaw);
      sqliteRead.push(tSql);
      decryptOnly.push(tDecrypt);
    }
    refWatch.cancel();
    mailbox.close();
    sqlite.close();

    const f = (x: number) => x.toFixed(x < 10 ? 2 : 1);
    const row = (name: string, xs: number[], ref: number) =>
      console.log(`| ${name} | ${f(median(xs))} | ${f(p90(xs))} | ${(median(xs) / ref).toFixed(2)}x |`);
    console.log(
      `\nvoicemail: ${MESSAGE_SECONDS} s message (WAV ${wav.length} B, encrypted ${blobBytes} B in ${chunkCount} chunks, entry ${entryBytes} B), office of 5, ${REPEATS} runs\n`,
    );
    console.log('| measure | median ms | p90 ms | vs reference |');
    console.log('|---|---:|---:|---:|');
    const mRef = median(refNotified);
    row('deposit -> listed (Mailbox "new" via watch)', listed, mRef);
    row('reference: store -> watch notification, same-size TEST value', refNotified, mRef);
    const mRaw = median(rawFetch);
    row('playback start: Mailbox.audio (fetch chunks + decrypt)', playback, mRaw);
    row('reference: fetch the same chunks raw (no decryption)', rawFetch, mRaw);
    row('reference: local SQLite read of the same bytes', sqliteRead, mRaw);
    row('of which: reassemble + decrypt alone (node-forge RSA-OAEP + AES-GCM)', decryptOnly, mRaw);
    console.log(
      `\nratios: deposit->listed / store->watch ${(median(listed) / mRef).toFixed(2)}; playback / raw fetch ${(median(playback) / mRaw).toFixed(2)}; playback / SQLite read ${(median(playback) / median(sqliteRead)).toFixed(0)}`,
    );
    console.log(`goal: deposit listed within 1 s: ${median(listed) < 1000 ? 'met' : 'NOT met'}`);
  } finally {
    for (const pc of pcs) await pc.stop();
    await killAll();
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
