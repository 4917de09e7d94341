// RFC 4733 telephone-event (DTMF over RTP): payload codec, a sender plan and a receiver that
// reports each digit once although every event arrives in many redundant packets.

export interface TelephoneEvent {
  /** 0-9, 10 = '*', 11 = '#', 12-15 = A-D, 16 = flash (RFC 4733 section 3.2). */
  event: number;
  end: boolean;
  /** Power level in -dBm0, 0..63. */
  volume: number;
  /** Duration so far, in timestamp units (samples at 8 kHz). */
  duration: number;
}

export type TelephoneEventResult =
  | { ok: true; value: TelephoneEvent }
  | { ok: false; error: { code: 'too-short'; reason: string } };

const DIGITS = '0123456789*#ABCD';

export function digitToEvent(digit: string): number | null {
  const d = digit.toUpperCase();
  if (d === '!' || d === 'FLASH') return 16;
  const i = d.length === 1 ? DIGITS.indexOf(d) : -1;
  return i >= 0 ? i : null;
}

export function eventToDigit(event: number): string | null {
  if (event === 16) return '!';
  return event >= 0 && event < DIGITS.length ? DIGITS[event] : null;
}

export function encodeTelephoneEvent(e: TelephoneEvent): Uint8Array {
  const out = new Uint8Array(4);
  out[0] = e.event & 0xff;
  out[1] = (e.end ? 0x80 : 0) | (e.volume & 0x3f);
  out[2] = (e.duration >> 8) & 0xff;
  out[3] = e.duration & 0xff;
  return out;
}

export function decodeTelephoneEvent(payload: Uint8Array): TelephoneEventResult {
  if (payload.length < 4)
    return { ok: false, error: { code: 'too-short', reason: `${payload.length} bytes` } };
  return {
    ok: true,
    value: {
      event: payload[0],
      end: (payload[1] & 0x80) !== 0,
      volume: payload[1] & 0x3f,
      duration: (payload[2] << 8) | payload[3],
    },
  };
}

export interface PlannedEventPacket {
  /** When to send, relative to the start of the event (ms). */
  offsetMs: number;
  /** RTP marker: set on the first packet of the event (RFC 4733 section 2.5.1.1). */
  marker: boolean;
  payload: Uint8Array;
}

export interface DtmfPlanOptions {
  durationMs?: number;
  volume?: number;
  clockRate?: number;
  intervalMs?: number;
  /** How many times the final (E bit) packet is sent; RFC 4733 section 2.5.1.4 recommends 3. */
  endRepeats?: number;
}

/**
 * Every packet of one event, all to be sent with the same RTP timestamp (the event start):
 * updates every interval with a growing duration, then the end packet three times.
 */
export function planTelephoneEvent(event: number, opts: DtmfPlanOptions = {}): PlannedEventPacket[] {
  const durationMs = Math.max(opts.intervalMs ?? 20, opts.durationMs ?? 100);
  const interval = opts.intervalMs ?? 20;
  const rate = opts.clockRate ?? 8000;
  const volume = opts.volume ?? 10;
  const total = Math.min(0xffff, Math.round((durationMs * rate) / 1000));
  const perInterval = Math.round((interval * rate) / 1000);
  const out: PlannedEventPacket[] = [];
  let offsetMs = 0;
  for (let d = perInterval; d < total; d += perInterval, offsetMs += interval) {
    out.push({
      offsetMs,
      marker: out.length === 0,
      payload: encodeTelephoneEvent({ event, end: false, volume, duration: d }),
    });
  }
  for (let i = 0; i < (opts.endRepeats ?? 3); i++, offsetMs += interval) {
    out.push({
      offsetMs,
      marker: out.length === 0,
      payload: encodeTelephoneEvent({ event, end: true, volume, duration: total }),
    });
  }
  return out;
}

export interface ReceivedDigit {
  digit: string;
  event: number;
  /** RTP timestamp of the event start, which identifies it. */
  timestamp: number;
}

/**
 * Reports each event once, on its first packet (lowest latency for IVR menus). Events are
 * identified by RTP timestamp; a short history catches late redundant packets of older events.
 */
export class TelephoneEventReceiver {
  private readonly seen: number[] = [];
  constructor(private readonly historySize = 16) {}

  receive(timestamp: number, payload: Uint8Array): ReceivedDigit | null {
    const d = decodeTelephoneEvent(payload);
    if (!d.ok) return null;
    const digit = eventToDigit(d.value.event);
    if (digit === null) return null;
    const key = timestamp >>> 0;
    if (this.seen.includes(key)) return null;
    this.seen.push(key);
    if (this.seen.length > this.historySize) this.seen.shift();
    return { digit, event: d.value.event, timestamp: key };
  }
}
