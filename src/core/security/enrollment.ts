// The admin peer's decision on a join request: a PC sends a CSR and the extension it wants, with a
// one-time join code or awaiting the admin's approval in the app. Pure: the caller persists the
// returned invites and the new extension -> Node-ID binding.

import forge from 'node-forge';
import type { NodeId } from '../records/types.ts';
import { issueCertificate } from './certificates.ts';
import { checkJoinCode, hashJoinCode, type Invite, normalizeJoinCode, redeemInvite } from './join-codes.ts';
import { nodeIdFromPublicKey, type RandomBytes } from './keys.ts';

export interface JoinRequest {
  csrPem: string;
  extension: string;
  /** The one-time code typed by the user; absent when the admin approves in the app instead. */
  code?: string;
}

export interface AdminContext {
  officeName: string;
  caCertificatePem: string;
  /** Opened with the admin passphrase (openCaKey). */
  caPrivateKey: forge.pki.rsa.PrivateKey;
  invites: readonly Invite[];
  /** Extensions already enrolled, with the Node-ID holding each. */
  enrolled: ReadonlyMap<string, NodeId>;
  /**
   * Certificates issued but never collected (the PC hung up before the answer reached it), by
   * extension. Such a reservation gives way after `reservationMs`, or at once to the same code.
   */
  uncollected?: ReadonlyMap<string, Reservation>;
  reservationMs?: number;
  now: number;
  random: RandomBytes;
}

export interface Reservation {
  nodeId: NodeId;
  issuedAt: number;
  /** hashJoinCode of the code it was issued for (none: issued on approval). */
  codeHash?: string;
}

/** Default time an issued but uncollected certificate keeps its extension. */
export const DEFAULT_RESERVATION_MS = 120_000;

export type JoinRefusal = 'bad-extension' | 'extension-taken' | 'bad-code' | 'needs-approval' | 'bad-csr';

export type JoinDecision =
  | {
      ok: true;
      user: string;
      nodeId: NodeId;
      certificatePem: string;
      invites: Invite[];
      /** The uncollected reservation of another key this decision released, if any. */
      released?: NodeId;
    }
  | { ok: false; refusal: JoinRefusal; reason: string };

const EXTENSION = /^[0-9]{2,10}$/;

export function isValidExtension(ext: string): boolean {
  return EXTENSION.test(ext);
}

/** Decides a join request. `approved`: the admin accepted it in the app (no code needed). */
export function decideJoinRequest(req: JoinRequest, ctx: AdminContext, approved = false): JoinDecision {
  if (!isValidExtension(req.extension)) {
    return {
      ok: false,
      refusal: 'bad-extension',
      reason: `extension "${req.extension}" must be 2 to 10 digits`,
    };
  }
  const csrNode = csrNodeId(req.csrPem);
  if (!csrNode.ok) return { ok: false, refusal: 'bad-csr', reason: csrNode.reason };
  const holder = ctx.enrolled.get(req.extension);
  const codeHash = req.code === undefined ? undefined : hashOfCode(req.code);
  let released: NodeId | undefined;
  if (holder !== undefined && holder !== csrNode.nodeId) {
    // An uncollected certificate does not hold its extension forever: the PC gave up before the
    // answer came, and asks again with a new key (the same code), or someone asks after the bound.
    const r = ctx.uncollected?.get(req.extension);
    const stale =
      r?.nodeId === holder && ctx.now - r.issuedAt >= (ctx.reservationMs ?? DEFAULT_RESERVATION_MS);
    const sameCode = r?.nodeId === holder && codeHash !== undefined && r.codeHash === codeHash;
    if (!stale && !sameCode)
      return { ok: false, refusal: 'extension-taken', reason: `extension ${req.extension} is already taken` };
    released = holder;
  }

  let invites = [...ctx.invites];
  if (req.code !== undefined) {
    const check = checkJoinCode(req.code, req.extension, ctx.invites, ctx.now);
    // A used code is fine for a repeat of the join that used it: the same key asking again (its
    // answer was lost), or a new key taking over the uncollected certificate it was issued for.
    const repeat =
      !check.ok &&
      check.error === 'used' &&
      (holder === csrNode.nodeId ||
        (released !== undefined && ctx.uncollected?.get(req.extension)?.codeHash === codeHash));
    if (!check.ok && !repeat) return { ok: false, refusal: 'bad-code', reason: check.reason };
    if (check.ok) invites = invites.map((i) => (i === check.invite ? redeemInvite(i) : i));
  } else if (!approved) {
    return {
      ok: false,
      refusal: 'needs-approval',
      reason: 'waiting for an administrator to approve this PC',
    };
  }

  const user = `${req.extension}@${ctx.officeName}`;
  const issued = issueCertificate({
    caCertificatePem: ctx.caCertificatePem,
    caPrivateKey: ctx.caPrivateKey,
    csrPem: req.csrPem,
    user,
    now: ctx.now,
    random: ctx.random,
  });
  if (!issued.ok) return { ok: false, refusal: 'bad-csr', reason: issued.reason };
  return {
    ok: true,
    user,
    nodeId: issued.nodeId,
    certificatePem: issued.certificatePem,
    invites,
    ...(released ? { released } : {}),
  };
}

/** hashJoinCode of a typed code (undefined when it is malformed). */
export function hashOfCode(code: string): string | undefined {
  const n = normalizeJoinCode(code);
  return n.ok ? hashJoinCode(n.code) : undefined;
}

function csrNodeId(csrPem: string): { ok: true; nodeId: NodeId } | { ok: false; reason: string } {
  try {
    const csr = forge.pki.certificationRequestFromPem(csrPem);
    if (!csr.publicKey) return { ok: false, reason: 'CSR carries no public key' };
    return { ok: true, nodeId: nodeIdFromPublicKey(csr.publicKey) };
  } catch (e) {
    return { ok: false, reason: `unreadable CSR: ${(e as Error).message}` };
  }
}
