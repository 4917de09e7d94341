// Hostile traffic can produce a warning per packet. Every warning is counted, the first few per
// window are logged in full, the rest are summarised once per window: a flood cannot flood stderr.
import type { Millis } from '../../core/net.ts';
import type { LogFields, Logger } from '../log.ts';

export class WarningBudget {
  private windowStart = 0;
  private inWindow = 0;
  private suppressed = 0;
  total = 0;

  constructor(
    private readonly log: Logger,
    private readonly clock: () => Millis,
    private readonly perWindow = 20,
    private readonly windowMs = 10_000,
  ) {}

  warn(msg: string, fields: LogFields): void {
    this.total++;
    const now = this.clock();
    if (now - this.windowStart >= this.windowMs) {
      this.flush();
      this.windowStart = now;
      this.inWindow = 0;
    }
    if (this.inWindow++ < this.perWindow) this.log.warn(msg, fields);
    else this.suppressed++;
  }

  /** Logs how many warnings were held back since the last summary. */
  flush(): void {
    if (this.suppressed > 0) {
      this.log.warn('similar warnings suppressed', { count: this.suppressed, windowMs: this.windowMs });
      this.suppressed = 0;
    }
  }
}
