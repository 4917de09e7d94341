// The joining PC's side of enrollment: connect to an admin peer (TLS, server-authenticated only),
// check the office CA it presents (fingerprint learned from discovery, when known), send a CSR with
// the extension and the code, and check what comes back before keeping it.
import { createHash, X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import {
  createCsr,
  readCertificateIdentityPem,
  verifyCertificateChain,
} from '../../core/security/certificates.ts';
import {
  certificateFingerprintPem,
  type KeyPairPem,
  nodeIdFromPublicKeyPem,
} from '../../core/security/keys.ts';
import {
  COLLECTED_LINE,
  codeProof,
  type EnrollmentAnswer,
  type EnrollmentRefusal,
  lineReader,
  parseAnswer,
} from './protocol.ts';

export interface EnrollRequest {
  host: string;
  /** The enrollment port (overlay port + 1). */
  port: number;
  extension: string;
  code?: string;
  displayName?: string;
  keys: KeyPairPem;
  /** The office CA fingerprint the PC expects (from discovery); any office when absent. */
  caFingerprint?: string;
  connectTimeoutMs?: number;
  /** How long to wait for the answer once the request is sent (default 30 s: a loaded admin signs slowly). */
  answerTimeoutMs?: number;
  /**
   * Keeps the checked certificate (writes it to the data folder) before the PC tells the admin it
   * collected it; a failure here leaves the certificate uncollected, so the extension is freed later.
   */
  collect?: (issued: Extract<EnrollResult, { ok: true }>) => void | Promise<void>;
  /** How long to wait for an approval (default 10 min). */
  approvalTimeoutMs?: number;
  onPending?: (requestId: string) => void;
}

export type EnrollResult =
  | { ok: true; office: string; certificatePem: string; caPem: string; caFingerprint: string; nodeId: string }
  /** no-answer: the request went out but no answer came back (asking again with the same key is safe). */
  | { ok: false; kind: 'unreachable' | 'no-answer' | 'wrong-office' | 'protocol'; reason: string }
  | { ok: false; kind: 'refused'; refusal: EnrollmentRefusal; reason: string };

type Failure = Extract<EnrollResult, { ok: false }>;

function pemOf(raw: Buffer): string {
  return `-----BEGIN CERTIFICATE-----\n${raw.toString('base64').replace(/.{64}/g, '$&\n').trim()}\n-----END CERTIFICATE-----\n`;
}

/** Checks the presented chain: the server's certificate is issued by the CA it sends along. */
function officeOf(
  socket: tls.TLSSocket,
): { ok: true; caPem: string; fingerprint: string } | { ok: false; reason: string } {
  const leaf = socket.getPeerCertificate(true);
  const ca = leaf?.issuerCertificate;
  if (!leaf?.raw || !ca?.raw || ca.raw.equals(leaf.raw))
    return { ok: false, reason: 'the peer presented no office CA' };
  const caCert = new X509Certificate(ca.raw);
  if (!new X509Certificate(leaf.raw).verify(caCert.publicKey))
    return { ok: false, reason: 'the peer certificate is not issued by the CA it presents' };
  return { ok: true, caPem: pemOf(ca.raw), fingerprint: createHash('sha256').update(ca.raw).digest('hex') };
}

export function requestEnrollment(r: EnrollRequest): Promise<EnrollResult> {
  return new Promise((resolve) => {
    let done = false;
    let sent = false;
    let answered = false;
    let office: { caPem: string; fingerprint: string } | null = null;
    const finish = (res: EnrollResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(res);
    };
    const fail = (kind: Failure['kind'], reason: string) => finish({ ok: false, kind, reason } as Failure);
    // The server is authenticated below by its CA's fingerprint (and the code proof), not by a trust store.
    const socket = tls.connect({
      host: r.host,
      port: r.port,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.3',
    });
    let timer = setTimeout(
      () => fail('unreachable', `no answer from ${r.host}:${r.port}`),
      r.connectTimeoutMs ?? 5000,
    );
    const wait = (ms: number, why: () => void) => {
      clearTimeout(timer);
      timer = setTimeout(why, ms);
    };
    // Once the certificate is kept, the end of the link (however it ends) completes the join.
    let kept: Extract<EnrollResult, { ok: true }> | null = null;
    socket.on('error', (err) =>
      kept ? finish(kept) : fail(sent ? 'no-answer' : 'unreachable', `${r.host}:${r.port}: ${err.message}`),
    );
    socket.on('close', () =>
      kept
        ? finish(kept)
        : fail(
            sent ? 'no-answer' : 'protocol',
            `${r.host}:${r.port} closed the connection without an answer`,
          ),
    );
    socket.on('secureConnect', () => {
      const o = officeOf(socket);
      if (!o.ok) return fail('wrong-office', o.reason);
      if (r.caFingerprint && o.fingerprint !== r.caFingerprint.toLowerCase())
        return fail(
          'wrong-office',
          `${r.host}:${r.port} belongs to another office (CA ${o.fingerprint.slice(0, 16)}...)`,
        );
      office = o;
      const csr = createCsr(r.keys, `${r.extension}@joining`);
      socket.write(
        `${JSON.stringify({ type: 'join', extension: r.extension, csr, code: r.code, displayName: r.displayName })}\n`,
      );
      sent = true;
      wait(r.answerTimeoutMs ?? 30_000, () =>
        fail('no-answer', `the admin peer at ${r.host}:${r.port} did not answer in time`),
      );
    });
    const collect = async (res: Extract<EnrollResult, { ok: true }>) => {
      clearTimeout(timer);
      try {
        await r.collect?.(res);
      } catch (err) {
        return fail('protocol', `could not keep the certificate: ${(err as Error).message}`);
      }
      // Tell the admin, then give it a moment to record that before the socket goes.
      kept = res;
      if (socket.destroyed) return finish(res);
      socket.write(`${COLLECTED_LINE}\n`);
      wait(3000, () => finish(res));
    };
    socket.on(
      'data',
      lineReader(
        (line) => {
          if (done || !sent || answered) return;
          const a = parseAnswer(line);
          if (!a) return fail('protocol', 'unreadable answer from the admin peer');
          if (a.type === 'pending') {
            wait(r.approvalTimeoutMs ?? 600_000, () =>
              fail('unreachable', 'no administrator approved the request in time'),
            );
            r.onPending?.(a.requestId);
            return;
          }
          answered = true;
          const res = check(a, r, office!);
          if (res.ok) void collect(res);
          else finish(res);
        },
        () => fail('protocol', 'answer too long'),
      ),
    );
  });
}

function check(
  a: Exclude<EnrollmentAnswer, { type: 'pending' }>,
  r: EnrollRequest,
  office: { caPem: string; fingerprint: string },
): EnrollResult {
  if (a.type === 'refused') return { ok: false, kind: 'refused', refusal: a.refusal, reason: a.reason };
  if (typeof a.certificatePem !== 'string' || typeof a.caPem !== 'string' || typeof a.office !== 'string')
    return { ok: false, kind: 'protocol', reason: 'incomplete certificate answer' };
  if (certificateFingerprintPem(a.caPem) !== office.fingerprint)
    return { ok: false, kind: 'wrong-office', reason: 'the CA sent is not the one the TLS link presented' };
  if (r.code) {
    const proof = codeProof(r.code, office.fingerprint, a.certificatePem);
    if (!proof || proof !== a.proof)
      return {
        ok: false,
        kind: 'wrong-office',
        reason: 'the admin peer could not prove it issued this join code',
      };
  }
  const chain = verifyCertificateChain(a.certificatePem, a.caPem, Date.now());
  if (!chain.ok)
    return { ok: false, kind: 'protocol', reason: `issued certificate unusable: ${chain.reason}` };
  const id = readCertificateIdentityPem(a.certificatePem);
  const mine = nodeIdFromPublicKeyPem(r.keys.publicKeyPem);
  if (!id.ok || id.identity.nodeId !== mine || id.identity.user !== `${r.extension}@${a.office}`)
    return { ok: false, kind: 'protocol', reason: 'the issued certificate is not for this PC and extension' };
  return {
    ok: true,
    office: a.office,
    certificatePem: a.certificatePem,
    caPem: a.caPem,
    caFingerprint: office.fingerprint,
    nodeId: mine,
  };
}
