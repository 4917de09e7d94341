// A joining PC that gives up before the admin answers (a loaded admin signs slowly) must not leave
// its extension taken with no PC enrolled. The admin is a real `peerpbx run` process; the PC that
// gives up sends its join request and hangs up at once, so the admin issues to nobody:
// - the same key asking again (same code) gets its certificate;
// - a new key with the same code (the user ran `join` again) takes the uncollected certificate over;
// - anyone else is refused as before, until the bound (PEERPBX_UNCOLLECTED_MS) frees the extension.
// And in process: `joinOffice` asks again with the same key when an admin took the request but
// answered too late, and gets the certificate.
import tls from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { createCsr } from '../../src/core/security/certificates.ts';
import { nodeIdFromPublicKeyPem } from '../../src/core/security/keys.ts';
import { requestEnrollment } from '../../src/main/enrollment/client.ts';
import { joinOffice } from '../../src/main/enrollment/join.ts';
import { enrollmentPort } from '../../src/main/enrollment/protocol.ts';
import {
  databasePath,
  generatePeerKeys,
  hasIdentity,
  loadIdentity,
  openDataDatabase,
} from '../../src/main/identity/identity.ts';
import { createLogger, setLogLevel } from '../../src/main/log.ts';
import { inviteToOffice, loadEnrolled, loadUncollected } from '../../src/main/office/office.ts';
import { openPeerDatabase } from '../../src/main/store/peer-database.ts';
import { killAll, waitFor } from '../helpers/processes.ts';
import { startAdminEndpoint } from './admin-endpoint.ts';
import { cli, createOffice, dataDirs, invite, runPeer } from './harness.ts';

setLogLevel('error');
const closers: Array<() => unknown> = [];
afterAll(async () => {
  for (const c of closers.reverse()) await c();
  await killAll();
});

const RESERVATION_MS = 6000;

/** The admin's enrollment book as its running peer has it (a second, read-only connection). */
function book(dir: string) {
  const db = openPeerDatabase(databasePath(dir), { readonly: true });
  try {
    return { enrolled: loadEnrolled(db), uncollected: loadUncollected(db) };
  } finally {
    db.close();
  }
}

/** A PC that sends its join request and hangs up before any answer can come. */
function giveUp(port: number, extension: string, code: string, keys = generatePeerKeys()) {
  return new Promise<typeof keys>((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const csr = createCsr(keys, `${extension}@joining`);
      s.end(`${JSON.stringify({ type: 'join', extension, csr, code })}\n`);
      s.destroy();
      resolve(keys);
    });
    s.on('error', reject);
  });
}

