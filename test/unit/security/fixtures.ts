// Test offices: a CA and enrolled peers, with keys from Node's fast generator (as src/main does).

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createOfficeCa, type OfficeCa, openCaKey } from '../../../src/core/security/ca.ts';
import { createCsr, issueCertificate } from '../../../src/core/security/certificates.ts';
import type { KeyPairPem } from '../../../src/core/security/keys.ts';
import {
  nodeSignatureProvider,
  type SignatureProvider,
} from '../../../src/core/security/signature-provider.ts';
import { ValueSigner } from '../../../src/core/security/value-signing.ts';

export const NOW = Date.UTC(2026, 10, 21, 12, 0, 0);
export const PASSPHRASE = 'correct horse battery';
export const random = (n: number) => new Uint8Array(randomBytes(n));

export function newKeyPair(): KeyPairPem {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { publicKeyPem: publicKey, privateKeyPem: privateKey };
}

export interface TestPeer {
  user: string;
  nodeId: string;
  keyPair: KeyPairPem;
  certificatePem: string;
  signer: ValueSigner;
}

export interface TestOffice {
  name: string;
  ca: OfficeCa;
  enroll(
    user: string,
    opts?: { isAdmin?: boolean; now?: number; validityMs?: number; keyPair?: KeyPairPem },
  ): TestPeer;
}

export function makeOffice(
  name = 'office',
  provider: SignatureProvider = nodeSignatureProvider(),
): TestOffice {
  const ca = createOfficeCa({
    officeName: name,
    passphrase: PASSPHRASE,
    keyPair: newKeyPair(),
    now: NOW,
    random,
    kdfIterations: 1000, // keeps the many test offices fast; certificates.test.ts checks the default
  });
  const caKey = openCaKey(ca.encryptedKeyPem, PASSPHRASE);
  if (!caKey.ok) throw new Error(caKey.reason);
  return {
    name,
    ca,
    enroll(user, opts = {}) {
      const keyPair = opts.keyPair ?? newKeyPair();
      const issued = issueCertificate({
        caCertificatePem: ca.certificatePem,
        caPrivateKey: caKey.privateKey,
        csrPem: createCsr(keyPair, user),
        user,
        isAdmin: opts.isAdmin,
        now: opts.now ?? NOW,
        random,
        validityMs: opts.validityMs,
      });
      if (!issued.ok) throw new Error(issued.reason);
      const identity = { user, nodeId: issued.nodeId, certificate: issued.certificatePem };
      return {
        user,
        nodeId: issued.nodeId,
        keyPair,
        certificatePem: issued.certificatePem,
        signer: new ValueSigner(identity, keyPair.privateKeyPem, provider),
      };
    },
  };
}
