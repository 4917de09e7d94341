// What the deposit side reads from and writes to the overlay for one box: the owner's certificate
// (verified against the office CA: the audio is encrypted to it), the box's usage (entries are
// metadata in clear), the owner's greeting, and the deposit itself, stored until 3 copies answer.
import { randomBytes } from 'node:crypto';
import { resample } from '../../core/media/resample.ts';
import { decodeWav } from '../../core/media/wav.ts';
import { greetingResourceName, userResourceName } from '../../core/records/resource-names.ts';
import type { StoredValue } from '../../core/records/types.ts';
import type { CertificateVerifier } from '../../core/security/certificate-verifier.ts';
import { nodeSignatureProvider } from '../../core/security/signature-provider.ts';
import { ValueSigner } from '../../core/security/value-signing.ts';
import { buildVoicemailDeposit, readVoicemailEntry } from '../../core/security/voicemail-deposit.ts';
import type { Identity } from '../identity/identity.ts';
import type { Logger } from '../log.ts';
import { MEDIA_RATE } from '../media/sources.ts';
import type { PbxOverlay } from '../pbx/overlay-directory.ts';
import { nativeVoicemailCipher } from './native-cipher.ts';
import { WANTED_COPIES } from './voicemail-limits.ts';

const nativeCipher = nativeVoicemailCipher();

const decoder = new TextDecoder();

function live(values: StoredValue[], now: number): StoredValue[] {
  return values.filter((v) => v.exists && now < v.storageTime + v.lifetime);
}

export type OwnerCertificate = { ok: true; pem: string } | { ok: false; reason: string };

/** The box owner's CERTIFICATE record, checked: issued by our office CA, for that very user. */
export async function ownerCertificate(
  overlay: PbxOverlay,
  verifier: CertificateVerifier,
  owner: string,
  now: number,
): Promise<OwnerCertificate> {
  const { values } = await overlay.fetch(owner, 'CERTIFICATE');
  const reasons: string[] = [];
  // Newest first: a re-enrolled user's latest certificate is the one whose key they hold.
  for (const v of live(values, now).sort((a, b) => b.storageTime - a.storageTime)) {
    const pem = decoder.decode(v.value);
    const checked = verifier.verify(pem, now);
    if (!checked.ok) reasons.push(checked.reason);
    else if (checked.identity.user !== owner) reasons.push(`certificate is for ${checked.identity.user}`);
    else return { ok: true, pem };
  }
  return { ok: false, reason: reasons.length ? reasons.join('; ') : 'no CERTIFICATE record' };
}

export interface BoxUsage {
  messages: number;
  bytes: number;
}

/** Live messages in the box and their encrypted size (VOICEMAIL metadata is in clear). */
export async function boxUsage(
  overlay: PbxOverlay,
  owner: string,
  now: number,
  log: Logger,
): Promise<BoxUsage> {
  const { values } = await overlay.fetch(owner, 'VOICEMAIL');
  const usage = { messages: 0, bytes: 0 };
  for (const v of live(values, now)) {
    const read = readVoicemailEntry(v);
    if (!read.ok) {
      log.warn('malformed voicemail entry ignored when counting the box', {
        owner,
        key: v.key,
        error: read.error,
      });
      continue;
    }
    usage.messages++;
    usage.bytes += read.meta.size;
  }
  return usage;
}

/** The owner's greeting of `kind` as 8 kHz PCM, or null (none, or unreadable: logged). */
export async function ownerGreeting(
  overlay: PbxOverlay,
  owner: string,
  kind: 'unavailable' | 'busy',
  now: number,
  log: Logger,
): Promise<Int16Array | null> {
  const { values } = await overlay.fetch(greetingResourceName(owner, kind), 'GREETING');
  const mine = live(values, now)
    .filter((v) => v.signer.user === owner)
    .sort((a, b) => b.storageTime - a.storageTime)[0];
  if (!mine) return null;
  const wav = decodeWav(mine.value);
  if (!wav.ok) {
    log.warn('greeting unusable: the default prompt plays', { owner, kind, error: wav.error.reason });
    return null;
  }
  const { samples, sampleRate } = wav.value;
  return sampleRate === MEDIA_RATE ? samples : resample(samples, sampleRate, MEDIA_RATE);
}

export interface DepositRequest {
  extension: string;
  certificatePem: string;
  wav: Uint8Array;
  from: string;
  time: number;
  durationMs: number;
  lifetimeMs: number;
  attempts: number;
}

/**
 * Encrypts and stores a message; resolves with the entry id and the copies acknowledged. Fewer than
 * 3 copies (or a failed store) is logged and retried, re-signed with a newer storage time (the same
 * bytes: every replica ends up with one consistent message), up to `attempts` times.
 */
export async function storeDeposit(
  overlay: PbxOverlay,
  identity: Identity,
  req: DepositRequest,
  log: Logger,
): Promise<{ entryId: string; copies: number }> {
  const signer = new ValueSigner(
    { nodeId: overlay.nodeId, user: identity.user, certificate: identity.certPem },
    identity.keyPem,
    nodeSignatureProvider(),
  );
  const owner = userResourceName(req.extension, identity.office);
  const deposit = buildVoicemailDeposit({
    owner,
    ownerCertificatePem: req.certificatePem,
    audio: req.wav,
    from: req.from,
    time: req.time,
    duration: req.durationMs,
    unique: randomBytes(8).toString('hex'),
    signer,
    now: Date.now(),
    lifetime: req.lifetimeMs,
    random: (n) => new Uint8Array(randomBytes(n)),
    cipher: nativeCipher,
  });
  let values = [...deposit.chunks, deposit.entry];
  let best = 0;
  for (let attempt = 1; attempt <= req.attempts; attempt++) {
    try {
      // Chunks first: a reader that sees the entry finds its audio.
      const chunks = await overlay.store(values.slice(0, -1));
      const entry = await overlay.store(values.slice(-1));
      best = Math.max(best, Math.min(chunks.copies, entry.copies));
      if (best >= WANTED_COPIES) return { entryId: deposit.entryId, copies: best };
      log.error('voicemail stored with too few copies', {
        owner,
        entryId: deposit.entryId,
        copies: best,
        wanted: WANTED_COPIES,
        attempt,
      });
    } catch (err) {
      log.error('voicemail store failed', { owner, entryId: deposit.entryId, attempt, error: String(err) });
    }
    if (attempt === req.attempts) break;
    await new Promise((r) => setTimeout(r, 500 * attempt));
    const now = Date.now();
    values = values.map((v) =>
      signer.sign({ ...v, storageTime: Math.max(now, v.storageTime + 1), lifetime: v.lifetime }),
    );
  }
  if (best === 0) throw new Error(`voicemail for ${owner} not stored after ${req.attempts} attempts`);
  return { entryId: deposit.entryId, copies: best };
}
