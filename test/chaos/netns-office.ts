// A real office in network namespaces for the chaos tests: N PCs (NetnsLab hosts, `peerpbx run` with
// --auto-answer on its own address), one more host that plays the desk phones (sipp), and the
// faults: kill -9 and restart of a PC, a split of the office network and its heal. Data folders are
// on the shared disk, so the test reads each peer over its control socket and its SQLite file.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { encodeWav } from '../../src/core/media/wav.ts';
import { greetingResourceName, userResourceName } from '../../src/core/records/resource-names.ts';
import { askPeer } from '../../src/main/control/client.ts';
import type { ControlRequest } from '../../src/main/control/protocol.ts';
import { ROOT, tempDir } from '../helpers/processes.ts';
import type { LanHost, NetnsLab } from '../lan/netns.ts';
import {
  cli,
  createOffice,
  dataDirs,
  invite,
  mustSucceed,
  type OfficePeer,
  runPeer,
} from '../office/harness.ts';
import { inNs, OVERLAY_PORT, type Pc } from '../office/lan.ts';

export const SIP_PORT = 5060;
const PHONE_PASSWORD = 'chaos-pw';
const UAC = join(ROOT, 'test/calls/scenarios/uac-auth.xml');
const DEPOSIT = join(import.meta.dirname, 'scenarios/deposit.xml');

/** The desk-phone account each PC serves: PC 101 serves 201, and so on. */
export const deskPhoneOf = (pc: Pc) => String(Number(pc.extension) + 100);

export interface NetnsOffice {
  name: string;
  pcs: Pc[];
  phone: LanHost;
  env: NodeJS.ProcessEnv;
}

/**
 * Enrolls `n` PCs (joins by --peer through the admin, in parallel; a join that times out on this
 * loaded machine is retried with a fresh code), adds a desk-phone account on each, starts them all.
 */
export async function startNetnsOffice(
  lab: NetnsLab,
  n: number,
  name: string,
  env: NodeJS.ProcessEnv,
): Promise<NetnsOffice> {
  const hosts = lab.lan({ hosts: n + 1 });
  const dirs = dataDirs(hosts.slice(0, n).map((_, i) => `pc${i + 1}`));
  const pcs: Pc[] = hosts
    .slice(0, n)
    .map((host, i) => ({ host, dir: dirs[`pc${i + 1}`], extension: String(101 + i) }));
  const office: NetnsOffice = { name, pcs, phone: hosts[n], env };
  await createOffice(pcs[0].dir, name, pcs[0].extension);
  const addDeskPhone = (pc: Pc) =>
    mustSucceed([
      'phone',
      'add',
      '--data',
      pc.dir,
      '--extension',
      deskPhoneOf(pc),
      '--password',
      PHONE_PASSWORD,
    ]);
  await addDeskPhone(pcs[0]);
  // Codes made before the admin runs: `office invite` next to the running peer can meet
  // "database is locked" (its read-then-write transaction is not IMMEDIATE; reported).
  const codes = new Map<Pc, string>();
  for (const pc of pcs.slice(1)) codes.set(pc, await invite(pcs[0].dir, pc.extension));
  pcs[0].peer = await startOfficePc(office, pcs[0], []);
  const admin = `${pcs[0].host.address}:${OVERLAY_PORT}`;
  const freshCode = async (pc: Pc): Promise<string> => {
    for (let i = 1; ; i++) {
      try {
        return await invite(pcs[0].dir, pc.extension);
      } catch (e) {
        if (i === 5 || !/database is locked/.test(String(e))) throw e;
        await new Promise((r) => setTimeout(r, 500 * i));
      }
    }
  };
  // Two joins at a time: with all at once the admin (node-forge signing on a loaded machine) answered
  // after the joiner had given up, leaving the extension taken and the PC not enrolled (reported).
  const queue = pcs.slice(1);
  const worker = async () => {
    for (let pc = queue.shift(); pc; pc = queue.shift()) {
      for (let attempt = 1; ; attempt++) {
        const code = attempt === 1 ? (codes.get(pc) as string) : await freshCode(pc);
        const r = await cli(
          ['join', '--data', pc.dir, '--extension', pc.extension, '--code', code, '--peer', admin],
          {
            env,
            wrap: inNs(pc.host.ns),
            timeoutMs: 90_000,
          },
        );
        if (r.code === 0) break;
        console.log(
          `[netns-office] join of ${pc.extension} failed (attempt ${attempt}): ${r.stderr.trim().split('\n').pop()}`,
        );
        if (attempt === 3) throw new Error(`join of ${pc.extension} failed 3 times: ${r.stderr.slice(-500)}`);
      }
      await addDeskPhone(pc);
      const joined = pc;
      starts.push(startOfficePc(office, joined, [pcs[0]]).then((p) => (joined.peer = p)));
    }
  };
  const starts: Promise<unknown>[] = [];
  await Promise.all([worker(), worker()]);
  await Promise.all(starts);
  return office;
}

