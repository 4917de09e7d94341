// Dialogs (RFC 3261 section 12): creation on either side, in-dialog request construction with
// loose or strict route sets (12.2.1.1), CSeq rules for received requests (12.2.2), target refresh.
//
// A Dialog is plain mutable data owned by one user agent; the functions here are pure apart from
// updating the dialog passed in.

import { cloneNameAddr, cloneUri, createRequest } from '../build.ts';
import {
  getHeader,
  getHeaders,
  type Header,
  type NameAddr,
  type SipRequest,
  type SipResponse,
  type SipUri,
  tagOf,
  type Via,
} from '../message.ts';
import { parseNameAddrList } from '../parse.ts';
import { serializeNameAddr } from '../serialize.ts';

export type DialogState = 'early' | 'confirmed' | 'terminated';

export interface Dialog {
  callId: string;
  localTag: string;
  remoteTag: string;
  /** dialogKey(callId, localTag, remoteTag): the map key an agent files the dialog under. */
  key: string;
  role: 'uac' | 'uas';
  state: DialogState;
  /** Last CSeq number we used; requests we send take localSeq + 1. */
  localSeq: number;
  /** Highest CSeq number seen from the peer; null until the first request from it (UAC side). */
  remoteSeq: number | null;
  localUri: NameAddr; // our From in requests we send (with our tag)
  remoteUri: NameAddr; // our To in requests we send (with the peer's tag)
  remoteTarget: SipUri;
  routeSet: NameAddr[];
  secure: boolean;
}

export function dialogKey(callId: string, localTag: string, remoteTag: string): string {
  return `${callId}\n${localTag}\n${remoteTag}`;
}

/** The dialog a received request belongs to: To tag is ours, From tag is the peer's. */
export function dialogKeyOfRequest(req: SipRequest): string | null {
  const local = tagOf(req.to);
  return local === null ? null : dialogKey(req.callId, local, tagOf(req.from) ?? '');
}

/** The dialog a received response belongs to (we are the UAC): From tag ours, To tag theirs. */
export function dialogKeyOfResponse(res: SipResponse): string | null {
  const remote = tagOf(res.to);
  const local = tagOf(res.from);
  return remote === null || local === null ? null : dialogKey(res.callId, local, remote);
}

/** Every value of a list header (Record-Route, Route, Contact) in order; unparsable values are skipped. */
export function nameAddrsOf(msg: { headers: Header[] }, name: string): NameAddr[] {
  const out: NameAddr[] = [];
  for (const value of getHeaders(msg, name)) out.push(...(parseNameAddrList(value) ?? []));
  return out;
}

export function contactUri(msg: { headers: Header[] }): SipUri | null {
  const v = getHeader(msg, 'Contact');
  const list = v === undefined ? null : parseNameAddrList(v);
  return list && list.length > 0 ? list[0].uri : null;
}

function withTag(a: NameAddr, tag: string): NameAddr {
  const out = cloneNameAddr(a);
  out.params.tag = tag;
  return out;
}

/**
 * 12.1.2: the UAC side of a dialog from a 2xx or a 101-199 with a To tag (early dialog).
 * Returns null when the response cannot create a dialog.
 */
export function createUacDialog(request: SipRequest, response: SipResponse): Dialog | null {
  const remoteTag = tagOf(response.to);
  const localTag = tagOf(request.from);
  if (remoteTag === null || localTag === null || response.status <= 100 || response.status >= 300)
    return null;
  const dialog: Dialog = {
    callId: request.callId,
    localTag,
    remoteTag,
    key: dialogKey(request.callId, localTag, remoteTag),
    role: 'uac',
    state: response.status < 200 ? 'early' : 'confirmed',
    localSeq: request.cseq.seq,
    remoteSeq: null,
    localUri: cloneNameAddr(request.from),
    remoteUri: cloneNameAddr(response.to),
    remoteTarget: contactUri(response) ?? cloneUri(request.uri),
    routeSet: nameAddrsOf(response, 'Record-Route').reverse(),
    secure: request.uri.scheme === 'sips',
  };
  return dialog;
}

