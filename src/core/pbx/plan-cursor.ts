// Walks a RoutePlan one stage at a time for the coordinator: the first stage, then after each
// failed stage (busy / no answer / unavailable) the next step of a hunt or the plan's fallback.
// Pure: resolving extensions to contacts (overlay fetches) stays with the caller, and
// toLookupResult turns a ring stage plus the contacts it found into the proxy's LookupResult.

import type { SipUri } from '../sip/message.ts';
import { parseUri } from '../sip/parse.ts';
import { uriToAddress } from '../sip/ua/address.ts';
import type { LookupResult, ProxyTarget } from './proxy.ts';
import type { RegistrationContact } from './registration-record.ts';
import {
  type Fallback,
  fallbackFor,
  outcomeOfStatus,
  type RingStep,
  type RoutePlan,
} from './routing-plan.ts';

export type Outcome = 'busy' | 'no-answer' | 'unavailable';

export type Stage =
  /** Ring this step; `more` says whether a failure leads to another stage (ask the proxy to come back). */
  | { type: 'ring'; step: RingStep; index: number; more: boolean }
  /** Plan `target` again with the given depth (forwarding). */
  | { type: 'forward'; target: string; depth: number }
  | { type: 'voicemail'; extension: string }
  | { type: 'voicemail-access' }
  | { type: 'reject'; status: number; reason?: string };

export class PlanCursor {
  private index = -1;

  constructor(
    readonly plan: RoutePlan,
    readonly depth = 0,
  ) {}

  first(): Stage {
    const p = this.plan;
    switch (p.type) {
      case 'reject':
        return { type: 'reject', status: p.status, reason: p.reason };
      case 'voicemail-access':
        return { type: 'voicemail-access' };
      case 'divert':
        return this.fallback(p.fallback);
      case 'ring':
        return this.step(0, 'unavailable');
    }
  }

  /** The stage after one that ended with `status` (its outcome decides the fallback). */
  next(status: number): Stage {
    const p = this.plan;
    if (p.type !== 'ring') return { type: 'reject', status };
    return this.step(this.index + 1, outcomeOfStatus(status));
  }

  private step(i: number, lastOutcome: Outcome): Stage {
    const p = this.plan;
    if (p.type !== 'ring') return { type: 'reject', status: 500 };
    if (i < p.steps.length) {
      this.index = i;
      const more = i + 1 < p.steps.length || ringFallbackIsMore(p);
      return { type: 'ring', step: p.steps[i], index: i, more };
    }
    return this.fallback(fallbackFor(p, lastOutcome));
  }

  private fallback(f: Fallback): Stage {
    if (f.type === 'forward') return { type: 'forward', target: f.target, depth: this.depth + 1 };
    if (f.type === 'voicemail') return { type: 'voicemail', extension: f.extension };
    return { type: 'reject', status: f.status };
  }
}

function ringFallbackIsMore(p: Extract<RoutePlan, { type: 'ring' }>): boolean {
  return [p.onBusy, p.onNoAnswer, p.onUnavailable].some((f) => f.type !== 'reject');
}

/**
 * The proxy's answer for a ring stage: every live contact of every extension target, and the
 * trunk targets. `contactsOf` gives what the overlay fetch (liveContacts) returned.
 */
export function toLookupResult(
  stage: Extract<Stage, { type: 'ring' }>,
  contactsOf: (extension: string) => readonly RegistrationContact[],
): LookupResult {
  const targets: ProxyTarget[] = [];
  for (const t of stage.step.targets) {
    if (t.type === 'trunk') {
      const uri = parseUri(t.uri);
      if (!uri) continue;
      const { username, password } = t.trunk;
      const credentials =
        username !== undefined && password !== undefined ? { username, password } : undefined;
      targets.push({ uri, address: uriToAddress(uri, t.trunk.transport ?? 'UDP'), credentials });
      continue;
    }
    for (const c of contactsOf(t.extension)) {
      const uri: SipUri | null = parseUri(c.uri);
      if (uri) targets.push({ uri, address: uriToAddress(uri, c.transport ?? 'UDP') });
    }
  }
  return { type: 'fork', targets, timeoutMs: stage.step.timeoutMs, fallback: stage.more };
}
