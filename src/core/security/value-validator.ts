// The office's ValueValidator: what a storing or fetching peer checks before it believes a value.
// Order: shape (cheap) -> size/lifetime -> certificate (cached) -> signature (RSA) -> access policy.

import { resourceIdFromName } from '../records/ids.ts';
import { decodeJson, KINDS, type KindSpec, keyFitsModel, kindSpec } from '../records/kinds.ts';
import {
  depositorOfEntryId,
  entryIdOfChunkResource,
  ownerOfResourceName,
} from '../records/resource-names.ts';
import type { KindName, StoredValue, ValueValidator } from '../records/types.ts';
import { CertificateVerifier } from './certificate-verifier.ts';
import type { CertificateIdentity } from './certificates.ts';
import { forgeSignatureProvider, type SignatureProvider } from './signature-provider.ts';
import { signedBytes } from './value-signing.ts';

export type ValidationResult = ReturnType<ValueValidator['validate']>;
type Code = 'forbidden' | 'bad-signature' | 'too-large' | 'invalid';

export interface OfficeValidatorOptions {
  caCertificatePem: string;
  /** Default: forge. Pass nodeSignatureProvider() where speed matters (src/main, simulator). */
  signatures?: SignatureProvider;
  /** A writer's storageTime may run ahead of ours by this much (a far-future time would pin a slot). */
  maxClockSkewMs?: number;
  kinds?: Readonly<Record<KindName, KindSpec>>;
}

const refuse = (code: Code, reason: string): ValidationResult => ({ ok: false, code, reason });

export class OfficeValueValidator implements ValueValidator {
  readonly certificates: CertificateVerifier;
  private readonly signatures: SignatureProvider;
  private readonly maxSkew: number;
  private readonly kinds: Readonly<Record<KindName, KindSpec>>;

  constructor(opts: OfficeValidatorOptions) {
    this.certificates = new CertificateVerifier(opts.caCertificatePem);
    this.signatures = opts.signatures ?? forgeSignatureProvider();
    this.maxSkew = opts.maxClockSkewMs ?? 10 * 60_000;
    this.kinds = opts.kinds ?? KINDS;
  }

  validate(v: StoredValue, now: number, existing?: StoredValue): ValidationResult {
    const spec = kindSpec(v.kind) ? this.kinds[v.kind] : undefined;
    if (!spec) return refuse('invalid', `unknown kind ${String(v.kind)}`);
    const shape = this.checkShape(v, spec, now);
    if (shape) return shape;

    const cert = this.certificates.verify(v.signer.certificate, now);
    if (!cert.ok) return refuse('bad-signature', `signer certificate refused: ${cert.reason}`);
    const id = cert.identity;
    if (id.nodeId !== v.signer.nodeId || id.user !== v.signer.user) {
      return refuse(
        'bad-signature',
        `signer claims ${v.signer.user}/${v.signer.nodeId} but certificate is ${id.user}/${id.nodeId}`,
      );
    }
    if (!this.signatures.verify(signedBytes(v), v.signature, cert.publicKeyPem)) {
      return refuse('bad-signature', `signature by ${id.user} does not verify over the value`);
    }

    const policy = this.checkPolicy(v, spec, id, existing);
    if (policy) return policy;
    if (v.exists) {
      const bad =
        spec.check(v.value) ?? (v.kind === 'CERTIFICATE' ? this.checkPublishedCertificate(v, now) : null);
      if (bad) return refuse('invalid', `${v.kind} value malformed: ${bad}`);
    }
    return { ok: true };
  }

  /** A published CERTIFICATE must chain to the office CA and name the resource's user: callers
   * encrypt voicemail to it. */
  private checkPublishedCertificate(v: StoredValue, now: number): string | null {
    const published = this.certificates.verify(new TextDecoder().decode(v.value), now);
    if (!published.ok) return published.reason;
    const owner = ownerOfResourceName(v.resourceName);
    return published.identity.user === owner
      ? null
      : `certificate is for ${published.identity.user}, not ${owner}`;
  }

  private checkShape(v: StoredValue, spec: KindSpec, now: number): ValidationResult | null {
    if (v.model !== spec.model) return refuse('invalid', `${v.kind} is ${spec.model}, value says ${v.model}`);
    if (typeof v.key !== 'string' || !keyFitsModel(spec.model, v.key)) {
      return refuse('invalid', `key "${String(v.key).slice(0, 40)}" does not fit the ${spec.model} model`);
    }
    if (typeof v.resourceName !== 'string' || v.resourceId !== resourceIdFromName(v.resourceName)) {
      return refuse(
        'invalid',
        `resourceId is not the hash of resource name "${String(v.resourceName).slice(0, 80)}"`,
      );
    }
    if (typeof v.exists !== 'boolean') return refuse('invalid', 'exists must be a boolean');
    if (!(v.value instanceof Uint8Array) || !(v.signature instanceof Uint8Array)) {
      return refuse('invalid', 'value and signature must be bytes');
    }
    if (!Number.isSafeInteger(v.storageTime) || v.storageTime < 0)
      return refuse('invalid', 'storageTime must be a non-negative integer');
    if (!Number.isSafeInteger(v.lifetime) || v.lifetime <= 0)
      return refuse('invalid', 'lifetime must be a positive integer');
    if (v.storageTime > now + this.maxSkew) {
      return refuse('invalid', `storageTime ${v.storageTime} is ${v.storageTime - now} ms in the future`);
    }
    if (v.lifetime > spec.maxLifetime)
      return refuse('invalid', `lifetime ${v.lifetime} ms exceeds ${v.kind}'s ${spec.maxLifetime} ms`);
    if (v.value.length > spec.maxValueSize) {
      return refuse('too-large', `${v.value.length} bytes exceeds ${v.kind}'s limit of ${spec.maxValueSize}`);
    }
    if (typeof v.signer?.certificate !== 'string')
      return refuse('bad-signature', 'value carries no signer certificate');
    return null;
  }

