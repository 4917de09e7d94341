// Voicemail audio encrypted to the recipient's certificate: a fresh AES-256-GCM key encrypts the
// audio, RSA-OAEP (SHA-256, MGF1-SHA-256) wraps that key to the recipient's public key. Only the
// holder of the recipient's private key reads it; GCM's tag detects any change to the blob.
// Randomness (AES key, IV, OAEP seed) is injected.
//
// Blob: "PVM1" | u16 wrapped-key length | wrapped key | 12-byte IV | 16-byte tag | ciphertext.
// The header and the caller's associated data (e.g. the voicemail entry id) are authenticated too.

import forge from 'node-forge';
import { binaryToBytes, bytesToBinary, type RandomBytes } from './keys.ts';

const MAGIC = 'PVM1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

interface OaepModule {
  encode_rsa_oaep(key: forge.pki.rsa.PublicKey, message: string, options: object): string;
}
const oaep = (forge as unknown as { pkcs1: OaepModule }).pkcs1;

const oaepOptions = () => ({ md: forge.md.sha256.create(), mgf1: { md: forge.md.sha256.create() } });

function recipientKey(pem: string): forge.pki.rsa.PublicKey {
  return (
    pem.includes('BEGIN CERTIFICATE')
      ? forge.pki.certificateFromPem(pem).publicKey
      : forge.pki.publicKeyFromPem(pem)
  ) as forge.pki.rsa.PublicKey;
}

function aad(header: Uint8Array, associated: Uint8Array): string {
  return bytesToBinary(header) + bytesToBinary(associated);
}

export interface EncryptOptions {
  plaintext: Uint8Array;
  /** The recipient's certificate PEM (or its public key PEM). */
  recipientPem: string;
  random: RandomBytes;
  /** Bound to the ciphertext: decryption fails if it differs (e.g. the voicemail entry id). */
  associatedData?: Uint8Array;
}

export function encryptForRecipient(opts: EncryptOptions): Uint8Array {
  const key = recipientKey(opts.recipientPem);
  const aesKey = bytesToBinary(opts.random(KEY_BYTES));
  const iv = opts.random(IV_BYTES);
  const seed = bytesToBinary(opts.random(32)); // OAEP seed: one hash length
  const encoded = oaep.encode_rsa_oaep(key, aesKey, { ...oaepOptions(), seed });
  const wrapped = binaryToBytes(key.encrypt(encoded, 'RAW'));

  const header = new Uint8Array(4 + 2 + wrapped.length + IV_BYTES);
  header.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(header.buffer).setUint16(4, wrapped.length);
  header.set(wrapped, 6);
  header.set(iv, 6 + wrapped.length);

  const cipher = forge.cipher.createCipher('AES-GCM', aesKey);
  cipher.start({
    iv: bytesToBinary(iv),
    additionalData: aad(header, opts.associatedData ?? new Uint8Array(0)),
    tagLength: TAG_BYTES * 8,
  });
  cipher.update(forge.util.createBuffer(bytesToBinary(opts.plaintext)));
  cipher.finish();
  const tag = binaryToBytes(cipher.mode.tag.getBytes());
  const body = binaryToBytes(cipher.output.getBytes());

  const out = new Uint8Array(header.length + TAG_BYTES + body.length);
  out.set(header, 0);
  out.set(tag, header.length);
  out.set(body, header.length + TAG_BYTES);
  return out;
}

export type DecryptResult = { ok: true; plaintext: Uint8Array } | { ok: false; reason: string };

/** Never throws: a malformed blob, the wrong key or any tampering is a refusal with a reason. */
export function decryptAsRecipient(
  blob: Uint8Array,
  privateKeyPem: string,
  associatedData?: Uint8Array,
): DecryptResult {
  if (blob.length < 6 || new TextDecoder().decode(blob.subarray(0, 4)) !== MAGIC) {
    return { ok: false, reason: 'not a PeerPBX encrypted voicemail' };
  }
  const wrappedLen = new DataView(blob.buffer, blob.byteOffset, blob.byteLength).getUint16(4);
  const headerLen = 6 + wrappedLen + IV_BYTES;
  if (blob.length < headerLen + TAG_BYTES) return { ok: false, reason: 'encrypted voicemail is truncated' };
  const header = blob.subarray(0, headerLen);
  const wrapped = blob.subarray(6, 6 + wrappedLen);
  const iv = blob.subarray(6 + wrappedLen, headerLen);
  const tag = blob.subarray(headerLen, headerLen + TAG_BYTES);
  const body = blob.subarray(headerLen + TAG_BYTES);

  let aesKey: string;
  try {
    const privateKey = forge.pki.privateKeyFromPem(privateKeyPem);
    aesKey = privateKey.decrypt(bytesToBinary(wrapped), 'RSA-OAEP', oaepOptions());
  } catch (e) {
    return {
      ok: false,
      reason: `cannot unwrap the key (not the recipient, or altered): ${(e as Error).message}`,
    };
  }
  if (aesKey.length !== KEY_BYTES) return { ok: false, reason: 'unwrapped key has the wrong length' };

  const decipher = forge.cipher.createDecipher('AES-GCM', aesKey);
  decipher.start({
    iv: bytesToBinary(iv),
    additionalData: aad(header, associatedData ?? new Uint8Array(0)),
    tagLength: TAG_BYTES * 8,
    tag: forge.util.createBuffer(bytesToBinary(tag)),
  });
  decipher.update(forge.util.createBuffer(bytesToBinary(body)));
  if (!decipher.finish()) return { ok: false, reason: 'authentication failed: the voicemail was altered' };
  return { ok: true, plaintext: binaryToBytes(decipher.output.getBytes()) };
}
