// Public types of the sans-IO user-agent core: configuration, app events and effects.

import type { TransportName } from '../../net.ts';
import type { Header, SipMessage, SipRequest, SipResponse } from '../message.ts';
import type { TimerConfig, TimerEffect, TransmitEffect } from '../transaction/layer.ts';

export interface UaConfig {
  /** Local address used for Via sent-by and Contact. */
  host: string;
  port: number;
  transport: TransportName;
  /** User part of our Contact and From URIs. */
  user: string;
  /** Host part of our From URI (our AoR domain); defaults to `host`. */
  domain?: string;
  displayName?: string;
  /** Sent as User-Agent in requests and Server in responses when set. */
  userAgentName?: string;
  /** Out-of-dialog methods handed to the app in a `request` event (REGISTER, MESSAGE, SUBSCRIBE ...). */
  appMethods?: string[];
  /** In-dialog methods handed to the app (default INFO, MESSAGE, REFER, NOTIFY). */
  inDialogMethods?: string[];
  /** Content types accepted in INVITE bodies (default application/sdp). */
  accept?: string[];
  timers?: Partial<TimerConfig>;
}

/** Client-side digest hook: returns an Authorization / Proxy-Authorization header for a 401/407, or null. */
export type Authenticator = (response: SipResponse, request: SipRequest) => Header | null;

export type CallEndReason =
  | 'local-bye'
  | 'remote-bye'
  | 'cancelled' // the caller cancelled before the answer (either side sees this)
  | 'rejected' // the callee answered our INVITE with a final non-2xx
  | 'declined' // we answered an incoming INVITE with a final non-2xx
  | 'timeout'
  | 'transport-error'
  | 'no-ack' // our 2xx was never acknowledged (13.3.1.4)
  | 'dialog-gone'; // 481/408 to an in-dialog request (12.2.1.2)

export interface Body {
  body: Uint8Array;
  contentType: string;
}

export type UaEvent =
  /** `replaces`: the INVITE carries a Replaces (RFC 3891) naming this live call of ours. */
  | { type: 'incoming-call'; call: string; request: SipRequest; replaces?: string }
  | { type: 'call-progress'; call: string; status: number; response: SipResponse }
  /** UAC: a 2xx arrived (and was ACKed). UAS: the ACK for our 2xx arrived. */
  | { type: 'call-answered'; call: string; message: SipMessage }
  /** `response` is the final non-2xx that ended an outgoing call (e.g. a 3xx with its Contacts). */
  /** `replacedBy`: the call that replaced this one (RFC 3891); the core sent the BYE or CANCEL. */
  | {
      type: 'call-ended';
      call: string;
      reason: CallEndReason;
      status?: number;
      response?: SipResponse;
      replacedBy?: string;
    }
  /** A re-INVITE from the peer: answer it with answerReinvite(). */
  | { type: 'reinvite'; call: string; request: SipRequest }
  /** The final response to our re-INVITE. */
  | { type: 'reinvite-result'; call: string; status: number; response: SipResponse | null }
  /** An OPTIONS we answered with 200 automatically. */
  | { type: 'options'; request: SipRequest }
  /** A request the app must answer with respond(requestId, ...); call is set inside a dialog. */
  | { type: 'request'; requestId: string; request: SipRequest; call: string | null }
  /** The final response to sendRequest()/sendOptions()/sendInDialog(). */
  | { type: 'response'; requestId: string; request: SipRequest; response: SipResponse }
  | { type: 'request-failed'; requestId: string; reason: 'timeout' | 'transport-error' };

export type UaEffect = TransmitEffect | TimerEffect | UaEvent;

export interface RequestOptions {
  headers?: Header[];
  body?: Uint8Array;
  contentType?: string;
}