/** 12.1.1: the UAS side of a dialog for a request we answer with `localTag` in To. */
export function createUasDialog(request: SipRequest, localTag: string, state: DialogState = 'early'): Dialog {
  const remoteTag = tagOf(request.from) ?? '';
  return {
    callId: request.callId,
    localTag,
    remoteTag,
    key: dialogKey(request.callId, localTag, remoteTag),
    role: 'uas',
    state,
    localSeq: 0,
    remoteSeq: request.cseq.seq,
    localUri: withTag(request.to, localTag),
    remoteUri: cloneNameAddr(request.from),
    remoteTarget: contactUri(request) ?? cloneUri(request.uri),
    routeSet: nameAddrsOf(request, 'Record-Route'),
    secure: request.uri.scheme === 'sips',
  };
}

/** 12.1.2 / 13.2.2.4: an early UAC dialog becomes confirmed by a 2xx, whose route set wins. */
export function confirmUacDialog(dialog: Dialog, response: SipResponse): void {
  dialog.state = 'confirmed';
  dialog.routeSet = nameAddrsOf(response, 'Record-Route').reverse();
  dialog.remoteTarget = contactUri(response) ?? dialog.remoteTarget;
}

export type ReceiveCheck = { ok: true } | { ok: false; status: 500; reason: string };

/**
 * 12.2.2: a request inside the dialog must not go backwards in CSeq (500 if it does); target
 * refresh requests (INVITE, UPDATE) replace the remote target with their Contact.
 */
export function receiveInDialog(dialog: Dialog, req: SipRequest): ReceiveCheck {
  if (req.method !== 'ACK' && req.method !== 'CANCEL') {
    if (dialog.remoteSeq !== null && req.cseq.seq <= dialog.remoteSeq) {
      return { ok: false, status: 500, reason: 'CSeq out of order' };
    }
    dialog.remoteSeq = req.cseq.seq;
  }
  if (req.method === 'INVITE' || req.method === 'UPDATE') {
    dialog.remoteTarget = contactUri(req) ?? dialog.remoteTarget;
  }
  return { ok: true };
}

/** 12.2.1.2: a 2xx to a target refresh we sent replaces the remote target. */
export function applyTargetRefreshResponse(dialog: Dialog, res: SipResponse): void {
  if (res.status >= 200 && res.status < 300) dialog.remoteTarget = contactUri(res) ?? dialog.remoteTarget;
}

export interface InDialogOptions {
  via: Via;
  /** CSeq number to use instead of the next one (ACK for 2xx reuses the INVITE's, 13.2.2.4). */
  seq?: number;
  contact?: string;
  headers?: Header[];
  body?: Uint8Array;
  contentType?: string;
}

// Parts of a route URI a strict-routing Request-URI must not carry (19.1.1, table 1).
const NOT_IN_REQUEST_URI = ['method'];

/**
 * 12.2.1.1: builds a request inside the dialog. Returns it with the URI of the next hop
 * (first loose route, or the Request-URI) that the caller resolves to a transport address.
 */
export function createInDialogRequest(
  dialog: Dialog,
  method: string,
  o: InDialogOptions,
): { request: SipRequest; nextHop: SipUri } {
  const seq = o.seq ?? ++dialog.localSeq;
  const routes: Header[] = [];
  let uri: SipUri;
  let nextHop: SipUri;
  const first = dialog.routeSet[0];
  if (!first) {
    uri = cloneUri(dialog.remoteTarget);
    nextHop = uri;
  } else if ('lr' in first.uri.params) {
    uri = cloneUri(dialog.remoteTarget);
    for (const r of dialog.routeSet) routes.push({ name: 'Route', value: serializeNameAddr(r) });
    nextHop = first.uri;
  } else {
    // Strict routing: the first route becomes the Request-URI and the remote target the last Route.
    uri = cloneUri(first.uri);
    for (const p of NOT_IN_REQUEST_URI) delete uri.params[p];
    uri.headers = {};
    for (const r of dialog.routeSet.slice(1)) routes.push({ name: 'Route', value: serializeNameAddr(r) });
    routes.push({
      name: 'Route',
      value: serializeNameAddr({ display: null, uri: dialog.remoteTarget, params: {} }),
    });
    nextHop = uri;
  }
  const headers: Header[] = [...routes];
  if (o.contact) headers.push({ name: 'Contact', value: o.contact });
  headers.push(...(o.headers ?? []));
  const request = createRequest({
    method,
    uri,
    from: dialog.localUri,
    to: dialog.remoteUri,
    callId: dialog.callId,
    cseq: { seq, method },
    via: o.via,
    headers,
    body: o.body,
    contentType: o.contentType,
  });
  return { request, nextHop: cloneUri(nextHop) };
}
