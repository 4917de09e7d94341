// Request and response builders (RFC 3261 sections 8.1.1, 8.2.6, 9.1, 17.1.1.3).
//
// Builders work on the message model only; they copy structured fields so that later edits of the
// new message never alias the original (transactions keep the original for retransmission).

import {
  BRANCH_MAGIC_COOKIE,
  type CSeq,
  EMPTY_BODY,
  getHeader,
  getHeaders,
  type Header,
  type NameAddr,
  reasonPhrase,
  type SipRequest,
  type SipResponse,
  type SipUri,
  type Via,
} from './message.ts';

/** Injected randomness: returns a fresh random token (e.g. 16 hex chars) on every call. */
export type Random = () => string;

export function newBranch(random: Random): string {
  return BRANCH_MAGIC_COOKIE + random();
}

export function newTag(random: Random): string {
  return random();
}

export function newCallId(random: Random, host: string): string {
  return `${random()}@${host}`;
}

export function cloneUri(u: SipUri): SipUri {
  return { ...u, params: { ...u.params }, headers: { ...u.headers } };
}

export function cloneNameAddr(a: NameAddr): NameAddr {
  return { display: a.display, uri: cloneUri(a.uri), params: { ...a.params } };
}

export function cloneVia(v: Via): Via {
  return { ...v, params: { ...v.params } };
}

export interface ResponseOptions {
  /** To tag to add when the request's To has none (ignored for 100 Trying, 8.2.6.2). */
  toTag?: string;
  headers?: Header[];
  body?: Uint8Array;
  contentType?: string;
}

/** RFC 3261 8.2.6: a response copies Via, From, To, Call-ID and CSeq from the request. */
export function createResponse(
  request: SipRequest,
  status: number,
  reason?: string,
  opts: ResponseOptions = {},
): SipResponse {
  const to = cloneNameAddr(request.to);
  if (status > 100 && to.params.tag == null && opts.toTag !== undefined) to.params.tag = opts.toTag;
  const headers: Header[] = [];
  // 8.2.6.1: a 100 Trying echoes the Timestamp header.
  const timestamp = status === 100 ? getHeader(request, 'Timestamp') : undefined;
  if (timestamp !== undefined) headers.push({ name: 'Timestamp', value: timestamp });
  for (const h of opts.headers ?? []) headers.push({ ...h });
  const body = opts.body ?? EMPTY_BODY;
  if (body.length > 0 && opts.contentType) headers.push({ name: 'Content-Type', value: opts.contentType });
  return {
    type: 'response',
    status,
    reason: reason ?? reasonPhrase(status),
    via: request.via.map(cloneVia),
    from: cloneNameAddr(request.from),
    to,
    callId: request.callId,
    cseq: { ...request.cseq },
    headers,
    body,
  };
}

export interface RequestOptions {
  method: string;
  uri: SipUri;
  from: NameAddr;
  to: NameAddr;
  callId: string;
  cseq: CSeq;
  via: Via;
  maxForwards?: number;
  /** Header values in order; Route first if the request is sent through a route set. */
  headers?: Header[];
  body?: Uint8Array;
  contentType?: string;
}

/** RFC 3261 8.1.1: the minimal well-formed request. */
export function createRequest(o: RequestOptions): SipRequest {
  const headers: Header[] = (o.headers ?? []).map((h) => ({ ...h }));
  const body = o.body ?? EMPTY_BODY;
  if (body.length > 0 && o.contentType) headers.push({ name: 'Content-Type', value: o.contentType });
  return {
    type: 'request',
    method: o.method,
    uri: cloneUri(o.uri),
    via: [cloneVia(o.via)],
    from: cloneNameAddr(o.from),
    to: cloneNameAddr(o.to),
    callId: o.callId,
    cseq: { ...o.cseq },
    maxForwards: o.maxForwards ?? 70,
    headers,
    body,
  };
}

function routeHeaders(request: SipRequest): Header[] {
  return getHeaders(request, 'Route').map((value) => ({ name: 'Route', value }));
}

/**
 * RFC 3261 17.1.1.3: the ACK for a non-2xx final response is built by the INVITE client
 * transaction: same Request-URI, Call-ID, From, CSeq number and top Via as the INVITE; To from the
 * response (it carries the UAS tag); Route copied from the INVITE.
 */
export function createAckForNon2xx(invite: SipRequest, response: SipResponse): SipRequest {
  return {
    type: 'request',
    method: 'ACK',
    uri: cloneUri(invite.uri),
    via: [cloneVia(invite.via[0])],
    from: cloneNameAddr(invite.from),
    to: cloneNameAddr(response.to),
    callId: invite.callId,
    cseq: { seq: invite.cseq.seq, method: 'ACK' },
    maxForwards: 70,
    headers: routeHeaders(invite),
    body: EMPTY_BODY,
  };
}

/**
 * RFC 3261 9.1: CANCEL copies Request-URI, Call-ID, To, From, the CSeq number and the top Via
 * (same branch, so it reaches the same server transaction) and the Route headers.
 */
export function createCancel(request: SipRequest): SipRequest {
  return {
    type: 'request',
    method: 'CANCEL',
    uri: cloneUri(request.uri),
    via: [cloneVia(request.via[0])],
    from: cloneNameAddr(request.from),
    to: cloneNameAddr(request.to),
    callId: request.callId,
    cseq: { seq: request.cseq.seq, method: 'CANCEL' },
    maxForwards: 70,
    headers: routeHeaders(request),
    body: EMPTY_BODY,
  };
}

/** A copy of a request for a new client transaction: new branch, next CSeq (used after a 401/407). */
export function createRetry(request: SipRequest, branch: string, seq: number, extra: Header[]): SipRequest {
  const via = cloneVia(request.via[0]);
  via.params = { ...via.params, branch };
  const headers = request.headers
    .filter((h) => !extra.some((e) => e.name.toLowerCase() === h.name.toLowerCase()))
    .map((h) => ({ ...h }));
  return {
    ...request,
    uri: cloneUri(request.uri),
    via: [via],
    from: cloneNameAddr(request.from),
    to: cloneNameAddr(request.to),
    cseq: { seq, method: request.cseq.method },
    headers: [...extra.map((h) => ({ ...h })), ...headers],
  };
}
