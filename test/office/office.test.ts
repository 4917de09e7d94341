// An office on loopback with real processes: create, invite, join by code and by approval, lookups
// both ways, and the refusals (taken extension, wrong/used code, no office, a foreign office's PC,
// a PC with no certificate at all).

import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { generateJoinCode } from '../../src/core/security/join-codes.ts';
import { killAll, waitFor } from '../helpers/processes.ts';
import {
  cli,
  cliStart,
  createOffice,
  dataDirs,
  invite,
  lookupUntilFound,
  mustSucceed,
  type OfficePeer,
  runPeer,
} from './harness.ts';

afterAll(async () => {
  await killAll();
});

const dirs = dataDirs(['admin', 'b', 'c', 'taken', 'wrong', 'approved', 'denied', 'rogue', 'nobody']);
const peers: OfficePeer[] = [];

describe('an office of three PCs on loopback', () => {
  it('creates the office, keeps keys private, invites and joins two PCs by code', async () => {
    await createOffice(dirs.admin, 'acme', '101');
    for (const f of ['peer-key.pem', 'office-ca-key.enc.pem'])
      expect(statSync(join(dirs.admin, 'identity', f)).mode & 0o777).toBe(0o600);
    // A second create on the same folder is refused in one line.
    const again = await cli(['office', 'create', '--data', dirs.admin, '--name', 'x', '--extension', '109']);
    expect(again.code).toBe(1);
    expect(again.stderr.trim()).toMatch(/already belongs to an office/);

    peers.push(await runPeer(dirs.admin));
    const admin = peers[0];
    for (const [dir, ext] of [
      [dirs.b, '102'],
      [dirs.c, '103'],
    ]) {
      const code = await invite(dirs.admin, ext);
      expect(code).toMatch(/^[0-9A-Z]{5}-[0-9A-Z]{5}$/);
      const j = await mustSucceed([
        'join',
        '--data',
        dir,
        '--extension',
        ext,
        '--code',
        code,
        '--peer',
        admin.overlay,
      ]);
      expect(j.stdout).toMatch(new RegExp(`joined office acme as extension ${ext}`));
      expect(statSync(join(dir, 'identity', 'peer-key.pem')).mode & 0o777).toBe(0o600);
    }
    // No --peer: the joined PCs find the office through their peer cache (the admin they enrolled at).
    peers.push(await runPeer(dirs.b), await runPeer(dirs.c));
  }, 120_000);

  it('every peer looks up every extension; an unknown one exits 1', async () => {
    for (const p of peers) {
      for (const ext of ['101', '102', '103']) {
        const r = await lookupUntilFound(p.dataDir, ext);
        expect(r.code, `${p.dataDir} lookup ${ext}: ${r.stderr}`).toBe(0);
        const res = JSON.parse(r.stdout) as {
          reachable: boolean;
          user: string;
          contacts: { nodeId: string }[];
        };
        expect(res.reachable).toBe(true);
        expect(res.user).toBe(`${ext}@acme`);
        expect(res.contacts.length).toBeGreaterThan(0);
      }
    }
    const none = await cli(['lookup', '--data', dirs.b, '--extension', '199']);
    expect(none.code).toBe(1);
    expect(none.stdout).toMatch(/199@acme is not reachable/);
  }, 120_000);

  it('status shows the three peers, the records held and replica health', async () => {
    type Status = {
      office: string;
      peers: { extension: string; nodeId: string; address: string }[];
      records: {
        total: number;
        responsible: number;
        replica: number;
        list: { kind: string; copies: number }[];
      };
      replicaHealth: { state: string; possible: number; minCopies: number | null; records: number };
    };
    // Copies are measured (replicas acknowledge the responsible peer's digests): a replica learns
    // its range's figure at the responsible peer's next digest round, so ask until all say 3.
    const end = Date.now() + 40_000;
    let s: Status;
    for (;;) {
      const r = await mustSucceed(['status', '--data', dirs.c, '--json']);
      s = JSON.parse(r.stdout) as Status;
      if (s.replicaHealth.state === 'ok' || Date.now() > end) break;
      await new Promise((res) => setTimeout(res, 500));
    }
    expect(s.office).toBe('acme');
    expect(s.peers.map((p) => p.extension).sort()).toEqual(['101', '102', '103']);
    expect(s.peers.map((p) => p.nodeId).sort()).toEqual(peers.map((p) => p.nodeId).sort());
    // Three CERTIFICATE records and three SIP-REGISTRATIONs (each `run` starts its phone system),
    // three copies each, three peers: every peer holds all six, each with 3 confirmed copies.
    // (PRESENCE records, one per peer, come and go with their short lifetime.)
    const kinds = s.records.list.map((r) => r.kind).filter((k) => k !== 'PRESENCE');
    expect(kinds.sort()).toEqual([...Array(3).fill('CERTIFICATE'), ...Array(3).fill('SIP-REGISTRATION')]);
    expect(s.records.responsible + s.records.replica).toBe(s.records.total);
    expect(s.replicaHealth).toMatchObject({ state: 'ok', possible: 3, minCopies: 3 });
    expect(s.replicaHealth.records).toBe(s.records.total);
    expect(s.records.list.map((r) => r.copies)).toEqual(s.records.list.map(() => 3));
    const human = await mustSucceed(['status', '--data', dirs.c]);
    expect(human.stdout).toMatch(/office acme/);
    expect(human.stdout).toMatch(/peers \(3\)/);
    expect(human.stdout).toMatch(/replica health: ok \(fewest confirmed copies 3 of 3/);
  }, 60_000);

  it('refuses a taken extension, a wrong code and a used code, in one line each', async () => {
    const peer = ['--peer', peers[0].overlay];
    // Offline, the admin will not even invite for a taken extension.
    const inv = await cli(['office', 'invite', '--data', dirs.admin, '--extension', '102']);
    expect(inv.code).toBe(1);
    expect(inv.stderr.trim()).toBe('peerpbx: extension 102 is already taken');
    // Over the network: a valid code for 104 does not buy 102.
    const code = await invite(dirs.admin, '104');
    const taken = await cli(['join', '--data', dirs.taken, '--extension', '102', '--code', code, ...peer]);
    expect(taken.code).toBe(1);
    expect(taken.stderr.trim()).toBe('peerpbx: join refused: extension 102 is already taken');

    const never = generateJoinCode((n) => new Uint8Array(randomBytes(n)));
    const wrong = await cli(['join', '--data', dirs.wrong, '--extension', '104', '--code', never, ...peer]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr.trim()).toBe('peerpbx: join refused: no invitation has this join code');
    const typo = await cli([
      'join',
      '--data',
      dirs.wrong,
      '--extension',
      '104',
      '--code',
      '7K3QF-X92MB',
      ...peer,
    ]);
    expect(typo.code).toBe(1);
    expect(typo.stderr.trim()).toMatch(/^peerpbx: join refused: the join code has a typo/);

    const used = await cli(['join', '--data', dirs.wrong, '--extension', '104', '--code', code, ...peer]);
    expect(used.code).toBe(0);
    const reuse = await cli(['join', '--data', dirs.taken, '--extension', '104', '--code', code, ...peer]);
    expect(reuse.code).toBe(1);
    expect(reuse.stderr.trim()).toMatch(
      /join refused: (this join code was already used|extension 104 is already taken)/,
    );
  }, 90_000);

  it('says so when no office is found', async () => {
    const r = await cli(['join', '--data', dirs.nobody, '--extension', '150', '--code', '7K3QF-X92MB']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(/no office found on this network; .*--peer HOST:PORT/);
  }, 30_000);

  it('a join without a code waits as a join request; the admin approves or denies it', async () => {
    const start = (dir: string, ext: string) =>
      cliStart([
        'join',
        '--data',
        dir,
        '--extension',
        ext,
        '--display-name',
        `PC ${ext}`,
        '--peer',
        peers[0].overlay,
      ]);
    const pending = start(dirs.approved, '120');
    const requests = async () =>
      JSON.parse((await mustSucceed(['office', 'requests', '--data', dirs.admin, '--json'])).stdout) as {
        id: string;
        extension: string;
        displayName: string;
      }[];
    const firstRequest = async () => {
      const end = Date.now() + 20_000;
      for (;;) {
        const l = await requests();
        if (l.length > 0) return l[0];
        if (Date.now() > end) throw new Error('no join request appeared on the admin peer');
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    const req = await firstRequest();
    expect(req).toMatchObject({ extension: '120', displayName: 'PC 120' });
    await waitFor('pending line', () => /waiting for an administrator to approve/.test(pending.stdout()));
    const ok = await mustSucceed(['office', 'approve', '--data', dirs.admin, '--request', req.id]);
    expect(ok.stdout).toMatch(/approved: extension 120/);
    const joined = await pending.done;
    expect(joined.code).toBe(0);
    expect(joined.stdout).toMatch(/joined office acme as extension 120/);

    const denied = start(dirs.denied, '121');
    const r2 = await firstRequest();
    await mustSucceed(['office', 'deny', '--data', dirs.admin, '--request', r2.id]);
    const end = await denied.done;
    expect(end.code).toBe(1);
    expect(end.stderr.trim()).toBe('peerpbx: join refused: the administrator denied this request');
  }, 90_000);

  it('a PC of another office, or with no certificate, cannot join the overlay', async () => {
    await createOffice(dirs.rogue, 'acme', '101'); // same name, its own CA
    const rogue = await runPeer(dirs.rogue, { extra: ['--peer', peers[0].overlay] });
    peers.push(rogue);
    await waitFor('refusal logged by the admin', () =>
      /certificate|refus|verify/i.test(
        peers[0].run
          .stderr()
          .split('\n')
          .filter((l) => l.includes('"level":"warn"') && l.includes('127.0.0.1'))
          .join('\n'),
      ),
    );
    const s = JSON.parse((await mustSucceed(['status', '--data', dirs.rogue, '--json'])).stdout) as {
      peers: unknown[];
    };
    expect(s.peers).toHaveLength(1);
    const adminView = JSON.parse((await mustSucceed(['status', '--data', dirs.admin, '--json'])).stdout) as {
      peers: { nodeId: string }[];
    };
    expect(adminView.peers.map((p) => p.nodeId)).not.toContain(rogue.nodeId);

    // No certificate at all: the overlay's TLS handshake fails.
    const [host, port] = [peers[0].overlay.split(':')[0], Number(peers[0].overlay.split(':')[1])];
    const outcome = await new Promise<string>((resolve) => {
      const s2 = tls.connect({ host, port, rejectUnauthorized: false }, () => {
        s2.write('hello');
      });
      s2.on('error', (e) => resolve(`error ${e.message}`));
      s2.on('close', () => resolve('closed'));
      s2.on('data', () => resolve('data'));
    });
    expect(outcome).not.toBe('data');
  }, 90_000);

  it('a running admin without the passphrase refuses to enroll, in one line', async () => {
    const p = peers.shift()!;
    await p.stop();
    const locked = await runPeer(dirs.admin, { env: { PEERPBX_PASSPHRASE: '' } });
    peers.unshift(locked);
    const code = await invite(dirs.admin, '130');
    const r = await cli([
      'join',
      '--data',
      dirs.nobody,
      '--extension',
      '130',
      '--code',
      code,
      '--peer',
      locked.overlay,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(/without the admin passphrase/);
  }, 60_000);

  it('stops every peer cleanly (graceful leave)', async () => {
    for (const p of peers) {
      const end = await p.stop();
      expect(end.code).toBe(0);
      expect(end.stderr).toMatch(/"msg":"overlay stopped".*"graceful":true/);
    }
  }, 60_000);
});