/** `peerpbx run` for `pc` on its own address, answering its calls, joining through `via`. */
export function startOfficePc(office: NetnsOffice, pc: Pc, via: Pc[]): Promise<OfficePeer> {
  return runPeer(pc.dir, {
    bind: pc.host.address,
    overlayPort: OVERLAY_PORT,
    env: office.env,
    wrap: inNs(pc.host.ns),
    extra: [
      '--sip-port',
      String(SIP_PORT),
      '--auto-answer',
      ...via.flatMap((v) => ['--peer', `${v.host.address}:${OVERLAY_PORT}`]),
    ],
  });
}

/** kill -9 of the PC's peer process; resolves once it is gone. */
export async function kill9(pc: Pc): Promise<void> {
  const peer = pc.peer;
  pc.peer = undefined;
  if (!peer) return;
  peer.run.child.kill('SIGKILL');
  await peer.run.done;
}

/**
 * One call from the desk-phone host: sipp authenticates as `gateway`'s desk phone, calls `extension`
 * through `gateway`, the callee's PC answers, the call is held briefly and hung up. True on success.
 */
export async function callOnce(
  lab: NetnsLab,
  office: NetnsOffice,
  gateway: Pc,
  extension: string,
  localPort: number,
  timeoutSec = 6,
  scenario = UAC,
): Promise<boolean> {
  const dir = tempDir('chaos-sipp-');
  const account = deskPhoneOf(gateway);
  const child = lab.spawn(
    office.phone.ns,
    'sipp',
    [
      '-sf',
      scenario,
      `${gateway.host.address}:${SIP_PORT}`,
      '-i',
      office.phone.address,
      '-p',
      String(localPort),
      '-m',
      '1',
      '-s',
      extension,
      '-key',
      'caller',
      account,
      '-au',
      account,
      '-ap',
      PHONE_PASSWORD,
      '-d',
      '200',
      '-timeout',
      `${timeoutSec}s`,
      '-timeout_error',
      '-nostdin',
      '-default_behaviors',
      'all,-abortunexp',
    ],
    { cwd: dir },
  );
  child.stdout.resume();
  child.stderr.resume();
  const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
  return code === 0;
}

/** Polls calls to `extension` until one succeeds; ms from `since` to the success, or null by `deadline`. */
export async function callableAfter(
  lab: NetnsLab,
  office: NetnsOffice,
  gateway: () => Pc,
  extension: string,
  localPort: number,
  since: number,
  deadline: number,
): Promise<number | null> {
  while (performance.now() < deadline) {
    if (await callOnce(lab, office, gateway(), extension, localPort)) return performance.now() - since;
    await new Promise((r) => setTimeout(r, 200));
  }
  return null;
}

/** A small valid greeting (mono 8 kHz 16-bit PCM WAV) whose samples are unique to `tag`. */
export function greetingWav(tag: string): Uint8Array {
  const seed = createHash('sha256').update(tag).digest();
  const samples = Int16Array.from({ length: 800 }, (_, i) => (seed[i % 32] - 128) * 64);
  return encodeWav({ sampleRate: 8000, samples });
}

export interface AckedGreeting {
  extension: string;
  resourceName: string;
  sha256: string;
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/**
 * Stores `pc`'s unavailable greeting through its running peer (what `peerpbx voicemail greeting`
 * does): resolves with what was acknowledged, or null when the peer refused or did not answer.
 */
export async function storeGreeting(office: NetnsOffice, pc: Pc, tag: string): Promise<AckedGreeting | null> {
  const wav = greetingWav(tag);
  const dir = tempDir('chaos-greeting-');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'greeting.wav');
  writeFileSync(file, wav);
  try {
    await askPeer(
      pc.dir,
      { op: 'greeting-set', kind: 'unavailable', file } as unknown as ControlRequest,
      15_000,
    );
  } catch {
    return null;
  }
  return {
    extension: pc.extension,
    resourceName: greetingResourceName(userResourceName(pc.extension, office.name), 'unavailable'),
    sha256: sha(wav),
  };
}

/** One row per PC (by extension) for `sql` on its database; a PC whose file is busy this instant is left out. */
function rowsByPc<T>(office: NetnsOffice, sql: string, param: string): Map<string, T> {
  const out = new Map<string, T>();
  for (const pc of office.pcs) {
    let db: Database.Database | null = null;
    try {
      db = new Database(join(pc.dir, 'peer.db'), { readonly: true, fileMustExist: true });
      const row = db.prepare(sql).get(param) as T | undefined;
      if (row) out.set(pc.extension, row);
    } catch {
      // Being written at this instant: counts as not holding it this round.
    } finally {
      db?.close();
    }
  }
  return out;
}

