// RFC 3261 section 16.7 step 6: which of the final responses a fork collected goes upstream.

import type { SipResponse } from '../sip/message.ts';

export interface CollectedResponse {
  response: SipResponse;
  /** Made up by the proxy (408 for a timeout, 503 for a transport error) rather than received. */
  synthesized: boolean;
}

/** Statuses that carry something the caller can act on; preferred within the 4xx class (16.7). */
const ACTIONABLE = new Set([401, 407, 415, 420, 484]);

/**
 * A 6xx wins outright; otherwise the lowest class (3xx before 4xx before 5xx); within a class a
 * received response beats a synthesized one, then an actionable 4xx, then the first to arrive.
 * Returns null when nothing was collected.
 */
export function chooseBestResponse(collected: readonly CollectedResponse[]): CollectedResponse | null {
  const rank = (c: CollectedResponse): number[] => {
    const s = c.response.status;
    const cls = Math.floor(s / 100);
    return [cls === 6 ? 0 : cls, c.synthesized ? 1 : 0, ACTIONABLE.has(s) ? 0 : 1];
  };
  let best: CollectedResponse | null = null;
  let bestRank: number[] = [];
  for (const c of collected) {
    const r = rank(c);
    if (!best || lexLess(r, bestRank)) {
      best = c;
      bestRank = r;
    }
  }
  return best;
}

function lexLess(a: number[], b: number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] < b[i];
  return false;
}

/** 16.7 step 6: a 503 is not forwarded as such (it would make the caller's proxy avoid this one). */
export function upstreamStatus(status: number): number {
  return status === 503 ? 500 : status;
}
