// Sans-IO adaptive jitter buffer for decoded audio. The caller pushes packets with their arrival
// time and pops one frame (20 ms by default) per playout tick. Playout is driven by RTP
// timestamps, not sequence numbers, so any packet size (ptime 10/20/30) works.
//
// States: idle (nothing heard) -> buffering (collect `targetDelay` worth) -> playing. While
// playing, a hole with later data behind it is loss (conceal and move on); a hole with nothing
// behind it is an underrun (conceal and wait, which grows the delay by one frame); too many
// underruns in a row (sender paused: hold, DTX) go back to buffering. Too much buffered audio is
// trimmed a frame at a time. The target delay follows the RFC 3550 interarrival jitter estimate.

import { seqDelta, tsDelta } from './rtp.ts';

export interface JitterBufferOptions {
  clockRate?: number;
  frameSamples?: number;
  minDelayMs?: number;
  maxDelayMs?: number;
  initialDelayMs?: number;
  /** Consecutive underrun frames before re-buffering from scratch. */
  maxUnderrunFrames?: number;
  /** Hard cap on stored packets (default 250, i.e. 5 s of 20 ms packets). */
  maxPackets?: number;
}

export interface AudioPacket {
  sequence: number;
  timestamp: number;
  samples: Int16Array;
}

export type FrameKind = 'audio' | 'concealed' | 'silence';

export interface JitterFrame {
  samples: Int16Array;
  kind: FrameKind;
}

export interface JitterStats {
  received: number;
  duplicates: number;
  reordered: number;
  late: number;
  /** RFC 3550 cumulative loss: expected - received (late arrivals count as received). */
  lost: number;
  /** Frames concealed because their packet was lost (underrun frames are counted in underruns). */
  concealedFrames: number;
  underruns: number;
  droppedFrames: number;
  /** Packets discarded because the buffer held more than `maxPackets`. */
  overflowDropped: number;
  resyncs: number;
  /** Extended highest sequence number received (cycles << 16 | seq), for RTCP reports. */
  highestSeq: number;
  jitterMs: number;
  targetDelayMs: number;
  bufferedMs: number;
}

interface Stored {
  start: number; // extended timestamp
  samples: Int16Array;
}

type State = 'idle' | 'buffering' | 'playing';

/** Gain for the n-th consecutive concealed frame: fade the repeated frame out, then silence. */
const CONCEAL_GAINS = [0.7, 0.4, 0.15];

export class JitterBuffer {
  private readonly rate: number;
  private readonly frame: number;
  private readonly frameMs: number;
  private readonly minDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly maxUnderruns: number;
  private readonly maxPackets: number;

  private state: State = 'idle';
  private bufferingSince: number | null = null;
  private packets: Stored[] = []; // sorted by start
  private playPos = 0; // extended timestamp of the next sample to play
  private lastFrame: Int16Array;
  private concealRun = 0;
  private underrunRun = 0;

  private extTsRef: number | null = null;
  private baseSeq: number | null = null;
  private highestSeq = 0;
  private readonly seenSeqs = new Set<number>();
  private jitter: number; // timestamp units
  private lastTransit: number | null = null;

  private s = {
    received: 0,
    duplicates: 0,
    reordered: 0,
    late: 0,
    concealedFrames: 0,
    underruns: 0,
    droppedFrames: 0,
    overflowDropped: 0,
    resyncs: 0,
  };

  constructor(opts: JitterBufferOptions = {}) {
    this.rate = opts.clockRate ?? 8000;
    this.frame = opts.frameSamples ?? (this.rate * 20) / 1000;
    this.frameMs = (this.frame * 1000) / this.rate;
    this.minDelayMs = opts.minDelayMs ?? 40;
    this.maxDelayMs = opts.maxDelayMs ?? 300;
    this.maxUnderruns = opts.maxUnderrunFrames ?? 5;
    this.maxPackets = opts.maxPackets ?? 250;
    const initial = opts.initialDelayMs ?? 60;
    // Seed the jitter estimate so the first target delay equals initialDelayMs.
    this.jitter = (Math.max(0, initial - this.frameMs) / 3) * (this.rate / 1000);
    this.lastFrame = new Int16Array(this.frame);
  }

