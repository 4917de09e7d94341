// The voicemail of one peer (issue 6): a SIP UA on its own port that the local proxy forks calls to
// when the callee is offline, busy, on DND or does not answer (deposit), and *97 (access). The
// Request-URI user names the service and the box: "vm.busy.101", "vm.unavailable.101",
// "vm.access.101". See README.md.
import type { Address } from '../../core/net.ts';
import { CertificateVerifier } from '../../core/security/certificate-verifier.ts';
import type { SipUri } from '../../core/sip/message.ts';
import { parseUri } from '../../core/sip/uri.ts';
import type { Identity } from '../identity/identity.ts';
import type { Logger } from '../log.ts';
import type { PbxOverlay } from '../pbx/overlay-directory.ts';
import { AccessCall, type MailboxAccess } from './access-call.ts';
import type { CallScript } from './call-script.ts';
import { DepositCall, type DepositOutcome } from './deposit-call.ts';
import { loadPrompts, type Prompts } from './prompts.ts';
import { DEFAULT_VOICEMAIL_LIMITS, type VoicemailLimits } from './voicemail-limits.ts';
import { VoicemailUa, type VoicemailUaEvent } from './voicemail-ua.ts';

export type { MailboxAccess } from './access-call.ts';
export type { VoicemailLimits } from './voicemail-limits.ts';
export type VoicemailEvent = DepositOutcome;

export interface VoicemailServiceOptions {
  overlay: PbxOverlay;
  identity: Identity;
  bind: string;
  advertise: string;
  /** This user's Mailbox (vm-mailbox's Mailbox fits): *97 plays from it. */
  mailbox?: () => MailboxAccess | null;
  log: Logger;
  limits?: Partial<VoicemailLimits>;
  /** Where the prompt WAVs are (default: assets/voicemail found from this module or the cwd). */
  promptDir?: string;
  /** SIP port of the voicemail UA (default: any free port). */
  sipPort?: number;
}

const TARGET = /^vm\.(unavailable|busy|access)\.([A-Za-z0-9_.+-]+)$/;
const EXTENSION = /^[A-Za-z0-9_.+-]+$/;

export class VoicemailService {
  private readonly listeners = new Set<(e: VoicemailEvent) => void>();
  private readonly scripts = new Map<string, CallScript>();
  private readonly running = new Set<Promise<void>>();
  private readonly verifier: CertificateVerifier;
  readonly limits: VoicemailLimits;
  private closed = false;

  private constructor(
    private readonly opts: VoicemailServiceOptions,
    readonly ua: VoicemailUa,
    private readonly prompts: Prompts,
  ) {
    this.verifier = new CertificateVerifier(opts.identity.caPem);
    this.limits = { ...DEFAULT_VOICEMAIL_LIMITS, ...opts.limits };
    ua.on((e) => this.onUaEvent(e));
  }

  static async start(opts: VoicemailServiceOptions): Promise<VoicemailService> {
    const prompts = await loadPrompts(opts.log, opts.promptDir);
    const ua = await VoicemailUa.start({
      bind: opts.bind,
      advertise: opts.advertise,
      port: opts.sipPort,
      log: opts.log.child({ part: 'voicemail-ua' }),
    });
    opts.log.info('voicemail listening', { sip: `${opts.advertise}:${ua.port}` });
    return new VoicemailService(opts, ua, prompts);
  }

  /** Where the proxy forks a call that goes to `extension`'s voicemail (reason picks the greeting). */
  targetFor(extension: string, reason: 'unavailable' | 'busy'): { uri: SipUri; address: Address } {
    return this.target(`vm.${reason}.${extension}`);
  }

  /**
   * Where *97 goes for `extension` (the caller's own box). On a peer that does not hold that box
   * the call still lands here and hears "not available on this phone". Null once closed, or for
   * a caller that is no extension (the proxy then refuses the call).
   */
  accessTargetFor(extension: string): { uri: SipUri; address: Address } | null {
    if (this.closed || !EXTENSION.test(extension)) return null;
    return this.target(`vm.access.${extension}`);
  }

  on(listener: (e: VoicemailEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.ua.close();
    // Deposits already recorded finish storing (bounded by their attempts).
    await Promise.allSettled([...this.running]);
  }

  private target(user: string): { uri: SipUri; address: Address } {
    const ext = user.split('.').slice(2).join('.');
    if (!EXTENSION.test(ext)) throw new Error(`not an extension: ${ext}`);
    const { advertise } = this.opts;
    const host = advertise.includes(':') ? `[${advertise}]` : advertise;
    const uri = parseUri(`sip:${user}@${host}:${this.ua.port}`);
    if (!uri) throw new Error(`bad voicemail URI for ${user}`);
    return { uri, address: { transport: 'UDP', host: advertise, port: this.ua.port } };
  }

  private onUaEvent(e: VoicemailUaEvent): void {
    if (e.type === 'dtmf') {
      this.scripts.get(e.call)?.onDtmf(e.digit);
      return;
    }
    if (e.type === 'ended') {
      this.scripts.get(e.call)?.onEnded();
      this.scripts.delete(e.call);
      return;
    }
    const m = TARGET.exec(e.target);
    const log = this.opts.log;
    if (!m || this.closed) {
      log.warn('voicemail call for no known box refused', { target: e.target });
      this.ua.hangup(e.call, 404);
      return;
    }
    const [, service, extension] = m;
    const ctx = { ua: this.ua, call: e.call, prompts: this.prompts, log };
    const from = e.request.from.uri.user ?? e.request.from.uri.host;
    const own = this.opts.identity;
    const script: CallScript =
      service === 'access'
        ? new AccessCall({
            ...ctx,
            extension,
            office: own.office,
            overlay: this.opts.overlay,
            // The box opens only here, on its owner's PC (only this peer holds the key).
            mailbox: extension === own.extension ? (this.opts.mailbox?.() ?? null) : null,
            limits: this.limits,
          })
        : new DepositCall({
            ...ctx,
            extension,
            reason: service as 'unavailable' | 'busy',
            from,
            overlay: this.opts.overlay,
            identity: own,
            verifier: this.verifier,
            limits: this.limits,
            report: (outcome) => this.emit(outcome),
          });
    log.info('voicemail call', { call: e.call, service, extension, from });
    this.scripts.set(e.call, script);
    const run = script.run().catch((err: unknown) => {
      log.error('voicemail call script failed', { call: e.call, service, extension, error: String(err) });
      this.ua.hangup(e.call, 500);
    });
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
  }

  private emit(e: VoicemailEvent): void {
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch (err) {
        this.opts.log.error('voicemail listener failed', { event: e.type, err: String(err) });
      }
    }
  }
}
