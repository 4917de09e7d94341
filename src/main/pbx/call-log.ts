// Turns the softphone's events into call-history rows (the peer database's calls table): one row
// per call when it ends, with direction, the other party, outcome and talk time.
import type { Logger } from '../log.ts';
import type { PhoneEvent } from '../phone/soft-phone.ts';
import type { CallOutcome, CallRecord } from '../store/call-history.ts';

export interface CallHistorySink {
  add(call: Omit<CallRecord, 'id'>): number;
}

interface Live {
  direction: 'in' | 'out';
  remote: string;
  startedAt: number;
  answeredAt: number | null;
}

const BUSY = new Set([486, 600, 603]);

export class CallLog {
  private readonly live = new Map<string, Live>();

  constructor(
    private readonly sink: CallHistorySink,
    private readonly localUser: string,
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  /** A call this user placed (the phone reports no event for its start). */
  outgoing(call: string, remote: string): void {
    this.live.set(call, { direction: 'out', remote, startedAt: this.clock(), answeredAt: null });
  }

  onPhoneEvent(e: PhoneEvent): void {
    if (e.type === 'incoming') {
      this.live.set(e.call, { direction: 'in', remote: e.from, startedAt: this.clock(), answeredAt: null });
      return;
    }
    const c = this.live.get(e.call);
    if (!c) return;
    if (e.type === 'answered') c.answeredAt ??= this.clock();
    if (e.type !== 'ended') return;
    this.live.delete(e.call);
    const talked = e.reason === 'local-bye' || e.reason === 'remote-bye';
    let outcome: CallOutcome = 'failed';
    if (talked) outcome = 'answered';
    else if (e.reason === 'cancelled') outcome = c.direction === 'in' ? 'missed' : 'failed';
    else if (e.reason === 'declined') outcome = 'rejected';
    else if (e.reason === 'rejected') outcome = BUSY.has(e.status ?? 0) ? 'busy' : 'failed';
    // An incoming call's answer is our own 200: the phone reports no 'answered' for it.
    const answeredAt = talked ? (c.answeredAt ?? c.startedAt) : null;
    try {
      this.sink.add({
        startedAt: c.startedAt,
        direction: c.direction,
        localUser: this.localUser,
        remote: c.remote,
        durationMs: answeredAt === null ? 0 : this.clock() - answeredAt,
        outcome,
      });
    } catch (err) {
      this.log.error('call history write failed', { call: e.call, error: String(err) });
    }
  }
}
