// A drift-free 20 ms media clock. Tick n is due at start + n * period on the monotonic hrtime
// clock, so timer lateness never accumulates (cumulative setTimeout(20) drifts by ~1 ms a tick).
// By default setTimeout is rounded to its 1 ms grain and a tick may run up to 1 ms early. With
// spinMs > 0, setTimeout wakes that much early and a setImmediate spin lands on the due time:
// sub-0.2 ms under real-time scheduling, but the spinning CPU costs the process its place in
// the ordinary (CFS) scheduler on a busy host, where not spinning paced better (test/bench/rtp.bench.ts).
// One clock serves every stream of the process, so N calls cost one timer.

export interface Tick {
  /** Tick number since the clock started. */
  n: number;
  /** Ideal time of this tick (ms on the monotonic clock): use it for RTP timing. */
  scheduledMs: number;
  /** When the tick actually ran. */
  nowMs: number;
}

export type TickListener = (tick: Tick) => void;

export interface FrameClockOptions {
  periodMs?: number;
  /** How long before the due time setTimeout should wake us; the rest is spun. Default 0: no spin. */
  spinMs?: number;
  /** Ticks later than this many periods are skipped (process stalled) rather than fired in a burst. */
  maxCatchUpPeriods?: number;
  /** How many recent lateness samples to keep for percentiles. */
  historySize?: number;
}

export function hrNowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export interface PacingStats {
  ticks: number;
  skipped: number;
  /** |run time - due time| of ticks, ms (over the recent history window). */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export class FrameClock {
  readonly periodMs: number;
  private readonly spinMs: number;
  private readonly maxCatchUp: number;
  private readonly listeners = new Set<TickListener>();
  private startMs = 0;
  private n = 0;
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private running = false;
  private readonly lateness: Float64Array;
  private lateCount = 0;
  private ticks = 0;
  private skipped = 0;

  constructor(opts: FrameClockOptions = {}) {
    this.periodMs = opts.periodMs ?? 20;
    this.spinMs = opts.spinMs ?? 0;
    this.maxCatchUp = opts.maxCatchUpPeriods ?? 5;
    this.lateness = new Float64Array(opts.historySize ?? 3000);
  }

  /** Subscribes; the clock runs while it has listeners. Returns the unsubscribe function. */
  add(listener: TickListener): () => void {
    this.listeners.add(listener);
    if (!this.running) this.start();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  private start(): void {
    this.running = true;
    this.startMs = hrNowMs();
    this.n = 0;
    this.arm();
  }

  private stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
  }

  private due(): number {
    return this.startMs + this.n * this.periodMs;
  }

  private arm(): void {
    if (!this.running) return;
    const wait = this.due() - hrNowMs() - this.spinMs;
    if (this.spinMs <= 0) {
      // No spinning: round to the timer's 1 ms grain and accept waking up to 1 ms early.
      this.timer = setTimeout(
        () => {
          this.timer = null;
          this.spin();
        },
        Math.max(0, Math.round(wait)),
      );
    } else if (wait >= 1) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.spin();
      }, Math.floor(wait));
    } else this.spin();
  }

  private spin(): void {
    if (!this.running) return;
    const now = hrNowMs();
    const due = this.due();
    if (this.spinMs <= 0 && now < due - 1) {
      this.arm();
      return;
    }
    if (this.spinMs > 0 && now < due) {
      // setImmediate yields to I/O between checks, so received packets are not held up.
      this.immediate = setImmediate(() => {
        this.immediate = null;
        this.spin();
      });
      return;
    }
    if (now - due > this.maxCatchUp * this.periodMs) {
      // Stalled (GC pause, suspended laptop): jump to the present instead of a burst of frames.
      const behind = Math.floor((now - due) / this.periodMs);
      this.skipped += behind;
      this.n += behind;
    }
    this.fire(now);
    this.arm();
  }

  private fire(now: number): void {
    const tick: Tick = { n: this.n, scheduledMs: this.due(), nowMs: now };
    // Absolute: without spinning a tick may run up to 1 ms early, which is as far off the grid.
    this.lateness[this.lateCount++ % this.lateness.length] = Math.abs(now - tick.scheduledMs);
    this.ticks++;
    this.n++;
    for (const l of this.listeners) {
      try {
        l(tick);
      } catch {
        // One failing stream must not stop the clock for the others.
      }
    }
  }

  pacing(): PacingStats {
    const len = Math.min(this.lateCount, this.lateness.length);
    const sorted = Float64Array.from(this.lateness.subarray(0, len)).sort();
    return {
      ticks: this.ticks,
      skipped: this.skipped,
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      maxMs: len ? sorted[len - 1] : 0,
    };
  }
}

let shared: FrameClock | null = null;

/** The process-wide 20 ms clock every media session uses unless given its own. */
export function sharedFrameClock(): FrameClock {
  shared ??= new FrameClock();
  return shared;
}
