// Signing values as this peer: its certificate's identity and key, Node's native RSA, and storage
// times that never repeat or go backwards within one process (two writes to a slot in the same
// millisecond would otherwise tie, and a tie is decided by signature bytes, not by order).

import type { KindName, StoredValue } from '../../core/records/types.ts';
import { readCertificateIdentityPem } from '../../core/security/certificates.ts';
import { nodeSignatureProvider } from '../../core/security/signature-provider.ts';
import { ValueSigner } from '../../core/security/value-signing.ts';

export interface SignOptions {
  /** '' for SINGLE kinds. */
  key?: string;
  /** false writes a tombstone. */
  exists?: boolean;
}

export class PeerSigner {
  private readonly signer: ValueSigner;
  private lastTime = 0;

  constructor(
    certPem: string,
    keyPem: string,
    private readonly clock: () => number = Date.now,
  ) {
    const id = readCertificateIdentityPem(certPem);
    if (!id.ok) throw new Error(`own certificate unusable: ${id.reason}`);
    this.signer = new ValueSigner(
      { nodeId: id.identity.nodeId, user: id.identity.user, certificate: certPem },
      keyPem,
      nodeSignatureProvider(),
    );
  }

  get nodeId(): string {
    return this.signer.identity.nodeId;
  }

  get user(): string {
    return this.signer.identity.user;
  }

  sign(
    resourceName: string,
    kind: KindName,
    value: Uint8Array,
    lifetimeMs: number,
    opts: SignOptions = {},
  ): StoredValue {
    const storageTime = Math.max(this.clock(), this.lastTime + 1);
    this.lastTime = storageTime;
    return this.signer.sign({
      resourceName,
      kind,
      key: opts.key ?? '',
      value,
      exists: opts.exists,
      storageTime,
      lifetime: lifetimeMs,
    });
  }
}
