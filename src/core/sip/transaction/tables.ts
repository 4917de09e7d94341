// The four RFC 3261 section 17 transaction state machines, each as one transition table.
//
// A missing (state, event) entry means the event is absorbed in that state (e.g. a response
// retransmission in Completed that is neither passed up nor answered). Actions run in order; the
// layer (layer.ts) interprets them. "start-X" (re)arms timer X with its initial duration,
// "backoff-X" re-arms it with the doubled (and for E/G capped at T2) interval.

export type TimerName = 'A' | 'B' | 'D' | 'E' | 'F' | 'K' | 'G' | 'H' | 'I' | 'J' | 'Trying';

export type Action =
  | 'send-request' // (re)transmit the request of a client transaction
  | 'send-ack' // build and send the ACK for a non-2xx final response (17.1.1.3)
  | 'pass-response' // hand the response to the TU
  | 'send-response' // send the response the TU gave us and remember it
  | 'resend-response' // retransmit the last response sent (if any)
  | 'send-trying' // send 100 Trying unless a response was already sent (17.2.1)
  | 'report-timeout'
  | 'report-transport-error'
  | `start-${TimerName}`
  | `stop-${TimerName}`
  | 'backoff-A'
  | 'backoff-E'
  | 'backoff-G'
  | 'E-at-T2';

export interface Transition<S extends string> {
  to: S;
  actions: readonly Action[];
}

export type Table<S extends string, E extends string> = Record<S, Partial<Record<E, Transition<S>>>>;

// --- INVITE client transaction (17.1.1, figure 5) -----------------------------------------------
export type InviteClientState = 'calling' | 'proceeding' | 'completed' | 'terminated';
export type InviteClientEvent =
  | 'provisional'
  | 'success'
  | 'failure'
  | 'timer-A'
  | 'timer-B'
  | 'timer-D'
  | 'transport-error';

export const INVITE_CLIENT: Table<InviteClientState, InviteClientEvent> = {
  calling: {
    'timer-A': { to: 'calling', actions: ['send-request', 'backoff-A'] },
    'timer-B': { to: 'terminated', actions: ['report-timeout'] },
    provisional: { to: 'proceeding', actions: ['stop-A', 'stop-B', 'pass-response'] },
    success: { to: 'terminated', actions: ['pass-response'] },
    failure: { to: 'completed', actions: ['stop-A', 'stop-B', 'pass-response', 'send-ack', 'start-D'] },
    'transport-error': { to: 'terminated', actions: ['report-transport-error'] },
  },
  proceeding: {
    provisional: { to: 'proceeding', actions: ['pass-response'] },
    success: { to: 'terminated', actions: ['pass-response'] },
    failure: { to: 'completed', actions: ['pass-response', 'send-ack', 'start-D'] },
    'transport-error': { to: 'terminated', actions: ['report-transport-error'] },
  },
  completed: {
    // A retransmitted final response means our ACK was lost: resend it, do not pass it up.
    failure: { to: 'completed', actions: ['send-ack'] },
    'timer-D': { to: 'terminated', actions: [] },
    'transport-error': { to: 'terminated', actions: ['report-transport-error'] },
  },
  terminated: {},
};

// --- non-INVITE client transaction (17.1.2, figure 6) -------------------------------------------
export type NonInviteClientState = 'trying' | 'proceeding' | 'completed' | 'terminated';
export type NonInviteClientEvent =
  | 'provisional'
  | 'final'
  | 'timer-E'
  | 'timer-F'
  | 'timer-K'
  | 'transport-error';

export const NON_INVITE_CLIENT: Table<NonInviteClientState, NonInviteClientEvent> = {
  trying: {
    'timer-E': { to: 'trying', actions: ['send-request', 'backoff-E'] },
    'timer-F': { to: 'terminated', actions: ['report-timeout'] },
    provisional: { to: 'proceeding', actions: ['pass-response'] },
    final: { to: 'completed', actions: ['stop-E', 'stop-F', 'pass-response', 'start-K'] },
    'transport-error': { to: 'terminated', actions: ['report-transport-error'] },
  },
  proceeding: {
    'timer-E': { to: 'proceeding', actions: ['send-request', 'E-at-T2'] },
    'timer-F': { to: 'terminated', actions: ['report-timeout'] },
    provisional: { to: 'proceeding', actions: ['pass-response'] },
    final: { to: 'completed', actions: ['stop-E', 'stop-F', 'pass-response', 'start-K'] },
    'transport-error': { to: 'terminated', actions: ['report-transport-error'] },
  },
  completed: {
    'timer-K': { to: 'terminated', actions: [] },
  },
  terminated: {},
};

