// A voicemail as overlay records: the audio encrypted to the owner's certificate, cut into
// VOICEMAIL-CHUNK records, plus one VOICEMAIL dictionary entry with the metadata. The entry id
// starts with the depositor's Node-ID (DEPOSIT policy) and is bound into the encryption, so chunks
// cannot be swapped between messages.

import { assembleChunks, splitIntoChunks } from '../records/chunking.ts';
import {
  decodeJson,
  encodeJson,
  KINDS,
  VOICEMAIL_CHUNK_SIZE,
  type VoicemailEntryData,
} from '../records/kinds.ts';
import { depositEntryId, voicemailChunkResourceName } from '../records/resource-names.ts';
import type { StoredValue } from '../records/types.ts';
import type { RandomBytes } from './keys.ts';
import type { ValueSigner } from './value-signing.ts';
import { decryptAsRecipient, encryptForRecipient, type VoicemailCipher } from './voicemail-crypto.ts';

export interface VoicemailDepositInput {
  /** The mailbox owner, e.g. "101@office". */
  owner: string;
  /** The owner's certificate (fetched from the overlay's CERTIFICATE record and validated). */
  ownerCertificatePem: string;
  audio: Uint8Array;
  from: string;
  /** ms since epoch when recording started, and ms of audio. */
  time: number;
  duration: number;
  /** Makes the entry id unique among this depositor's messages (e.g. random hex). */
  unique: string;
  /** The depositing peer's signer. */
  signer: ValueSigner;
  now: number;
  lifetime: number;
  random: RandomBytes;
  chunkSize?: number;
  /** Default: node-forge (src/main passes its native one). */
  cipher?: VoicemailCipher;
}

export interface VoicemailDeposit {
  entryId: string;
  entry: StoredValue;
  chunks: StoredValue[];
}

const encoder = new TextEncoder();

export function buildVoicemailDeposit(input: VoicemailDepositInput): VoicemailDeposit {
  const entryId = depositEntryId(input.signer.identity.nodeId, input.unique);
  const blob = encryptForRecipient({
    plaintext: input.audio,
    recipientPem: input.ownerCertificatePem,
    random: input.random,
    associatedData: encoder.encode(entryId),
    cipher: input.cipher,
  });
  const { manifest, chunks } = splitIntoChunks(blob, input.chunkSize ?? VOICEMAIL_CHUNK_SIZE);
  const common = { storageTime: input.now, lifetime: input.lifetime };
  const meta: VoicemailEntryData = {
    id: entryId,
    from: input.from,
    time: input.time,
    duration: input.duration,
    heard: false,
    ...manifest,
  };
  return {
    entryId,
    entry: input.signer.sign({
      ...common,
      resourceName: input.owner,
      kind: 'VOICEMAIL',
      key: entryId,
      value: encodeJson(meta),
    }),
    chunks: chunks.map((value, i) =>
      input.signer.sign({
        ...common,
        resourceName: voicemailChunkResourceName(input.owner, entryId, i),
        kind: 'VOICEMAIL-CHUNK',
        value,
      }),
    ),
  };
}

export type ReadEntryResult = { ok: true; meta: VoicemailEntryData } | { ok: false; error: string };

export function readVoicemailEntry(entry: StoredValue): ReadEntryResult {
  if (entry.kind !== 'VOICEMAIL' || !entry.exists) return { ok: false, error: 'not a live VOICEMAIL entry' };
  const bad = KINDS.VOICEMAIL.check(entry.value);
  if (bad) return { ok: false, error: bad };
  const d = decodeJson<VoicemailEntryData>(entry.value);
  if (!d.ok) return d;
  if (d.value.id !== entry.key)
    return { ok: false, error: `entry id ${d.value.id} differs from its key ${entry.key}` };
  return { ok: true, meta: d.value };
}

/** Chunk i's resource name for an entry: what the reader fetches. */
export function voicemailChunkNames(owner: string, meta: VoicemailEntryData): string[] {
  return Array.from({ length: meta.chunkCount }, (_, i) => voicemailChunkResourceName(owner, meta.id, i));
}

export type OpenResult =
  | { ok: true; meta: VoicemailEntryData; audio: Uint8Array }
  | { ok: false; error: string };

/** The owner's side: reassemble (chunks[i] = value of chunk i, or undefined if not fetched) and decrypt. */
export function openVoicemail(
  entry: StoredValue,
  chunks: ReadonlyArray<StoredValue | undefined>,
  ownerPrivateKeyPem: string,
  cipher?: VoicemailCipher,
): OpenResult {
  const read = readVoicemailEntry(entry);
  if (!read.ok) return read;
  const meta = read.meta;
  const assembled = assembleChunks(
    meta,
    chunks.map((c) => (c?.exists ? c.value : undefined)),
  );
  if (!assembled.ok) return assembled;
  const plain = decryptAsRecipient(assembled.data, ownerPrivateKeyPem, encoder.encode(meta.id), cipher);
  return plain.ok ? { ok: true, meta, audio: plain.plaintext } : { ok: false, error: plain.reason };
}

/** The owner marks a message heard: same slot, newer storage time, signed by the owner. */
export function markVoicemailHeard(
  entry: StoredValue,
  meta: VoicemailEntryData,
  owner: ValueSigner,
  now: number,
): StoredValue {
  return owner.sign({
    resourceName: entry.resourceName,
    kind: 'VOICEMAIL',
    key: entry.key,
    value: encodeJson({ ...meta, heard: true }),
    storageTime: Math.max(now, entry.storageTime + 1),
    lifetime: entry.lifetime,
  });
}

/**
 * The owner deletes a message: tombstones for the entry and every chunk. Tombstones live for the
 * kind's maximum lifetime so no replica can resurrect the deleted value from an old copy.
 */
export function deleteVoicemail(
  entry: StoredValue,
  meta: VoicemailEntryData,
  owner: ValueSigner,
  now: number,
): StoredValue[] {
  const storageTime = Math.max(now, entry.storageTime + 1);
  const tomb = { value: new Uint8Array(0), exists: false, storageTime };
  return [
    owner.sign({
      ...tomb,
      resourceName: entry.resourceName,
      kind: 'VOICEMAIL',
      key: entry.key,
      lifetime: KINDS.VOICEMAIL.maxLifetime,
    }),
    ...voicemailChunkNames(entry.resourceName, meta).map((resourceName) =>
      owner.sign({
        ...tomb,
        resourceName,
        kind: 'VOICEMAIL-CHUNK',
        lifetime: KINDS['VOICEMAIL-CHUNK'].maxLifetime,
      }),
    ),
  ];
}