/** Hashes of the values every PC's database holds for `resourceName` (GREETING), by PC extension. */
export function heldValues(office: NetnsOffice, resourceName: string): Map<string, string> {
  const rows = rowsByPc<{ value: Buffer }>(
    office,
    "SELECT value FROM records WHERE resource_name = ? AND kind = 'GREETING' AND present = 1",
    resourceName,
  );
  return new Map([...rows].map(([ext, r]) => [ext, sha(new Uint8Array(r.value))]));
}

/**
 * Every acknowledged greeting (the last one acknowledged per extension) is held with exactly that
 * value by at least `copies` PCs, and no PC holds an older value of it.
 */
export function greetingsConverged(office: NetnsOffice, acked: AckedGreeting[], copies: number): string[] {
  const latest = new Map(acked.map((a) => [a.resourceName, a]));
  const problems: string[] = [];
  for (const a of latest.values()) {
    const held = heldValues(office, a.resourceName);
    const right = [...held.values()].filter((h) => h === a.sha256).length;
    const stale = [...held.entries()].filter(([, h]) => h !== a.sha256).map(([ext]) => ext);
    if (right < copies || stale.length > 0)
      problems.push(`${a.resourceName}: ${right} copies of the acknowledged value, stale on [${stale}]`);
  }
  return problems;
}

/**
 * An office user whose PC is off: enrolled on the desk-phone host, run once (its certificate goes
 * into the overlay), stopped cleanly (its registration goes). Calls to it go to voicemail at once.
 */
export async function enrollAwayUser(office: NetnsOffice, extension: string): Promise<Pc> {
  const [admin] = office.pcs;
  const pc: Pc = { host: office.phone, dir: dataDirs(['away']).away, extension };
  const code = await invite(admin.dir, extension);
  await mustSucceed(
    [
      'join',
      '--data',
      pc.dir,
      '--extension',
      extension,
      '--code',
      code,
      '--peer',
      `${admin.host.address}:${OVERLAY_PORT}`,
    ],
    { env: office.env, wrap: inNs(pc.host.ns), timeoutMs: 90_000 },
  );
  const peer = await startOfficePc(office, pc, [admin]);
  await new Promise((r) => setTimeout(r, 1500)); // its certificate stored (3 copies acknowledged)
  await peer.stop();
  return pc;
}

export interface AckedVoicemail {
  owner: string;
  entryId: string;
  copies: number;
}

/**
 * A desk phone on `gateway` calls `owner` (away): `gateway`'s voicemail answers, records sipp's
 * speech sample and stores it. Acknowledged = the gateway logged "voicemail deposited" (3 copies
 * confirmed, or it retries); null when the call or the store failed.
 */
export async function depositVoicemail(
  lab: NetnsLab,
  office: NetnsOffice,
  gateway: Pc,
  owner: string,
  localPort: number,
): Promise<AckedVoicemail | null> {
  const run = gateway.peer?.run;
  if (!run) return null;
  const seen = run.stderr().length;
  if (!(await callOnce(lab, office, gateway, owner, localPort, 40, DEPOSIT))) {
    console.log(`[netns-office] voicemail call for ${owner} via ${gateway.extension} failed`);
    return null;
  }
  const end = performance.now() + 15_000;
  while (performance.now() < end) {
    const line = run
      .stderr()
      .slice(Math.max(0, seen - 100))
      .split('\n')
      .find((l) => l.includes('"msg":"voicemail deposited"'));
    if (line) {
      const e = JSON.parse(line) as { entryId: string; copies: number };
      return { owner, entryId: e.entryId, copies: e.copies };
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const said = run
    .stderr()
    .slice(Math.max(0, seen - 100))
    .split('\n')
    .filter((l) => l.includes('voicemail'));
  console.log(`[netns-office] no deposit logged by ${gateway.extension}:\n${said.join('\n').slice(-1500)}`);
  return null;
}

/** Acknowledged voicemails (VOICEMAIL entries) held by fewer than `copies` PCs. */
export function voicemailsMissing(office: NetnsOffice, acked: AckedVoicemail[], copies: number): string[] {
  const problems: string[] = [];
  for (const a of acked) {
    const held = rowsByPc(
      office,
      "SELECT 1 FROM records WHERE kind = 'VOICEMAIL' AND key = ? AND present = 1",
      a.entryId,
    ).size;
    if (held < copies) problems.push(`voicemail ${a.entryId} for ${a.owner}: ${held} copies`);
  }
  return problems;
}
