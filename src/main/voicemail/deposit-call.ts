// One call to a box: checks first (owner's certificate, box not full), then greeting, beep, and
// the recording until hang-up, # or the time limit; a silence-only recording is dropped, anything
// else is encrypted to the owner and stored (3 copies).
import { encodeWav } from '../../core/media/wav.ts';
import { userResourceName } from '../../core/records/resource-names.ts';
import type { CertificateVerifier } from '../../core/security/certificate-verifier.ts';
import type { Identity } from '../identity/identity.ts';
import { MEDIA_RATE } from '../media/sources.ts';
import type { PbxOverlay } from '../pbx/overlay-directory.ts';
import { boxUsage, ownerCertificate, ownerGreeting, storeDeposit } from './box-records.ts';
import { MessageRecorder } from './call-audio.ts';
import { CallScript, type CallScriptContext } from './call-script.ts';
import type { VoicemailLimits } from './voicemail-limits.ts';

export type DepositOutcome =
  | { type: 'deposited'; extension: string; entryId: string; copies: number; duration: number }
  | { type: 'dropped'; extension: string; reason: string };

export interface DepositCallOptions extends CallScriptContext {
  extension: string;
  reason: 'unavailable' | 'busy';
  /** Who is calling, as the entry shows it (the From user). */
  from: string;
  overlay: PbxOverlay;
  identity: Identity;
  verifier: CertificateVerifier;
  limits: VoicemailLimits;
  report: (outcome: DepositOutcome) => void;
}

export class DepositCall extends CallScript {
  private stopRecording: (() => void) | null = null;

  constructor(private readonly o: DepositCallOptions) {
    super(o);
  }

  override onDtmf(digit: string): void {
    // # skips the greeting, and during the recording ends it (the caller is done).
    if (digit === '#' && this.stopRecording) this.stopRecording();
    else super.onDtmf(digit);
  }

  async run(): Promise<void> {
    const { extension, log, limits } = this.o;
    const owner = userResourceName(extension, this.o.identity.office);
    const drop = (reason: string) => this.o.report({ type: 'dropped', extension, reason });
    const now = Date.now();
    let checks: Awaited<ReturnType<typeof this.checks>>;
    try {
      checks = await this.checks(owner, now);
    } catch (err) {
      log.error('voicemail: overlay unreachable, caller told so', { owner, error: String(err) });
      await this.sayAndHangUp('service-error');
      return drop(`overlay error: ${String(err)}`);
    }
    const { cert, usage, greeting } = checks;
    if (!cert.ok) {
      log.warn('voicemail: callee has no usable certificate, no deposit', { owner, reason: cert.reason });
      await this.sayAndHangUp('no-mailbox');
      return drop(`no certificate: ${cert.reason}`);
    }
    if (usage.messages >= limits.maxMessages || usage.bytes >= limits.maxBoxBytes) {
      log.warn('voicemail: mailbox full, caller told so', { owner, ...usage, limits });
      await this.sayAndHangUp('mailbox-full');
      return drop('mailbox full');
    }
    const recorder = new MessageRecorder({ maxMs: limits.maxRecordMs });
    this.answer([recorder]);
    await this.play(greeting ?? this.o.prompts[`greeting-${this.o.reason}`], true);
    if (!this.ended) await this.play(this.o.prompts.beep);
    if (this.ended) return drop('caller hung up before the tone');
    const time = Date.now();
    recorder.start();
    const why = await this.recordUntilDone();
    recorder.stop();
    this.hangup();
    log.info('voicemail recorded', { owner, from: this.o.from, ms: recorder.durationMs, end: why });
    if (recorder.voicedMs < limits.minVoicedMs) {
      log.info('voicemail dropped: silence only', {
        owner,
        ms: recorder.durationMs,
        voicedMs: recorder.voicedMs,
      });
      return drop('silence only');
    }
    const duration = recorder.durationMs;
    try {
      const stored = await storeDeposit(
        this.o.overlay,
        this.o.identity,
        {
          extension,
          certificatePem: cert.pem,
          wav: encodeWav({ sampleRate: MEDIA_RATE, samples: recorder.samples }),
          from: this.o.from,
          time,
          durationMs: duration,
          lifetimeMs: limits.messageLifetimeMs,
          attempts: limits.storeAttempts,
        },
        log,
      );
      log.info('voicemail deposited', { owner, entryId: stored.entryId, copies: stored.copies, duration });
      this.o.report({ type: 'deposited', extension, ...stored, duration });
    } catch (err) {
      log.error('voicemail lost: not stored', { owner, from: this.o.from, duration, error: String(err) });
      drop(`store failed: ${String(err)}`);
    }
  }

  private async checks(owner: string, now: number) {
    const { overlay, verifier, log } = this.o;
    const [cert, usage, greeting] = await Promise.all([
      ownerCertificate(overlay, verifier, owner, now),
      boxUsage(overlay, owner, now, log),
      ownerGreeting(overlay, owner, this.o.reason, now, log).catch((err: unknown) => {
        log.warn('greeting fetch failed: the default prompt plays', { owner, error: String(err) });
        return null;
      }),
    ]);
    return { cert, usage, greeting };
  }

  /** Waits for the caller's hang-up, # or the limit; says which. */
  private recordUntilDone(): Promise<'hang-up' | '#' | 'limit'> {
    return new Promise((resolve) => {
      const done = (why: 'hang-up' | '#' | 'limit') => {
        clearTimeout(limit);
        this.stopRecording = null;
        resolve(why);
      };
      const limit = setTimeout(() => done('limit'), this.o.limits.maxRecordMs);
      this.stopRecording = () => done('#');
      void this.whenEnded().then(() => done('hang-up'));
    });
  }
}
