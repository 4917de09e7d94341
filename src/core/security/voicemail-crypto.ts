// Voicemail audio encrypted to the recipient's certificate: a fresh AES-256-GCM key encrypts the
// audio, RSA-OAEP (SHA-256, MGF1-SHA-256) wraps that key to the recipient's public key. Only the
// holder of the recipient's private key reads it; GCM's tag detects any change to the blob.
// Randomness (AES key, IV, OAEP seed) is injected. The symmetric cipher and the key unwrap go
// through a VoicemailCipher (like SignatureProvider): node-forge here, Node's native crypto in
// src/main (src/main/voicemail/native-cipher.ts: about 30x faster on playback). Either reads the
// other's blobs: the format does not depend on the provider.
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

/** The primitives the blob format uses; every implementation produces and reads the same bytes. */
export interface VoicemailCipher {
  /** RSA-OAEP (SHA-256, MGF1-SHA-256) decryption of the wrapped AES key; throws when it fails. */
  unwrapKey(wrapped: Uint8Array, privateKeyPem: string): Uint8Array;
  /** AES-256-GCM with a 16-byte tag. */
  seal(
    key: Uint8Array,
    iv: Uint8Array,
    aad: Uint8Array,
    plaintext: Uint8Array,
  ): { body: Uint8Array; tag: Uint8Array };
  /** AES-256-GCM; null when the tag does not verify. */
  open(
    key: Uint8Array,
    iv: Uint8Array,
    aad: Uint8Array,
    body: Uint8Array,
    tag: Uint8Array,
  ): Uint8Array | null;
}

/** Pure JavaScript (node-forge): the portable default. */
export function forgeVoicemailCipher(): VoicemailCipher {
  return {
    unwrapKey: (wrapped, pem) =>
      binaryToBytes(
        forge.pki.privateKeyFromPem(pem).decrypt(bytesToBinary(wrapped), 'RSA-OAEP', oaepOptions()),
      ),
    seal(key, iv, aad, plaintext) {
      const cipher = forge.cipher.createCipher('AES-GCM', bytesToBinary(key));
      cipher.start({ iv: bytesToBinary(iv), additionalData: bytesToBinary(aad), tagLength: TAG_BYTES * 8 });
      cipher.update(forge.util.createBuffer(bytesToBinary(plaintext)));
      cipher.finish();
      return {
        body: binaryToBytes(cipher.output.getBytes()),
        tag: binaryToBytes(cipher.mode.tag.getBytes()),
      };
    },
    open(key, iv, aad, body, tag) {
      const decipher = forge.cipher.createDecipher('AES-GCM', bytesToBinary(key));
      decipher.start({
        iv: bytesToBinary(iv),
        additionalData: bytesToBinary(aad),
        tagLength: TAG_BYTES * 8,
        tag: forge.util.createBuffer(bytesToBinary(tag)),
      });
      decipher.update(forge.util.createBuffer(bytesToBinary(body)));
      return decipher.finish() ? binaryToBytes(decipher.output.getBytes()) : null;
    },
  };
}

const defaultCipher = forgeVoicemailCipher();

function recipientKey(pem: string): forge.pki.rsa.PublicKey {
  return (
    pem.includes('BEGIN CERTIFICATE')
      ? forge.pki.certificateFromPem(pem).publicKey
      : forge.pki.publicKeyFromPem(pem)
  ) as forge.pki.rsa.PublicKey;
}

function aad(header: Uint8Array, associated: Uint8Array): Uint8Array {
  const out = new Uint8Array(header.length + associated.length);
  out.set(header, 0);
  out.set(associated, header.length);
  return out;
}

export interface EncryptOptions {
  plaintext: Uint8Array;
  /** The recipient's certificate PEM (or its public key PEM). */
  recipientPem: string;
  random: RandomBytes;
  /** Bound to the ciphertext: decryption fails if it differs (e.g. the voicemail entry id). */
  associatedData?: Uint8Array;
  /** Default: node-forge. */
  cipher?: VoicemailCipher;
}

export function encryptForRecipient(opts: EncryptOptions): Uint8Array {
  const key = recipientKey(opts.recipientPem);
  const aesKey = opts.random(KEY_BYTES);
  const iv = opts.random(IV_BYTES);
  const seed = bytesToBinary(opts.random(32)); // OAEP seed: one hash length
  // The wrap stays in forge: it is one public-key operation on 32 bytes, and takes the seed.
  const encoded = oaep.encode_rsa_oaep(key, bytesToBinary(aesKey), { ...oaepOptions(), seed });
  const wrapped = binaryToBytes(key.encrypt(encoded, 'RAW'));

  const header = new Uint8Array(4 + 2 + wrapped.length + IV_BYTES);
  header.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(header.buffer).setUint16(4, wrapped.length);
  header.set(wrapped, 6);
  header.set(iv, 6 + wrapped.length);

  const { body, tag } = (opts.cipher ?? defaultCipher).seal(
    aesKey,
    iv,
    aad(header, opts.associatedData ?? new Uint8Array(0)),
    opts.plaintext,
  );

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
  cipher: VoicemailCipher = defaultCipher,
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

  let aesKey: Uint8Array;
  try {
    aesKey = cipher.unwrapKey(wrapped, privateKeyPem);
  } catch (e) {
    return {
      ok: false,
      reason: `cannot unwrap the key (not the recipient, or altered): ${(e as Error).message}`,
    };
  }
  if (aesKey.length !== KEY_BYTES) return { ok: false, reason: 'unwrapped key has the wrong length' };

  let plaintext: Uint8Array | null;
  try {
    plaintext = cipher.open(aesKey, iv, aad(header, associatedData ?? new Uint8Array(0)), body, tag);
  } catch {
    plaintext = null;
  }
  if (!plaintext) return { ok: false, reason: 'authentication failed: the voicemail was altered' };
  return { ok: true, plaintext };
}
