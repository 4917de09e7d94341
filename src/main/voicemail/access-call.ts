// *97: the owner listens to their own box from a desk phone. PIN (digits then #) checked against
// USER-SETTINGS.voicemailPinHash, then each message newest first; after (or during) a message
// 7 deletes it, 9 keeps it (marked heard), # skips to the next. Only the peer holding the owner's
// key can decrypt, so this runs where the box's Mailbox is: the owner's own PC.

import { resample } from '../../core/media/resample.ts';
import { decodeWav } from '../../core/media/wav.ts';
import { parseUserSettings } from '../../core/pbx/index.ts';
import { userResourceName } from '../../core/records/resource-names.ts';
import { MEDIA_RATE } from '../media/sources.ts';
import type { PbxOverlay } from '../pbx/overlay-directory.ts';
import { CallScript, type CallScriptContext } from './call-script.ts';
import type { VoicemailLimits } from './voicemail-limits.ts';
import { pinMatches } from './voicemail-pin.ts';

/** The part of vm-mailbox's Mailbox (src/main/voicemail/mailbox.ts) that *97 uses. */
export interface MailboxAccess {
  refresh(): Promise<Array<{ id: string; from: string; time: number; duration: number; heard: boolean }>>;
  audio(id: string): Promise<Uint8Array>;
  markHeard(id: string): Promise<void>;
  delete(id: string): Promise<void>;
}

export interface AccessCallOptions extends CallScriptContext {
  extension: string;
  office: string;
  overlay: PbxOverlay;
  /** Null: this phone cannot open the box (not the owner's own PC). */
  mailbox: MailboxAccess | null;
  limits: VoicemailLimits;
}

export class AccessCall extends CallScript {
  constructor(private readonly o: AccessCallOptions) {
    super(o);
  }

  async run(): Promise<void> {
    const { log, mailbox, extension } = this.o;
    if (!mailbox) {
      log.warn('*97 refused: the box is not on this peer', { extension });
      return this.sayAndHangUp('not-available');
    }
    this.answer();
    const pinOk = await this.checkPin();
    if (pinOk !== true) {
      if (pinOk === 'no-pin') await this.say('no-pin');
      else await this.say('goodbye');
      return this.hangup();
    }
    let messages: Awaited<ReturnType<MailboxAccess['refresh']>>;
    try {
      messages = [...(await mailbox.refresh())].sort((a, b) => b.time - a.time);
    } catch (err) {
      log.error('*97: mailbox unreadable', { extension, error: String(err) });
      await this.say('service-error');
      return this.hangup();
    }
    if (messages.length === 0) {
      await this.say('no-messages');
      return this.hangup();
    }
    for (const m of messages) {
      if (this.ended) return;
      const choice = await this.playMessage(mailbox, m.id);
      if (choice === null) break;
      try {
        if (choice === '7') {
          await mailbox.delete(m.id);
          log.info('*97: message deleted', { extension, id: m.id });
          await this.say('deleted');
        } else if (choice === '9') {
          await mailbox.markHeard(m.id);
          log.info('*97: message kept', { extension, id: m.id });
        }
      } catch (err) {
        log.error('*97: mailbox change failed', { extension, id: m.id, choice, error: String(err) });
        await this.say('service-error');
      }
    }
    await this.say('end-of-messages');
    this.hangup();
  }

  /** true, 'no-pin' (none set), or false (wrong too often, time-out, hang-up). */
  private async checkPin(): Promise<true | false | 'no-pin'> {
    const { overlay, office, extension, limits, log } = this.o;
    for (let attempt = 1; attempt <= limits.pinAttempts && !this.ended; attempt++) {
      await this.say('enter-pin', true);
      let pin = '';
      for (;;) {
        const d = await this.nextDigit(limits.digitTimeoutMs);
        if (d === null) return false;
        if (d === '#') break;
        pin += d;
      }
      const { values } = await overlay.fetch(userResourceName(extension, office), 'USER-SETTINGS');
      const live = values.filter((v) => v.exists).sort((a, b) => b.storageTime - a.storageTime)[0];
      const hash = live ? parseUserSettings(live.value)?.voicemailPinHash : undefined;
      if (!hash) {
        log.warn('*97: no voicemail PIN set', { extension });
        return 'no-pin';
      }
      if (pinMatches(office, extension, pin, hash)) return true;
      log.warn('*97: wrong PIN', { extension, attempt });
      await this.say('wrong-pin', true);
    }
    return false;
  }

  /** Plays one message then the menu; returns the key chosen (7, 9, #) or null (hang-up, time-out). */
  private async playMessage(mailbox: MailboxAccess, id: string): Promise<string | null> {
    let pcm: Int16Array;
    try {
      const wav = decodeWav(await mailbox.audio(id));
      if (!wav.ok) throw new Error(wav.error.reason);
      const { samples, sampleRate } = wav.value;
      pcm = sampleRate === MEDIA_RATE ? samples : resample(samples, sampleRate, MEDIA_RATE);
    } catch (err) {
      this.o.log.error('*97: message unplayable, skipped', { id, error: String(err) });
      return '#';
    }
    this.o.log.info('*97: playing message', { id, ms: Math.round((pcm.length * 1000) / MEDIA_RATE) });
    await this.play(pcm, true);
    for (;;) {
      if (!this.hasDigit()) await this.say('message-menu', true);
      const d = await this.nextDigit(this.o.limits.digitTimeoutMs);
      if (d === null) return null;
      if (d === '7' || d === '9' || d === '#') return d;
    }
  }
}
