// Per-box and per-call limits of the voicemail (VoicemailService.start's `limits`).
export interface VoicemailLimits {
  /** Live messages a box holds at most; a caller to a full box hears "mailbox is full". */
  maxMessages: number;
  /** Encrypted bytes a box holds at most (sum of its entries' sizes). */
  maxBoxBytes: number;
  /** Longest recording (ms); the call ends there and the message is kept. */
  maxRecordMs: number;
  /** A recording with less non-silent audio than this (ms) is silence-only: dropped. */
  minVoicedMs: number;
  /** Stores of a deposit until 3 copies are acknowledged (each after a growing pause). */
  storeAttempts: number;
  /** Wrong PINs before *97 hangs up. */
  pinAttempts: number;
  /** *97: how long to wait for a key (ms) before giving up. */
  digitTimeoutMs: number;
  /** How long a deposited message lives in the overlay (ms). */
  messageLifetimeMs: number;
}

export const DEFAULT_VOICEMAIL_LIMITS: VoicemailLimits = {
  maxMessages: 100,
  maxBoxBytes: 64 * 1024 * 1024,
  maxRecordMs: 180_000,
  minVoicedMs: 300,
  storeAttempts: 4,
  pinAttempts: 3,
  digitTimeoutMs: 15_000,
  messageLifetimeMs: 365 * 24 * 3600_000,
};

/** Copies the overlay keeps of every record: a deposit is done when this many acknowledged it. */
export const WANTED_COPIES = 3;