  private ms(ts: number): number {
    return (ts * 1000) / this.rate;
  }

  get targetDelayMs(): number {
    const raw = this.frameMs + 3 * this.ms(this.jitter);
    const rounded = Math.ceil(raw / this.frameMs - 1e-9) * this.frameMs;
    return Math.min(this.maxDelayMs, Math.max(this.minDelayMs, rounded));
  }

  private bufferedEnd(): number {
    let end = this.playPos;
    for (const p of this.packets) end = Math.max(end, p.start + p.samples.length);
    return end;
  }

  /** Audio held, from the next sample to play (or the first buffered one) to the newest. */
  private bufferedMs(): number {
    if (this.state === 'playing') return this.ms(this.bufferedEnd() - this.playPos);
    if (this.packets.length === 0) return 0;
    const first = this.packets[0].start;
    let end = first;
    for (const p of this.packets) end = Math.max(end, p.start + p.samples.length);
    return this.ms(end - first);
  }

  push(packet: AudioPacket, arrivalMs: number): void {
    if (packet.samples.length === 0) return;
    // Unwrap sequence and timestamp relative to what we have seen (RFC 3550 appendix A.1 idea).
    const seq = packet.sequence & 0xffff;
    const extSeq =
      this.baseSeq === null ? seq + 65536 : this.highestSeq + seqDelta(this.highestSeq & 0xffff, seq); // +65536: room for packets older than the first
    const extTs =
      this.extTsRef === null
        ? packet.timestamp >>> 0
        : this.extTsRef + tsDelta(this.extTsRef >>> 0, packet.timestamp >>> 0);
    if (this.seenSeqs.has(extSeq)) {
      this.s.duplicates++;
      return;
    }
    if (this.baseSeq === null) {
      this.baseSeq = extSeq;
      this.highestSeq = extSeq;
    } else if (extSeq < this.highestSeq) {
      this.s.reordered++;
    } else {
      this.highestSeq = extSeq;
    }
    this.seenSeqs.add(extSeq);
    if (this.seenSeqs.size > 2048) {
      for (const s of this.seenSeqs) if (s < this.highestSeq - 1024) this.seenSeqs.delete(s);
    }
    this.s.received++;

    // RFC 3550 section 6.4.1 interarrival jitter, in timestamp units.
    const transit = (arrivalMs * this.rate) / 1000 - extTs;
    if (this.lastTransit !== null) {
      const d = Math.abs(transit - this.lastTransit);
      // A jump far beyond any plausible network jitter is a timestamp discontinuity (a new
      // talkspurt after a pause, a re-based sender), not jitter: one such sample would otherwise
      // inflate the delay for seconds.
      if (this.ms(d) <= 2 * this.maxDelayMs) this.jitter += (d - this.jitter) / 16;
    }
    this.lastTransit = transit;

    const end = extTs + packet.samples.length;
    if (this.state !== 'idle' && end <= this.playPos) {
      if (this.playPos - end > (this.maxDelayMs * 4 * this.rate) / 1000) {
        // Far behind what we already played: the sender restarted its timestamps. Start over.
        this.restart();
      } else {
        this.s.late++;
        return;
      }
    }
    this.extTsRef = extTs;
    if (this.state === 'idle') {
      this.state = 'buffering';
      this.bufferingSince = arrivalMs;
    } else if (this.state === 'buffering' && this.bufferingSince === null) {
      this.bufferingSince = arrivalMs;
    }
    const stored: Stored = { start: extTs, samples: packet.samples };
    let i = this.packets.length;
    while (i > 0 && this.packets[i - 1].start > extTs) i--;
    this.packets.splice(i, 0, stored);
    // Bounded memory whatever arrives (a flood, or a caller that stopped popping): drop the oldest.
    while (this.packets.length > this.maxPackets) {
      this.packets.shift();
      this.s.overflowDropped++;
    }
  }

