// Issue 8, faults: a 10-PC office in network namespaces; peers are killed with kill -9 at random and
// restarted while sipp places calls from a desk-phone host. After each kill every surviving
// extension must be callable again (a real call: INVITE with digest through a surviving PC, answered
// by the callee's PC) within the failure-detection goal, and every record acknowledged during the
// churn must survive it: voicemails left by desk phones for a user whose PC is off (deposited by
// the surviving gateway PC's voicemail, acknowledged when it logs "voicemail deposited") and
// greetings (GREETING, stored through the running peer's control channel, as `peerpbx voicemail
// greeting` does).
import { afterAll, describe, expect, it } from 'vitest';
import { killAll } from '../helpers/processes.ts';
import { haveSipp } from '../helpers/sipp.ts';
import { NetnsLab, rootSkipReason } from '../lan/netns.ts';
import type { Pc } from '../office/lan.ts';
import {
  type AckedGreeting,
  type AckedVoicemail,
  callableAfter,
  callOnce,
  depositVoicemail,
  enrollAwayUser,
  greetingsConverged,
  kill9,
  startNetnsOffice,
  startOfficePc,
  storeGreeting,
  voicemailsMissing,
} from './netns-office.ts';
import { pollUntil } from './office-state.ts';

const skip = rootSkipReason() ?? (haveSipp() ? undefined : 'sipp is not installed');
const lab = skip ? null : new NetnsLab();

afterAll(async () => {
  await killAll();
  await lab?.destroy();
  expect(lab?.leftovers() ?? []).toEqual([]);
});

const N = 10;
/** Issue 3: failures detected "within seconds"; 3 s of missed keepalives, 3.2-4.2 s measured. */
const DETECTION_GOAL_MS = 5000;
/** 8 helpers share 2 cores here: a call placed in a stall must not fail the goal by itself. */
const MARGIN = 2;

/** Mulberry32: the kills are random but replayable from the printed seed. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe.skipIf(skip)('chaos: kill -9 and restart in a 10-PC office while calls are placed', () => {
  it('every surviving extension is callable again within the detection goal; no acknowledged record lost', async () => {
    const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 100_000);
    const random = rng(seed);
    const t0 = performance.now();
    const office = await startNetnsOffice(lab!, N, 'chaos', { PEERPBX_DISCOVERY: 'off' });
    const { pcs } = office;
    const away = await enrollAwayUser(office, '111');
    console.log(`[chaos] seed ${seed}; ${N} PCs running after ${(performance.now() - t0).toFixed(0)} ms`);
    const alive = () => pcs.filter((pc) => pc.peer);
    const anyAlive = () => {
      const a = alive();
      return a[Math.floor(random() * a.length)];
    };
    // Baseline: every extension callable before the chaos.
    await Promise.all(
      pcs.map(async (pc, i) => {
        const ms = await callableAfter(
          lab!,
          office,
          anyAlive,
          pc.extension,
          6000 + i,
          performance.now(),
          performance.now() + 30_000,
        );
        expect(ms, `${pc.extension} callable before the chaos`).not.toBeNull();
      }),
    );

    // Calls in the background all along, round robin over every extension, dead ones included.
    const background = { ok: 0, failed: 0 };
    let stopping = false;
    const caller = (async () => {
      for (let i = 0; !stopping; i++) {
        const target = pcs[i % N];
        if (await callOnce(lab!, office, anyAlive(), target.extension, 5900, 4)) background.ok++;
        else background.failed++;
      }
    })();

    const acked: AckedGreeting[] = [];
    const voicemails: AckedVoicemail[] = [];
    const worst: number[] = [];
    for (let round = 1; round <= 2; round++) {
      const candidates = alive().filter((pc) => pc !== pcs[0]); // the admin stays: it enrolls
      const victims: Pc[] = [];
      while (victims.length < 2) {
        const v = candidates[Math.floor(random() * candidates.length)];
        if (!victims.includes(v)) victims.push(v);
      }
      const killedAt = performance.now();
      await Promise.all(victims.map(kill9));
      const survivors = alive();
      // Records acknowledged in the middle of the churn.
      const deposits = survivors
        .slice(0, 3)
        .map((pc) => storeGreeting(office, pc, `round ${round} ${pc.extension} ${seed}`));
      const leftMessages = survivors
        .slice(-2)
        .map((pc, i) => depositVoicemail(lab!, office, pc, away.extension, 5800 + i));
      const times = await Promise.all(
        survivors.map((pc, i) =>
          callableAfter(lab!, office, anyAlive, pc.extension, 6100 + i, killedAt, killedAt + 30_000),
        ),
      );
      for (const d of await Promise.all(deposits)) if (d) acked.push(d);
      for (const v of await Promise.all(leftMessages)) if (v) voicemails.push(v);
      const measured = times.map((t) => (t === null ? Number.POSITIVE_INFINITY : t));
      worst.push(Math.max(...measured));
      console.log(
        `[chaos] round ${round}: killed ${victims.map((v) => v.extension)}; survivors callable after ` +
          `${survivors.map((pc, i) => `${pc.extension}:${measured[i].toFixed(0)}`).join(' ')} ms; ` +
          `${acked.length} greetings and ${voicemails.length} voicemails acknowledged so far`,
      );
      for (const [i, t] of measured.entries())
        expect(
          t,
          `${survivors[i].extension} callable within ${DETECTION_GOAL_MS} ms x ${MARGIN}`,
        ).toBeLessThan(DETECTION_GOAL_MS * MARGIN);
      // Restart the victims from their data folders.
      await Promise.all(victims.map(async (pc) => (pc.peer = await startOfficePc(office, pc, [pcs[0]]))));
    }
    stopping = true;
    await caller;
    console.log(
      `[chaos] background calls: ${background.ok} answered, ${background.failed} failed (dead callees included)`,
    );
    expect(background.ok).toBeGreaterThan(0);

    // After the churn: every PC callable, every acknowledged greeting at 3 copies with its value.
    expect(acked.length).toBeGreaterThan(0);
    expect(voicemails.length).toBeGreaterThan(0);
    let problems: string[] = [];
    const settle = await pollUntil(
      'acknowledged greetings and voicemails at 3 copies',
      async () => {
        problems = [...greetingsConverged(office, acked, 3), ...voicemailsMissing(office, voicemails, 3)];
        return problems.length === 0;
      },
      30_000,
      500,
    ).catch(() => null);
    expect(problems).toEqual([]);
    console.log(
      `[chaos] ${voicemails.length} acknowledged voicemails and ${new Set(acked.map((a) => a.resourceName)).size} greetings at 3 copies ${settle?.toFixed(0)} ms after the last restart; worst callable-again per round ${worst.map((w) => w.toFixed(0)).join(', ')} ms; total ${(performance.now() - t0).toFixed(0)} ms`,
    );
    await Promise.all(pcs.map(async (pc) => expect((await pc.peer!.stop()).code).toBe(0)));
  }, 240_000);
});