  /** Identity comes from the verified certificate, never from the value's own claims. */
  private checkPolicy(
    v: StoredValue,
    spec: KindSpec,
    id: CertificateIdentity,
    existing?: StoredValue,
  ): ValidationResult | null {
    const owner = ownerOfResourceName(v.resourceName);
    switch (spec.policy) {
      case 'USER-MATCH':
        return owner === id.user
          ? null
          : refuse('forbidden', `${id.user} may not write ${v.kind} of ${owner} (USER-MATCH)`);
      case 'NODE-MATCH':
        return v.resourceName === id.nodeId
          ? null
          : refuse(
              'forbidden',
              `node ${id.nodeId} may not write ${v.kind} of resource ${v.resourceName} (NODE-MATCH)`,
            );
      case 'USER-NODE-MATCH':
        if (owner !== id.user && !isGatewayEntry(v, owner, id))
          return refuse('forbidden', `${id.user} may not write ${v.kind} of ${owner} (USER-NODE-MATCH)`);
        return v.key === id.nodeId
          ? null
          : refuse(
              'forbidden',
              `dictionary key ${v.key} is not the signer's Node-ID ${id.nodeId} (USER-NODE-MATCH)`,
            );
      case 'ADMIN':
        return id.isAdmin ? null : refuse('forbidden', `${id.user} is not an office administrator (ADMIN)`);
      case 'DEPOSIT': {
        if (owner === id.user) return null; // the owner may add, replace and delete anything
        if (!v.exists) return refuse('forbidden', `only ${owner} may delete ${v.kind} entries (DEPOSIT)`);
        const entry = spec.model === 'single' ? entryIdOfChunkResource(v.resourceName) : v.key;
        if (entry === undefined || depositorOfEntryId(entry) !== id.nodeId) {
          return refuse(
            'forbidden',
            `${id.user} may only deposit entries whose id starts with its Node-ID (DEPOSIT)`,
          );
        }
        // Below: only misbehaving depositors are caught, and only where the replica holds the entry.
        if (existing?.exists && existing.signer.nodeId !== id.nodeId) {
          return refuse(
            'forbidden',
            `${id.user} may not replace a ${v.kind} entry written by ${existing.signer.user} (DEPOSIT)`,
          );
        }
        if (existing && !existing.exists && existing.signer.user === owner) {
          return refuse(
            'forbidden',
            `${owner} deleted this ${v.kind} entry; ${id.user} may not restore it (DEPOSIT)`,
          );
        }
        return null;
      }
    }
  }
}

/**
 * A desk-phone gateway entry: any member of the office may write a SIP-REGISTRATION entry of
 * another extension of its own office when the entry is keyed by its own Node-ID (checked by the
 * caller's USER-NODE-MATCH key rule) and every contact is a desk phone it serves itself
 * (`deskPhone: true`, `nodeId` = the signer). It can never touch the extension owner's own entries
 * (other keys), only add or remove its own branch; tombstones need no contacts. The same rule,
 * without the contact check, admits a gateway's DEVICE-STATE entry (a desk phone's call state).
 */
function isGatewayEntry(v: StoredValue, owner: string, id: CertificateIdentity): boolean {
  const at = owner.indexOf('@');
  if (at < 0 || owner.slice(at) !== id.user.slice(id.user.indexOf('@'))) return false;
  if (v.key !== id.nodeId) return false;
  // DEVICE-STATE: a gateway's word on the call state of a desk phone it serves, under its own key
  // only (the same residual risk as the registration entries: any member may claim a phone).
  if (v.kind === 'DEVICE-STATE') return true;
  if (v.kind !== 'SIP-REGISTRATION') return false;
  if (!v.exists) return true;
  const d = decodeJson<{ contacts?: unknown }>(v.value);
  if (!d.ok || typeof d.value !== 'object' || d.value === null) return false;
  const contacts = d.value.contacts;
  return (
    Array.isArray(contacts) &&
    contacts.length > 0 &&
    contacts.every(
      (c) =>
        typeof c === 'object' &&
        c !== null &&
        (c as Record<string, unknown>).deskPhone === true &&
        (c as Record<string, unknown>).nodeId === id.nodeId,
    )
  );
}
