// The voicemail blob's primitives on Node's native crypto (OpenSSL): AES-256-GCM and RSA-OAEP
// (SHA-256, MGF1-SHA-256) key unwrap. Same bytes as the node-forge default in
// src/core/security/voicemail-crypto.ts, much faster: playback decrypts a whole message at once.
import {
  constants,
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  type KeyObject,
  privateDecrypt,
} from 'node:crypto';
import type { VoicemailCipher } from '../../core/security/voicemail-crypto.ts';

const TAG_BYTES = 16;

export function nativeVoicemailCipher(): VoicemailCipher {
  // Parsing the PEM costs about as much as the RSA operation: keep the owner's key (one or two).
  const keys = new Map<string, KeyObject>();
  const privateKey = (pem: string): KeyObject => {
    let k = keys.get(pem);
    if (!k) {
      k = createPrivateKey(pem);
      if (keys.size >= 8) keys.delete(keys.keys().next().value as string);
      keys.set(pem, k);
    }
    return k;
  };
  return {
    unwrapKey: (wrapped, pem) =>
      new Uint8Array(
        privateDecrypt(
          { key: privateKey(pem), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
          wrapped,
        ),
      ),
    seal(key, iv, aad, plaintext) {
      const c = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      c.setAAD(aad);
      const body = Buffer.concat([c.update(plaintext), c.final()]);
      return { body: new Uint8Array(body), tag: new Uint8Array(c.getAuthTag()) };
    },
    open(key, iv, aad, body, tag) {
      if (tag.length !== TAG_BYTES) return null;
      const d = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      d.setAAD(aad);
      d.setAuthTag(tag);
      try {
        return new Uint8Array(Buffer.concat([d.update(body), d.final()]));
      } catch {
        return null; // the tag did not verify
      }
    },
  };
}