describe('a join whose answer never reached the PC', () => {
  it('is repeated by the same key, taken over with the same code, refused to others until the bound', async () => {
    const dirs = dataDirs(['admin', 'again', 'other', 'later', 'late104']);
    await createOffice(dirs.admin, 'slowco', '101');
    const env = { PEERPBX_UNCOLLECTED_MS: String(RESERVATION_MS) };
    const admin = await runPeer(dirs.admin, { env });
    const port = enrollmentPort(admin.overlayPort);
    const peer = ['--peer', admin.overlay];
    const reservedBy = (ext: string, nodeId: string) =>
      waitFor(
        `uncollected ${ext}`,
        () => book(dirs.admin).uncollected.get(ext)?.nodeId === nodeId || null,
        20_000,
      );

    // 102: the same key asks again with the same (now used) code and gets its certificate.
    const codeA = await invite(dirs.admin, '102');
    const k1 = await giveUp(port, '102', codeA);
    const n1 = nodeIdFromPublicKeyPem(k1.publicKeyPem);
    await reservedBy('102', n1);
    expect(book(dirs.admin).enrolled.get('102')).toBe(n1);
    const again = await requestEnrollment({
      host: '127.0.0.1',
      port,
      extension: '102',
      code: codeA,
      keys: k1,
    });
    expect(again).toMatchObject({ ok: true, nodeId: n1 });
    await waitFor('102 collected', () => !book(dirs.admin).uncollected.has('102') || null, 10_000);
    // Collected: the code no longer buys the extension for another PC.
    const stolen = await cli(['join', '--data', dirs.other, '--extension', '102', '--code', codeA, ...peer]);
    expect(stolen.code).toBe(1);
    expect(stolen.stderr.trim()).toBe('peerpbx: join refused: extension 102 is already taken');

    // 103: the user runs `join` again (new process, new key) with the same code: it is enrolled.
    const codeB = await invite(dirs.admin, '103');
    const k2 = await giveUp(port, '103', codeB);
    await reservedBy('103', nodeIdFromPublicKeyPem(k2.publicKeyPem));
    const rejoin = await cli(['join', '--data', dirs.again, '--extension', '103', '--code', codeB, ...peer]);
    expect(rejoin.stderr).toBe('');
    expect(rejoin.stdout).toMatch(/joined office slowco as extension 103/);
    const pcDb = openDataDatabase(dirs.again);
    const mine = loadIdentity(dirs.again, pcDb);
    pcDb.close();
    const after = book(dirs.admin);
    expect(after.enrolled.get('103')).not.toBe(nodeIdFromPublicKeyPem(k2.publicKeyPem));
    expect(after.uncollected.has('103')).toBe(false);
    expect(mine.extension).toBe('103');

    // 104: another PC (another code) is refused while the reservation lasts; then it is free.
    const codeC = await invite(dirs.admin, '104');
    const k3 = await giveUp(port, '104', codeC);
    await reservedBy('104', nodeIdFromPublicKeyPem(k3.publicKeyPem));
    const reservedAt = book(dirs.admin).uncollected.get('104')?.issuedAt ?? 0;
    const inv = await cli(['office', 'invite', '--data', dirs.admin, '--extension', '104'], { env });
    expect(inv.code).toBe(1);
    expect(inv.stderr.trim()).toMatch(
      /extension 104 is already taken \(by a PC that has not collected its certificate/,
    );
    const codeD = await invite(dirs.admin, '105');
    const other = await cli(['join', '--data', dirs.other, '--extension', '104', '--code', codeD, ...peer]);
    expect(other.code).toBe(1);
    expect(other.stderr.trim()).toBe('peerpbx: join refused: extension 104 is already taken');
    // Poll `office invite` until the bound has passed (capped): it refuses while the hold lasts.
    let fresh: string | undefined;
    for (const end = Date.now() + 30_000; !fresh && Date.now() < end; ) {
      const r = await cli(['office', 'invite', '--data', dirs.admin, '--extension', '104'], { env });
      if (r.code === 0) fresh = r.stdout.trim().split(/\s+/).pop();
      else await new Promise((res) => setTimeout(res, 500));
    }
    const freedAfter = Date.now() - reservedAt;
    console.log(
      `[uncollected] extension 104 free again ${freedAfter} ms after the reservation (bound ${RESERVATION_MS} ms)`,
    );
    expect(freedAfter).toBeGreaterThanOrEqual(RESERVATION_MS);
    const late = await cli([
      'join',
      '--data',
      dirs.late104,
      '--extension',
      '104',
      '--code',
      String(fresh),
      ...peer,
    ]);
    expect(late.stdout).toMatch(/joined office slowco as extension 104/);
    expect(hasIdentity(dirs.late104)).toBe(true);
    await admin.stop();
  }, 90_000);

  it('joinOffice asks again with the same key when the answer came too late', async () => {
    const dirs = dataDirs(['admin', 'pc']);
    let asked = 0;
    const { db, server } = await startAdminEndpoint(dirs.admin, 'lateco', closers, {
      // The first decision is slow (a loaded admin asking the overlay), longer than the PC waits.
      overlayHolder: async () => {
        if (++asked === 1) await new Promise((r) => setTimeout(r, 1500));
        return undefined;
      },
    });
    const { code } = inviteToOffice(dirs.admin, '102');
    const joined = await joinOffice({
      dataDir: dirs.pc,
      extension: '102',
      code,
      peers: [{ host: '127.0.0.1', port: server.port - 1 }],
      answerTimeoutMs: 700,
      log: createLogger({ component: 'test' }),
    });
    expect(asked).toBeGreaterThanOrEqual(2); // it did ask again
    expect(joined.extension).toBe('102');
    // The late first decision re-issued to the same key; the extension is the PC's, collected.
    await new Promise((r) => setTimeout(r, 1500));
    expect(loadEnrolled(db).get('102')).toBe(joined.nodeId);
    expect(loadUncollected(db).has('102')).toBe(false);
  }, 30_000);
});
