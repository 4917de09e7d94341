// What deposit and *97 calls share: one answered call with a playlist out, digits in (queued, so
// keys typed during a prompt are not lost and can cut it short), and an end that every wait sees.
import type { Logger } from '../log.ts';
import type { AudioSink } from '../media/sinks.ts';
import { Playlist } from './call-audio.ts';
import type { PromptName } from './prompt-texts.ts';
import type { Prompts } from './prompts.ts';
import type { VoicemailUa } from './voicemail-ua.ts';

export interface CallScriptContext {
  ua: VoicemailUa;
  call: string;
  prompts: Prompts;
  log: Logger;
}

export abstract class CallScript {
  protected readonly playlist = new Playlist();
  private readonly digits: string[] = [];
  private digitWaiter: (() => void) | null = null;
  private answered = false;
  /** Whether a key stops the prompt or message playing now. */
  protected interruptible = false;
  ended = false;
  private endWaiters: Array<() => void> = [];

  constructor(protected readonly ctx: CallScriptContext) {}

  abstract run(): Promise<void>;

  onDtmf(digit: string): void {
    this.digits.push(digit);
    if (this.interruptible) this.playlist.stop();
    this.digitWaiter?.();
  }

  onEnded(): void {
    this.ended = true;
    this.playlist.stop();
    this.digitWaiter?.();
    for (const w of this.endWaiters.splice(0)) w();
  }

  /** Resolves when the call ends (either side). */
  protected whenEnded(): Promise<void> {
    return this.ended ? Promise.resolve() : new Promise((r) => this.endWaiters.push(r));
  }

  protected answer(sinks: AudioSink[] = []): boolean {
    if (this.answered || this.ended) return this.answered;
    this.answered = this.ctx.ua.answer(this.ctx.call, this.playlist, sinks);
    return this.answered;
  }

  /** Plays a clip; resolves true if it played to its end (false: a key or the hang-up stopped it). */
  protected play(pcm: Int16Array, interruptible = false): Promise<boolean> {
    if (this.ended) return Promise.resolve(false);
    this.interruptible = interruptible;
    return this.playlist.play(pcm).finally(() => {
      this.interruptible = false;
    });
  }

  protected say(name: PromptName, interruptible = false): Promise<boolean> {
    return this.play(this.ctx.prompts[name], interruptible);
  }

  /** Answers, says one prompt, hangs up: the clear answer to a call we cannot serve. */
  protected async sayAndHangUp(name: PromptName): Promise<void> {
    this.answer();
    await this.say(name);
    this.hangup();
  }

  protected hangup(): void {
    if (!this.ended) this.ctx.ua.hangup(this.ctx.call);
  }

  /** The next key, or null on time-out or hang-up. */
  protected async nextDigit(timeoutMs: number): Promise<string | null> {
    const end = Date.now() + timeoutMs;
    while (this.digits.length === 0) {
      if (this.ended || Date.now() >= end) return null;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, end - Date.now());
        this.digitWaiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.digitWaiter = null;
    }
    return this.digits.shift() ?? null;
  }

  protected hasDigit(): boolean {
    return this.digits.length > 0;
  }
}
