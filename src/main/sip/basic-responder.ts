// The headless peer's transaction user until the overlay exists: it knows no users, so it answers
// OPTIONS (capabilities), refuses calls to anyone (404), and answers every other request with the
// status RFC 3261 prescribes, keeping no state beyond the transaction layer's own.
import { createResponse } from '../../core/sip/build.ts';
import { getHeader, type Header, type SipRequest } from '../../core/sip/message.ts';
import type { TransactionEvent } from '../../core/sip/transaction/layer.ts';
import type { Logger } from '../log.ts';
import type { SipEndpoint } from './endpoint.ts';

export const ALLOWED_METHODS = ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS'];
/** Methods this peer knows but does not serve yet: 405 with Allow (RFC 3261 8.2.1). */
const KNOWN_METHODS = new Set([
  ...ALLOWED_METHODS,
  'REGISTER',
  'SUBSCRIBE',
  'NOTIFY',
  'REFER',
  'MESSAGE',
  'INFO',
  'UPDATE',
  'PRACK',
  'PUBLISH',
]);

export const CAPABILITY_HEADERS: Header[] = [
  { name: 'Allow', value: ALLOWED_METHODS.join(', ') },
  { name: 'Accept', value: 'application/sdp' },
  { name: 'Supported', value: '' },
];

export interface Answer {
  status: number;
  headers?: Header[];
}

/** Decides the answer to a new out-of-dialog request (pure). */
export function answerFor(req: SipRequest, cancelsExisting: boolean): Answer {
  if (req.uri.scheme !== 'sip' && req.uri.scheme !== 'sips') return { status: 416 };
  // 8.2.2.3: any option tag in Require is one we do not support.
  const require = getHeader(req, 'Require');
  if (require?.trim() && req.method !== 'CANCEL') {
    return { status: 420, headers: [{ name: 'Unsupported', value: require.trim() }] };
  }
  switch (req.method) {
    case 'OPTIONS':
      return { status: 200, headers: CAPABILITY_HEADERS };
    case 'INVITE':
      return { status: 404 };
    case 'CANCEL':
      // 9.2: CANCEL gets 200 when it matched a transaction, else 481.
      return { status: cancelsExisting ? 200 : 481 };
    case 'BYE':
      return { status: 481 };
    default:
      return KNOWN_METHODS.has(req.method)
        ? { status: 405, headers: [CAPABILITY_HEADERS[0]] }
        : { status: 501, headers: [CAPABILITY_HEADERS[0]] };
  }
}

export function basicResponder(ep: SipEndpoint, log: Logger): (e: TransactionEvent) => void {
  return (e) => {
    if (e.type !== 'request') return; // ACKs, stray responses: nothing to do without dialogs
    const req = e.request;
    const answer = answerFor(req, !!e.cancels);
    const res = createResponse(req, answer.status, undefined, {
      toTag: ep.random(),
      headers: answer.headers,
    });
    log.debug('answered', { method: req.method, status: answer.status, callId: req.callId });
    ep.respond(e.txId, res);
  };
}