  private restart(): void {
    this.s.resyncs++;
    this.packets = [];
    this.state = 'idle';
    this.bufferingSince = null;
    this.lastTransit = null;
    this.extTsRef = null;
  }

  private conceal(): JitterFrame {
    const gain = CONCEAL_GAINS[this.concealRun];
    this.concealRun++;
    if (gain === undefined) return { samples: new Int16Array(this.frame), kind: 'silence' };
    const out = new Int16Array(this.frame);
    for (let i = 0; i < out.length; i++) out[i] = Math.round(this.lastFrame[i] * gain);
    this.lastFrame = out;
    return { samples: out, kind: 'concealed' };
  }

  /** One frame of playout. Call once per frame period. */
  pop(nowMs: number): JitterFrame {
    if (this.state === 'buffering' && this.bufferingSince !== null && this.packets.length > 0) {
      if (nowMs - this.bufferingSince >= this.targetDelayMs) {
        this.state = 'playing';
        this.playPos = this.packets[0].start;
        this.underrunRun = 0;
      }
    }
    if (this.state !== 'playing') return { samples: new Int16Array(this.frame), kind: 'silence' };

    const from = this.playPos;
    const to = from + this.frame;
    const out = new Int16Array(this.frame);
    let filled = 0;
    for (const p of this.packets) {
      if (p.start >= to) break;
      const a = Math.max(from, p.start);
      const b = Math.min(to, p.start + p.samples.length);
      if (b > a) {
        out.set(p.samples.subarray(a - p.start, b - p.start), a - from);
        filled += b - a;
      }
    }
    if (filled > 0) {
      this.playPos = to;
      this.dropConsumed();
      this.lastFrame = out;
      this.concealRun = 0;
      this.underrunRun = 0;
      this.trimLatency();
      return { samples: out, kind: 'audio' };
    }
    const next = this.packets.find((p) => p.start >= to);
    if (next) {
      // Loss: later audio is here, this frame never will be.
      this.underrunRun = 0;
      if (this.ms(next.start - from) > this.maxDelayMs) {
        // A timestamp jump (new talkspurt or new base): skip the gap instead of concealing it.
        this.s.resyncs++;
        this.playPos = next.start;
        return this.pop(nowMs);
      }
      this.playPos = to;
      this.dropConsumed();
      this.s.concealedFrames++;
      return this.conceal();
    }
    // Underrun: nothing buffered. Wait (do not advance), which adds one frame of delay.
    this.s.underruns++;
    this.underrunRun++;
    if (this.underrunRun >= this.maxUnderruns) {
      this.state = 'buffering';
      this.bufferingSince = null;
    }
    return this.conceal();
  }

  private dropConsumed(): void {
    while (this.packets.length && this.packets[0].start + this.packets[0].samples.length <= this.playPos) {
      this.packets.shift();
    }
  }

  private trimLatency(): void {
    const buffered = this.bufferedMs();
    if (buffered > this.targetDelayMs + 2 * this.frameMs) {
      this.playPos += this.frame;
      this.dropConsumed();
      this.s.droppedFrames++;
    }
  }

  stats(): JitterStats {
    const expected = this.baseSeq === null ? 0 : this.highestSeq - this.baseSeq + 1;
    return {
      ...this.s,
      lost: Math.max(0, expected - this.s.received),
      highestSeq: this.baseSeq === null ? 0 : this.highestSeq - 65536,
      jitterMs: this.ms(this.jitter),
      targetDelayMs: this.targetDelayMs,
      bufferedMs: this.bufferedMs(),
    };
  }
}
