// Call state of the desk phones a gateway serves, read from the SIP its proxy receives: desk phones
// publish no PRESENCE (they hold no certificate), so their BLF comes from their own calls. An
// INVITE to a local phone's AoR makes it the recipient, one from a phone's flow the initiator;
// provisional responses ring, a 2xx confirms, a failure, CANCEL or BYE ends the call.

import type { Address } from '../../net.ts';
import type { SipMessage } from '../message.ts';
import { tagOf } from '../message.ts';

/** What a desk phone is doing, in PresenceService's words (null: no call). */
export type PhoneActivity = 'ringing' | 'on-call' | null;

interface Leg {
  aor: string;
  direction: 'initiator' | 'recipient';
  state: 'trying' | 'early' | 'confirmed';
  since: number;
}

/** Calls older than this with no BYE seen are dropped (a lost BYE must not light a key forever). */
const MAX_CALL_MS = 12 * 3600_000;
const MAX_CALLS = 10_000;

export class LocalCallTracker {
  private readonly calls = new Map<string, Leg[]>();

  constructor(
    /** Whether a Request-URI user is a desk phone of this gateway (it has bindings). */
    private readonly isLocalPhone: (user: string) => boolean,
    /** The AoR of the desk phone whose flow a request came from, if any. */
    private readonly phoneAt: (source: Address) => string | undefined,
  ) {}

  /** Feeds one received message; returns the AoRs whose activity may have changed. */
  observe(msg: SipMessage, from: Address, now: number): string[] {
    const legs = this.calls.get(msg.callId);
    if (msg.type === 'request') {
      if (msg.method === 'INVITE' && tagOf(msg.to) === null && !legs)
        return this.start(msg.callId, msg, from, now);
      if (!legs) return [];
      if (msg.method === 'BYE') return this.end(msg.callId, () => true);
      if (msg.method === 'CANCEL') return this.end(msg.callId, (l) => l.state !== 'confirmed');
      return [];
    }
    if (!legs || msg.cseq.method !== 'INVITE' || msg.status <= 100) return [];
    if (msg.status >= 300) return this.end(msg.callId, (l) => l.state !== 'confirmed');
    const changed: string[] = [];
    for (const l of legs) {
      const next = msg.status >= 200 ? 'confirmed' : l.state === 'trying' ? 'early' : l.state;
      if (next !== l.state) {
        l.state = next;
        changed.push(l.aor);
      }
    }
    return changed;
  }

  /** The phone's most telling call: on a call beats ringing. */
  activity(aor: string, now: number): PhoneActivity {
    let ringing = false;
    for (const [callId, legs] of this.calls) {
      for (const l of legs) {
        if (l.aor !== aor) continue;
        if (now - l.since > MAX_CALL_MS) {
          this.calls.delete(callId);
          continue;
        }
        if (l.state === 'confirmed' || l.direction === 'initiator') return 'on-call';
        if (l.state === 'early') ringing = true;
      }
    }
    return ringing ? 'ringing' : null;
  }

  get size(): number {
    return this.calls.size;
  }

  private start(callId: string, msg: SipMessage & { type: 'request' }, from: Address, now: number): string[] {
    const legs: Leg[] = [];
    const caller = this.phoneAt(from);
    if (caller) legs.push({ aor: caller, direction: 'initiator', state: 'early', since: now });
    const callee = msg.uri.user;
    if (callee && callee !== caller && this.isLocalPhone(callee))
      legs.push({ aor: callee, direction: 'recipient', state: 'trying', since: now });
    if (legs.length === 0) return [];
    if (this.calls.size >= MAX_CALLS) {
      const oldest = this.calls.keys().next().value;
      if (oldest !== undefined) this.calls.delete(oldest);
    }
    this.calls.set(callId, legs);
    return legs.map((l) => l.aor);
  }

  private end(callId: string, which: (l: Leg) => boolean): string[] {
    const legs = this.calls.get(callId) ?? [];
    const ended = legs.filter(which);
    const left = legs.filter((l) => !which(l));
    if (left.length > 0) this.calls.set(callId, left);
    else this.calls.delete(callId);
    return ended.map((l) => l.aor);
  }
}
