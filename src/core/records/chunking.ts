// Large values (voicemail audio up to 5 MB, encrypted) are split into fixed-size chunks, one record
// each; the VOICEMAIL entry's metadata carries count, size and SHA-256 so the reader can tell a
// complete, untampered reassembly from a partial one.

import { createHash } from 'node:crypto';
import { VOICEMAIL_CHUNK_SIZE } from './kinds.ts';

export interface ChunkManifest {
  size: number;
  chunkSize: number;
  chunkCount: number;
  sha256: string;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function splitIntoChunks(
  data: Uint8Array,
  chunkSize: number = VOICEMAIL_CHUNK_SIZE,
): { manifest: ChunkManifest; chunks: Uint8Array[] } {
  if (!Number.isInteger(chunkSize) || chunkSize <= 0) throw new RangeError(`bad chunk size ${chunkSize}`);
  const chunks: Uint8Array[] = [];
  for (let off = 0; off < data.length; off += chunkSize) chunks.push(data.subarray(off, off + chunkSize));
  return {
    manifest: { size: data.length, chunkSize, chunkCount: chunks.length, sha256: sha256Hex(data) },
    chunks,
  };
}

export type AssembleResult = { ok: true; data: Uint8Array } | { ok: false; error: string };

/** chunks[i] is chunk i, or undefined when it could not be fetched. Never throws. */
export function assembleChunks(
  manifest: ChunkManifest,
  chunks: ReadonlyArray<Uint8Array | undefined>,
): AssembleResult {
  if (chunks.length !== manifest.chunkCount) {
    return { ok: false, error: `expected ${manifest.chunkCount} chunks, got ${chunks.length}` };
  }
  const missing = chunks.indexOf(undefined);
  if (missing >= 0) return { ok: false, error: `chunk ${missing} missing` };
  const total = chunks.reduce((n, c) => n + (c as Uint8Array).length, 0);
  if (total !== manifest.size)
    return { ok: false, error: `size ${total} differs from manifest ${manifest.size}` };
  const data = new Uint8Array(total);
  let off = 0;
  for (const c of chunks as Uint8Array[]) {
    data.set(c, off);
    off += c.length;
  }
  if (sha256Hex(data) !== manifest.sha256)
    return { ok: false, error: 'SHA-256 mismatch: a chunk was altered' };
  return { ok: true, data };
}
