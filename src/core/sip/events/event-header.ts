// The headers of SIP-specific event notification (RFC 6665 section 8.2): Event (package name and
// `id` parameter), Expires, and the Subscription-State a notifier puts in every NOTIFY.
// Parsers return typed errors, never throw.

import { isToken, parseGenericParams, skipWs } from '../grammar.ts';
import type { Params } from '../message.ts';

export interface EventHeader {
  /** Package name, lower-cased (event packages compare case-insensitively in practice). */
  package: string;
  /** The `id` parameter: tells apart several subscriptions of one package in one dialog. */
  id: string | null;
  params: Params;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

const MAX_HEADER_LENGTH = 1024;

/** `Event: dialog;id=1` -> { package: 'dialog', id: '1' }. Template packages (`a.b`) are kept whole. */
export function parseEventHeader(value: string | undefined): Parsed<EventHeader> {
  if (value === undefined) return { ok: false, error: 'no Event header' };
  if (value.length > MAX_HEADER_LENGTH) return { ok: false, error: 'Event header too long' };
  const end = value.length;
  const start = skipWs(value, 0, end);
  let nameEnd = start;
  while (nameEnd < end && value[nameEnd] !== ';' && !/\s/.test(value[nameEnd])) nameEnd++;
  const name = value.slice(start, nameEnd);
  if (!name || !isToken(name)) return { ok: false, error: `bad event package name "${name}"` };
  const params: Params = {};
  if (parseGenericParams(value, nameEnd, end, params, false) < 0)
    return { ok: false, error: 'bad Event header parameters' };
  const id = params.id;
  return { ok: true, value: { package: name.toLowerCase(), id: typeof id === 'string' ? id : null, params } };
}

/** Expires as delta-seconds: absent -> `fallback`; anything but digits -> an error. */
export function parseExpires(value: string | undefined, fallback: number): Parsed<number> {
  if (value === undefined) return { ok: true, value: fallback };
  const v = value.trim();
  if (!/^[0-9]{1,10}$/.test(v)) return { ok: false, error: `bad Expires "${v.slice(0, 40)}"` };
  return { ok: true, value: Number(v) };
}

export type TerminationReason =
  | 'deactivated'
  | 'probation'
  | 'rejected'
  | 'timeout'
  | 'giveup'
  | 'noresource'
  | 'invariant';

export type SubscriptionStateValue =
  | { state: 'active' | 'pending'; expires: number }
  | { state: 'terminated'; reason: TerminationReason };

export function formatSubscriptionState(s: SubscriptionStateValue): string {
  return s.state === 'terminated' ? `terminated;reason=${s.reason}` : `${s.state};expires=${s.expires}`;
}

export interface SubscriptionStateHeader {
  state: string;
  expires: number | null;
  reason: string | null;
}

/** Subscriber side: `active;expires=60` / `terminated;reason=timeout`. */
export function parseSubscriptionState(value: string | undefined): Parsed<SubscriptionStateHeader> {
  if (value === undefined) return { ok: false, error: 'no Subscription-State header' };
  if (value.length > MAX_HEADER_LENGTH) return { ok: false, error: 'Subscription-State too long' };
  const semi = value.indexOf(';');
  const state = (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase();
  if (!isToken(state)) return { ok: false, error: `bad substate "${state}"` };
  const params: Params = {};
  if (semi >= 0 && parseGenericParams(value, semi, value.length, params, false) < 0)
    return { ok: false, error: 'bad Subscription-State parameters' };
  const expires = typeof params.expires === 'string' && /^[0-9]{1,10}$/.test(params.expires);
  return {
    ok: true,
    value: {
      state,
      expires: expires ? Number(params.expires) : null,
      reason: typeof params.reason === 'string' ? params.reason.toLowerCase() : null,
    },
  };
}

/** Whether an Accept header (absent = the package default) admits `contentType`. */
export function acceptsContentType(accept: string[] | undefined, contentType: string): boolean {
  if (!accept || accept.length === 0) return true;
  const [type, sub] = contentType.toLowerCase().split('/');
  for (const raw of accept.flatMap((v) => v.split(','))) {
    const range = raw.split(';')[0].trim().toLowerCase();
    if (range === '' || range === '*/*' || range === `${type}/*` || range === `${type}/${sub}`) return true;
  }
  return false;
}