// --- INVITE server transaction (17.2.1, figure 7) -----------------------------------------------
export type InviteServerState = 'proceeding' | 'completed' | 'confirmed' | 'terminated';
export type InviteServerEvent =
  | 'request'
  | 'ack'
  | 'tu-provisional'
  | 'tu-success'
  | 'tu-failure'
  | 'timer-Trying'
  | 'timer-G'
  | 'timer-H'
  | 'timer-I'
  | 'transport-error';

export const INVITE_SERVER: Table<InviteServerState, InviteServerEvent> = {
  proceeding: {
    request: { to: 'proceeding', actions: ['resend-response'] },
    'timer-Trying': { to: 'proceeding', actions: ['send-trying'] },
    'tu-provisional': { to: 'proceeding', actions: ['stop-Trying', 'send-response'] },
    // 2xx retransmission is the TU's job (13.3.1.4): the transaction ends at once.
    'tu-success': { to: 'terminated', actions: ['send-response'] },
    'tu-failure': { to: 'completed', actions: ['stop-Trying', 'send-response', 'start-G', 'start-H'] },
    'transport-error': { to: 'terminated', actions: ['report-transport-error'] },
  },
  completed: {
    request: { to: 'completed', actions: ['resend-response'] },
    'timer-G': { to: 'completed', actions: ['resend-response', 'backoff-G'] },
    'timer-H': { to: 'terminated', actions: ['report-timeout'] },
    ack: { to: 'confirmed', actions: ['stop-G', 'stop-H', 'start-I'] },
    'transport-error': { to: 'terminated', actions: ['report-transport-error'] },
  },
  confirmed: {
    'timer-I': { to: 'terminated', actions: [] },
  },
  terminated: {},
};

// --- non-INVITE server transaction (17.2.2, figure 8) -------------------------------------------
export type NonInviteServerState = 'trying' | 'proceeding' | 'completed' | 'terminated';
export type NonInviteServerEvent = 'request' | 'tu-provisional' | 'tu-final' | 'timer-J' | 'transport-error';

export const NON_INVITE_SERVER: Table<NonInviteServerState, NonInviteServerEvent> = {
  trying: {
    'tu-provisional': { to: 'proceeding', actions: ['send-response'] },
    'tu-final': { to: 'completed', actions: ['send-response', 'start-J'] },
    'transport-error': { to: 'terminated', actions: ['report-transport-error'] },
  },
  proceeding: {
    request: { to: 'proceeding', actions: ['resend-response'] },
    'tu-provisional': { to: 'proceeding', actions: ['send-response'] },
    'tu-final': { to: 'completed', actions: ['send-response', 'start-J'] },
    'transport-error': { to: 'terminated', actions: ['report-transport-error'] },
  },
  completed: {
    request: { to: 'completed', actions: ['resend-response'] },
    'timer-J': { to: 'terminated', actions: [] },
    'transport-error': { to: 'terminated', actions: ['report-transport-error'] },
  },
  terminated: {},
};

export type TransactionKind = 'invite-client' | 'non-invite-client' | 'invite-server' | 'non-invite-server';

// biome-ignore lint/suspicious/noExplicitAny: one lookup over four differently-typed tables
export const TABLES: Record<TransactionKind, Table<any, any>> = {
  'invite-client': INVITE_CLIENT,
  'non-invite-client': NON_INVITE_CLIENT,
  'invite-server': INVITE_SERVER,
  'non-invite-server': NON_INVITE_SERVER,
};

/** What a transaction does when it is created (before any table event). */
export const INITIAL_ACTIONS: Record<TransactionKind, readonly Action[]> = {
  'invite-client': ['send-request', 'start-A', 'start-B'],
  'non-invite-client': ['send-request', 'start-E', 'start-F'],
  // 17.2.1: 100 Trying is sent automatically after `tryingDelay` (200 ms) unless the TU sent a
  // provisional or final response first; tryingDelay 0 sends it at once.
  'invite-server': ['start-Trying'],
  'non-invite-server': [],
};

export const INITIAL_STATE: Record<TransactionKind, string> = {
  'invite-client': 'calling',
  'non-invite-client': 'trying',
  'invite-server': 'proceeding',
  'non-invite-server': 'trying',
};
